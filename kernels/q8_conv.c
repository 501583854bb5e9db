/* q8_conv.c - int8 convolution driver (weight packing, im2col panels, threads) and the
 * choice of the int8 path. The arithmetic lives in q8_scalar.c and the q8_<isa>.c bodies. */
#include "kernels/q8.h"
#include "ferc.h"
#include "kernels/threads.h"

#include <stdlib.h>
#include <string.h>

/* Pixels per im2col panel (a multiple of every body's row tile: 4 for 256-bit, 6 for
 * 512-bit) and the most panels in flight: the scratch is sized for that many threads so
 * that it does not depend on the thread count a context is later given. */
#define PANEL 48
#define MAX_PANELS 16

int ferc_q8_kp(const ferc_q8_conv_desc *d) { return (d->kh * d->kw * (d->c / d->groups) + 3) & ~3; }

static int blocks(const ferc_q8_conv_desc *d) { return (d->oc / d->groups + FERC_Q8_NR - 1) / FERC_Q8_NR; }

int ferc_q8_depthwise(const ferc_q8_conv_desc *d) { return d->groups > 1 && d->groups == d->c && d->oc == d->c; }

size_t ferc_q8_packed_size(const ferc_q8_conv_desc *d)
{
    if (ferc_q8_depthwise(d)) return (size_t)ferc_q8_dw_nq(d) * d->kw * ferc_q8_dw_cp(d) * 4;
    return (size_t)d->groups * blocks(d) * FERC_Q8_NR * ferc_q8_kp(d);
}

void ferc_q8_pack(const ferc_q8_conv_desc *d, const int8_t *w, const int32_t *bias, int8_t *packed,
                  int32_t *bias_out)
{
    const int cog = d->oc / d->groups, nb = blocks(d), kp = ferc_q8_kp(d), dw = ferc_q8_depthwise(d);
    const int k = d->kh * d->kw * (d->c / d->groups);
    memset(packed, 0, ferc_q8_packed_size(d));
    for (int oc = 0; oc < d->oc; oc++) {
        const int g = oc / cog, j = oc % cog;
        const int8_t *src = w + (size_t)oc * k;
        int32_t sum = 0;
        for (int i = 0; i < k; i++) {
            size_t at; /* i = ky * kw + kx for a depthwise filter */
            if (dw)
                at = (((size_t)(i / d->kw / 4) * d->kw + i % d->kw) * ferc_q8_dw_cp(d) + ferc_q8_dw_slot(d, oc)) * 4 +
                     i / d->kw % 4;
            else at = ((size_t)g * nb + j / FERC_Q8_NR) * FERC_Q8_NR * kp + (size_t)(i / 4) * FERC_Q8_NR * 4 + (j % FERC_Q8_NR) * 4 + i % 4;
            packed[at] = src[i];
            sum += src[i];
        }
        bias_out[oc] = ferc_q8_wrap_add(bias ? bias[oc] : 0, (int32_t)((uint32_t)-d->zx * (uint32_t)sum));
    }
}

/* Indirect GEMM (XNNPACK's idea): when c/groups is a multiple of 4, each group of 4 k's is
 * 4 consecutive channels of one input pixel, so the bodies read the input in place through a
 * pointer per output pixel and an offset per 4 k's; only a zero-point border is copied, once,
 * when the convolution pads. Otherwise rows are gathered into panels (im2col). */
static int indirect(const ferc_q8_conv_desc *d) { return (d->c / d->groups) % 4 == 0; }

const char *ferc_q8_conv_path(const ferc_q8_kernels *k, const ferc_q8_conv_desc *d)
{
    return !k->gemm ? "direct" : ferc_q8_depthwise(d) ? "depthwise" : indirect(d) ? "gemm" : "im2col";
}

/* The padded input the windows read: [n][hp][wp][c], image at (pt, pl). */
static void padded_dims(const ferc_q8_conv_desc *d, int *hp, int *wp)
{
    const int need_h = (d->oh - 1) * d->sh + d->dh * (d->kh - 1) + 1, need_w = (d->ow - 1) * d->sw + d->dw * (d->kw - 1) + 1;
    *hp = need_h > d->pt + d->h ? need_h : d->pt + d->h;
    *wp = need_w > d->pl + d->w ? need_w : d->pl + d->w;
}

