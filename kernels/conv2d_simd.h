/* conv2d_simd.h - the body of the AVX2 and AVX-512 convolutions (conv2d_avx2.c and
 * conv2d_avx512.c include it under their own flags; simd.h gives the vector width VL).
 *
 * General path: implicit GEMM over NHWC. Rows are output pixels (batch included), columns
 * are output channels, K = KH*KW*Cin/groups in (ky, kx, ic) order, the order of the stored
 * weights. A micro-kernel keeps an MR x NR block of outputs in registers for the whole K
 * (no partial sums written back), broadcasting one input value per row and loading one
 * packed weight row of NR channels per step. Inputs are read in place: a row's taps are at
 * fixed offsets from the pixel's top-left input, and for groups == 1, dilation 1 the KW
 * taps of one kernel row are a single contiguous run of KW*Cin floats. Padding is handled by
 * copying the input, a few images at a time, into a zero-bordered buffer (scratch), so the
 * inner loops have no bounds tests; without padding the input is used directly. 1x1, 3x3 stride 1 or 2, first
 * layers with one channel and dense layers (a 1x1 conv on a 1x1 image) all go through this
 * path with the run lengths their shape gives.
 *
 * Few output channels (prediction heads with 4 or 8): columns of NR channels would leave
 * most lanes idle, so vectors run along K instead (the runs are contiguous in NHWC): each
 * of 4 pixels x 4 channels keeps a vector of partial sums, reduced once at the end.
 *
 * Depthwise path (groups == Cin == Cout): per output row and channel vector, KH*KW FMAs over
 * weights packed [ky][kx][C]; 3x3 stride 1 keeps the weights in registers and loads each input
 * once for four outputs, other shapes share each weight load between four pixels.
 *
 * Winograd path (3x3, stride 1, dilation 1, groups 1, >= 16 channels in and out):
 * conv2d_winograd_simd.h, 16 GEMMs per 2x2 output tiles through the same micro-kernel.
 *
 * Fused chains (conv2d_pw_dw, at the end): 1x1 + depthwise pairs streamed row by row through
 * the GEMM micro-kernel and the depthwise row code, the intermediates kept in per-thread rings.
 *
 * Threads: the work is cut into tiles whose size depends only on the shape, and tile t goes
 * to thread t * threads / tiles; every output is computed by one thread with the same
 * operations in the same order, so results are bitwise identical for any thread count. */
#include "kernels/kernels.h"
#include "kernels/simd.h"

#include "kernels/threads.h"
#include <math.h>
#include <string.h>

/* Rows per micro-kernel for NR = 2 and 1 vectors (macros: the switches below test them). */
#if VL == 16
#define MR2 12 /* 24 zmm accumulators of 32 registers */
#define MR1 12
#else
#define MR2 6 /* 12 ymm accumulators of 16 registers */
#define MR1 8
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))

static int conv_is_depthwise(const ferc_conv2d_desc *d) { return d->groups == d->c && d->oc == d->c; }
static int conv_nv(const ferc_conv2d_desc *d) { return d->oc / d->groups <= VL ? 1 : 2; }

/* Winograd path (conv2d_winograd_simd.h, included below the micro-kernel it uses): 3x3,
 * stride 1, dilation 1, groups 1, with at least 16 input and 16 output channels (with 8
 * inputs the transforms cost more than the saved multiplies: docs/performance.md) and, where
 * the output size is known when the weights are packed (a model's nominal size), at least
 * 4x4 outputs: on 3x3 or 2x2 outputs, 1 to 4 tiles, most of a tile's products fall off the
 * edge and the direct path is faster. The choice is made once, at pack time (the batch and a
 * context's image size come later), and kept in d->winograd. */
static int conv_winograd_shape(const ferc_conv2d_desc *d)
{
    return d->kh == 3 && d->kw == 3 && d->sh == 1 && d->sw == 1 && d->dh == 1 && d->dw == 1 && d->groups == 1 &&
           d->c >= 16 && d->oc >= 16;
}
static int conv_is_winograd(const ferc_conv2d_desc *d) { return d->winograd && conv_winograd_shape(d); }
int FERC_SIMD(ferc_conv2d_winograd)(const ferc_conv2d_desc *d)
{
    return conv_winograd_shape(d) && (d->oh <= 0 || d->ow <= 0 || (d->oh >= 4 && d->ow >= 4));
}
static size_t wino_packed_size(const ferc_conv2d_desc *d);
static void wino_pack(const ferc_conv2d_desc *d, const float *w, float *packed);
static size_t wino_scratch(const ferc_conv2d_desc *d);

/* The contiguous runs a row's K splits into: whole kernel rows when groups == 1 and the
 * horizontal dilation is 1, single taps otherwise. */
static int conv_run_len(const ferc_conv2d_desc *d)
{
    return d->groups == 1 && d->dw == 1 ? d->kw * d->c : d->c / d->groups;
}

/* Dot-product path: channel vectors would leave at least half the lanes idle, and the runs
 * along K fill at least two vectors. */
static int conv_is_dot(const ferc_conv2d_desc *d)
{
    return !conv_is_depthwise(d) && 2 * (d->oc / d->groups) <= VL && conv_run_len(d) >= 2 * VL;
}

const char *FERC_SIMD(ferc_conv2d_path)(const ferc_conv2d_desc *d)
{
    if (conv_is_winograd(d)) return "winograd";
    if (conv_is_depthwise(d)) return "depthwise";
    if (conv_is_dot(d)) return "dot";
    return d->kh == 1 && d->kw == 1 ? "gemm-1x1" : "gemm";
}

size_t FERC_SIMD(ferc_conv2d_packed_size)(const ferc_conv2d_desc *d)
{
    const size_t taps = (size_t)d->kh * d->kw;
    if (conv_is_winograd(d)) return wino_packed_size(d);
    if (conv_is_depthwise(d)) return taps * (size_t)d->c;
    if (conv_is_dot(d)) return (size_t)d->oc * taps * (size_t)(d->c / d->groups);
    const int cog = d->oc / d->groups, nr = conv_nv(d) * VL;
    const size_t panels = (size_t)(cog + nr - 1) / (size_t)nr;
    return (size_t)d->groups * panels * (size_t)nr * taps * (size_t)(d->c / d->groups);
}

/* GEMM path: per group, per panel of NR output channels, K rows of NR weights (zeros past
 * the last channel). Depthwise: [ky][kx][c]. Dot path: as stored. Winograd: transformed. */
void FERC_SIMD(ferc_conv2d_pack)(const ferc_conv2d_desc *d, const float *w, float *packed)
{
    const size_t taps = (size_t)d->kh * d->kw;
    if (conv_is_winograd(d)) {
        wino_pack(d, w, packed);
        return;
    }
    if (conv_is_depthwise(d)) {
        for (size_t t = 0; t < taps; t++)
            for (int c = 0; c < d->c; c++) packed[t * (size_t)d->c + (size_t)c] = w[(size_t)c * taps + t];
        return;
    }
    if (conv_is_dot(d)) {
        memcpy(packed, w, FERC_SIMD(ferc_conv2d_packed_size)(d) * sizeof(float));
        return;
    }
    const int cig = d->c / d->groups, cog = d->oc / d->groups, nr = conv_nv(d) * VL;
    const size_t k = taps * (size_t)cig;
    const int panels = (cog + nr - 1) / nr;
    for (int g = 0; g < d->groups; g++)
        for (int p = 0; p < panels; p++)
            for (size_t i = 0; i < k; i++)
                for (int j = 0; j < nr; j++) {
                    const int oc = p * nr + j;
                    *packed++ = oc < cog ? w[((size_t)g * cog + (size_t)oc) * k + i] : 0.f;
                }
}

/* Where the kernel reads its input: the padded extent it needs (hn x wn pixels), and
 * whether that differs from the input (padding, so a copy is made). */
typedef struct {
    int hn, wn, copy;
} conv_src;

