/* q8_avx2.c - int8 GEMM and depthwise bodies for AVX2 (vpmaddubsw + vpmaddwd); see q8_gemm256.h. */
#include <immintrin.h>

#define Q8_NEED_ONES
#define Q8_DOT(acc, a, b) ((acc) = _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((a), (b)), ones)))

/* Depthwise filters may hold -127..127 (q8.h), where vpmaddubsw's pair sums (up to
 * 2 x 255 x 127) would saturate in int16: codes and weights are widened to 16 bits instead,
 * the even bytes (kernel rows 0 and 2 of a quad) apart from the odd ones (rows 1 and 3), and
 * two vpmaddwd sum them exactly into the same int32 lanes. */
static inline __m256i dw_dot16(__m256i acc, __m256i x, __m256i w)
{
    const __m256i xe = _mm256_and_si256(x, _mm256_set1_epi16(0xff)), xo = _mm256_srli_epi16(x, 8);
    const __m256i we = _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), wo = _mm256_srai_epi16(w, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(xe, we), _mm256_madd_epi16(xo, wo)));
}
#define Q8_DW_DOT(acc, a, b) ((acc) = dw_dot16((acc), (a), (b)))
#define Q8_GEMM ferc_q8_gemm_avx2
#define Q8_DWCONV ferc_q8_dw_avx2
#include "kernels/q8_gemm256.h"

/* quantize, 8 at a time: the scalar definition's operations (IEEE division, NaN to 0, clamp,
 * round half to even by 1.5 x 2^23), so the codes are the same bytes. */
void ferc_q8_quantize_avx2(size_t i0, size_t i1, const float *x, float s, int z, uint8_t *q)
{
    const __m256 vs = _mm256_set1_ps(s), lo = _mm256_set1_ps((float)-z), hi = _mm256_set1_ps((float)(255 - z));
    const __m256 magic = _mm256_set1_ps(12582912.f);
    const __m256i vz = _mm256_set1_epi32(z);
    size_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        __m256 f = _mm256_div_ps(_mm256_loadu_ps(x + i), vs);
        f = _mm256_and_ps(f, _mm256_cmp_ps(f, f, _CMP_ORD_Q));
        f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
        f = _mm256_sub_ps(_mm256_add_ps(f, magic), magic);
        const __m256i v = _mm256_add_epi32(_mm256_cvttps_epi32(f), vz);
        const __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)(q + i), _mm_packus_epi16(w16, w16));
    }
    for (; i < i1; i++) {
        float f = x[i] / s;
        f = f == f ? f : 0.f;
        f = f < (float)-z ? (float)-z : f;
        f = f > (float)(255 - z) ? (float)(255 - z) : f;
        q[i] = (uint8_t)(ferc_q8_rne(f) + z);
    }
}
