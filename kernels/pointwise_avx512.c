/* pointwise_avx512.c - unary maps, PReLU, broadcasting binary ops for AVX-512, 16 lanes (kernels/pointwise_simd.h). */
#include "kernels/pointwise_simd.h"