static conv_src conv_source(const ferc_conv2d_desc *d)
{
    conv_src s;
    s.hn = (d->oh - 1) * d->sh + (d->kh - 1) * d->dh + 1;
    s.wn = (d->ow - 1) * d->sw + (d->kw - 1) * d->dw + 1;
    s.copy = d->pt > 0 || d->pl > 0 || s.hn - d->pt > d->h || s.wn - d->pl > d->w;
    if (!s.copy) s.hn = d->h, s.wn = d->w;
    return s;
}

/* Padded copies are made a few images at a time (about 2 MiB, at least one image) and used
 * at once, while they are still in cache; the scratch holds one such chunk. */
static int conv_chunk_images(const ferc_conv2d_desc *d, const conv_src *s)
{
    const size_t per = (size_t)s->hn * s->wn * d->c * sizeof(float), want = (size_t)2 << 20;
    const size_t n = per >= want ? 1 : want / per;
    return n < (size_t)d->n ? (int)n : d->n;
}

size_t FERC_SIMD(ferc_conv2d_scratch)(const ferc_conv2d_desc *d)
{
    if (conv_is_winograd(d)) return wino_scratch(d);
    conv_src s = conv_source(d);
    return s.copy ? (size_t)conv_chunk_images(d, &s) * s.hn * s.wn * d->c * sizeof(float) : 0;
}

/* Rows [r0, r1) of the zero-bordered copy (all images stacked). */
static void pad_rows(const ferc_conv2d_desc *d, const conv_src *s, const float *x, float *xp, int r0, int r1)
{
    const size_t c = (size_t)d->c, row = (size_t)s->wn * c;
    for (int r = r0; r < r1; r++) {
        const int n = r / s->hn, iy = r % s->hn - d->pt;
        float *dst = xp + (size_t)r * row;
        if (iy < 0 || iy >= d->h) {
            memset(dst, 0, row * sizeof(float));
            continue;
        }
        int cols = d->w;
        if (cols > s->wn - d->pl) cols = s->wn - d->pl;
        memset(dst, 0, (size_t)d->pl * c * sizeof(float));
        memcpy(dst + (size_t)d->pl * c, x + (((size_t)n * d->h + iy) * d->w) * c, (size_t)cols * c * sizeof(float));
        memset(dst + (size_t)(d->pl + cols) * c, 0, (size_t)(s->wn - d->pl - cols) * c * sizeof(float));
    }
}

/* How a row's K values are laid out around its top-left input: nky x nkx runs of len
 * floats, run (ky, kx) starting at ky * ystep + kx * xstep. */
typedef struct {
    int nky, nkx, len;
    ptrdiff_t ystep, xstep;
} conv_runs;

/* The activation of MR x NV accumulators and their store, ldy floats a row; nr of the
 * NV * VL columns are real. */
ALWAYS_INLINE void tile_store(const int MR, const int NV, vf acc[][2], int nr, float *y, size_t ldy, int act,
                              float alpha)
{
    const vf al = vset1(alpha);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            const int left = nr - v * VL;
            const vf o = vact(acc[r][v], act, al);
            if (left >= VL) vstore(y + r * ldy + v * VL, o);
            else if (left > 0) vstore_n(y + r * ldy + v * VL, o, left);
        }
}

/* The micro-kernel: mr rows (MR at compile time) x NV vectors of output channels, nr of
 * them real. rows[r] is row r's top-left input; w the panel; y row 0's first output. */
ALWAYS_INLINE void ukernel(const int MR, const int NV, const float *const *rows, const conv_runs *ru,
                           const float *w, const float *bias, int nr, float *y, size_t ldy, int act, float alpha)
{
    /* Fixed sizes (not [MR][NV], which C makes variable-length arrays kept in memory): with
     * MR and NV constant after inlining, the loops unroll and acc lives in registers. */
    vf acc[16][2];
    for (int v = 0; v < NV; v++) {
        const int left = nr - v * VL;
        vf b = !bias || left <= 0 ? vzero() : left >= VL ? vload(bias + v * VL) : vload_n(bias + v * VL, left);
#pragma GCC unroll 16
        for (int r = 0; r < MR; r++) acc[r][v] = b;
    }
    for (int ky = 0; ky < ru->nky; ky++)
        for (int kx = 0; kx < ru->nkx; kx++) {
            const ptrdiff_t off = ky * ru->ystep + kx * ru->xstep;
            const float *p[16];
#pragma GCC unroll 16
            for (int r = 0; r < MR; r++) p[r] = rows[r] + off;
            for (int k = 0; k < ru->len; k++) {
                vf wv[2];
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++) wv[v] = vload(w + v * VL);
                w += NV * VL;
#pragma GCC unroll 16
                for (int r = 0; r < MR; r++) {
                    const vf xb = vset1(p[r][k]);
#pragma GCC unroll 4
                    for (int v = 0; v < NV; v++) acc[r][v] = vfma(xb, wv[v], acc[r][v]);
                }
            }
        }
    tile_store(MR, NV, acc, nr, y, ldy, act, alpha);
}

#define UK_CASE(M, NV)                                                                                   \
    case M: ukernel(M, NV, rows, ru, w, bias, nr, y, ldy, act, alpha); break;

static void ukernel_nv2(int mr, const float *const *rows, const conv_runs *ru, const float *w, const float *bias,
                        int nr, float *y, size_t ldy, int act, float alpha)
{
    switch (mr) {
        UK_CASE(1, 2) UK_CASE(2, 2) UK_CASE(3, 2) UK_CASE(4, 2) UK_CASE(5, 2) UK_CASE(6, 2)
#if MR2 > 6
        UK_CASE(7, 2) UK_CASE(8, 2) UK_CASE(9, 2) UK_CASE(10, 2) UK_CASE(11, 2) UK_CASE(12, 2)
#endif
    default: break;
    }
}

static void ukernel_nv1(int mr, const float *const *rows, const conv_runs *ru, const float *w, const float *bias,
                        int nr, float *y, size_t ldy, int act, float alpha)
{
    switch (mr) {
        UK_CASE(1, 1) UK_CASE(2, 1) UK_CASE(3, 1) UK_CASE(4, 1) UK_CASE(5, 1) UK_CASE(6, 1) UK_CASE(7, 1)
        UK_CASE(8, 1)
#if MR1 > 8
        UK_CASE(9, 1) UK_CASE(10, 1) UK_CASE(11, 1) UK_CASE(12, 1)
#endif
    default: break;
    }
}

#include "kernels/conv2d_winograd_simd.h"

/* One or two rows x P panels at once (P*NV <= 8 accumulators per row): with so few rows the
 * per-row FMA chains of a single panel would wait on FMA latency; more panels give more
 * independent chains. Each output still accumulates in k order from its bias, exactly as in
 * ukernel, so a row's result does not depend on the batch it was computed in. */
ALWAYS_INLINE void ukernel_wide(const int MR, const int NV, const int P, const float *const *rows, const conv_runs *ru,
                                const float *w, size_t pstride, const float *bias, int ncols, float *y, int act,
                                float alpha, size_t ldy)
{
    vf acc[2][8];
#pragma GCC unroll 8
    for (int i = 0; i < P * NV; i++) {
        const int left = ncols - i * VL;
        const vf b = !bias || left <= 0 ? vzero() : left >= VL ? vload(bias + i * VL) : vload_n(bias + i * VL, left);
#pragma GCC unroll 2
        for (int r = 0; r < MR; r++) acc[r][i] = b;
    }
    for (int ky = 0; ky < ru->nky; ky++)
        for (int kx = 0; kx < ru->nkx; kx++) {
            const ptrdiff_t off = ky * ru->ystep + kx * ru->xstep;
            const float *p0 = rows[0] + off, *p1 = rows[MR - 1] + off;
            for (int k = 0; k < ru->len; k++) {
                const vf x0 = vset1(p0[k]), x1 = vset1(p1[k]);
#pragma GCC unroll 4
                for (int p = 0; p < P; p++)
#pragma GCC unroll 2
                    for (int v = 0; v < NV; v++) {
                        const vf wv = vload(w + p * pstride + v * VL);
                        acc[0][p * NV + v] = vfma(x0, wv, acc[0][p * NV + v]);
                        if (MR > 1) acc[1][p * NV + v] = vfma(x1, wv, acc[1][p * NV + v]);
                    }
                w += NV * VL;
            }
        }
    const vf al = vset1(alpha);
#pragma GCC unroll 2
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 8
        for (int i = 0; i < P * NV; i++) {
            const int left = ncols - i * VL;
            const vf o = vact(acc[r][i], act, al);
            if (left >= VL) vstore(y + r * ldy + i * VL, o);
            else if (left > 0) vstore_n(y + r * ldy + i * VL, o, left);
        }
}

