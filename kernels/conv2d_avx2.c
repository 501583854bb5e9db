/* conv2d_avx2.c - convolution for AVX2+FMA, 8 lanes: implicit GEMM, Winograd and depthwise paths (kernels/conv2d_simd.h). */
#include "kernels/conv2d_simd.h"
