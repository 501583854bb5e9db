/* q8_avxvnni.c - int8 GEMM and depthwise bodies for AVX-VNNI (256-bit vpdpbusd); see q8_gemm256.h. */
#define Q8_DOT(acc, a, b) ((acc) = _mm256_dpbusd_avx_epi32((acc), (a), (b)))
#define Q8_GEMM ferc_q8_gemm_avxvnni
#define Q8_DWCONV ferc_q8_dw_avxvnni
#include "kernels/q8_gemm256.h"
