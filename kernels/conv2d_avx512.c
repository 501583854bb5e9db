/* conv2d_avx512.c - convolution for AVX-512, 16 lanes: implicit GEMM, Winograd and depthwise paths (kernels/conv2d_simd.h). */
#include "kernels/conv2d_simd.h"