static int needs_copy(const ferc_q8_conv_desc *d)
{
    int hp, wp;
    padded_dims(d, &hp, &wp);
    return d->pt || d->pl || hp > d->h || wp > d->w;
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }
/* One int32 offset per 4 k's. */
static size_t koff_bytes(const ferc_q8_conv_desc *d) { return align64((size_t)ferc_q8_kp(d)); }

/* Depthwise scratch: bias and multipliers in slot order and a row of zx (with 32 bytes of
 * slack: the windows read whole 16-channel runs), then per thread the windows of one output
 * row and its row pointers (q8.h). */
static size_t dw_shared(const ferc_q8_conv_desc *d)
{
    return align64((size_t)ferc_q8_dw_cp(d) * 8) + align64((size_t)d->w * d->c + 32);
}
static size_t dw_per_thread(const ferc_q8_conv_desc *d)
{
    int hp, wp;
    padded_dims(d, &hp, &wp);
    return align64(ferc_q8_dw_nq(d) * ferc_q8_dw_plane(d, wp)) + align64(sizeof(uint8_t *) * 4 * ferc_q8_dw_nq(d));
}

size_t ferc_q8_conv_scratch(const ferc_q8_conv_desc *d, int threads)
{
    if (threads > MAX_PANELS) threads = MAX_PANELS;
    if (threads < 1) threads = 1;
    if (ferc_q8_depthwise(d)) return dw_shared(d) + (size_t)threads * dw_per_thread(d);
    if (!indirect(d)) return koff_bytes(d) + (size_t)threads * PANEL * ferc_q8_kp(d);
    int hp, wp;
    padded_dims(d, &hp, &wp);
    return koff_bytes(d) + (needs_copy(d) ? align64((size_t)d->n * hp * wp * d->c) : 0);
}

/* Copies of channel runs: whole 16-byte pieces inline (the runs are 16..256 codes in the
 * emotion CNNs, where a memcpy call per run cost as much as the copy). */
static inline void copy_run(uint8_t *dst, const uint8_t *src, int n)
{
    int i = 0;
    for (; i + 16 <= n; i += 16) memcpy(dst + i, src + i, 16);
    if (i < n) memcpy(dst + i, src + i, (size_t)(n - i));
}

/* Rows p0 .. p0+m of the im2col matrix for group g: per pixel kh x kw runs of c/groups codes,
 * zx outside the image (real zero) and after K (where the packed weights are zero). */
static void im2col(const ferc_q8_conv_desc *d, const uint8_t *x, int g, int64_t p0, int m, int kp, uint8_t *a)
{
    const int cig = d->c / d->groups;
    for (int r = 0; r < m; r++) {
        const int64_t p = p0 + r;
        const int b = (int)(p / ((int64_t)d->oh * d->ow)), oy = (int)(p / d->ow % d->oh), ox = (int)(p % d->ow);
        uint8_t *row = a + (size_t)r * kp;
        for (int ky = 0; ky < d->kh; ky++) {
            const int iy = oy * d->sh - d->pt + ky * d->dh;
            for (int kx = 0; kx < d->kw; kx++, row += cig) {
                const int ix = ox * d->sw - d->pl + kx * d->dw;
                if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) memset(row, d->zx, (size_t)cig);
                else copy_run(row, x + (((size_t)b * d->h + iy) * d->w + ix) * d->c + (size_t)g * cig, cig);
            }
        }
        memset(row, d->zx, (size_t)(a + (size_t)(r + 1) * kp - row));
    }
}

