/* pool_avx2.c - max, average and global average pooling for AVX2+FMA, 8 lanes (kernels/pool_simd.h). */
#include "kernels/pool_simd.h"