#define WIDE_CASE(M, NV, P)                                                                              \
    case (M - 1) * 4 + P - 1: ukernel_wide(M, NV, P, rows, ru, w, pstride, bias, ncols, y, act, alpha, ldy); break;

static void ukernel_wide_any(int nv, int mr, int panels, const float *const *rows, const conv_runs *ru,
                             const float *w, size_t pstride, const float *bias, int ncols, float *y, size_t ldy,
                             int act, float alpha)
{
    if (nv == 2) switch ((mr - 1) * 4 + panels - 1) {
            WIDE_CASE(1, 2, 1) WIDE_CASE(1, 2, 2) WIDE_CASE(1, 2, 3) WIDE_CASE(1, 2, 4)
            WIDE_CASE(2, 2, 1) WIDE_CASE(2, 2, 2) WIDE_CASE(2, 2, 3) WIDE_CASE(2, 2, 4)
        default: break;
        }
    else switch ((mr - 1) * 4 + panels - 1) {
            WIDE_CASE(1, 1, 1) WIDE_CASE(1, 1, 2) WIDE_CASE(1, 1, 3) WIDE_CASE(1, 1, 4)
            WIDE_CASE(2, 1, 1) WIDE_CASE(2, 1, 2) WIDE_CASE(2, 1, 3) WIDE_CASE(2, 1, 4)
        default: break;
        }
}

/* GEMM with at most two rows in all (dense layers at batch 1 or 2, convs on a 1x1 output):
 * tiles of up to 4 panels. */
static void conv_gemm_few_rows(const ferc_conv2d_desc *d, const conv_src *s, const conv_runs *ru, const float *src,
                               const float *w, const float *b, float *y, int tid, int nth)
{
    const int cig = d->c / d->groups, cog = d->oc / d->groups, nv = conv_nv(d), nr = nv * VL;
    const int m = d->n * d->oh * d->ow, ntiles = (cog + nr - 1) / nr, wtiles = (ntiles + 3) / 4;
    const size_t c = (size_t)d->c, k = (size_t)d->kh * d->kw * cig;
    const long tiles = (long)d->groups * wtiles;
    for (long t = tiles * tid / nth; t < tiles * (tid + 1) / nth; t++) {
        const int g = (int)(t / wtiles), p0 = (int)(t % wtiles) * 4;
        const int panels = ntiles - p0 < 4 ? ntiles - p0 : 4, n0 = p0 * nr;
        const float *rows[2];
        for (int r = 0; r < m; r++) {
            const int n = r / (d->oh * d->ow), oy = r % (d->oh * d->ow) / d->ow, ox = r % d->ow;
            rows[r] = src + (((size_t)n * s->hn + (size_t)oy * d->sh) * s->wn + (size_t)ox * d->sw) * c + (size_t)g * cig;
        }
        ukernel_wide_any(nv, m, panels, rows, ru, w + ((size_t)g * ntiles + (size_t)p0) * (size_t)nr * k,
                         (size_t)nr * k, b ? b + (size_t)g * cog + n0 : NULL, cog - n0,
                         y + (size_t)g * cog + n0, (size_t)d->oc, d->act, d->alpha);
    }
}

/* Implicit GEMM over the source src (hn x wn pixels per image, C channels), this thread's
 * share of the tiles. */
static void conv_gemm(const ferc_conv2d_desc *d, const conv_src *s, const float *src, const float *w,
                      const float *b, float *y, int tid, int nth)
{
    const int cig = d->c / d->groups, cog = d->oc / d->groups, nv = conv_nv(d), nr = nv * VL;
    const int mr_max = nv == 2 ? MR2 : MR1;
    const size_t c = (size_t)d->c, k = (size_t)d->kh * d->kw * cig;
    const int ohw = d->oh * d->ow, m = d->n * ohw;
    const int mtiles = (m + mr_max - 1) / mr_max, ntiles = (cog + nr - 1) / nr;
    const long tiles = (long)d->groups * mtiles * ntiles;
    const long t0 = tiles * tid / nth, t1 = tiles * (tid + 1) / nth;
    /* Cache blocking: row tiles go in blocks whose inputs fit in L2 (~256 KiB, counting
     * every row's K values); within a block, panel by panel, so a panel's weights stay in
     * L1/L2 while the block's rows are swept. */
    long mb = 262144 / ((long)mr_max * (long)k * (long)sizeof(float));
    if (mb < 1) mb = 1;
    if (mb > mtiles) mb = mtiles;
    conv_runs ru;
    ru.nky = d->kh;
    ru.ystep = (ptrdiff_t)d->dh * s->wn * (ptrdiff_t)c;
    ru.len = conv_run_len(d);
    if (d->groups == 1 && d->dw == 1) ru.nkx = 1, ru.xstep = 0;
    else ru.nkx = d->kw, ru.xstep = (ptrdiff_t)d->dw * (ptrdiff_t)c;
    if (m <= 2) {
        conv_gemm_few_rows(d, s, &ru, src, w, b, y, tid, nth);
        return;
    }

    const float *rows[16];
    long cur = -1; /* group * mtiles + mtile whose rows are set */
    for (long t = t0; t < t1; t++) {
        const long per_g = (long)mtiles * ntiles, g = t / per_g, rem = t % per_g, blk = rem / (mb * ntiles);
        const long bs = mtiles - blk * mb < mb ? mtiles - blk * mb : mb, rb = rem - blk * mb * ntiles;
        const int nt = (int)(rb / bs), mt = (int)(blk * mb + rb % bs);
        const long gm = g * mtiles + mt;
        const int m0 = mt * mr_max, mr = m - m0 < mr_max ? m - m0 : mr_max;
        if (gm != cur) {
            int n = m0 / ohw, oy = m0 % ohw / d->ow, ox = m0 % d->ow;
            for (int r = 0; r < mr; r++) {
                rows[r] = src + (((size_t)n * s->hn + (size_t)oy * d->sh) * s->wn + (size_t)ox * d->sw) * c +
                          (size_t)g * cig;
                if (++ox == d->ow) {
                    ox = 0;
                    if (++oy == d->oh) oy = 0, n++;
                }
            }
            cur = gm;
        }
        const int n0 = nt * nr, ncols = cog - n0 < nr ? cog - n0 : nr;
        const float *wp = w + ((size_t)g * ntiles + (size_t)nt) * (size_t)nr * k;
        const float *bp = b ? b + (size_t)g * cog + n0 : NULL;
        float *yp = y + (size_t)m0 * d->oc + (size_t)g * cog + n0;
        if (nv == 2) ukernel_nv2(mr, rows, &ru, wp, bp, ncols, yp, (size_t)d->oc, d->act, d->alpha);
        else ukernel_nv1(mr, rows, &ru, wp, bp, ncols, yp, (size_t)d->oc, d->act, d->alpha);
    }
}

/* PX pixels x OB output channels of the dot path; in[j] is pixel j's top-left input, w the
 * first channel's K weights (the next ones k floats apart), y pixel 0's first output. */
