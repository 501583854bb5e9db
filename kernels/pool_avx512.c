/* pool_avx512.c - max, average and global average pooling for AVX-512, 16 lanes (kernels/pool_simd.h). */
#include "kernels/pool_simd.h"
