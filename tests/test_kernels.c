/* test_kernels.c - the SIMD kernels of the ISA in use (FERC_ISA; tests/run.sh runs this once
 * per ISA) against the scalar references, on seeded random inputs.
 *
 * conv2d and dense: every kernel size / stride / padding / dilation / groups combination
 * below, channel counts that leave tails of the vector width, batch 1 and 3. A result must
 * satisfy |simd - scalar| <= 1e-5 |scalar| + 1e-6 S, where S is the sum of |terms| of that
 * output (the scale of a dot product's rounding error; PyTorch's own kernels differ from the
 * reference by the same order). Pooling, global pooling, affine, add and the activations must
 * be bitwise equal to the scalar ones. Every kernel runs with 1 and 2 threads, and the two
 * results must be bitwise identical. */
#include "testutil.h"

#include "kernels/kernels.h"
#include "nn/tensor.h"

#include <stdint.h>

static uint64_t rng_state;

static float frand(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / (1 << 23))) - 1.f;
}

static float *rand_buf(size_t n)
{
    float *p = ferc_alloc(n * sizeof(float) + 64);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) p[i] = frand();
    return p;
}

static float *abs_copy(const float *x, size_t n)
{
    float *p = ferc_alloc(n * sizeof(float) + 64);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) p[i] = fabsf(x[i]);
    return p;
}

static const ferc_kernel_table *simd(void) { return ferc_kernels(); }
static const ferc_kernel_table *ref(void) { return ferc_kernels_for("scalar"); }

/* got within 1e-5 relative of want, with a floor of 1e-6 of the terms' magnitude. */
static void check_close(const char *what, const float *got, const float *want, const float *mag, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)got[i] - want[i]), tol = 1e-5 * fabs(want[i]) + 1e-6 * mag[i];
        if (!(d <= tol)) /* ck_assert on every element would log each one */
            ck_abort_msg("%s [%s]: element %zu is %.9g, scalar %.9g (diff %.3g, allowed %.3g)", what,
                      simd()->isa, i, got[i], want[i], d, tol);
    }
}

/* ---- conv2d ------------------------------------------------------------------------- */

typedef struct {
    int n, h, w, c, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups, act;
} conv_case;

static int out_size(int in, int k, int s, int p0, int p1, int dil) { return (in + p0 + p1 - dil * (k - 1) - 1) / s + 1; }

/* Runs the SIMD conv on 1..threads threads: the first must be close to the scalar result,
 * the others bitwise equal to the first. Weights are packed in the layout the kernels choose
 * for this size, or for Winograd whenever the shape allows it (force_winograd: a context
 * may run sizes other than the one a model's weights were packed for). */
