/* conv2d_winograd_simd.h - Winograd F(2x2, 3x3) for 3x3 convolutions with stride 1, dilation 1,
 * groups 1 and enough channels. Part of conv2d_simd.h, which includes it below the GEMM
 * micro-kernel it reuses.
 *
 * A tile (2x2 outputs of one image) depends on a 4x4 block d of the input; per channel pair,
 *     y = A^T [ (G g G^T) * (B^T d B) ] A        (* elementwise: 16 products)
 * instead of 4 x 9 = 36 multiply-adds. Summed over the input channels, the 16 elements e are
 * 16 independent GEMMs  M[e][tile][oc] = sum_ic V[e][tile][ic] U[e][ic][oc],  with
 * V = B^T d B (the input transform) and U = G g G^T (the weight transform, done once at pack
 * time, in double, rounded once). The coefficients are 0, +-1 and 1/2; the rounding error
 * still grows, as the transformed values are larger than the raw terms (docs/performance.md
 * has the measured difference).
 *
 * Tiles go in groups of MR (the micro-kernel's rows). A group's V is made straight from the
 * input, zeros outside the image (no padded copy); a unit, one group x one panel of NR
 * output channels, is 16 micro-kernel calls (K = Cin) into a small buffer on the stack, then
 * the output transform, bias and activation, stores guarded at odd edges. The scratch holds
 * the V of one chunk of groups; how threads share chunks is said at wino_part. Every output
 * is computed the same way whichever thread computes it, so results are bitwise identical
 * for any thread count. */

/* B^T, G and A^T:
 *   1  0 -1  0      1    0    0      1  1  1  0
 *   0  1  1  0     1/2  1/2  1/2     0  1 -1 -1
 *   0 -1  1  0     1/2 -1/2  1/2
 *   0  1  0 -1      0    0    1                  */

/* Bytes of transformed input per chunk (the scratch), and the fewest groups of tiles a
 * chunk has when the layer has as many: with several chunks each thread owns a fixed share of
 * a chunk's groups, and 24 splits evenly among 1, 2, 3, 4, 6 or 8 threads. */
#define WINO_CHUNK_BYTES ((size_t)1 << 20)
#define WINO_CHUNK_MIN_GROUPS 24

static int wino_mr(const ferc_conv2d_desc *d) { return conv_nv(d) == 2 ? MR2 : MR1; }
static long wino_tiles(const ferc_conv2d_desc *d) { return (long)d->n * ((d->oh + 1) / 2) * ((d->ow + 1) / 2); }

static size_t wino_packed_size(const ferc_conv2d_desc *d)
{
    const int nr = conv_nv(d) * VL, panels = (d->oc + nr - 1) / nr;
    return (size_t)panels * 16 * (size_t)d->c * (size_t)nr;
}

/* Per panel of NR output channels, per element e, Cin rows of NR values of U (zeros past the
 * last channel): the layout the micro-kernel reads. */
static void wino_pack(const ferc_conv2d_desc *d, const float *w, float *packed)
{
    static const double G[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
    const int nr = conv_nv(d) * VL;
    const size_t c = (size_t)d->c;
    memset(packed, 0, wino_packed_size(d) * sizeof(float));
    for (int oc = 0; oc < d->oc; oc++)
        for (size_t ic = 0; ic < c; ic++) {
            double t[4][3];
            for (int i = 0; i < 4; i++)
                for (int kx = 0; kx < 3; kx++) {
                    t[i][kx] = 0;
                    for (int ky = 0; ky < 3; ky++) t[i][kx] += G[i][ky] * w[((size_t)oc * 9 + ky * 3 + kx) * c + ic];
                }
            float *u = packed + ((size_t)(oc / nr) * 16 * c + ic) * nr + oc % nr;
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    const double v = G[j][0] * t[i][0] + G[j][1] * t[i][1] + G[j][2] * t[i][2];
                    u[(size_t)(i * 4 + j) * c * nr] = (float)v;
                }
        }
}

/* Groups of MR tiles (the micro-kernel's rows) in all, and per chunk: WINO_CHUNK_BYTES of V
 * but at least WINO_CHUNK_MIN_GROUPS, at most all of them. The scratch (one chunk) depends on
 * the shape only and grows with the batch, so the size for the largest batch serves every
 * smaller one. */
static long wino_groups(const ferc_conv2d_desc *d) { return (wino_tiles(d) + wino_mr(d) - 1) / wino_mr(d); }
static long wino_chunk_groups(const ferc_conv2d_desc *d)
{
    long ch = (long)(WINO_CHUNK_BYTES / (16 * (size_t)wino_mr(d) * (size_t)d->c * sizeof(float)));
    if (ch < WINO_CHUNK_MIN_GROUPS) ch = WINO_CHUNK_MIN_GROUPS;
    return ch < wino_groups(d) ? ch : wino_groups(d);
}

