/* q8_gemm256.h - the 256-bit int8 GEMM and depthwise bodies, included by q8_avx2.c and
 * q8_avxvnni.c with Q8_DOT(acc, a, b) defined as "acc += four u8 x s8 products per int32 lane":
 *   AVX2      vpmaddubsw (pairs into int16: weights are within -64..64, so no saturation)
 *             then vpmaddwd with ones (pairs of int16 into int32), then vpaddd;
 *   AVX-VNNI  vpdpbusd, the same sum in one instruction.
 * The depthwise body uses Q8_DW_DOT (the same sum for weights within -127..127; Q8_DOT unless
 * the file defines it: AVX2 widens to 16 bits there).
 * Tile: 4 pixels x 16 output channels (2 registers), 8 accumulators. */
#include "kernels/q8.h"
#include "kernels/q8_dw.h"

#include <immintrin.h>
#include <string.h>

#define MR 4
#ifndef Q8_DW_DOT
#define Q8_DW_DOT Q8_DOT
#endif

static inline __m256i bcast4(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* The requantisation of one pixel's 16 outputs (two accumulators that started from the bias:
 * the GEMM tile's and the depthwise tail's), as store32 in q8_avx512vnni.c: the float clamp
 * keeps only the upper bound, the lower one is a byte max after the saturating packs (the same
 * bytes as clamping both in float, in fewer instructions); one dword permutation undoes the
 * packs' lane order. */
typedef struct {
    __m256i b0, b1, zy16;
    __m256 m0, m1, fhi;
    __m128i lo8;
} req16;

static inline req16 req16_setup(const int32_t *bias, const float *mult, int zy, int lo, int hi)
{
    req16 q;
    q.b0 = _mm256_loadu_si256((const __m256i *)bias), q.b1 = _mm256_loadu_si256((const __m256i *)(bias + 8));
    q.m0 = _mm256_loadu_ps(mult), q.m1 = _mm256_loadu_ps(mult + 8);
    q.fhi = _mm256_set1_ps((float)(hi - zy));
    q.zy16 = _mm256_set1_epi16((short)zy);
    q.lo8 = _mm_set1_epi8((char)lo);
    return q;
}

static inline void store16(__m256i a0, __m256i a1, const req16 *q, uint8_t *y, int n)
{
    const __m256i i0 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a0), q->m0), q->fhi));
    const __m256i i1 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a1), q->m1), q->fhi));
    const __m256i s = _mm256_adds_epi16(_mm256_packs_epi32(i0, i1), q->zy16);
    const __m256i p = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(s, s), _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0));
    const __m128i b = _mm_max_epu8(_mm256_castsi256_si128(p), q->lo8);
    if (n >= 16) _mm_storeu_si128((__m128i *)(void *)y, b);
    else {
        uint8_t tmp[16];
        _mm_storeu_si128((__m128i *)(void *)tmp, b);
        memcpy(y, tmp, (size_t)n);
    }
}

/* Always inlined with constant mr for full tiles, so the accumulators live in registers. */
static inline __attribute__((always_inline)) void tile(int mr, int kp, const uint8_t *const *a, const int32_t *koff, const int8_t *wb, const int32_t *bias,
                        const float *mult, int nvalid, int zy, int lo, int hi, uint8_t *y, size_t ldy)
{
    const req16 q = req16_setup(bias, mult, zy, lo, hi);
    __m256i acc[MR][2];
#ifdef Q8_NEED_ONES
    const __m256i ones = _mm256_set1_epi16(1);
#endif
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) acc[r][0] = q.b0, acc[r][1] = q.b1;
    for (int k = 0; k < kp; k += 4, wb += FERC_Q8_NR * 4) {
        const __m256i w0 = _mm256_load_si256((const __m256i *)wb), w1 = _mm256_load_si256((const __m256i *)(wb + 32));
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++) {
            const __m256i x = bcast4(a[r] + koff[k / 4]);
            Q8_DOT(acc[r][0], x, w0);
            Q8_DOT(acc[r][1], x, w1);
        }
    }
    for (int r = 0; r < mr; r++) store16(acc[r][0], acc[r][1], &q, y + r * ldy, nvalid);
}

/* The full tile with its 8 accumulators as named variables (with the array above, gcc copied
 * accumulators between registers every step; see q8_avx512vnni.c). */
static void tile_full(int kp, const uint8_t *const *a, const int32_t *koff, const int8_t *wb, const int32_t *bias,
                      const float *mult, int nvalid, int zy, int lo, int hi, uint8_t *y, size_t ldy)
{
#ifdef Q8_NEED_ONES
    const __m256i ones = _mm256_set1_epi16(1);
#endif
    const req16 q = req16_setup(bias, mult, zy, lo, hi);
    __m256i c00 = q.b0, c01 = q.b1, c10 = q.b0, c11 = q.b1, c20 = q.b0, c21 = q.b1, c30 = q.b0, c31 = q.b1;
    const uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    for (int k = 0; k < kp; k += 4, wb += FERC_Q8_NR * 4) {
        const __m256i w0 = _mm256_load_si256((const __m256i *)wb), w1 = _mm256_load_si256((const __m256i *)(wb + 32));
        const int32_t o = koff[k / 4];
        __m256i x;
#define ROW(ar, ca, cb) x = bcast4(ar + o), Q8_DOT(ca, x, w0), Q8_DOT(cb, x, w1)
        ROW(a0, c00, c01);
        ROW(a1, c10, c11);
        ROW(a2, c20, c21);
        ROW(a3, c30, c31);
#undef ROW
    }
    store16(c00, c01, &q, y, nvalid);
    store16(c10, c11, &q, y + ldy, nvalid);
    store16(c20, c21, &q, y + 2 * ldy, nvalid);
    store16(c30, c31, &q, y + 3 * ldy, nvalid);
}