ALWAYS_INLINE void dot_tile(const int PX, const int OB, const float *const *in, const conv_runs *ru, const float *w,
                            size_t k, const float *bias, float *y, size_t ldy, int act, float alpha)
{
    vf acc[4][4];
#pragma GCC unroll 4
    for (int j = 0; j < PX; j++)
#pragma GCC unroll 4
        for (int o = 0; o < OB; o++) acc[j][o] = vzero();
    const float *wr = w;
    for (int ky = 0; ky < ru->nky; ky++)
        for (int kx = 0; kx < ru->nkx; kx++, wr += ru->len) {
            const ptrdiff_t off = ky * ru->ystep + kx * ru->xstep;
            int i = 0;
            for (; i + VL <= ru->len; i += VL) {
                vf xv[4];
#pragma GCC unroll 4
                for (int j = 0; j < PX; j++) xv[j] = vload(in[j] + off + i);
#pragma GCC unroll 4
                for (int o = 0; o < OB; o++) {
                    const vf wv = vload(wr + o * k + i);
#pragma GCC unroll 4
                    for (int j = 0; j < PX; j++) acc[j][o] = vfma(xv[j], wv, acc[j][o]);
                }
            }
            if (i < ru->len) {
                const int n = ru->len - i;
                vf xv[4];
#pragma GCC unroll 4
                for (int j = 0; j < PX; j++) xv[j] = vload_n(in[j] + off + i, n);
#pragma GCC unroll 4
                for (int o = 0; o < OB; o++) {
                    const vf wv = vload_n(wr + o * k + i, n);
#pragma GCC unroll 4
                    for (int j = 0; j < PX; j++) acc[j][o] = vfma(xv[j], wv, acc[j][o]);
                }
            }
        }
#pragma GCC unroll 4
    for (int j = 0; j < PX; j++)
#pragma GCC unroll 4
        for (int o = 0; o < OB; o++) y[j * ldy + o] = ferc_act1((bias ? bias[o] : 0.f) + vsum(acc[j][o]), act, alpha);
}

#define DOT_CASE(P, O)                                                                                   \
    case (P - 1) * 4 + O - 1: dot_tile(P, O, in, ru, w, k, bias, y, ldy, act, alpha); break;

static void dot_any(int px, int ob, const float *const *in, const conv_runs *ru, const float *w, size_t k,
                    const float *bias, float *y, size_t ldy, int act, float alpha)
{
    switch ((px - 1) * 4 + ob - 1) {
        DOT_CASE(1, 1) DOT_CASE(1, 2) DOT_CASE(1, 3) DOT_CASE(1, 4) DOT_CASE(2, 1) DOT_CASE(2, 2) DOT_CASE(2, 3)
        DOT_CASE(2, 4) DOT_CASE(3, 1) DOT_CASE(3, 2) DOT_CASE(3, 3) DOT_CASE(3, 4) DOT_CASE(4, 1) DOT_CASE(4, 2)
        DOT_CASE(4, 3) DOT_CASE(4, 4)
    default: break;
    }
}

/* Dot path: tiles of 4 pixels x 4 output channels of one group. */
static void conv_dot(const ferc_conv2d_desc *d, const conv_src *s, const float *src, const float *w,
                     const float *b, float *y, int tid, int nth)
{
    const int cig = d->c / d->groups, cog = d->oc / d->groups;
    const size_t c = (size_t)d->c, k = (size_t)d->kh * d->kw * cig;
    const int ohw = d->oh * d->ow, m = d->n * ohw, mtiles = (m + 3) / 4, otiles = (cog + 3) / 4;
    const long tiles = (long)d->groups * mtiles * otiles;
    conv_runs ru;
    ru.nky = d->kh;
    ru.ystep = (ptrdiff_t)d->dh * s->wn * (ptrdiff_t)c;
    ru.len = conv_run_len(d);
    if (d->groups == 1 && d->dw == 1) ru.nkx = 1, ru.xstep = 0;
    else ru.nkx = d->kw, ru.xstep = (ptrdiff_t)d->dw * (ptrdiff_t)c;
    for (long t = tiles * tid / nth; t < tiles * (tid + 1) / nth; t++) {
        const int ot = (int)(t % otiles), mt = (int)(t / otiles % mtiles), g = (int)(t / otiles / mtiles);
        const int m0 = mt * 4, px = m - m0 < 4 ? m - m0 : 4, o0 = ot * 4, ob = cog - o0 < 4 ? cog - o0 : 4;
        const float *in[4];
        int n = m0 / ohw, oy = m0 % ohw / d->ow, ox = m0 % d->ow; /* pixel m0, then stepped: no division per pixel */
        for (int j = 0; j < px; j++) {
            in[j] = src + (((size_t)n * s->hn + (size_t)oy * d->sh) * s->wn + (size_t)ox * d->sw) * c + (size_t)g * cig;
            if (++ox == d->ow) {
                ox = 0;
                if (++oy == d->oh) oy = 0, n++;
            }
        }
        const size_t oc0 = (size_t)g * cog + o0;
        dot_any(px, ob, in, &ru, w + oc0 * k, k, b ? b + oc0 : NULL, y + (size_t)m0 * d->oc + oc0, (size_t)d->oc,
                d->act, d->alpha);
    }
}

/* PX pixels along a row, channels [c0, c0 + n) (n <= VL). Kernel row ky of pixel 0 starts at
 * in + ky * ystep, less wrap for ky >= wrap_ky (the fused path's ring of rows, below; the
 * plain path passes wrap_ky = kh). */
ALWAYS_INLINE void dw_pixels(const int PX, const ferc_conv2d_desc *d, const float *in, ptrdiff_t xstep,
                             ptrdiff_t ystep, int wrap_ky, ptrdiff_t wrap, const float *w, const float *b, float *y,
                             int c0, int n)
{
    const size_t c = (size_t)d->c;
    const vf bias = !b ? vzero() : n == VL ? vload(b + c0) : vload_n(b + c0, n);
    vf acc[4];
#pragma GCC unroll 8
    for (int j = 0; j < PX; j++) acc[j] = bias;
    const ptrdiff_t pstep = (ptrdiff_t)d->sw * (ptrdiff_t)c;
    for (int ky = 0; ky < d->kh; ky++) {
        const float *row = in + ky * ystep - (ky >= wrap_ky ? wrap : 0) + c0;
        for (int kx = 0; kx < d->kw; kx++) {
            const float *wp = w + ((size_t)ky * d->kw + kx) * c + c0;
            const float *xp = row + kx * xstep;
            const vf wv = n == VL ? vload(wp) : vload_n(wp, n);
#pragma GCC unroll 8
            for (int j = 0; j < PX; j++) acc[j] = vfma(n == VL ? vload(xp + j * pstep) : vload_n(xp + j * pstep, n), wv, acc[j]);
        }
    }
    const vf al = vset1(d->alpha);
#pragma GCC unroll 8
    for (int j = 0; j < PX; j++) {
        const vf o = vact(acc[j], d->act, al);
        if (n == VL) vstore(y + j * c + c0, o);
        else vstore_n(y + j * c + c0, o, n);
    }
}

/* The 3x3, stride 1, dilation 1 depthwise shape, which dw_row3_chunk runs. */
static int dw_is_row3(const ferc_conv2d_desc *d) { return d->kh == 3 && d->kw == 3 && d->sw == 1 && d->dw == 1; }

/* The maximum of a 2x2 window in the order the max pooling kernel takes it (row by row), so
 * that NaNs propagate alike. */
ALWAYS_INLINE vf pool_max4(vf a, vf b, vf c, vf d)
{
    vf m = vset1(-INFINITY);
    m = vtake_nan(vmax(a, m), a);
    m = vtake_nan(vmax(b, m), b);
    m = vtake_nan(vmax(c, m), c);
    return vtake_nan(vmax(d, m), d);
}

/* 3x3, stride 1, dilation 1, channels [c0, c0 + n): the nine weights stay in registers and
 * each input vector is loaded once for four outputs (six columns per kernel row); every
 * output takes the same FMAs in the same order as dw_pixels. FULL: n == VL. POOL: this is
 * the second row of a 2x2 stride-2 max pooling whose first row is prev (laid out as y would
 * be): the pooled row (pool_ow pixels) goes to y instead, so this row is never stored. */
