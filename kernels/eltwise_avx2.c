/* eltwise_avx2.c - affine (batch norm, activations) and add for AVX2+FMA, 8 lanes (kernels/eltwise_simd.h). */
#include "kernels/eltwise_simd.h"