void Q8_GEMM(FERC_Q8_GEMM_ARGS)
{
    for (int j = 0; j < oc; j += FERC_Q8_NR, wp += (size_t)FERC_Q8_NR * kp) {
        const int nvalid = oc - j < FERC_Q8_NR ? oc - j : FERC_Q8_NR;
        /* The last block's bias and multipliers, padded, so that full-width loads stay inside. */
        int32_t bpad[FERC_Q8_NR] = {0};
        float mpad[FERC_Q8_NR] = {0};
        const int32_t *b = bias + j;
        const float *mu = mult + j;
        if (nvalid < FERC_Q8_NR) {
            memcpy(bpad, b, sizeof(int32_t) * (size_t)nvalid);
            memcpy(mpad, mu, sizeof(float) * (size_t)nvalid);
            b = bpad, mu = mpad;
        }
        int i = 0;
        for (; i + MR <= m; i += MR)
            tile_full(kp, a + i, koff, wp, b, mu, nvalid, zy, lo, hi, y + i * ldy + j, ldy);
        if (i < m) tile(m - i, kp, a + i, koff, wp, b, mu, nvalid, zy, lo, hi, y + i * ldy + j, ldy);
    }
}

/* Depthwise (q8.h): per output pixel and 32 channels of a 64-channel block, 4 accumulators
 * (slot groups 0..3, named: as an array gcc kept them in memory) over the kernel columns and
 * row quads, then requantised in slot order and put back in channel order by the two in-lane
 * packs; blocks of 16 through store16. Weights are loaded where used: 16 ymm registers do not
 * hold 12 of them beside the accumulators. */
void Q8_DWCONV(FERC_Q8_DW_ARGS)
{
    dw_windows(d, wp, rows, v);
    const int cp = ferc_q8_dw_cp(d), nq = ferc_q8_dw_nq(d), c64 = d->c & ~63, kw = d->kw, oc = d->oc;
    const int zy = d->zy, lo = d->lo, hi = d->hi;
    const size_t plane = ferc_q8_dw_plane(d, wp), col = (size_t)cp * 4;
    const size_t step = (size_t)d->sw * col, dil = (size_t)d->dw * col;
    const __m256 flo = _mm256_set1_ps((float)(lo - zy)), fhi = _mm256_set1_ps((float)(hi - zy));
    const __m256i zy16 = _mm256_set1_epi16((short)zy);
#define LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define REQ(a, i) _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a), m##i), flo), fhi))
    for (int c0 = 0; c0 < c64; c0 += 64)
        for (int h = 0; h < 64; h += 32) {
            const uint8_t *vb = v + (size_t)c0 * 4 + h;
            const int8_t *wb = w + (size_t)c0 * 4 + h;
            const __m256i b0 = LD(bias + c0 + h / 4), b1 = LD(bias + c0 + 16 + h / 4);
            const __m256i b2 = LD(bias + c0 + 32 + h / 4), b3 = LD(bias + c0 + 48 + h / 4);
            const __m256 m0 = _mm256_loadu_ps(mult + c0 + h / 4), m1 = _mm256_loadu_ps(mult + c0 + 16 + h / 4);
            const __m256 m2 = _mm256_loadu_ps(mult + c0 + 32 + h / 4), m3 = _mm256_loadu_ps(mult + c0 + 48 + h / 4);
            for (int ox = 0; ox < d->ow; ox++) {
                __m256i a0 = b0, a1 = b1, a2 = b2, a3 = b3;
                for (int q = 0; q < nq; q++)
                    for (int kx = 0; kx < kw; kx++) {
                        const uint8_t *x = vb + q * plane + ox * step + kx * dil;
                        const int8_t *wt = wb + (size_t)(q * kw + kx) * col;
                        Q8_DW_DOT(a0, LD(x), LD(wt));
                        Q8_DW_DOT(a1, LD(x + 64), LD(wt + 64));
                        Q8_DW_DOT(a2, LD(x + 128), LD(wt + 128));
                        Q8_DW_DOT(a3, LD(x + 192), LD(wt + 192));
                    }
                const __m256i p01 = _mm256_add_epi16(_mm256_packs_epi32(REQ(a0, 0), REQ(a1, 1)), zy16);
                const __m256i p23 = _mm256_add_epi16(_mm256_packs_epi32(REQ(a2, 2), REQ(a3, 3)), zy16);
                _mm256_storeu_si256((__m256i *)(void *)(y + (size_t)ox * oc + c0 + h), _mm256_packus_epi16(p01, p23));
            }
        }
#undef REQ
    for (int c0 = c64; c0 < d->c; c0 += 16) { /* bias and mult are cp long, zero past c */
        const req16 rq = req16_setup(bias + c0, mult + c0, zy, lo, hi);
        for (int ox = 0; ox < d->ow; ox++) {
            __m256i a0 = rq.b0, a1 = rq.b1;
            for (int q = 0; q < nq; q++)
                for (int kx = 0; kx < kw; kx++) {
                    const uint8_t *x = v + q * plane + ox * step + kx * dil + (size_t)c0 * 4;
                    const int8_t *wt = w + (size_t)(q * kw + kx) * col + (size_t)c0 * 4;
                    Q8_DW_DOT(a0, LD(x), LD(wt));
                    Q8_DW_DOT(a1, LD(x + 32), LD(wt + 32));
                }
            store16(a0, a1, &rq, y + (size_t)ox * oc + c0, oc - c0);
        }
    }
#undef LD
}