ALWAYS_INLINE void dw_row3_chunk(const int FULL, const int POOL, const ferc_conv2d_desc *d, const float *const *r,
                                 const float *w, const float *b, const float *prev, int pool_ow, float *y, int c0,
                                 int n)
{
    const size_t c = (size_t)d->c;
#define LD(p) (FULL ? vload(p) : vload_n(p, n))
#define ST(p, v) (FULL ? vstore(p, v) : vstore_n(p, v, n))
    vf wv[9];
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++) wv[t] = LD(w + (size_t)t * c + c0);
    const vf bias = !b ? vzero() : LD(b + c0), al = vset1(d->alpha);
    int ox = 0;
    for (; ox + 4 <= d->ow; ox += 4) {
        vf acc[4] = {bias, bias, bias, bias};
#pragma GCC unroll 3
        for (int ky = 0; ky < 3; ky++) {
            vf x[6];
#pragma GCC unroll 6
            for (int i = 0; i < 6; i++) x[i] = LD(r[ky] + (size_t)(ox + i) * c + c0);
#pragma GCC unroll 3
            for (int kx = 0; kx < 3; kx++)
#pragma GCC unroll 4
                for (int j = 0; j < 4; j++) acc[j] = vfma(x[j + kx], wv[ky * 3 + kx], acc[j]);
        }
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) acc[j] = vact(acc[j], d->act, al);
        if (POOL) {
#pragma GCC unroll 2
            for (int q = 0; q < 2; q++)
                if (ox / 2 + q < pool_ow)
                    ST(y + (size_t)(ox / 2 + q) * c + c0,
                       pool_max4(LD(prev + (size_t)(ox + 2 * q) * c + c0), LD(prev + (size_t)(ox + 2 * q + 1) * c + c0),
                                 acc[2 * q], acc[2 * q + 1]));
        }
        else
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) ST(y + (size_t)(ox + j) * c + c0, acc[j]);
    }
    for (; ox < d->ow && (!POOL || ox / 2 < pool_ow); ox += POOL ? 2 : 1) {
        vf acc[2] = {bias, bias};
#pragma GCC unroll 2
        for (int j = 0; j < 1 + POOL; j++) {
#pragma GCC unroll 3
            for (int ky = 0; ky < 3; ky++)
#pragma GCC unroll 3
                for (int kx = 0; kx < 3; kx++)
                    acc[j] = vfma(LD(r[ky] + (size_t)(ox + j + kx) * c + c0), wv[ky * 3 + kx], acc[j]);
            acc[j] = vact(acc[j], d->act, al);
        }
        if (POOL)
            ST(y + (size_t)(ox / 2) * c + c0,
               pool_max4(LD(prev + (size_t)ox * c + c0), LD(prev + (size_t)(ox + 1) * c + c0), acc[0], acc[1]));
        else ST(y + (size_t)ox * c + c0, acc[0]);
    }
#undef ST
#undef LD
}

/* One output row of the depthwise path: 3x3 stride 1 by dw_row3_chunk, other kernels in
 * tiles of 4 pixels, each channel vector in turn. With prev (3x3 stride 1 only), the row
 * pooled with prev into pool_ow pixels, as dw_row3_chunk says. */
static void dw_row(const ferc_conv2d_desc *d, const float *in, ptrdiff_t ystep, int wrap_ky, ptrdiff_t wrap,
                   const float *w, const float *b, const float *prev, int pool_ow, float *y)
{
    const size_t c = (size_t)d->c;
    if (dw_is_row3(d)) {
        const float *r[3];
        for (int ky = 0; ky < 3; ky++) r[ky] = in + ky * ystep - (ky >= wrap_ky ? wrap : 0);
        int c0 = 0;
        if (prev) {
            for (; c0 + VL <= d->c; c0 += VL) dw_row3_chunk(1, 1, d, r, w, b, prev, pool_ow, y, c0, VL);
            if (c0 < d->c) dw_row3_chunk(0, 1, d, r, w, b, prev, pool_ow, y, c0, d->c - c0);
            return;
        }
        for (; c0 + VL <= d->c; c0 += VL) dw_row3_chunk(1, 0, d, r, w, b, NULL, 0, y, c0, VL);
        if (c0 < d->c) dw_row3_chunk(0, 0, d, r, w, b, NULL, 0, y, c0, d->c - c0);
        return;
    }
    const ptrdiff_t xstep = (ptrdiff_t)d->dw * (ptrdiff_t)c;
    for (int ox = 0; ox < d->ow; ox += 4) {
        const int px = d->ow - ox < 4 ? d->ow - ox : 4;
        const float *ip = in + (size_t)ox * d->sw * c;
        float *yp = y + (size_t)ox * c;
        for (int c0 = 0; c0 < d->c; c0 += VL) {
            const int nc = d->c - c0 < VL ? d->c - c0 : VL;
            if (px == 4) dw_pixels(4, d, ip, xstep, ystep, wrap_ky, wrap, w, b, yp, c0, nc);
            else
                for (int j = 0; j < px; j++)
                    dw_pixels(1, d, ip + (size_t)j * d->sw * c, xstep, ystep, wrap_ky, wrap, w, b, yp + (size_t)j * c,
                              c0, nc);
        }
    }
}

/* Depthwise: tiles are output rows. */
static void conv_depthwise(const ferc_conv2d_desc *d, const conv_src *s, const float *src, const float *w,
                           const float *b, float *y, int tid, int nth)
{
    const size_t c = (size_t)d->c;
    const long rows = (long)d->n * d->oh;
    const ptrdiff_t ystep = (ptrdiff_t)d->dh * s->wn * (ptrdiff_t)c;
    for (long row = rows * tid / nth; row < rows * (tid + 1) / nth; row++) {
        const int n = (int)(row / d->oh), oy = (int)(row % d->oh);
        dw_row(d, src + ((size_t)n * s->hn + (size_t)oy * d->sh) * s->wn * c, ystep, d->kh, 0, w, b, NULL, 0,
               y + ((size_t)n * d->oh + oy) * d->ow * c);
    }
}

/* One thread's share: its rows of the padded copy, then (after all copies) its tiles. */
static void conv_path(const ferc_conv2d_desc *d, const conv_src *s, const float *src, const float *w, const float *b,
                      float *y, int tid, int nth)
{
    if (conv_is_depthwise(d)) conv_depthwise(d, s, src, w, b, y, tid, nth);
    else if (conv_is_dot(d)) conv_dot(d, s, src, w, b, y, tid, nth);
    else conv_gemm(d, s, src, w, b, y, tid, nth);
}

/* One thread's share. With padding, chunk by chunk of images: its rows of the chunk's padded
 * copy, then (after all copies) its tiles of the chunk's outputs. */
static void conv_part(const ferc_conv2d_desc *d, const conv_src *s, const float *x, const float *w, const float *b,
                      float *y, void *scratch, int tid, int nth)
{
    if (!s->copy) {
        conv_path(d, s, x, w, b, y, tid, nth);
        return;
    }
    const int chunk = conv_chunk_images(d, s);
    for (int n0 = 0; n0 < d->n; n0 += chunk) {
        ferc_conv2d_desc dc = *d;
        dc.n = d->n - n0 < chunk ? d->n - n0 : chunk;
        const int rows = dc.n * s->hn;
        if (n0 > 0 && nth > 1) { /* the previous chunk's tiles are done with the copy */
#pragma omp barrier
        }
        pad_rows(&dc, s, x + (size_t)n0 * d->h * d->w * d->c, scratch, rows * tid / nth, rows * (tid + 1) / nth);
        if (nth > 1) {
#pragma omp barrier
        }
        conv_path(&dc, s, scratch, w, b, y + (size_t)n0 * d->oh * d->ow * d->oc, tid, nth);
    }
}