static void check_conv_threads(const conv_case *cc, int threads, int force_winograd)
{
    ferc_conv2d_desc d = {cc->n, cc->h, cc->w, cc->c, 0, 0, cc->oc, cc->kh, cc->kw, cc->sh, cc->sw, cc->pt, cc->pl,
                          cc->dh, cc->dw, cc->groups, cc->act, 0.1f, 0};
    d.oh = out_size(cc->h, cc->kh, cc->sh, cc->pt, cc->pb, cc->dh);
    d.ow = out_size(cc->w, cc->kw, cc->sw, cc->pl, cc->pr, cc->dw);
    if (d.oh < 1 || d.ow < 1) return;
    const ferc_kernel_table *k = simd();
    d.winograd = force_winograd || (k->conv2d_winograd && k->conv2d_winograd(&d));
    char what[200];
    snprintf(what, sizeof what, "conv n%d %dx%dx%d->%d k%dx%d s%dx%d p%d,%d,%d,%d d%dx%d g%d act%d", d.n, d.h, d.w,
             d.c, d.oc, d.kh, d.kw, d.sh, d.sw, cc->pt, cc->pl, cc->pb, cc->pr, d.dh, d.dw, d.groups, d.act);
    const size_t nx = (size_t)d.n * d.h * d.w * d.c, nw = (size_t)d.oc * d.kh * d.kw * (d.c / d.groups),
                 ny = (size_t)d.n * d.oh * d.ow * d.oc;
    float *x = rand_buf(nx), *w = rand_buf(nw), *b = rand_buf((size_t)d.oc);
    float *ax = abs_copy(x, nx), *aw = abs_copy(w, nw), *ab = abs_copy(b, (size_t)d.oc);
    float *want = ferc_alloc(ny * sizeof(float)), *mag = ferc_alloc(ny * sizeof(float));
    float *got[3] = {ferc_alloc(ny * sizeof(float)), ferc_alloc(ny * sizeof(float)), ferc_alloc(ny * sizeof(float))};
    ferc_conv2d_desc dm = d;
    dm.act = FERC_ACT_NONE;
    const float *bias = d.oc % 3 ? b : NULL; /* some cases without bias */
    ref()->conv2d(&d, x, w, bias, want, NULL, 1);
    ref()->conv2d(&dm, ax, aw, bias ? ab : NULL, mag, NULL, 1);

    float *packed = NULL;
    const float *wk = w;
    if (k->conv2d_pack) {
        packed = ferc_alloc(k->conv2d_packed_size(&d) * sizeof(float));
        k->conv2d_pack(&d, w, packed);
        wk = packed;
    }
    const size_t ns = k->conv2d_scratch ? k->conv2d_scratch(&d) : 0;
    void *scratch = ns ? ferc_alloc(ns) : NULL;
    for (int t = 0; t < threads; t++) {
        memset(got[t], 0xff, ny * sizeof(float)); /* NaN: an output never written shows */
        k->conv2d(&d, x, wk, bias, got[t], scratch, t + 1);
    }
    check_close(what, got[0], want, mag, ny);
    for (int t = 1; t < threads; t++)
        ck_assert_msg(!memcmp(got[0], got[t], ny * sizeof(float)), "%s [%s]: 1 and %d threads differ", what, k->isa,
                      t + 1);
    ferc_free(x), ferc_free(w), ferc_free(b), ferc_free(ax), ferc_free(aw), ferc_free(ab), ferc_free(want);
    ferc_free(mag), ferc_free(got[0]), ferc_free(got[1]), ferc_free(got[2]), ferc_free(packed), ferc_free(scratch);
}

static void check_conv(const conv_case *cc) { check_conv_threads(cc, 2, 0); }

/* Every kernel shape x stride x padding x dilation x groups, with random sizes that leave
 * vector tails; the channel counts cycle through values below, at and above the widths. */
START_TEST(conv_all_combinations)
{
    rng_state = 0x9e3779b97f4a7c15ull;
    static const int ks[][2] = {{1, 1}, {3, 3}, {1, 5}, {3, 1}, {5, 5}, {7, 7}};
    static const int pads[][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 2, 2, 2}, {0, 1, 2, 1}, {3, 3, 3, 3}};
    static const int chans[] = {1, 3, 5, 8, 12, 16, 17, 24, 33, 40};
    int count = 0;
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++)
        for (int s = 1; s <= 3; s++)
            for (size_t pi = 0; pi < sizeof pads / sizeof *pads; pi++)
                for (int dil = 1; dil <= 2; dil++)
                    for (int gi = 0; gi < 3; gi++) {
                        conv_case cc = {0};
                        const int *p = pads[pi];
                        cc.kh = ks[ki][0], cc.kw = ks[ki][1], cc.sh = s, cc.sw = s == 3 ? 2 : s, cc.dh = dil;
                        cc.dw = dil == 2 && ki % 2 ? 1 : dil;
                        cc.pt = p[0] < cc.kh ? p[0] : 0, cc.pl = p[1] < cc.kw ? p[1] : 0;
                        cc.pb = p[2] < cc.kh ? p[2] : 0, cc.pr = p[3] < cc.kw ? p[3] : 0;
                        cc.n = count % 4 == 0 ? 3 : 1;
                        cc.h = 6 + count % 7, cc.w = 5 + count % 9;
                        const int c = chans[count % 10], oc = chans[(count * 7 + 3) % 10];
                        if (gi == 0) cc.groups = 1, cc.c = c, cc.oc = oc * 2;
                        else if (gi == 1) cc.groups = 2, cc.c = 2 * c, cc.oc = 2 * oc;
                        else cc.groups = cc.c = cc.oc = c + 16; /* depthwise */
                        cc.act = count % 4;
                        check_conv(&cc);
                        count++;
                    }
    ck_assert_int_eq(count, 540);
}
END_TEST

/* The layer shapes of the models ferc ships (FER CNNs on 48x48 gray faces, the res10 SSD
 * face detector), small batch and larger. */
