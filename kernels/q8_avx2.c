/* q8_avx2.c - int8 GEMM body for AVX2 (vpmaddubsw + vpmaddwd); see q8_gemm256.h. */
#define Q8_NEED_ONES
#define Q8_DOT(acc, a, b) ((acc) = _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((a), (b)), ones)))
#define Q8_GEMM ferc_q8_gemm_avx2
#include "kernels/q8_gemm256.h"
