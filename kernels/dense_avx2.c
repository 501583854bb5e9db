/* dense_avx2.c - fully connected layer for AVX2+FMA, 8 lanes (kernels/dense_simd.h). */
#include "kernels/dense_simd.h"