START_TEST(conv_model_shapes)
{
    rng_state = 12345;
    static const conv_case cases[] = {
        /* n  h   w   c   oc  kh kw sh sw pt pl pb pr dh dw g act */
        {1, 48, 48, 1, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* first layer, one channel */
        {2, 24, 24, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 12, 12, 64, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {4, 6, 6, 128, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 3, 3, 256, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 37, 41, 3, 32, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1},    /* res10 first conv */
        {1, 19, 19, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 19, 19, 64, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1},  /* 3x3 stride 2 */
        {1, 19, 19, 64, 128, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0},  /* 1x1 stride-2 shortcut */
        {1, 10, 10, 128, 256, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1}, /* dilation 2 */
        {1, 10, 10, 256, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0},   /* prediction heads */
        {1, 10, 10, 256, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0},
        {2, 15, 15, 64, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 2},   /* thin 1x1 */
        {2, 14, 14, 96, 96, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 96, 2},  /* depthwise */
        {1, 14, 14, 40, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 40, 3},  /* depthwise stride 2, tail */
        {2, 9, 11, 37, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},     /* few outputs: vectors along K */
        {1, 8, 8, 80, 4, 3, 3, 2, 2, 0, 1, 1, 0, 2, 2, 2, 3},      /* the same, grouped and dilated */
        {3, 7, 7, 20, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2},
        /* images over 1 MiB padded: the padded copy is made in several chunks */
        {2, 130, 130, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1},
        {3, 100, 100, 24, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {2, 120, 120, 40, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 40, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_conv(&cases[i]);
}
END_TEST

/* Chains of 1x1 + depthwise convolution pairs, optionally ended by a 2x2 max pooling, run as
 * one (conv2d_pw_dw): within the conv tolerance of the scalar chain (the magnitude of each
 * output: the same chain on |x| and |weights|), and bitwise equal to this ISA's own conv2d
 * and maxpool run one after the other (the planner swaps one for the other), on 1, 2 and 3
 * threads. Stage 0 maps c to oc channels, later stages oc to oc; a head maps hc to c. */
typedef struct {
    int stages, n, h, w, c, oc, kh, kw, pt, pl, pb, pr, act1, act2, pool;
    int hc, hk, hs; /* a head convolution: hc input channels, hk x hk, stride hs, padding hk / 2; hk 0: none */
} chain_case;

static void check_chain(const chain_case *cc)
{
    const ferc_kernel_table *k = simd(), *r = ref();
    ferc_pw_dw_chain ch = {.stages = cc->stages, .pool = cc->pool}, mch;
    size_t most = (size_t)cc->n * cc->h * cc->w * (cc->c > cc->oc ? cc->c : cc->oc);
    float *wp[FERC_CHAIN_MAX], *bp[FERC_CHAIN_MAX], *wd[FERC_CHAIN_MAX], *bd[FERC_CHAIN_MAX];
    float *awp[FERC_CHAIN_MAX], *abp[FERC_CHAIN_MAX], *awd[FERC_CHAIN_MAX], *abd[FERC_CHAIN_MAX];
    float *pp[FERC_CHAIN_MAX] = {0}, *pdw[FERC_CHAIN_MAX] = {0};
    int h = cc->h, w = cc->w;
    float *wh = NULL, *bh = NULL, *awh = NULL, *abh = NULL, *ph = NULL;
    const int xc = cc->hk ? cc->hc : cc->c;
    if (cc->hk) {
        const int p = cc->hk / 2;
        ferc_conv2d_desc hd = {cc->n, h, w, cc->hc, out_size(h, cc->hk, cc->hs, p, p, 1), out_size(w, cc->hk, cc->hs, p, p, 1),
                               cc->c, cc->hk, cc->hk, cc->hs, cc->hs, p, p, 1, 1, 1, 1, 0.f, 0};
        ck_assert(r->conv2d_chain_head_ok(&hd) && k->conv2d_chain_head_ok(&hd));
        const size_t nw = (size_t)cc->c * cc->hk * cc->hk * cc->hc;
        ch.head = 1, ch.hd = hd, ch.wh = wh = rand_buf(nw), ch.bh = bh = rand_buf((size_t)cc->c);
        awh = abs_copy(wh, nw), abh = abs_copy(bh, (size_t)cc->c);
        h = hd.oh, w = hd.ow;
        if ((size_t)cc->n * h * w * cc->c > most) most = (size_t)cc->n * h * w * cc->c;
    }
    for (int s = 0; s < cc->stages; s++) {
        const int c = s ? cc->oc : cc->c;
        ferc_conv2d_desc pw = {cc->n, h, w, c, h, w, cc->oc, 1, 1, 1, 1, 0, 0, 1, 1, 1, cc->act1, 0.1f, 0};
        ferc_conv2d_desc dw = {cc->n, h, w, cc->oc, 0, 0, cc->oc, cc->kh, cc->kw, 1, 1, cc->pt, cc->pl, 1, 1,
                               cc->oc, cc->act2, 0.2f, 0};
        dw.oh = h = out_size(h, cc->kh, 1, cc->pt, cc->pb, 1), dw.ow = w = out_size(w, cc->kw, 1, cc->pl, cc->pr, 1);
        ck_assert(r->conv2d_pw_dw_ok(&pw, &dw) && k->conv2d_pw_dw_ok(&pw, &dw));
        ch.pw[s] = pw, ch.dw[s] = dw;
        const size_t nwp = (size_t)cc->oc * c, nwd = (size_t)cc->oc * cc->kh * cc->kw;
        ch.wp[s] = wp[s] = rand_buf(nwp), ch.bp[s] = bp[s] = rand_buf((size_t)cc->oc);
        ch.wd[s] = wd[s] = rand_buf(nwd), ch.bd[s] = bd[s] = cc->oc % 3 ? rand_buf((size_t)cc->oc) : NULL;
        awp[s] = abs_copy(wp[s], nwp), abp[s] = abs_copy(bp[s], (size_t)cc->oc), awd[s] = abs_copy(wd[s], nwd);
        abd[s] = bd[s] ? abs_copy(bd[s], (size_t)cc->oc) : NULL;
        if ((size_t)cc->n * h * w * cc->oc > most) most = (size_t)cc->n * h * w * cc->oc;
    }
    const int lc = cc->stages ? cc->oc : cc->c; /* channels of the last convolution */
    ferc_pool_desc pd = {cc->n, h, w, lc, h / 2, w / 2, 2, 2, 2, 2, 0, 0, 0, 0, 0};
    ch.pd = pd;
    ck_assert(!cc->pool || ferc_pw_dw_pool_shape(&pd));
    char what[160];
    snprintf(what, sizeof what, "head k%d s%d, %d x pw+dw n%d %dx%dx%d->%d k%dx%d p%d,%d,%d,%d act%d,%d%s", cc->hk,
             cc->hs, cc->stages, cc->n, cc->h, cc->w, cc->c, cc->oc, cc->kh, cc->kw, cc->pt, cc->pl, cc->pb, cc->pr,
             cc->act1, cc->act2, cc->pool ? " + maxpool" : "");
    const size_t nx = (size_t)cc->n * cc->h * cc->w * xc;
    const size_t ny = cc->pool ? (size_t)cc->n * pd.oh * pd.ow * lc : (size_t)cc->n * h * w * lc;
    float *x = rand_buf(nx), *ax = abs_copy(x, nx);
    float *want = ferc_alloc(ny * sizeof(float)), *mag = ferc_alloc(ny * sizeof(float));
    float *plain = ferc_alloc(ny * sizeof(float)), *got = ferc_alloc(ny * sizeof(float));
    float *bufa = ferc_alloc(most * sizeof(float)), *bufb = ferc_alloc(most * sizeof(float));
    void *rs = ferc_alloc(r->conv2d_pw_dw_scratch(&ch));
    r->conv2d_pw_dw(&ch, x, want, rs, 1);
    mch = ch;
    mch.hd.act = FERC_ACT_NONE, mch.wh = awh, mch.bh = abh;
    for (int s = 0; s < cc->stages; s++) {
        mch.pw[s].act = mch.dw[s].act = FERC_ACT_NONE;
        mch.wp[s] = awp[s], mch.bp[s] = abp[s], mch.wd[s] = awd[s], mch.bd[s] = abd[s];
    }
    r->conv2d_pw_dw(&mch, ax, mag, rs, 1);

    /* This ISA's separate kernels, on weights packed its way. */
    size_t ns = k->conv2d_pw_dw_scratch(&ch);
    if (cc->hk && k->conv2d_pack) {
        ph = ferc_alloc(k->conv2d_packed_size(&ch.hd) * sizeof(float));
        k->conv2d_pack(&ch.hd, wh, ph);
        ch.wh = ph;
    }
    if (cc->hk && k->conv2d_scratch && k->conv2d_scratch(&ch.hd) > ns) ns = k->conv2d_scratch(&ch.hd);
    for (int s = 0; s < cc->stages; s++) {
        if (k->conv2d_pack) {
            pp[s] = ferc_alloc(k->conv2d_packed_size(&ch.pw[s]) * sizeof(float));
            pdw[s] = ferc_alloc(k->conv2d_packed_size(&ch.dw[s]) * sizeof(float));
            k->conv2d_pack(&ch.pw[s], wp[s], pp[s]);
            k->conv2d_pack(&ch.dw[s], wd[s], pdw[s]);
            ch.wp[s] = pp[s], ch.wd[s] = pdw[s];
        }
        if (k->conv2d_scratch && k->conv2d_scratch(&ch.pw[s]) > ns) ns = k->conv2d_scratch(&ch.pw[s]);
        if (k->conv2d_scratch && k->conv2d_scratch(&ch.dw[s]) > ns) ns = k->conv2d_scratch(&ch.dw[s]);
    }
    void *scratch = ferc_alloc(ns);
    if (cc->hk) k->conv2d(&ch.hd, x, ch.wh, ch.bh, bufb, scratch, 1);
    for (int s = 0; s < cc->stages; s++) {
        const int to_y = s == cc->stages - 1 && !cc->pool;
        k->conv2d(&ch.pw[s], s || cc->hk ? bufb : x, ch.wp[s], ch.bp[s], bufa, scratch, 1);
        k->conv2d(&ch.dw[s], bufa, ch.wd[s], ch.bd[s], to_y ? plain : bufb, scratch, 1);
    }
    if (cc->pool) k->maxpool(&pd, bufb, plain, 1);
    for (int t = 1; t <= 3; t++) {
        memset(got, 0xff, ny * sizeof(float));
        k->conv2d_pw_dw(&ch, x, got, scratch, t);
        if (t == 1) check_close(what, got, want, mag, ny);
        ck_assert_msg(!memcmp(got, plain, ny * sizeof(float)), "%s [%s]: %d threads differ from the separate kernels",
                      what, k->isa, t);
    }
    for (int s = 0; s < cc->stages; s++) {
        ferc_free(wp[s]), ferc_free(bp[s]), ferc_free(wd[s]), ferc_free(bd[s]), ferc_free(awp[s]), ferc_free(abp[s]);
        ferc_free(awd[s]), ferc_free(abd[s]), ferc_free(pp[s]), ferc_free(pdw[s]);
    }
    ferc_free(x), ferc_free(ax), ferc_free(want), ferc_free(mag), ferc_free(plain), ferc_free(got), ferc_free(bufa);
    ferc_free(bufb), ferc_free(rs), ferc_free(scratch), ferc_free(wh), ferc_free(bh), ferc_free(awh), ferc_free(abh);
    ferc_free(ph);
}

START_TEST(conv_pw_dw_fused)
{
    rng_state = 777;
    static const chain_case cases[] = {
        /* st n  h   w   c   oc  kh kw pt pl pb pr act1 act2 pool hc hk hs */
        {1, 1, 9, 13, 16, 16, 3, 3, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0},   /* YuNet's blocks, small */
        {3, 1, 24, 40, 16, 64, 3, 3, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0},  /* YuNet's second stage */
        {1, 1, 30, 40, 64, 64, 3, 3, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0},  /* a stage of 64 channels */
        {2, 2, 11, 7, 5, 3, 3, 3, 1, 1, 1, 1, 1, 2, 0, 0, 0, 0},     /* few channels, batch 2 */
        {2, 3, 7, 9, 33, 17, 3, 3, 1, 1, 1, 1, 3, 3, 1, 0, 0, 0},    /* tails of the vector width, odd sizes */
        {1, 1, 13, 11, 20, 40, 5, 5, 2, 2, 2, 2, 0, 1, 0, 0, 0, 0},  /* 5x5 */
        {2, 2, 10, 12, 24, 24, 3, 5, 0, 2, 1, 1, 2, 0, 1, 0, 0, 0},  /* uneven padding, shrinking rows */
        {1, 1, 6, 6, 8, 48, 3, 3, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0},     /* no padding */
        {4, 1, 5, 17, 40, 72, 1, 3, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0},   /* one kernel row */
        {2, 1, 41, 35, 24, 32, 3, 3, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0},  /* several rows per thread, odd pooled edge */
        /* after a head convolution: YuNet's first layers, then odd ones */
        {1, 1, 64, 96, 16, 16, 3, 3, 1, 1, 1, 1, 0, 1, 1, 3, 3, 2},
        {2, 2, 23, 19, 12, 20, 3, 3, 1, 1, 1, 1, 1, 1, 0, 5, 3, 1},
        {1, 1, 30, 33, 40, 24, 3, 3, 1, 1, 1, 1, 0, 1, 1, 3, 5, 2},
        {1, 3, 17, 9, 8, 33, 3, 3, 0, 1, 1, 0, 2, 1, 0, 17, 1, 1},
        /* heads whose middle tiles read the input in place and edge tiles a padded copy */
        {1, 2, 20, 64, 16, 16, 3, 3, 1, 1, 1, 1, 0, 1, 1, 3, 3, 2},
        {1, 2, 9, 37, 8, 16, 3, 3, 1, 1, 1, 1, 1, 0, 0, 3, 5, 1},
        /* a head and its pooling alone: the emotion CNNs' first layer (one gray channel, 32
         * outputs), then odd channel counts, strides, 1x1 and 5x5 kernels, odd pooled edges */
        {0, 2, 48, 48, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3, 1},
        {0, 3, 17, 23, 19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 1},
        {0, 1, 30, 21, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5, 3, 2},
        {0, 2, 15, 13, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 16, 1, 1},
        {0, 1, 20, 26, 33, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 5, 1},
        /* one input channel, 3x3 (AVX-512 keeps the 9 taps' weights in registers): the small
         * CNN's first layer, channels off the vector width, rows off its 6-pixel tiles, a
         * stage after such a head, stride 2 (the GEMM path again) */
        {0, 2, 48, 48, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3, 1},
        {0, 1, 19, 23, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3, 1},
        {0, 3, 9, 7, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3, 1},
        {1, 1, 20, 17, 24, 24, 3, 3, 1, 1, 1, 1, 0, 1, 1, 1, 3, 1},
        {0, 1, 14, 10, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_chain(&cases[i]);
}
END_TEST

/* 3x3 stride-1 convolutions with 16 or more input and output channels (the Winograd
 * F(2x2, 3x3) path of the SIMD kernels): odd sizes (partial 2x2 tiles), channels
 * off the vector width, padding 0, 1, 2 and uneven, batch 1 and more, several chunks of
 * tiles, and 1, 2 and 3 threads. */
START_TEST(conv_winograd_shapes)
{
    rng_state = 4242;
    static const conv_case cases[] = {
        /* n  h   w   c    oc   kh kw sh sw pt pl pb pr dh dw g act */
        {1, 7, 9, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {3, 5, 5, 25, 33, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0},
        {2, 8, 6, 24, 40, 3, 3, 1, 1, 0, 1, 1, 0, 1, 1, 1, 2},
        {1, 3, 3, 24, 16, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 3}, /* one output pixel */
        {1, 4, 4, 16, 17, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1}, /* outputs over padding only */
        {2, 11, 13, 31, 47, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3},
        {2, 13, 11, 250, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* several chunks */
        {3, 31, 29, 40, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0},
        {1, 6, 6, 256, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {5, 12, 12, 64, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 23, 23, 64, 128, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_conv_threads(&cases[i], 3, 1);
}
END_TEST

/* ---- dense -------------------------------------------------------------------------- */

START_TEST(dense_shapes)
{
    rng_state = 777;
    static const int batches[] = {1, 2, 3, 64}, ins[] = {1, 5, 33, 256, 1152}, outs[] = {1, 7, 16, 17, 40, 100};
    for (size_t bi = 0; bi < 4; bi++)
        for (size_t ii = 0; ii < 5; ii++)
            for (size_t oi = 0; oi < 6; oi++) {
                const int n = batches[bi], in = ins[ii], out = outs[oi], act = (int)((bi + ii + oi) % 4);
                char what[96];
                snprintf(what, sizeof what, "dense %d x %d -> %d act%d", n, in, out, act);
                const size_t nx = (size_t)n * in, nw = (size_t)in * out, ny = (size_t)n * out;
                float *x = rand_buf(nx), *w = rand_buf(nw), *b = rand_buf((size_t)out);
                float *ax = abs_copy(x, nx), *aw = abs_copy(w, nw), *ab = abs_copy(b, (size_t)out);
                float *want = ferc_alloc(ny * 4), *mag = ferc_alloc(ny * 4), *g1 = ferc_alloc(ny * 4),
                      *g2 = ferc_alloc(ny * 4);
                const float *bias = oi % 2 ? b : NULL;
                ref()->dense(n, in, out, x, w, bias, want, act, 0.1f, 1);
                ref()->dense(n, in, out, ax, aw, bias ? ab : NULL, mag, FERC_ACT_NONE, 0.f, 1);
                const ferc_kernel_table *k = simd();
                float *packed = NULL;
                const float *wk = w;
                if (k->dense_pack) {
                    packed = ferc_alloc(k->dense_packed_size(in, out) * sizeof(float));
                    k->dense_pack(in, out, w, packed);
                    wk = packed;
                }
                memset(g1, 0xff, ny * 4);
                memset(g2, 0xff, ny * 4);
                k->dense(n, in, out, x, wk, bias, g1, act, 0.1f, 1);
                k->dense(n, in, out, x, wk, bias, g2, act, 0.1f, 2);
                check_close(what, g1, want, mag, ny);
                ck_assert_msg(!memcmp(g1, g2, ny * 4), "%s [%s]: 1 and 2 threads differ", what, k->isa);
                ferc_free(x), ferc_free(w), ferc_free(b), ferc_free(ax), ferc_free(aw), ferc_free(ab);
                ferc_free(want), ferc_free(mag), ferc_free(g1), ferc_free(g2), ferc_free(packed);
            }
}
END_TEST

/* ---- pooling and element-wise: bitwise ------------------------------------------------ */

/* Random values with exact ties, signed zeros and a few NaNs: max must pick as the
 * reference does. */
static float *pool_input(size_t n)
{
    float *p = rand_buf(n);
    for (size_t i = 0; i < n; i++) {
        const float r = frand();
        if (r > 0.99f) p[i] = NAN;
        else if (r > 0.9f) p[i] = 0.25f;
        else if (r > 0.85f) p[i] = r > 0.875f ? 0.f : -0.f;
    }
    return p;
}

static void check_bitwise(const char *what, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)))
            ck_abort_msg("%s [%s]: element %zu is %.9g, scalar %.9g", what,
                      simd()->isa, i, a[i], b[i]);
}

static int pool_out(int in, int k, int s, int p0, int p1, int ceil_mode)
{
    int span = in + p0 + p1 - k, o = (span + (ceil_mode ? s - 1 : 0)) / s + 1;
    if (ceil_mode && (o - 1) * s >= in + p0) o--;
    return o;
}

START_TEST(pool_bitwise)
{
    rng_state = 4242;
    int count = 0;
    for (int kh = 1; kh <= 3; kh++)
        for (int kw = 2; kw <= 3; kw++)
            for (int s = 1; s <= 3; s++)
                for (int pad = 0; pad <= 1; pad++)
                    for (int ceil_mode = 0; ceil_mode <= 1; ceil_mode++)
                        for (int cip = 0; cip <= 1; cip++) {
                            ferc_pool_desc d = {0};
                            d.n = count % 3 == 0 ? 2 : 1;
                            d.h = 5 + count % 6, d.w = 4 + count % 7, d.c = 1 + (count * 5) % 37;
                            if (count % 17 == 0) d.n = 2, d.h = 64, d.w = 64, d.c = 19; /* big enough for 2 threads */
                            d.kh = kh, d.kw = kw, d.sh = s, d.sw = s;
                            d.pt = d.pb = kh >= 2 ? pad : 0, d.pl = d.pr = pad;
                            d.count_include_pad = cip;
                            d.oh = pool_out(d.h, kh, s, d.pt, d.pb, ceil_mode);
                            d.ow = pool_out(d.w, kw, s, d.pl, d.pr, ceil_mode);
                            const size_t nx = (size_t)d.n * d.h * d.w * d.c, ny = (size_t)d.n * d.oh * d.ow * d.c;
                            float *x = pool_input(nx), *want = ferc_alloc(ny * 4), *g1 = ferc_alloc(ny * 4),
                                  *g2 = ferc_alloc(ny * 4);
                            char what[128];
                            snprintf(what, sizeof what, "pool %dx%dx%dx%d k%dx%d s%d p%d ceil%d cip%d", d.n, d.h, d.w,
                                     d.c, kh, kw, s, pad, ceil_mode, cip);
                            ref()->maxpool(&d, x, want, 1);
                            simd()->maxpool(&d, x, g1, 1);
                            simd()->maxpool(&d, x, g2, 2);
                            check_bitwise(what, g1, want, ny);
                            check_bitwise(what, g2, want, ny);
                            ref()->avgpool(&d, x, want, 1);
                            simd()->avgpool(&d, x, g1, 1);
                            simd()->avgpool(&d, x, g2, 2);
                            check_bitwise(what, g1, want, ny);
                            check_bitwise(what, g2, want, ny);
                            ferc_free(x), ferc_free(want), ferc_free(g1), ferc_free(g2);
                            count++;
                        }
}
END_TEST

START_TEST(global_pool_bitwise)
{
    rng_state = 99;
    static const int shapes[][3] = {{1, 9, 7}, {3, 36, 64}, {2, 1, 33}, {64, 9, 256}, {5, 144, 17}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const int n = shapes[i][0], hw = shapes[i][1], c = shapes[i][2];
        float *x = rand_buf((size_t)n * hw * c), *want = ferc_alloc((size_t)n * c * 4), *g1 = ferc_alloc((size_t)n * c * 4),
              *g2 = ferc_alloc((size_t)n * c * 4);
        ref()->global_avgpool(n, hw, c, x, want, 1);
        simd()->global_avgpool(n, hw, c, x, g1, 1);
        simd()->global_avgpool(n, hw, c, x, g2, 2);
        check_bitwise("global avgpool", g1, want, (size_t)n * c);
        check_bitwise("global avgpool", g2, want, (size_t)n * c);
        ferc_free(x), ferc_free(want), ferc_free(g1), ferc_free(g2);
    }
}
END_TEST

START_TEST(eltwise_bitwise)
{
    rng_state = 31337;
    static const size_t pixels[] = {1, 7, 100, 3000};
    static const int chans[] = {1, 3, 8, 16, 17, 64};
    for (size_t pi = 0; pi < 4; pi++)
        for (size_t ci = 0; ci < 6; ci++)
            for (int act = 0; act <= 3; act++) {
                const int c = chans[ci];
                const size_t n = pixels[pi] * (size_t)c;
                float *x = pool_input(n), *b = rand_buf(n), *sc = rand_buf((size_t)c), *sh = rand_buf((size_t)c);
                float *want = ferc_alloc(n * 4), *g1 = ferc_alloc(n * 4), *g2 = ferc_alloc(n * 4);
                char what[64];
                snprintf(what, sizeof what, "affine/add %zu x %d act%d", pixels[pi], c, act);
                for (int form = 0; form < 3; form++) { /* batch norm, activation alone, shift only */
                    const float *s = form == 0 ? sc : NULL, *t = form != 1 ? sh : NULL;
                    ref()->affine(n, c, x, s, t, want, act, 0.1f, 1);
                    simd()->affine(n, c, x, s, t, g1, act, 0.1f, 1);
                    simd()->affine(n, c, x, s, t, g2, act, 0.1f, 2);
                    check_bitwise(what, g1, want, n);
                    check_bitwise(what, g2, want, n);
                }
                ref()->add(n, x, b, want, act, 0.1f, 1);
                simd()->add(n, x, b, g1, act, 0.1f, 1);
                simd()->add(n, x, b, g2, act, 0.1f, 2);
                check_bitwise(what, g1, want, n);
                check_bitwise(what, g2, want, n);
                ferc_free(x), ferc_free(b), ferc_free(sc), ferc_free(sh), ferc_free(want), ferc_free(g1), ferc_free(g2);
            }
}
END_TEST

START_TEST(dispatch_honours_ferc_isa)
{
    ck_assert_ptr_nonnull(ferc_kernels_for("scalar"));
    ck_assert_ptr_null(ferc_kernels_for("sse9"));
    const char *want = getenv("FERC_ISA");
    if (want && ferc_kernels_for(want)) ck_assert_str_eq(ferc_kernels()->isa, want);
    ck_assert_str_eq(ferc_isa_name(), ferc_kernels()->isa);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("simd_vs_scalar");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, dispatch_honours_ferc_isa);
    tcase_add_test(tc, conv_all_combinations);
    tcase_add_test(tc, conv_model_shapes);
    tcase_add_test(tc, conv_winograd_shapes);
    tcase_add_test(tc, conv_pw_dw_fused);
    tcase_add_test(tc, dense_shapes);
    tcase_add_test(tc, pool_bitwise);
    tcase_add_test(tc, global_pool_bitwise);
    tcase_add_test(tc, eltwise_bitwise);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
