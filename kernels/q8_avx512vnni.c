/* q8_avx512vnni.c - int8 GEMM and depthwise bodies for AVX-512 VNNI: vpdpbusd on zmm
 * registers, 64 u8 x s8 products per instruction. GEMM tile: 6 pixels x 32 output channels (two packed blocks), 12
 * accumulators; per 4 k's, 2 weight loads and 6 broadcasts feed 12 vpdpbusd. */
#include "kernels/q8.h"
#include "kernels/q8_dw.h"

#include <immintrin.h>
#include <string.h>

#define MR 6

/* The requantisation (q8.h) of one tile's 16 or 32 output channels, in fewer instructions
 * than the definition's order (on 1x1 layers with K = 16..64 it was a third of the tile's
 * work) and with the same bytes: the accumulators start from the bias; the float clamp keeps
 * only the upper bound (which also keeps the conversion in range), the lower one is the
 * integer max after the saturating packs, since round(max(f, lo - zy)) = max(round(f),
 * lo - zy) for integer bounds. The packs leave 4-output runs in lane order; one dword
 * permutation puts them back. */
typedef struct {
    __mmask16 m0, m1; /* valid channels of the two blocks */
    __mmask32 mk;
    __m512i b0, b1, zy16;
    __m512 u0, u1, fhi;
    __m256i lo8;
} req_tile;

static inline req_tile req_setup(const int32_t *bias, const float *mult, int nvalid, int zy, int lo, int hi)
{
    req_tile q;
    q.m0 = (__mmask16)(nvalid >= 16 ? 0xffff : (1u << nvalid) - 1);
    q.m1 = (__mmask16)(nvalid >= 32 ? 0xffff : nvalid <= 16 ? 0 : (1u << (nvalid - 16)) - 1);
    q.mk = (__mmask32)(nvalid >= 32 ? 0xffffffffu : (1u << nvalid) - 1);
    q.b0 = _mm512_maskz_loadu_epi32(q.m0, bias), q.b1 = _mm512_maskz_loadu_epi32(q.m1, bias + 16);
    q.u0 = _mm512_maskz_loadu_ps(q.m0, mult), q.u1 = _mm512_maskz_loadu_ps(q.m1, mult + 16);
    q.fhi = _mm512_set1_ps((float)(hi - zy));
    q.zy16 = _mm512_set1_epi16((short)zy);
    q.lo8 = _mm256_set1_epi8((char)lo);
    return q;
}

static inline __m512i req_round(__m512i acc, __m512 u, __m512 fhi)
{
    return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), u), fhi));
}

/* Codes in packus order (lane L: the 4-output runs at dwords 4L and 4L + 1) back in order. */
static inline __m256i req_order(__m512i p)
{
    return _mm512_castsi512_si256(_mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0), p));
}

static inline void store32(__m512i a0, __m512i a1, const req_tile *q, uint8_t *y)
{
    const __m512i s = _mm512_packs_epi32(req_round(a0, q->u0, q->fhi), req_round(a1, q->u1, q->fhi));
    const __m512i p = _mm512_packus_epi16(_mm512_adds_epi16(s, q->zy16), _mm512_setzero_si512());
    _mm256_mask_storeu_epi8(y, q->mk, _mm256_max_epu8(req_order(p), q->lo8));
}

static inline void store16(__m512i a0, const req_tile *q, uint8_t *y)
{
    const __m512i s = _mm512_packs_epi32(req_round(a0, q->u0, q->fhi), _mm512_setzero_si512());
    const __m512i p = _mm512_packus_epi16(_mm512_adds_epi16(s, q->zy16), _mm512_setzero_si512());
    _mm_mask_storeu_epi8(y, q->m0, _mm_max_epu8(_mm256_castsi256_si128(req_order(p)), _mm256_castsi256_si128(q->lo8)));
}

/* Always inlined with constant mr and nblk, so the accumulators live in registers. */
static inline __attribute__((always_inline)) void tile(int mr, int nblk, int kp, const uint8_t *const *a, const int32_t *koff, const int8_t *w0, const int8_t *w1,
                        const int32_t *bias, const float *mult, int nvalid, int zy, int lo, int hi, uint8_t *y,
                        size_t ldy)
{
    const req_tile q = req_setup(bias, mult, nvalid, zy, lo, hi);
    __m512i acc[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) acc[r][0] = q.b0, acc[r][1] = q.b1;
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
        if (nblk > 1) store32(acc[r][0], acc[r][1], &q, y + r * ldy);
        else store16(acc[r][0], &q, y + r * ldy);
}

/* The full tile, 6 x 32, with its 12 accumulators as named variables: with an array the
 * compiler copied accumulators between registers every step, and the moves took the ports
 * vpdpbusd needs. */