static size_t wino_scratch(const ferc_conv2d_desc *d)
{
    return (size_t)wino_chunk_groups(d) * (size_t)wino_mr(d) * 16 * (size_t)d->c * sizeof(float);
}

/* V of tiles [ta, tb) of the chunk starting at tile t0. Layout per group of MR tiles:
 * [e][tile][ic], so one micro-kernel call reads MR consecutive rows of Cin. */
static void wino_input(const ferc_conv2d_desc *d, const float *x, float *v, long t0, long ta, long tb)
{
    const int tw = (d->ow + 1) / 2, tpi = (d->oh + 1) / 2 * tw, mr = wino_mr(d), c = d->c;
    const size_t es = (size_t)mr * c; /* from one element of a tile to the next */
    for (long t = ta; t < tb; t++) {
        const int n = (int)(t / tpi), iy0 = (int)(t % tpi) / tw * 2 - d->pt, ix0 = (int)(t % tw) * 2 - d->pl;
        const float *p[16]; /* NULL outside the image: zero padding, and past odd edges */
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                const int iy = iy0 + i, ix = ix0 + j;
                p[i * 4 + j] = iy < 0 || iy >= d->h || ix < 0 || ix >= d->w
                                   ? NULL
                                   : x + (((size_t)n * d->h + iy) * d->w + ix) * c;
            }
        const long l = t - t0;
        float *vt = v + ((size_t)(l / mr) * 16 * mr + (size_t)(l % mr)) * c;
        for (int c0 = 0; c0 < c; c0 += VL) {
            const int nc = c - c0 < VL ? c - c0 : VL;
            vf q[16], r[16];
#pragma GCC unroll 16
            for (int k = 0; k < 16; k++) q[k] = !p[k] ? vzero() : nc == VL ? vload(p[k] + c0) : vload_n(p[k] + c0, nc);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) { /* B^T d */
                r[j] = vsub(q[j], q[8 + j]);
                r[4 + j] = vadd(q[4 + j], q[8 + j]);
                r[8 + j] = vsub(q[8 + j], q[4 + j]);
                r[12 + j] = vsub(q[4 + j], q[12 + j]);
            }
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) { /* (B^T d) B */
                const vf o[4] = {vsub(r[4 * i], r[4 * i + 2]), vadd(r[4 * i + 1], r[4 * i + 2]),
                                 vsub(r[4 * i + 2], r[4 * i + 1]), vsub(r[4 * i + 1], r[4 * i + 3])};
#pragma GCC unroll 4
                for (int j = 0; j < 4; j++) {
                    float *dst = vt + (size_t)(4 * i + j) * es + c0;
                    if (nc == VL) vstore(dst, o[j]);
                    else vstore_n(dst, o[j], nc);
                }
            }
        }
    }
}

/* Output transform of mr tiles from tile t (m: [e][tile][NR] with MR tiles per element),
 * channels [oc0, oc0 + ncols), plus bias and activation; outputs past odd edges are skipped. */
static void wino_output(const ferc_conv2d_desc *d, const float *m, int mr, long t, int oc0, int ncols, const float *b,
                        float *y)
{
    const int tw = (d->ow + 1) / 2, tpi = (d->oh + 1) / 2 * tw, nr = conv_nv(d) * VL;
    const size_t es = (size_t)wino_mr(d) * nr, oc = (size_t)d->oc;
    const vf al = vset1(d->alpha);
    for (int r = 0; r < mr; r++, t++) {
        const int n = (int)(t / tpi), oy = (int)(t % tpi) / tw * 2, ox = (int)(t % tw) * 2;
        const int two_rows = oy + 1 < d->oh, two_cols = ox + 1 < d->ow;
        float *y0 = y + (((size_t)n * d->oh + oy) * d->ow + ox) * oc + oc0, *y1 = y0 + (size_t)d->ow * oc;
        for (int c0 = 0; c0 < ncols; c0 += VL) {
            const int nc = ncols - c0 < VL ? ncols - c0 : VL;
            const float *mp = m + (size_t)r * nr + c0;
            vf q[16], s[8];
#pragma GCC unroll 16
            for (int e = 0; e < 16; e++) q[e] = vload(mp + e * es);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) { /* A^T M */
                s[j] = vadd(vadd(q[j], q[4 + j]), q[8 + j]);
                s[4 + j] = vsub(vsub(q[4 + j], q[8 + j]), q[12 + j]);
            }
            const vf bv = !b ? vzero() : nc == VL ? vload(b + oc0 + c0) : vload_n(b + oc0 + c0, nc);
            vf o[4];
#pragma GCC unroll 2
            for (int i = 0; i < 2; i++) { /* (A^T M) A */
                o[2 * i] = vact(vadd(vadd(vadd(s[4 * i], s[4 * i + 1]), s[4 * i + 2]), bv), d->act, al);
                o[2 * i + 1] = vact(vadd(vsub(vsub(s[4 * i + 1], s[4 * i + 2]), s[4 * i + 3]), bv), d->act, al);
            }
            float *dst[4] = {y0 + c0, y0 + oc + c0, y1 + c0, y1 + oc + c0};
            const int keep[4] = {1, two_cols, two_rows, two_rows && two_cols};
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++)
                if (keep[k]) {
                    if (nc == VL) vstore(dst[k], o[k]);
                    else vstore_n(dst[k], o[k], nc);
                }
        }
    }
}