/* Output rows split statically by thread index; the body lays out and runs each row. */
static void dw_conv(const ferc_q8_kernels *k, const ferc_q8_conv_desc *d, const uint8_t *x, const int8_t *w,
                    const int32_t *bias, const float *mult, uint8_t *y, void *scratch, int threads)
{
    const int cp = ferc_q8_dw_cp(d), nq = ferc_q8_dw_nq(d);
    int32_t *bias_s = scratch;
    float *mult_s = (float *)(bias_s + cp);
    memset(scratch, 0, (size_t)cp * 8);
    for (int c = 0; c < d->c; c++) bias_s[ferc_q8_dw_slot(d, c)] = bias[c], mult_s[ferc_q8_dw_slot(d, c)] = mult[c];
    uint8_t *zrow = (uint8_t *)scratch + align64((size_t)cp * 8);
    memset(zrow, d->zx, (size_t)d->w * d->c);
    int hp, wp;
    padded_dims(d, &hp, &wp);
    const int64_t rows = (int64_t)d->n * d->oh;
    const size_t per = dw_per_thread(d), win = align64(nq * ferc_q8_dw_plane(d, wp));
    if (threads > MAX_PANELS) threads = MAX_PANELS;
    if (threads > rows) threads = (int)rows;
#pragma omp parallel num_threads(threads)
    {
        const int t = ferc_thread_id(), nt = ferc_thread_count();
        uint8_t *v = (uint8_t *)scratch + dw_shared(d) + (size_t)t * per;
        const uint8_t **in = (const uint8_t **)(void *)(v + win);
        for (int64_t r = rows * t / nt; r < rows * (t + 1) / nt; r++) {
            const int b = (int)(r / d->oh), oy = (int)(r % d->oh);
            for (int ky = 0; ky < 4 * nq; ky++) {
                const int iy = oy * d->sh - d->pt + ky * d->dh;
                in[ky] = ky < d->kh && iy >= 0 && iy < d->h ? x + ((size_t)b * d->h + iy) * d->w * d->c : zrow;
            }
            k->dw(d, wp, in, v, w, bias_s, mult_s, y + (size_t)r * d->ow * d->oc);
        }
    }
}

void ferc_q8_conv2d(const ferc_q8_kernels *k, const ferc_q8_conv_desc *d, const uint8_t *x, const int8_t *w,
                    const int32_t *bias, const float *mult, uint8_t *y, void *scratch, int threads)
{
    if (!k->gemm) {
        ferc_q8_conv2d_scalar(d, x, w, bias, mult, y, threads);
        return;
    }
    if (ferc_q8_depthwise(d)) {
        dw_conv(k, d, x, w, bias, mult, y, scratch, threads);
        return;
    }
    const int cig = d->c / d->groups, cog = d->oc / d->groups, kp = ferc_q8_kp(d), ind = indirect(d);
    const size_t wblk = (size_t)blocks(d) * FERC_Q8_NR * kp;
    const int64_t pixels = (int64_t)d->n * d->oh * d->ow, panels = (pixels + PANEL - 1) / PANEL;
    int32_t *koff = scratch;
    uint8_t *rest = (uint8_t *)scratch + koff_bytes(d);
    int hp = d->h, wp = d->w;
    const uint8_t *src = x;
    if (ind) {
        if (needs_copy(d)) padded_dims(d, &hp, &wp);
        for (int k4 = 0; k4 < kp / 4; k4++) {
            const int kk = 4 * k4, ky = kk / (d->kw * cig), kx = kk / cig % d->kw, c = kk % cig;
            koff[k4] = (ky * d->dh * wp + kx * d->dw) * d->c + c;
        }
        if (needs_copy(d)) {
            uint8_t *xp = rest;
            const int64_t prow = (int64_t)d->n * hp;
#pragma omp parallel for num_threads(threads) schedule(static)
            for (int64_t r = 0; r < prow; r++) {
                const int b = (int)(r / hp), py = (int)(r % hp), iy = py - d->pt;
                uint8_t *dst = xp + (size_t)r * wp * d->c;
                if (iy < 0 || iy >= d->h) {
                    memset(dst, d->zx, (size_t)wp * d->c);
                    continue;
                }
                memset(dst, d->zx, (size_t)d->pl * d->c);
                memcpy(dst + (size_t)d->pl * d->c, x + ((size_t)b * d->h + iy) * d->w * d->c, (size_t)d->w * d->c);
                memset(dst + (size_t)(d->pl + d->w) * d->c, d->zx, (size_t)(wp - d->pl - d->w) * d->c);
            }
            src = xp;
        }
    } else {
        for (int k4 = 0; k4 < kp / 4; k4++) koff[k4] = 4 * k4;
    }
    if (threads > MAX_PANELS) threads = MAX_PANELS;
    if (threads > panels) threads = (int)panels;
#pragma omp parallel num_threads(threads)
    {
        /* Static split by thread index; integers make the result independent of it anyway. */
        const int t = ferc_thread_id(), nt = ferc_thread_count();
        uint8_t *a = rest + (size_t)t * PANEL * kp;
        const uint8_t *rows[PANEL];
        for (int64_t pn = t; pn < panels; pn += nt) {
            const int64_t p0 = pn * PANEL;
            const int m = (int)(pixels - p0 < PANEL ? pixels - p0 : PANEL);
            for (int g = 0; g < d->groups; g++) {
                if (ind) {
                    int b = (int)(p0 / ((int64_t)d->oh * d->ow)), oy = (int)(p0 / d->ow % d->oh), ox = (int)(p0 % d->ow);
                    for (int r = 0; r < m; r++) {
                        rows[r] = src + (((size_t)b * hp + (size_t)oy * d->sh) * wp + (size_t)ox * d->sw) * d->c +
                                  (size_t)g * cig;
                        if (++ox == d->ow) ox = 0, oy = oy + 1 == d->oh ? (b++, 0) : oy + 1;
                    }
                } else {
                    im2col(d, x, g, p0, m, kp, a);
                    for (int r = 0; r < m; r++) rows[r] = a + (size_t)r * kp;
                }
                k->gemm(m, kp, rows, koff, w + g * wblk, cog, bias + (size_t)g * cog, mult + (size_t)g * cog, d->zy,
                        d->lo, d->hi, y + (size_t)p0 * d->oc + (size_t)g * cog, (size_t)d->oc);
            }
        }
    }
}