static void tile6x32(int kp, const uint8_t *const *a, const int32_t *koff, const int8_t *w0, const int8_t *w1,
                     const int32_t *bias, const float *mult, int nvalid, int zy, int lo, int hi, uint8_t *y, size_t ldy)
{
    const req_tile q = req_setup(bias, mult, nvalid, zy, lo, hi);
    __m512i c00 = q.b0, c01 = q.b1, c10 = q.b0, c11 = q.b1, c20 = q.b0, c21 = q.b1;
    __m512i c30 = q.b0, c31 = q.b1, c40 = q.b0, c41 = q.b1, c50 = q.b0, c51 = q.b1;
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
    store32(c00, c01, &q, y);
    store32(c10, c11, &q, y + ldy);
    store32(c20, c21, &q, y + 2 * ldy);
    store32(c30, c31, &q, y + 3 * ldy);
    store32(c40, c41, &q, y + 4 * ldy);
    store32(c50, c51, &q, y + 5 * ldy);
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

/* Depthwise (q8.h): per output pixel and 64-channel block, 4 accumulators (slot groups
 * 0..3) over the kernel columns and row quads, one vpdpbusd each; requantised in slot order
 * and put back in channel order by the two in-lane packs. Accumulators and weights are named
 * variables: as arrays gcc kept them in memory. The 3x3 case keeps its 12 weights in
 * registers (stores to y are bytes, which may alias anything, so they would be reloaded). The
 * lower clamp is an integer max after the saturating packs, as in store32. */
#define DW_REQ(a, i) req_round(a, m##i, fhi)
#define DW_STORE(dst)                                                                                        \
    _mm512_storeu_si512(dst, _mm512_max_epu8(                                                                \
                                 _mm512_packus_epi16(                                                        \
                                     _mm512_adds_epi16(_mm512_packs_epi32(DW_REQ(a0, 0), DW_REQ(a1, 1)), zy16), \
                                     _mm512_adds_epi16(_mm512_packs_epi32(DW_REQ(a2, 2), DW_REQ(a3, 3)), zy16)), \
                                 lo8))
#define DW_DOT(x, i, wi) a##i = _mm512_dpbusd_epi32(a##i, _mm512_loadu_si512((x) + 64 * (i)), wi)

static void dw_block64(const ferc_q8_conv_desc *d, int c0, const uint8_t *v, size_t plane, size_t col,
                       const int8_t *w, const int32_t *bias, const float *mult, uint8_t *y)
{
    const __m512 fhi = _mm512_set1_ps((float)(d->hi - d->zy));
    const __m512i zy16 = _mm512_set1_epi16((short)d->zy), lo8 = _mm512_set1_epi8((char)d->lo);
    const __m512i b0 = _mm512_loadu_si512(bias + c0), b1 = _mm512_loadu_si512(bias + c0 + 16);
    const __m512i b2 = _mm512_loadu_si512(bias + c0 + 32), b3 = _mm512_loadu_si512(bias + c0 + 48);
    const __m512 m0 = _mm512_loadu_ps(mult + c0), m1 = _mm512_loadu_ps(mult + c0 + 16);
    const __m512 m2 = _mm512_loadu_ps(mult + c0 + 32), m3 = _mm512_loadu_ps(mult + c0 + 48);
    const uint8_t *vb = v + (size_t)c0 * 4;
    const int8_t *wb = w + (size_t)c0 * 4;
    const int nq = ferc_q8_dw_nq(d), kw = d->kw;
    const size_t step = (size_t)d->sw * col, dil = (size_t)d->dw * col;
    if (nq == 1 && kw == 3) {
#define W4(t) const __m512i w##t##0 = _mm512_loadu_si512(wb + (t) * col), w##t##1 = _mm512_loadu_si512(wb + (t) * col + 64), \
                    w##t##2 = _mm512_loadu_si512(wb + (t) * col + 128), w##t##3 = _mm512_loadu_si512(wb + (t) * col + 192)
        W4(0);
        W4(1);
        W4(2);
#undef W4
        for (int ox = 0; ox < d->ow; ox++) {
            const uint8_t *x0 = vb + ox * step, *x1 = x0 + dil, *x2 = x1 + dil;
            __m512i a0 = b0, a1 = b1, a2 = b2, a3 = b3;
            DW_DOT(x0, 0, w00), DW_DOT(x0, 1, w01), DW_DOT(x0, 2, w02), DW_DOT(x0, 3, w03);
            DW_DOT(x1, 0, w10), DW_DOT(x1, 1, w11), DW_DOT(x1, 2, w12), DW_DOT(x1, 3, w13);
            DW_DOT(x2, 0, w20), DW_DOT(x2, 1, w21), DW_DOT(x2, 2, w22), DW_DOT(x2, 3, w23);
            DW_STORE(y + (size_t)ox * d->oc + c0);
        }
        return;
    }
    for (int ox = 0; ox < d->ow; ox++) {
        __m512i a0 = b0, a1 = b1, a2 = b2, a3 = b3;
        for (int q = 0; q < nq; q++)
            for (int kx = 0; kx < kw; kx++) {
                const uint8_t *x = vb + q * plane + ox * step + kx * dil;
                const int8_t *wt = wb + (size_t)(q * kw + kx) * col;
                DW_DOT(x, 0, _mm512_loadu_si512(wt)), DW_DOT(x, 1, _mm512_loadu_si512(wt + 64));
                DW_DOT(x, 2, _mm512_loadu_si512(wt + 128)), DW_DOT(x, 3, _mm512_loadu_si512(wt + 192));
            }
        DW_STORE(y + (size_t)ox * d->oc + c0);
    }
}

/* 3 kernel columns (kh <= 4), stride and dilation 1 in columns, a 64-channel block: the
 * windows of q8_dw.h built in registers, one padded column at a time, each column's four
 * slot groups used by the three outputs that read it, so nothing is written to the window
 * scratch and read back (that pass was about 40% of these layers). The weights come from
 * memory: the columns take the registers. Same products and order as dw_block64. */
static void dw_cols64(const ferc_q8_conv_desc *d, int c0, const uint8_t *const *rows, size_t col, const int8_t *w,
                      const int32_t *bias, const float *mult, uint8_t *y)
{
    const __m512 fhi = _mm512_set1_ps((float)(d->hi - d->zy));
    const __m512i zy16 = _mm512_set1_epi16((short)d->zy), lo8 = _mm512_set1_epi8((char)d->lo);
    const __m512i zxv = _mm512_set1_epi8((char)d->zx);
    const __m512 m0 = _mm512_loadu_ps(mult + c0), m1 = _mm512_loadu_ps(mult + c0 + 16);
    const __m512 m2 = _mm512_loadu_ps(mult + c0 + 32), m3 = _mm512_loadu_ps(mult + c0 + 48);
    const uint8_t *r0 = rows[0] + c0, *r1 = rows[1] + c0, *r2 = rows[2] + c0, *r3 = rows[3] + c0;
    const int8_t *wb = w + (size_t)c0 * 4;
    const int c = d->c, iw = d->w, pl = d->pl, ow = d->ow;
    __m512i p0, p1, p2, p3, q0, q1, q2, q3, s0, s1, s2, s3;
#define LD(r) _mm512_loadu_si512((const void *)((r) + o))
#define COL(G, xp)                                                                                        \
    do {                                                                                                  \
        const int ix = (xp) - pl;                                                                         \
        if (ix < 0 || ix >= iw) {                                                                         \
            G##0 = G##1 = G##2 = G##3 = zxv;                                                              \
        } else {                                                                                          \
            const size_t o = (size_t)ix * c;                                                              \
            const __m512i x0 = LD(r0), x1 = LD(r1), x2 = LD(r2), x3 = LD(r3);                             \
            const __m512i l01 = _mm512_unpacklo_epi8(x0, x1), h01 = _mm512_unpackhi_epi8(x0, x1);         \
            const __m512i l23 = _mm512_unpacklo_epi8(x2, x3), h23 = _mm512_unpackhi_epi8(x2, x3);         \
            G##0 = _mm512_unpacklo_epi16(l01, l23), G##1 = _mm512_unpackhi_epi16(l01, l23);               \
            G##2 = _mm512_unpacklo_epi16(h01, h23), G##3 = _mm512_unpackhi_epi16(h01, h23);               \
        }                                                                                                 \
    } while (0)
#define WT(kx, i) _mm512_loadu_si512((const void *)(wb + (kx) * col + 64 * (i)))
#define OUT(A, B, C, ox)                                                                                  \
    do {                                                                                                  \
        __m512i a0 = _mm512_loadu_si512(bias + c0), a1 = _mm512_loadu_si512(bias + c0 + 16);              \
        __m512i a2 = _mm512_loadu_si512(bias + c0 + 32), a3 = _mm512_loadu_si512(bias + c0 + 48);         \
        a0 = _mm512_dpbusd_epi32(a0, A##0, WT(0, 0)), a1 = _mm512_dpbusd_epi32(a1, A##1, WT(0, 1));       \
        a2 = _mm512_dpbusd_epi32(a2, A##2, WT(0, 2)), a3 = _mm512_dpbusd_epi32(a3, A##3, WT(0, 3));       \
        a0 = _mm512_dpbusd_epi32(a0, B##0, WT(1, 0)), a1 = _mm512_dpbusd_epi32(a1, B##1, WT(1, 1));       \
        a2 = _mm512_dpbusd_epi32(a2, B##2, WT(1, 2)), a3 = _mm512_dpbusd_epi32(a3, B##3, WT(1, 3));       \
        a0 = _mm512_dpbusd_epi32(a0, C##0, WT(2, 0)), a1 = _mm512_dpbusd_epi32(a1, C##1, WT(2, 1));       \
        a2 = _mm512_dpbusd_epi32(a2, C##2, WT(2, 2)), a3 = _mm512_dpbusd_epi32(a3, C##3, WT(2, 3));       \
        DW_STORE(y + (size_t)(ox) * d->oc + c0);                                                          \
    } while (0)
    COL(p, 0);
    COL(q, 1);
    int ox = 0;
    for (; ox + 3 <= ow; ox += 3) { /* three outputs, so that the columns rotate by name */
        COL(s, ox + 2);
        OUT(p, q, s, ox);
        COL(p, ox + 3);
        OUT(q, s, p, ox + 1);
        COL(q, ox + 4);
        OUT(s, p, q, ox + 2);
    }
    if (ox < ow) {
        COL(s, ox + 2);
        OUT(p, q, s, ox);
        if (ox + 1 < ow) {
            COL(p, ox + 3);
            OUT(q, s, p, ox + 1);
        }
    }
#undef LD
#undef COL
#undef WT
#undef OUT
}
#undef DW_REQ
#undef DW_STORE
#undef DW_DOT

void ferc_q8_dw_avx512vnni(FERC_Q8_DW_ARGS)
{
    const int cp = ferc_q8_dw_cp(d), nq = ferc_q8_dw_nq(d), c64 = d->c & ~63, kw = d->kw;
    const size_t plane = ferc_q8_dw_plane(d, wp), col = (size_t)cp * 4;
    const int in_regs = nq == 1 && kw == 3 && d->sw == 1 && d->dw == 1; /* dw_cols64 */
    if (!in_regs || c64 < d->c) dw_windows(d, wp, rows, v);
    for (int c0 = 0; c0 < c64; c0 += 64)
        if (in_regs) dw_cols64(d, c0, rows, col, w, bias, mult, y);
        else dw_block64(d, c0, v, plane, col, w, bias, mult, y);
    for (int c0 = c64; c0 < d->c; c0 += 16) {
        const int n = d->oc - c0 < 16 ? d->oc - c0 : 16;
        const __mmask16 mk = (__mmask16)((1u << n) - 1);
        const __m512i b = _mm512_loadu_si512(bias + c0);
        const __m512 m = _mm512_loadu_ps(mult + c0);
        const __m512 flo = _mm512_set1_ps((float)(d->lo - d->zy)), fhi = _mm512_set1_ps((float)(d->hi - d->zy));
        const __m512i zy = _mm512_set1_epi32(d->zy);
        const uint8_t *vb = v + (size_t)c0 * 4;
        const int8_t *wb = w + (size_t)c0 * 4;
        const size_t step = (size_t)d->sw * col, dil = (size_t)d->dw * col;
        const int k3 = nq == 1 && kw == 3; /* the 3x3 case, weights in registers */
        const __m512i w0 = k3 ? _mm512_loadu_si512(wb) : b, w1 = k3 ? _mm512_loadu_si512(wb + col) : b,
                      w2 = k3 ? _mm512_loadu_si512(wb + 2 * col) : b;
        for (int ox = 0; ox < d->ow; ox++) {
            const uint8_t *x = vb + ox * step;
            __m512i acc = b;
            if (k3) {
                acc = _mm512_dpbusd_epi32(acc, _mm512_loadu_si512(x), w0);
                acc = _mm512_dpbusd_epi32(acc, _mm512_loadu_si512(x + dil), w1);
                acc = _mm512_dpbusd_epi32(acc, _mm512_loadu_si512(x + 2 * dil), w2);
            } else {
                for (int q = 0; q < nq; q++)
                    for (int kx = 0; kx < kw; kx++)
                        acc = _mm512_dpbusd_epi32(acc, _mm512_loadu_si512(x + q * plane + kx * dil),
                                                  _mm512_loadu_si512(wb + (size_t)(q * kw + kx) * col));
            }
            const __m512 f = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), m), flo), fhi);
            _mm_mask_storeu_epi8(y + (size_t)ox * d->oc + c0, mk,
                                 _mm512_cvtusepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(f), zy)));
        }
    }
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
