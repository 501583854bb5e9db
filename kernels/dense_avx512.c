/* dense_avx512.c - fully connected layer for AVX-512, 16 lanes (kernels/dense_simd.h). */
#include "kernels/dense_simd.h"