void FERC_SIMD(ferc_conv2d)(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b, float *y,
                            void *scratch, int threads)
{
    const conv_src s = conv_source(d);
    /* Below ~100k multiply-adds a second thread costs more than it saves (results do not
     * depend on the thread count either way). */
    const double work = (double)d->n * d->oh * d->ow * d->oc * d->kh * d->kw * (d->c / d->groups);
    const int nth = threads <= 1 || work < 1e5 ? 1 : threads;
    if (conv_is_winograd(d)) {
        if (nth == 1) wino_part(d, x, w, b, y, scratch, 0, 1);
        else {
#pragma omp parallel num_threads(nth)
            wino_part(d, x, w, b, y, scratch, ferc_thread_id(), ferc_thread_count());
        }
        return;
    }
    if (nth == 1) {
        conv_part(d, &s, x, w, b, y, scratch, 0, 1);
        return;
    }
#pragma omp parallel num_threads(nth)
    conv_part(d, &s, x, w, b, y, scratch, ferc_thread_id(), ferc_thread_count());
}

/* ---- chains of 1x1 + depthwise convolutions (+ 2x2 max pooling), fused ------------------
 *
 * ferc_pw_dw_chain without storing the intermediates: each thread sweeps its share of the
 * output rows; every stage keeps the last kh rows of its 1x1 output in a ring (kh x wn
 * pixels, zero where the depthwise padding is), in cache. A stage's depthwise row needs its
 * ring's rows; a missing 1x1 row is the GEMM path's micro-kernel on the input row (the
 * chain's input; the previous stage's depthwise row, computed the same way into a row
 * buffer; or the head convolution's row, the GEMM micro-kernel on a zero-bordered copy of
 * just the input rows it reads), written into the ring; the depthwise row reads the ring as
 * the plain path reads its zero-bordered copy; with pooling, two last-stage rows go to a
 * buffer and are pooled as the max pooling kernel does. A head with no stages and a pooling
 * (a CNN's first convolution and its max pool) writes its two rows there directly, so its
 * output, the largest tensor of such a network, is never stored whole either. Every output is
 * computed by the same operations in the same order as the separate kernels, so the results
 * are bitwise theirs, for any thread count; a thread's first rows recompute the rows its
 * neighbour also computed. */

int FERC_SIMD(ferc_conv2d_pw_dw_ok)(const ferc_conv2d_desc *pw, const ferc_conv2d_desc *dw)
{
    return ferc_conv2d_pw_dw_shape(pw, dw) && !conv_is_depthwise(pw) && !conv_is_dot(pw);
}

/* A head runs on the GEMM path, one output row at a time from a zero-bordered copy of the kh
 * input rows that row reads. */
int FERC_SIMD(ferc_conv2d_chain_head_ok)(const ferc_conv2d_desc *d)
{
    return ferc_conv2d_chain_head_shape(d) && !conv_is_depthwise(d) && !conv_is_dot(d) && !conv_is_winograd(d) &&
           d->kh <= 16;
}

/* Threads sharing a fused run at most: the scratch holds one set of rings per thread. */
#define PWDW_THREADS 8

static size_t pwdw_ring_floats(const ferc_conv2d_desc *dw)
{
    const size_t f = (size_t)dw->kh * ((size_t)dw->ow + (size_t)dw->kw - 1) * (size_t)dw->c;
    return (f + 15) / 16 * 16; /* 64-byte steps */
}

/* One output row of d (a depthwise convolution or the head), in 64-byte steps. */
static size_t pwdw_row_floats(const ferc_conv2d_desc *d) { return ((size_t)d->ow * d->oc + 15) / 16 * 16; }

/* The head's input rows for one output row: kh rows of its padded width. */
static size_t pwdw_head_floats(const ferc_conv2d_desc *hd)
{
    const size_t wn = (size_t)(hd->ow - 1) * hd->sw + (size_t)(hd->kw - 1) * hd->dw + 1;
    return ((size_t)hd->kh * wn * hd->c + 15) / 16 * 16;
}

/* The convolution whose output the chain ends with (or pools): the last stage's depthwise
 * one, or a head with no stages after it. */
static const ferc_conv2d_desc *pwdw_last(const ferc_pw_dw_chain *ch)
{
    return ch->stages ? &ch->dw[ch->stages - 1] : &ch->hd;
}

/* Per thread: each stage's ring, the row buffers between stages (and after the head, with
 * the head's input rows), two rows to pool. */
static size_t pwdw_thread_floats(const ferc_pw_dw_chain *ch)
{
    size_t f = 0;
    for (int s = 0; s < ch->stages; s++) f += pwdw_ring_floats(&ch->dw[s]) + (s ? pwdw_row_floats(&ch->dw[s - 1]) : 0);
    if (ch->head) f += pwdw_head_floats(&ch->hd) + (ch->stages ? pwdw_row_floats(&ch->hd) : 0);
    return f + (ch->pool ? 2 * pwdw_row_floats(pwdw_last(ch)) : 0);
}

size_t FERC_SIMD(ferc_conv2d_pw_dw_scratch)(const ferc_pw_dw_chain *ch)
{
    return PWDW_THREADS * pwdw_thread_floats(ch) * sizeof(float);
}

/* pw's output for one input row src (pw->w pixels, the first cols of them) into ring row dst
 * (its pixel 0 at dst + pl * C). */
static void pwdw_pw_row(const ferc_conv2d_desc *pw, const ferc_conv2d_desc *dw, const float *src, const float *w,
                        const float *b, int cols, float *dst)
{
    const int nv = conv_nv(pw), nr = nv * VL, mr_max = nv == 2 ? MR2 : MR1, ntiles = (pw->oc + nr - 1) / nr;
    const size_t k = (size_t)pw->c, oc = (size_t)pw->oc;
    const conv_runs ru = {1, 1, pw->c, 0, 0};
    float *out = dst + (size_t)dw->pl * oc;
    const float *rows[16];
    for (int p0 = 0; p0 < cols; p0 += mr_max) {
        const int mr = cols - p0 < mr_max ? cols - p0 : mr_max;
        for (int r = 0; r < mr; r++) rows[r] = src + (size_t)(p0 + r) * k;
        for (int nt = 0; nt < ntiles; nt++) {
            const int n0 = nt * nr, ncols = pw->oc - n0 < nr ? pw->oc - n0 : nr;
            const float *wp = w + (size_t)nt * nr * k, *bp = b ? b + n0 : NULL;
            float *yp = out + (size_t)p0 * oc + n0;
            /* conv_gemm runs a whole GEMM of one or two rows with ukernel_wide: the same
             * arithmetic per output as ukernel. */
            if (nv == 2) ukernel_nv2(mr, rows, &ru, wp, bp, ncols, yp, oc, pw->act, pw->alpha);
            else ukernel_nv1(mr, rows, &ru, wp, bp, ncols, yp, oc, pw->act, pw->alpha);
        }
    }
}

typedef struct {
    float *ring, *in; /* the stage's ring; its input row (stages after the first, or after a head) */
    int tag[16];      /* the padded row each ring slot holds, -1: none yet (kh <= 16) */
} pwdw_stage;

/* Columns [p0, p1) of the head's kh input rows for output row oy of image n, zero-bordered,
 * into rows (kh rows of the padded width wn): the part of the padded copy conv_gemm would
 * read that one tile of output pixels needs. */
static void pwdw_head_cols(const ferc_conv2d_desc *d, const float *x, int n, int oy, int wn, int p0, int p1,
                           float *rows)
{
    const size_t c = (size_t)d->c;
    const int c0 = p0 > d->pl ? p0 : d->pl, c1 = p1 < d->pl + d->w ? p1 : d->pl + d->w; /* inside the image */
    for (int ky = 0; ky < d->kh; ky++) {
        float *dst = rows + (size_t)ky * wn * c;
        const int iy = oy * d->sh - d->pt + ky * d->dh;
        if (iy < 0 || iy >= d->h || c0 >= c1) {
            memset(dst + (size_t)p0 * c, 0, (size_t)(p1 - p0) * c * sizeof(float));
            continue;
        }
        if (p0 < c0) memset(dst + (size_t)p0 * c, 0, (size_t)(c0 - p0) * c * sizeof(float));
        memcpy(dst + (size_t)c0 * c, x + (((size_t)n * d->h + iy) * d->w + (size_t)(c0 - d->pl)) * c,
               (size_t)(c1 - c0) * c * sizeof(float));
        if (c1 < p1) memset(dst + (size_t)c1 * c, 0, (size_t)(p1 - c1) * c * sizeof(float));
    }
}