/* Group g (mr tiles from tile t, its V at vg) x panel p: 16 GEMMs into m, then the output
 * transform. */
static void wino_unit(const ferc_conv2d_desc *d, const float *vg, int mr, long t, int p, const float *u,
                      const float *b, float *y, float *m)
{
    const int nv = conv_nv(d), nr = nv * VL, mr_max = wino_mr(d);
    const size_t c = (size_t)d->c;
    const conv_runs ru = {1, 1, d->c, 0, 0};
    const float *rows[16];
    for (int e = 0; e < 16; e++) {
        for (int r = 0; r < mr; r++) rows[r] = vg + ((size_t)e * mr_max + (size_t)r) * c;
        const float *w = u + ((size_t)p * 16 + (size_t)e) * c * nr;
        float *me = m + (size_t)e * mr_max * nr;
        if (nv == 2) ukernel_nv2(mr, rows, &ru, w, NULL, nr, me, (size_t)nr, FERC_ACT_NONE, 0.f);
        else ukernel_nv1(mr, rows, &ru, w, NULL, nr, me, (size_t)nr, FERC_ACT_NONE, 0.f);
    }
    const int oc0 = p * nr;
    wino_output(d, m, mr, t, oc0, d->oc - oc0 < nr ? d->oc - oc0 : nr, b, y);
}

/* One thread's share of the whole convolution; v is the scratch (V of one chunk of groups).
 * Several chunks (large batches): chunks of equal size, and thread i of n owns the same
 * slots [i*C/n, (i+1)*C/n) of every chunk: it transforms those groups' tiles and computes
 * them for every panel, touching no other thread's V, so no barrier is needed. One chunk:
 * few groups to share, so the threads transform a share of the tiles each and, after a
 * barrier, take a share of the (group, panel) units. */
static void wino_part(const ferc_conv2d_desc *d, const float *x, const float *u, const float *b, float *y, float *v,
                      int tid, int nth)
{
    const int nr = conv_nv(d) * VL, mr_max = wino_mr(d), panels = (d->oc + nr - 1) / nr;
    const long tiles = wino_tiles(d), groups = wino_groups(d), chunks = (groups + wino_chunk_groups(d) - 1) /
                                                                       wino_chunk_groups(d);
    const size_t gsize = (size_t)16 * mr_max * (size_t)d->c; /* floats of V per group */
    float m[16 * 2 * VL * (MR2 > MR1 ? MR2 : MR1)] __attribute__((aligned(64)));
    if (chunks == 1) {
        wino_input(d, x, v, 0, tiles * tid / nth, tiles * (tid + 1) / nth);
        if (nth > 1) {
#pragma omp barrier
        }
        const long units = groups * panels;
        for (long un = units * tid / nth; un < units * (tid + 1) / nth; un++) {
            const long g = un / panels, t = g * mr_max;
            const int mr = tiles - t < mr_max ? (int)(tiles - t) : mr_max;
            wino_unit(d, v + (size_t)g * gsize, mr, t, (int)(un % panels), u, b, y, m);
        }
        return;
    }
    const long per = (groups + chunks - 1) / chunks;
    for (long g0 = 0; g0 < groups; g0 += per)
        for (long s = per * tid / nth; s < per * (tid + 1) / nth && g0 + s < groups; s++) {
            const long t = (g0 + s) * mr_max;
            const int mr = tiles - t < mr_max ? (int)(tiles - t) : mr_max;
            float *vg = v + (size_t)s * gsize;
            wino_input(d, x, vg, t, t, t + mr);
            for (int p = 0; p < panels; p++) wino_unit(d, vg, mr, t, p, u, b, y, m);
        }
}
