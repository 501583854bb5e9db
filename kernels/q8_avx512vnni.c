/* q8_avx512vnni.c - int8 GEMM body for AVX-512 VNNI: vpdpbusd on zmm registers, 64 u8 x s8
 * products per instruction. Tile: 6 pixels x 32 output channels (two packed blocks), 12
 * accumulators; per 4 k's, 2 weight loads and 6 broadcasts feed 12 vpdpbusd. */
#include "kernels/q8.h"

#include <immintrin.h>
#include <string.h>

#define MR 6

static inline void store16(__m512i acc, const int32_t *bias, const float *mult, int zy, int lo, int hi, uint8_t *y,
                           int n)
{
    const __mmask16 mk = (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1);
    __m512 f = _mm512_cvtepi32_ps(_mm512_add_epi32(acc, _mm512_maskz_loadu_epi32(mk, bias)));
    f = _mm512_mul_ps(f, _mm512_maskz_loadu_ps(mk, mult));
    f = _mm512_max_ps(f, _mm512_set1_ps((float)(lo - zy)));
    f = _mm512_min_ps(f, _mm512_set1_ps((float)(hi - zy)));
    __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(f), _mm512_set1_epi32(zy));
    _mm_mask_storeu_epi8(y, mk, _mm512_cvtusepi32_epi8(q));
}

/* Always inlined with constant mr and nblk, so the accumulators live in registers. */
static inline __attribute__((always_inline)) void tile(int mr, int nblk, int kp, const uint8_t *const *a, const int32_t *koff, const int8_t *w0, const int8_t *w1,
                        const int32_t *bias, const float *mult, int nvalid, int zy, int lo, int hi, uint8_t *y,
                        size_t ldy)
{
    __m512i acc[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
    for (int k = 0; k < kp; k += 4) {
        const __m512i wa = _mm512_load_si512(w0 + (size_t)k * FERC_Q8_NR);
        const __m512i wb = nblk > 1 ? _mm512_load_si512(w1 + (size_t)k * FERC_Q8_NR) : wa;
#pragma GCC unroll 6
        for (int r = 0; r < mr; r++) {
            int32_t v;
            memcpy(&v, a[r] + koff[k / 4], 4);
            const __m512i x = _mm512_set1_epi32(v);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], x, wa);
            if (nblk > 1) acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], x, wb);
        }
    }
    for (int r = 0; r < mr; r++)
        for (int h = 0; h < nblk; h++) {
            const int n = nvalid - 16 * h;
            if (n > 0) store16(acc[r][h], bias + 16 * h, mult + 16 * h, zy, lo, hi, y + r * ldy + 16 * h, n);
        }
}

/* The full tile, 6 x 32, with its 12 accumulators as named variables: with an array the
 * compiler copied accumulators between registers every step, and the moves took the ports
 * vpdpbusd needs. */
static void tile6x32(int kp, const uint8_t *const *a, const int32_t *koff, const int8_t *w0, const int8_t *w1,
                     const int32_t *bias, const float *mult, int nvalid, int zy, int lo, int hi, uint8_t *y, size_t ldy)
{
    __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    for (int k = 0; k < kp; k += 4) {
        const __m512i wa = _mm512_load_si512(w0 + (size_t)k * FERC_Q8_NR);
        const __m512i wb = _mm512_load_si512(w1 + (size_t)k * FERC_Q8_NR);
        const int32_t o = koff[k / 4];
        int32_t v;
        __m512i x;
#define ROW(ar, ca, cb) memcpy(&v, ar + o, 4), x = _mm512_set1_epi32(v), ca = _mm512_dpbusd_epi32(ca, x, wa), \
                        cb = _mm512_dpbusd_epi32(cb, x, wb)
        ROW(a0, c00, c01);
        ROW(a1, c10, c11);
        ROW(a2, c20, c21);
        ROW(a3, c30, c31);
        ROW(a4, c40, c41);
        ROW(a5, c50, c51);
#undef ROW
    }
    const __m512i acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int r = 0; r < MR; r++)
        for (int h = 0; h < 2; h++) {
            const int n = nvalid - 16 * h;
            if (n > 0) store16(acc[r][h], bias + 16 * h, mult + 16 * h, zy, lo, hi, y + r * ldy + 16 * h, n);
        }
}

static inline __attribute__((always_inline)) void rows(int nblk, int m, int kp, const uint8_t *const *a, const int32_t *koff, const int8_t *w0, const int8_t *w1,
                        const int32_t *bias, const float *mult, int nvalid, int zy, int lo, int hi, uint8_t *y,
                        size_t ldy)
{
    int i = 0;
    for (; nblk == 2 && i + MR <= m; i += MR)
        tile6x32(kp, a + i, koff, w0, w1, bias, mult, nvalid, zy, lo, hi, y + i * ldy, ldy);
    for (; i + MR <= m; i += MR)
        tile(MR, nblk, kp, a + i, koff, w0, w1, bias, mult, nvalid, zy, lo, hi, y + i * ldy, ldy);
    if (i < m) tile(m - i, nblk, kp, a + i, koff, w0, w1, bias, mult, nvalid, zy, lo, hi, y + i * ldy, ldy);
}

void ferc_q8_gemm_avx512vnni(FERC_Q8_GEMM_ARGS)
{
    const size_t blk = (size_t)FERC_Q8_NR * kp;
    int j = 0;
    for (; oc - j > FERC_Q8_NR; j += 2 * FERC_Q8_NR, wp += 2 * blk) {
        const int nvalid = oc - j < 2 * FERC_Q8_NR ? oc - j : 2 * FERC_Q8_NR;
        rows(2, m, kp, a, koff, wp, wp + blk, bias + j, mult + j, nvalid, zy, lo, hi, y + j, ldy);
    }
    if (j < oc) rows(1, m, kp, a, koff, wp, wp, bias + j, mult + j, oc - j, zy, lo, hi, y + j, ldy);
}

/* quantize, 16 at a time, as ferc_q8_quantize_avx2 (q8_avx2.c). */
void ferc_q8_quantize_avx512vnni(size_t i0, size_t i1, const float *x, float s, int z, uint8_t *q)
{
    const __m512 vs = _mm512_set1_ps(s), lo = _mm512_set1_ps((float)-z), hi = _mm512_set1_ps((float)(255 - z));
    const __m512 magic = _mm512_set1_ps(12582912.f);
    const __m512i vz = _mm512_set1_epi32(z);
    for (size_t i = i0; i < i1; i += 16) {
        const __mmask16 mk = (__mmask16)(i1 - i >= 16 ? 0xffff : (1u << (i1 - i)) - 1);
        __m512 f = _mm512_div_ps(_mm512_maskz_loadu_ps(mk, x + i), vs);
        f = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(f, f, _CMP_ORD_Q), f);
        f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
        f = _mm512_sub_ps(_mm512_add_ps(f, magic), magic);
        _mm_mask_storeu_epi8(q + i, mk, _mm512_cvtusepi32_epi8(_mm512_add_epi32(_mm512_cvttps_epi32(f), vz)));
    }
}