/* ---- which path ------------------------------------------------------------------------ */

static const ferc_q8_kernels scalar_k = {"scalar", NULL, NULL, NULL};
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static const ferc_q8_kernels avx2_k = {"avx2", ferc_q8_gemm_avx2, ferc_q8_quantize_avx2, ferc_q8_dw_avx2};
static const ferc_q8_kernels avxvnni_k = {"avxvnni", ferc_q8_gemm_avxvnni, ferc_q8_quantize_avx2, ferc_q8_dw_avxvnni};
static const ferc_q8_kernels avx512vnni_k = {"avx512vnni", ferc_q8_gemm_avx512vnni, ferc_q8_quantize_avx512vnni,
                                             ferc_q8_dw_avx512vnni};

static int has_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
/* AVX-VNNI is CPUID leaf 7 subleaf 1, EAX bit 4, read directly: clang's
 * __builtin_cpu_supports does not know the name. The ymm state check comes with has_avx2. */
static int has_avxvnni(void)
{
    unsigned a, b, c, d;
    return has_avx2() && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1);
}
static int has_avx512vnni(void)
{
    return has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}
#endif

const ferc_q8_kernels *ferc_q8_kernels_for(const char *isa)
{
    if (!strcmp(isa, "scalar")) return &scalar_k;
#if defined(__x86_64__) || defined(__i386__)
    if (!strcmp(isa, "avx2") && has_avx2()) return &avx2_k;
    if (!strcmp(isa, "avxvnni") && has_avxvnni()) return &avxvnni_k;
    if (!strcmp(isa, "avx512vnni") && has_avx512vnni()) return &avx512vnni_k;
#endif
    return NULL;
}

const ferc_q8_kernels *ferc_q8_kernels_get(void)
{
    static const char *const best_first[] = {"avx512vnni", "avxvnni", "avx2", "scalar"};
    const char *want = getenv("FERC_ISA");
    const ferc_q8_kernels *k = NULL;
    if (want && !strcmp(want, "avx512")) k = ferc_q8_kernels_for("avx512vnni");
    else if (want && !strcmp(want, "openblas")) k = ferc_q8_kernels_for("avx2");
    else if (want && *want) k = ferc_q8_kernels_for(want);
    /* FERC_ISA=avx512 on an AVX-512 CPU without VNNI: the 256-bit int8 path is what is left. */
    for (size_t i = (want && !strcmp(want, "avx512")) ? 1 : 0; !k && i < sizeof best_first / sizeof *best_first; i++)
        k = ferc_q8_kernels_for(best_first[i]);
    return k;
}

const char *ferc_int8_isa_name(void) { return ferc_q8_kernels_get()->isa; }
