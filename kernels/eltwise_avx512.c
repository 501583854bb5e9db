/* eltwise_avx512.c - affine (batch norm, activations) and add for AVX-512, 16 lanes (kernels/eltwise_simd.h). */
#include "kernels/eltwise_simd.h"