#if VL == 16
/* A 3x3 head on one input channel (the emotion CNNs' first layer, 48x48x1 -> 16 or 32): the
 * GEMM tile's K is only 9, so per 12 pixels it reloaded its weights and row pointers for
 * three 3-value runs and spilled accumulators (39% of the FMA peak). Here the 9 taps' weight
 * vectors are loaded once a row and 6 pixels share each input broadcast (the layer with its
 * pooling: 2.0 -> 1.3 ms at batch 64, docs/performance.md). The products are ukernel's, in
 * its order (from the bias, taps in ky, kx order), so the result is bitwise the same. */
static int head_c1_ok(const ferc_conv2d_desc *d)
{
    return d->c == 1 && d->kh == 3 && d->kw == 3 && d->sw == 1 && d->dw == 1 && d->dh == 1 && d->oc <= 2 * VL;
}

/* MR pixels from column p0 of the three zero-bordered rows (wn floats apart); y holds nr
 * (the output channels) floats a pixel. */
ALWAYS_INLINE void head_c1_tile(const int MR, const int NV, const float *rows, int wn, int p0, const vf w[9][2],
                                const vf b[2], int nr, float *y, int act, float alpha)
{
    vf acc[6][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) acc[r][v] = b[v];
#pragma GCC unroll 3
    for (int ky = 0; ky < 3; ky++)
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; kx++) {
            const float *p = rows + (size_t)ky * wn + p0 + kx;
#pragma GCC unroll 6
            for (int r = 0; r < MR; r++) {
                const vf xb = vset1(p[r]);
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++) acc[r][v] = vfma(xb, w[ky * 3 + kx][v], acc[r][v]);
            }
        }
    tile_store(MR, NV, acc, nr, y, (size_t)nr, act, alpha);
}

static void head_c1_row(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b, int n, int oy,
                        float *rows, float *out)
{
    const int wn = d->ow + 2, nv = conv_nv(d), nr = d->oc;
    pwdw_head_cols(d, x, n, oy, wn, 0, wn, rows);
    vf wv[9][2], bv[2];
    for (int k = 0; k < 9; k++)
        for (int v = 0; v < nv; v++) wv[k][v] = vload(w + (size_t)k * nv * VL + v * VL);
    for (int v = 0; v < nv; v++) {
        const int left = nr - v * VL;
        bv[v] = !b || left <= 0 ? vzero() : left >= VL ? vload(b + v * VL) : vload_n(b + v * VL, left);
    }
    int p0 = 0;
    for (; p0 + 6 <= d->ow; p0 += 6)
        if (nv == 2) head_c1_tile(6, 2, rows, wn, p0, wv, bv, nr, out + (size_t)p0 * d->oc, d->act, d->alpha);
        else head_c1_tile(6, 1, rows, wn, p0, wv, bv, nr, out + (size_t)p0 * d->oc, d->act, d->alpha);
    for (; p0 < d->ow; p0++)
        if (nv == 2) head_c1_tile(1, 2, rows, wn, p0, wv, bv, nr, out + (size_t)p0 * d->oc, d->act, d->alpha);
        else head_c1_tile(1, 1, rows, wn, p0, wv, bv, nr, out + (size_t)p0 * d->oc, d->act, d->alpha);
}
#endif

#if VL == 16
/* A 3x3 stride-2 head on three channels with at most 16 outputs (YuNet's first layer on the
 * BGR image): through ukernel its twelve row pointers did not fit the general registers
 * beside the loop's, and every broadcast reloaded one. Here the pixels are 6 floats apart
 * from one pointer, so every input is an immediate offset. The products are ukernel's in its
 * order (from the bias, kernel rows, then the 9 values of each), so the bytes are the same. */
static int head_c3s2_ok(const ferc_conv2d_desc *d)
{
    return d->c == 3 && d->kh == 3 && d->kw == 3 && d->sw == 2 && d->dw == 1 && d->groups == 1 && d->oc <= VL;
}

static void head_c3s2_tile(const float *p0, ptrdiff_t ystep, const float *w, const float *bias, int nr, float *y,
                           size_t ldy, int act, float alpha)
{
    vf acc[MR1][2];
    const vf b = !bias ? vzero() : nr >= VL ? vload(bias) : vload_n(bias, nr);
#pragma GCC unroll 16
    for (int r = 0; r < MR1; r++) acc[r][0] = b;
#pragma GCC unroll 3
    for (int ky = 0; ky < 3; ky++) {
        const float *p = p0 + ky * ystep;
#pragma GCC unroll 9
        for (int k = 0; k < 9; k++) {
            const vf wv = vload(w + (ky * 9 + k) * VL);
#pragma GCC unroll 16
            for (int r = 0; r < MR1; r++) acc[r][0] = vfma(vset1(p[6 * r + k]), wv, acc[r][0]);
        }
    }
    tile_store(MR1, 1, acc, nr, y, ldy, act, alpha);
}
#endif

/* The head's output row oy of image n into out. A tile of pixels whose inputs all lie inside
 * the image reads them in place; the others (the edges) read the zero-bordered copy conv_gemm
 * would read, made in rows for just their columns. The same products in the same order
 * either way. */
static void pwdw_head_row(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b, int n, int oy,
                          float *rows, float *out)
{
#if VL == 16
    if (head_c1_ok(d)) {
        head_c1_row(d, x, w, b, n, oy, rows, out);
        return;
    }
#endif
    const size_t c = (size_t)d->c;
    const int wn = (d->ow - 1) * d->sw + (d->kw - 1) * d->dw + 1, span = (d->kw - 1) * d->dw + 1;
    const int iy0 = oy * d->sh - d->pt, rows_inside = iy0 >= 0 && iy0 + (d->kh - 1) * d->dh < d->h;
    conv_runs pad, in;
    pad.nky = in.nky = d->kh, pad.len = in.len = conv_run_len(d);
    pad.ystep = (ptrdiff_t)wn * (ptrdiff_t)c, in.ystep = (ptrdiff_t)d->dh * d->w * (ptrdiff_t)c;
    if (d->dw == 1) pad.nkx = in.nkx = 1, pad.xstep = in.xstep = 0;
    else pad.nkx = in.nkx = d->kw, pad.xstep = in.xstep = (ptrdiff_t)d->dw * (ptrdiff_t)c;
    const int nv = conv_nv(d), nr = nv * VL, mr_max = nv == 2 ? MR2 : MR1, ntiles = (d->oc + nr - 1) / nr;
    const size_t k = (size_t)d->kh * d->kw * c;
    const float *rp[16];
    for (int p0 = 0; p0 < d->ow; p0 += mr_max) {
        const int mr = d->ow - p0 < mr_max ? d->ow - p0 : mr_max;
        const int lo = p0 * d->sw, hi = (p0 + mr - 1) * d->sw + span; /* padded columns [lo, hi) */
        const int inside = rows_inside && lo >= d->pl && hi <= d->pl + d->w;
        if (inside)
            for (int r = 0; r < mr; r++)
                rp[r] = x + (((size_t)n * d->h + (size_t)iy0) * d->w + (size_t)((p0 + r) * d->sw - d->pl)) * c;
        else {
            pwdw_head_cols(d, x, n, oy, wn, lo, hi, rows);
            for (int r = 0; r < mr; r++) rp[r] = rows + (size_t)(p0 + r) * d->sw * c;
        }
        for (int nt = 0; nt < ntiles; nt++) {
            const int n0 = nt * nr, ncols = d->oc - n0 < nr ? d->oc - n0 : nr;
            const float *wp = w + (size_t)nt * nr * k, *bp = b ? b + n0 : NULL;
            float *yp = out + (size_t)p0 * d->oc + n0;
            const conv_runs *ru = inside ? &in : &pad;
#if VL == 16
            if (mr == MR1 && head_c3s2_ok(d)) { /* rp[r] = rp[0] + 6 r, one tile of outputs */
                head_c3s2_tile(rp[0], ru->ystep, wp, bp, ncols, yp, (size_t)d->oc, d->act, d->alpha);
                continue;
            }
#endif
            if (nv == 2) ukernel_nv2(mr, rp, ru, wp, bp, ncols, yp, (size_t)d->oc, d->act, d->alpha);
            else ukernel_nv1(mr, rp, ru, wp, bp, ncols, yp, (size_t)d->oc, d->act, d->alpha);
        }
    }
}

