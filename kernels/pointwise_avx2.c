/* pointwise_avx2.c - unary maps, PReLU, broadcasting binary ops for AVX2+FMA, 8 lanes (kernels/pointwise_simd.h). */
#include "kernels/pointwise_simd.h"