/* Stage s's depthwise output row oy of image n into out; with prev (the chain's pooling, a
 * 3x3 stride-1 last stage), that row pooled with prev, row oy - 1, into out. */
static void pwdw_dw_row(const ferc_pw_dw_chain *ch, pwdw_stage *st, const float *x, int s, int n, int oy,
                        const float *prev, float *out)
{
    const ferc_conv2d_desc *pw = &ch->pw[s], *dw = &ch->dw[s];
    const int kh = dw->kh, wn = dw->ow + dw->kw - 1;
    const int cols = pw->w < wn - dw->pl ? pw->w : wn - dw->pl; /* pw columns dw reads */
    const size_t rs = (size_t)wn * dw->c;
    for (int py = oy; py < oy + kh; py++) { /* padded rows oy .. oy + kh - 1 */
        float *slot = st[s].ring + (size_t)(py % kh) * rs;
        if (st[s].tag[py % kh] == py) continue;
        st[s].tag[py % kh] = py;
        const int iy = py - dw->pt;
        if (iy < 0 || iy >= pw->h) {
            memset(slot, 0, rs * sizeof(float));
            continue;
        }
        const float *src = x + ((size_t)n * pw->h + (size_t)iy) * pw->w * pw->c;
        if (s) pwdw_dw_row(ch, st, x, s - 1, n, iy, NULL, st[s].in), src = st[s].in;
        else if (ch->head) pwdw_head_row(&ch->hd, x, ch->wh, ch->bh, n, iy, st[0].ring + pwdw_ring_floats(dw), st[0].in),
                           src = st[0].in;
        pwdw_pw_row(pw, dw, src, ch->wp[s], ch->bp[s], cols, slot);
    }
    const int s0 = oy % kh;
    dw_row(dw, st[s].ring + (size_t)s0 * rs, (ptrdiff_t)rs, kh - s0, (ptrdiff_t)kh * (ptrdiff_t)rs, ch->wd[s],
           ch->bd[s], prev, ch->pd.ow, out);
}

/* Output row of a 2x2 stride-2 max pooling from two rows in d0 (row_len floats apart), as
 * maxpool_rows computes it. */
static void pwdw_pool_row(const ferc_pool_desc *p, const float *d0, size_t row_len, float *y)
{
    const size_t c = (size_t)p->c;
    for (int ox = 0; ox < p->ow; ox++)
        for (int c0 = 0; c0 < p->c; c0 += VL) {
            const int nc = p->c - c0 < VL ? p->c - c0 : VL;
            vf m = vset1(-INFINITY);
            for (int iy = 0; iy < 2; iy++)
                for (int ix = 0; ix < 2; ix++) {
                    const float *xp = d0 + iy * row_len + (size_t)(2 * ox + ix) * c + c0;
                    const vf v = nc == VL ? vload(xp) : vload_n(xp, nc);
                    m = vtake_nan(vmax(v, m), v);
                }
            if (nc == VL) vstore(y + (size_t)ox * c + c0, m);
            else vstore_n(y + (size_t)ox * c + c0, m, nc);
        }
}

static void pwdw_part(const ferc_pw_dw_chain *ch, const float *x, float *y, float *buf, int tid, int nth)
{
    pwdw_stage st[FERC_CHAIN_MAX];
    float *head_rows = buf; /* a head alone (no stages): its input rows */
    if (!ch->stages) buf += pwdw_head_floats(&ch->hd);
    for (int s = 0; s < ch->stages; s++) {
        st[s].ring = buf;
        memset(buf, 0, pwdw_ring_floats(&ch->dw[s]) * sizeof(float));
        buf += pwdw_ring_floats(&ch->dw[s]);
        if (!s && ch->head) buf += pwdw_head_floats(&ch->hd), st[s].in = buf, buf += pwdw_row_floats(&ch->hd);
        if (s) st[s].in = buf, buf += pwdw_row_floats(&ch->dw[s - 1]);
    }
    const int last = ch->stages - 1;
    const ferc_conv2d_desc *dw = pwdw_last(ch);
    const size_t c = (size_t)dw->oc, rlen = pwdw_row_floats(dw);
    const int oh = ch->pool ? ch->pd.oh : dw->oh, ow = ch->pool ? ch->pd.ow : dw->ow;
    const long rows = (long)dw->n * oh;
    int cur_n = -1;
    for (long row = rows * tid / nth; row < rows * (tid + 1) / nth; row++) {
        const int n = (int)(row / oh), oy = (int)(row % oh);
        if (n != cur_n)
            for (int s = 0; s < ch->stages; s++)
                for (int i = 0; i < ch->dw[s].kh; i++) st[s].tag[i] = -1;
        cur_n = n;
        float *out = y + ((size_t)n * oh + oy) * ow * c;
        if (!ch->stages) { /* a convolution and its pooling, two rows at a time */
            pwdw_head_row(dw, x, ch->wh, ch->bh, n, 2 * oy, head_rows, buf);
            pwdw_head_row(dw, x, ch->wh, ch->bh, n, 2 * oy + 1, head_rows, buf + rlen);
            pwdw_pool_row(&ch->pd, buf, rlen, out);
            continue;
        }
        if (!ch->pool) {
            pwdw_dw_row(ch, st, x, last, n, oy, NULL, out);
            continue;
        }
        pwdw_dw_row(ch, st, x, last, n, 2 * oy, NULL, buf);
        if (dw_is_row3(dw)) pwdw_dw_row(ch, st, x, last, n, 2 * oy + 1, buf, out); /* pooled as it is made */
        else {
            pwdw_dw_row(ch, st, x, last, n, 2 * oy + 1, NULL, buf + rlen);
            pwdw_pool_row(&ch->pd, buf, rlen, out);
        }
    }
}

void FERC_SIMD(ferc_conv2d_pw_dw)(const ferc_pw_dw_chain *ch, const float *x, float *y, void *scratch, int threads)
{
    double work = ch->head ? (double)ch->hd.n * ch->hd.oh * ch->hd.ow * ch->hd.oc * ch->hd.kh * ch->hd.kw * ch->hd.c : 0;
    for (int s = 0; s < ch->stages; s++)
        work += (double)ch->pw[s].n * ch->pw[s].h * ch->pw[s].w * ch->pw[s].oc * (ch->pw[s].c + ch->dw[s].kh * ch->dw[s].kw);
    const ferc_conv2d_desc *dw = pwdw_last(ch);
    const int rows = dw->n * (ch->pool ? ch->pd.oh : dw->oh);
    int nth = threads <= 1 || work < 1e5 ? 1 : threads;
    if (nth > PWDW_THREADS) nth = PWDW_THREADS;
    if (nth > rows) nth = rows;
    const size_t per = pwdw_thread_floats(ch);
    if (nth == 1) {
        pwdw_part(ch, x, y, scratch, 0, 1);
        return;
    }
#pragma omp parallel num_threads(nth)
    pwdw_part(ch, x, y, (float *)scratch + per * (size_t)ferc_thread_id(), ferc_thread_id(), ferc_thread_count());
}
