/* bench_kernels.c - per-layer speed of ferc's kernels against the machine's FMA peak, the
 * scalar reference and im2col + OpenBLAS sgemm, all measured in this one run.
 *
 *   build/bench/bench_kernels [--json FILE] [--quick] [--no-scalar]
 *
 * Peak: an inline-assembly loop of 12 independent FMA chains (more than latency x
 * throughput needs), per thread; the assembly cannot be folded by the compiler and the
 * accumulators are stored to a volatile sink. For each layer shape: every implementation is
 * first checked against the scalar reference, then timed in 15 rounds of (ferc sample, short
 * peak sample, OpenBLAS sample), each sample a loop of calls lasting at least 20 ms; times,
 * ratio to OpenBLAS and percent of peak are the medians of the per-round values (the machine
 * is shared, so only figures taken within the same ~50 ms compare). The scalar reference:
 * the median of 3 samples.
 * The OpenBLAS path counts its im2col copy and its bias + activation pass.
 * GFLOP/s and percent of peak always count the direct convolution's FLOPs
 * (2 N OH OW OC KH KW Cin/groups); layers ferc runs as Winograd F(2x2, 3x3) (column "alg")
 * do fewer multiplies, so theirs are effective figures and can pass the peak. Column "tol":
 * the share of tests/test_kernels.c's tolerance the layer's result uses. */
#include "kernels/kernels.h"
#include "nn/tensor.h"
#include "bench/bench_time.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS extensions (Debian's cblas.h declares them; repeated here for other headers). */
char *openblas_get_corename(void);
char *openblas_get_config(void);


/* ---- peak --------------------------------------------------------------------------- */

static volatile float sink;

#define FMA12(R, w)                                                                                       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "0\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "1\n\t"       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "2\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "3\n\t"       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "4\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "5\n\t"       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "6\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "7\n\t"       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "8\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "9\n\t"       \
    "vfmadd231ps %%" R "14, %%" R "15, %%" R "10\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "11\n\t"

/* iters x 12 FMAs on 12 independent accumulators; returns a sum of them for the sink. */
static float fma_loop(long iters, int wide)
{
    float out[16];
    if (wide) {
        __asm__ volatile("vxorps %%xmm0, %%xmm0, %%xmm0\n\tvmovaps %%zmm0, %%zmm1\n\tvmovaps %%zmm0, %%zmm2\n\t"
                         "vmovaps %%zmm0, %%zmm3\n\tvmovaps %%zmm0, %%zmm4\n\tvmovaps %%zmm0, %%zmm5\n\t"
                         "vmovaps %%zmm0, %%zmm6\n\tvmovaps %%zmm0, %%zmm7\n\tvmovaps %%zmm0, %%zmm8\n\t"
                         "vmovaps %%zmm0, %%zmm9\n\tvmovaps %%zmm0, %%zmm10\n\tvmovaps %%zmm0, %%zmm11\n\t"
                         "vbroadcastss %2, %%zmm14\n\tvbroadcastss %2, %%zmm15\n\t"
                         "1:\n\t" FMA12("zmm", 16) "dec %0\n\tjnz 1b\n\t"
                         "vaddps %%zmm0, %%zmm11, %%zmm0\n\tvmovups %%zmm0, %1\n\tvzeroupper\n\t"
                         : "+r"(iters), "=m"(out)
                         : "m"(sink)
                         : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                           "xmm11", "xmm14", "xmm15", "cc", "memory");
    } else {
        __asm__ volatile("vxorps %%ymm0, %%ymm0, %%ymm0\n\tvmovaps %%ymm0, %%ymm1\n\tvmovaps %%ymm0, %%ymm2\n\t"
                         "vmovaps %%ymm0, %%ymm3\n\tvmovaps %%ymm0, %%ymm4\n\tvmovaps %%ymm0, %%ymm5\n\t"
                         "vmovaps %%ymm0, %%ymm6\n\tvmovaps %%ymm0, %%ymm7\n\tvmovaps %%ymm0, %%ymm8\n\t"
                         "vmovaps %%ymm0, %%ymm9\n\tvmovaps %%ymm0, %%ymm10\n\tvmovaps %%ymm0, %%ymm11\n\t"
                         "vbroadcastss %2, %%ymm14\n\tvbroadcastss %2, %%ymm15\n\t"
                         "1:\n\t" FMA12("ymm", 8) "dec %0\n\tjnz 1b\n\t"
                         "vaddps %%ymm0, %%ymm11, %%ymm0\n\tvmovups %%ymm0, %1\n\tvzeroupper\n\t"
                         : "+r"(iters), "=m"(out)
                         : "m"(sink)
                         : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                           "xmm11", "xmm14", "xmm15", "cc", "memory");
    }
    return out[0];
}

/* One sample: GFLOP/s of `threads` threads each running iters iterations of the loop. */
static double peak_sample(int threads, int wide, long iters)
{
    const double t0 = bench_now();
#pragma omp parallel num_threads(threads)
    {
        const float v = fma_loop(iters, wide);
#pragma omp critical
        sink += v;
    }
    return (double)threads * iters * 12 * (wide ? 16 : 8) * 2 / (bench_now() - t0) * 1e-9;
}

/* The median of 7 samples of ~0.1 s. */
static double peak_gflops(int threads, int wide)
{
    const long iters = 20000000;
    double s[7];
    for (int r = 0; r < 7; r++) {
        const double t0 = bench_now();
#pragma omp parallel num_threads(threads)
        {
            const float v = fma_loop(iters, wide);
#pragma omp critical
            sink += v;
        }
        s[r] = (double)threads * iters * 12 * (wide ? 16 : 8) * 2 / (bench_now() - t0) * 1e-9;
    }
    qsort(s, 7, sizeof *s, bench_cmp_double);
    return s[3];
}

/* ---- layers ------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int n, h, w, c, oc, k, s, p, dil, groups, act; /* square kernels; oc 0: dense (h=w=1, c=in) */
} layer;

static const layer layers[] = {
    /* The article's emotion CNN at full width (48x48 gray face). */
    {"fer.conv1 3x3 1->64", 1, 48, 48, 1, 64, 3, 1, 0, 1, 1, 1},
    {"fer.conv2 3x3 64->128", 1, 23, 23, 64, 128, 3, 1, 0, 1, 1, 1},
    {"fer.dense1 12800->256 b1", 1, 1, 1, 12800, 256, 1, 1, 0, 1, 1, -1},
    {"fer.dense1 12800->256 b64", 64, 1, 1, 12800, 256, 1, 1, 0, 1, 1, -1},
    {"fer.dense2 256->7 b1", 1, 1, 1, 256, 7, 1, 1, 0, 1, 1, -1},
    /* Deeper FER CNNs: 3x3 same-padded blocks from 24x24 down to 3x3. */
    {"cnn 3x3 64->64 @24", 1, 24, 24, 64, 64, 3, 1, 1, 1, 1, 1},
    {"cnn 3x3 128->128 @12", 1, 12, 12, 128, 128, 3, 1, 1, 1, 1, 1},
    {"cnn 3x3 256->256 @6", 1, 6, 6, 256, 256, 3, 1, 1, 1, 1, 1},
    {"cnn 3x3 256->256 @3", 1, 3, 3, 256, 256, 3, 1, 1, 1, 1, 1},
    {"cnn 3x3 64->64 @24 b64", 64, 24, 24, 64, 64, 3, 1, 1, 1, 1, 1},
    /* The default emotion CNN (weights/emotion_cnn.ferc) at batch 64. */
    {"emo 3x3 1->32 @48 b64", 64, 48, 48, 1, 32, 3, 1, 1, 1, 1, 1},
    {"emo 3x3 32->64 @24 b64", 64, 24, 24, 32, 64, 3, 1, 1, 1, 1, 1},
    {"emo 3x3 64->128 @12 b64", 64, 12, 12, 64, 128, 3, 1, 1, 1, 1, 1},
    {"emo 3x3 128->128 @12 b64", 64, 12, 12, 128, 128, 3, 1, 1, 1, 1, 1},
    {"emo 3x3 128->256 @6 b64", 64, 6, 6, 128, 256, 3, 1, 1, 1, 1, 1},
    {"emo 3x3 256->256 @6 b64", 64, 6, 6, 256, 256, 3, 1, 1, 1, 1, 1},
    {"cnn 3x3 s2 64->128 @24", 1, 24, 24, 64, 128, 3, 2, 1, 1, 1, 1},
    {"cnn 1x1 32->16 @24", 1, 24, 24, 32, 16, 1, 1, 0, 1, 1, 1},
    {"cnn dw3x3 64 @24", 1, 24, 24, 64, 64, 3, 1, 1, 1, 64, 1},
    /* OpenCV's res10 SSD face detector at 300x300. */
    {"res10 conv1 7x7 s2 3->32", 1, 300, 300, 3, 32, 7, 2, 3, 1, 1, 1},
    {"res10 3x3 32->32 @75", 1, 75, 75, 32, 32, 3, 1, 1, 1, 1, 1},
    {"res10 3x3 s2 32->128 @75", 1, 75, 75, 32, 128, 3, 2, 1, 1, 1, 1},
    {"res10 1x1 s2 32->128 @75", 1, 75, 75, 32, 128, 1, 2, 0, 1, 1, 0},
    {"res10 3x3 128->128 @38", 1, 38, 38, 128, 128, 3, 1, 1, 1, 1, 1},
    {"res10 3x3 256->256 @19", 1, 19, 19, 256, 256, 3, 1, 1, 1, 1, 1},
    {"res10 3x3 d2 128->256 @19", 1, 19, 19, 128, 256, 3, 1, 2, 2, 1, 1},
    {"res10 head 3x3 128->8 @38", 1, 38, 38, 128, 8, 3, 1, 1, 1, 1, 0},
    {"res10 head 3x3 128->4 @38", 1, 38, 38, 128, 4, 3, 1, 1, 1, 1, 0},
    /* A standard shape (ResNet-18 stage 1). */
    {"resnet 3x3 64->64 @56", 1, 56, 56, 64, 64, 3, 1, 1, 1, 1, 1},
};

static ferc_conv2d_desc desc_of(const layer *l)
{
    ferc_conv2d_desc d = {l->n, l->h, l->w, l->c, 0, 0, l->oc, l->k, l->k, l->s, l->s, l->p, l->p,
                          l->dil, l->dil, l->groups, l->act < 0 ? 0 : l->act, 0.f, 0};
    d.oh = (l->h + 2 * l->p - l->dil * (l->k - 1) - 1) / l->s + 1;
    d.ow = (l->w + 2 * l->p - l->dil * (l->k - 1) - 1) / l->s + 1;
    const ferc_kernel_table *k = ferc_kernels(); /* as a model packs them: the layout chosen for this size */
    d.winograd = l->act >= 0 && k->conv2d_winograd && k->conv2d_winograd(&d);
    return d;
}

/* One way to compute a layer: run(ctx, threads). */
typedef struct {
    const ferc_kernel_table *k;
    const layer *l;
    ferc_conv2d_desc d;
    const float *x, *w, *b, *wk; /* wk: packed for k */
    float *y, *col;
    void *scratch;
} job;

static void run_ferc(job *j, int threads)
{
    if (j->l->act < 0) j->k->dense(j->d.n, j->d.c, j->d.oc, j->x, j->wk, j->b, j->y, 1, 0.f, threads);
    else j->k->conv2d(&j->d, j->x, j->wk, j->b, j->y, j->scratch, threads);
}

/* The library's comparison backend (kernels/conv2d_openblas.c, built into this program):
 * im2col, then C = A W^T by OpenBLAS sgemm, then bias + act. */
static void run_blas(job *j, int threads)
{
    if (j->l->act < 0) ferc_dense_openblas(j->d.n, j->d.c, j->d.oc, j->x, j->w, j->b, j->y, 1, 0.f, threads);
    else ferc_conv2d_openblas(&j->d, j->x, j->w, j->b, j->y, j->col, threads);
}

static void run_scalar(job *j, int threads)
{
    if (j->l->act < 0) ferc_dense_scalar(j->d.n, j->d.c, j->d.oc, j->x, j->w, j->b, j->y, 1, 0.f, threads);
    else ferc_conv2d_scalar(&j->d, j->x, j->w, j->b, j->y, threads);
}

/* One way to compute a job on some threads, as bench_time.h's timers call it. */
typedef struct {
    void (*fn)(job *, int);
    job *j;
    int threads;
} job_call;

static void run_job(void *arg)
{
    const job_call *c = arg;
    c->fn(c->j, c->threads);
}


/* ferc and OpenBLAS side by side, with a short peak sample between them: on a shared machine
 * the load changes from one second to the next, so the ratios are taken per round (ferc,
 * OpenBLAS and peak measured within ~50 ms of each other) and their medians reported. */
typedef struct {
    double ms, ms_blas, x_blas, pct_peak, peak_here;
} side_by_side;

static side_by_side compare(job *j, int threads, int wide, int rounds)
{
    job_call jf = {run_ferc, j, threads}, jb = {run_blas, j, threads};
    const long cf = bench_calls(bench_once(run_job, &jf)), cb = bench_calls(bench_once(run_job, &jb));
    double f[15], b[15], x[15], p[15], pk[15];
    const double flops = 2.0 * j->d.n * j->d.oh * j->d.ow * j->d.oc * j->d.kh * j->d.kw * (j->d.c / j->d.groups);
    for (int r = 0; r < rounds; r++) {
        f[r] = bench_sample_ms(run_job, &jf, cf);
        pk[r] = peak_sample(threads, wide, 400000);
        b[r] = bench_sample_ms(run_job, &jb, cb);
        x[r] = b[r] / f[r];
        p[r] = 100 * flops / f[r] * 1e-6 / pk[r];
    }
    side_by_side s = {bench_median(f, rounds), bench_median(b, rounds), bench_median(x, rounds),
                      bench_median(p, rounds), bench_median(pk, rounds)};
    return s;
}

/* Median ms per call: 7 samples of enough calls for 20 ms (3 single calls if slow). */
static double time_ms(void (*fn)(job *, int), job *j, int threads, int quick)
{
    job_call jc = {fn, j, threads};
    const double once = bench_once(run_job, &jc);
    const int samples = once > 0.05 || quick ? 3 : 7;
    const long calls = bench_calls(once);
    double s[7];
    for (int r = 0; r < samples; r++) s[r] = bench_sample_ms(run_job, &jc, calls);
    return bench_median(s, samples);
}

static int verify(const char *what, const char *name, const float *got, const float *want, size_t n)
{
    double scale = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= 1e-4 * scale + 1e-5 * fabs(want[i]))) {
            fprintf(stderr, "%s: %s differs from the scalar reference at %zu: %g vs %g\n", name, what, i, got[i], want[i]);
            return 0;
        }
    return 1;
}

/* The share of tests/test_kernels.c's tolerance ferc's result uses: the max over outputs of
 * |ferc - scalar| / (1e-5 |scalar| + 1e-6 S), S the sum of |terms| of that output (the
 * scalar reference on |x|, |w|, |b|). j->y holds the scalar result; out is scratch. */
static double tolerance_used(job *j, size_t ny, float *out)
{
    const ferc_conv2d_desc *d = &j->d;
    const size_t nx = (size_t)d->n * d->h * d->w * d->c, nw = (size_t)d->oc * d->kh * d->kw * (d->c / d->groups);
    float *ax = ferc_alloc(nx * sizeof(float)), *aw = ferc_alloc(nw * sizeof(float));
    float *ab = ferc_alloc((size_t)d->oc * sizeof(float));
    float *mag = ferc_alloc(ny * sizeof(float));
    for (size_t i = 0; i < nx; i++) ax[i] = fabsf(j->x[i]);
    for (size_t i = 0; i < nw; i++) aw[i] = fabsf(j->w[i]);
    for (int i = 0; i < d->oc; i++) ab[i] = fabsf(j->b[i]);
    job a = *j;
    a.x = ax, a.w = aw, a.b = ab, a.y = mag;
    a.d.act = 0; /* S is the plain sum (relu6 would clamp it) */
    if (a.l->act < 0) ferc_dense_scalar(d->n, d->c, d->oc, ax, aw, ab, mag, 0, 0.f, 1);
    else ferc_conv2d_scalar(&a.d, ax, aw, ab, mag, 1);
    float *want = j->y;
    j->y = out;
    run_ferc(j, 1);
    j->y = want;
    double worst = 0;
    for (size_t i = 0; i < ny; i++)
        worst = fmax(worst, fabs((double)out[i] - want[i]) / (1e-5 * fabs(want[i]) + 1e-6 * mag[i]));
    ferc_free(ax), ferc_free(aw), ferc_free(ab), ferc_free(mag);
    return worst;
}

static float *rnd(size_t n, float scale)
{
    float *p = ferc_alloc(n * sizeof(float));
    uint32_t s = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        p[i] = ((float)(s >> 8) / 8388608.f - 1.f) * scale;
    }
    return p;
}

int main(int argc, char **argv)
{
    const char *json = NULL;
    int quick = 0, scalar = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--no-scalar")) scalar = 0;
        else {
            fprintf(stderr, "usage: %s [--json FILE] [--quick] [--no-scalar]\n", argv[0]);
            return 2;
        }
    }
    const ferc_kernel_table *k = ferc_kernels();
    /* The peak of the vector width the kernels use (on Zen 5 a zmm FMA does twice the work
     * of a ymm one at the same rate); the other width is shown for reference. */
    const int has512 = __builtin_cpu_supports("avx512f"), wide = !strcmp(k->isa, "avx512");
    double peak[3] = {0, 0, 0}, other[3] = {0, 0, 0};
    for (int t = 1; t <= 2; t++) {
        peak[t] = peak_gflops(t, wide);
        if (has512) other[t] = peak_gflops(t, !wide);
    }
    printf("FMA peak (%s, 12 chains): %.1f GFLOP/s on 1 thread, %.1f on 2", wide ? "zmm" : "ymm", peak[1], peak[2]);
    if (has512) printf("  (%s: %.1f, %.1f)", wide ? "ymm" : "zmm", other[1], other[2]);
    printf("\n");
    printf("ferc kernels: %s; OpenBLAS core %s (%s)\n\n", k->isa, openblas_get_corename(), openblas_get_config());
    printf("GFLOP/s and %%peak count direct-convolution FLOPs; alg wino (Winograd F(2x2, 3x3)): effective figures.\n"
           "tol: share of test_kernels' tolerance used, max over outputs of |ferc - scalar| / (1e-5 |scalar| + 1e-6 S),\n"
           "S the sum of |terms| of the output (one thread).\n");
    printf("%-28s %3s %6s %9s %8s %6s %9s %8s %9s %8s %8s\n", "layer", "thr", "alg", "ferc ms", "GFLOP/s", "%peak",
           "blas ms", "x blas", "scalar ms", "x scalar", "tol");

    FILE *jf = json ? fopen(json, "w") : NULL;
    if (json && !jf) {
        fprintf(stderr, "cannot write %s\n", json);
        return 1;
    }
    if (jf)
        fprintf(jf,
                "{\"isa\": \"%s\", \"openblas_core\": \"%s\", \"peak_width\": \"%s\", \"peak_gflops\": {\"1\": %.2f, "
                "\"2\": %.2f},\n \"peak_gflops_other_width\": {\"1\": %.2f, \"2\": %.2f},\n \"layers\": [\n",
                k->isa, openblas_get_corename(), wide ? "zmm" : "ymm", peak[1], peak[2], other[1], other[2]);
    int ok = 1, first = 1;
    for (size_t li = 0; li < sizeof layers / sizeof *layers; li++) {
        const layer *l = &layers[li];
        job j = {k, l, desc_of(l), NULL, NULL, NULL, NULL, NULL, NULL, NULL};
        const ferc_conv2d_desc *d = &j.d;
        const size_t nx = (size_t)d->n * d->h * d->w * d->c, nw = (size_t)d->oc * d->kh * d->kw * (d->c / d->groups),
                     ny = (size_t)d->n * d->oh * d->ow * d->oc;
        const size_t ncol = l->act < 0 ? 0 : ferc_conv2d_scratch_openblas(d);
        float *x = rnd(nx, 1.f), *w = rnd(nw, 1.f / sqrtf((float)nw / d->oc)), *b = rnd((size_t)d->oc, 0.1f);
        float *want = ferc_alloc(ny * sizeof(float)), *got = ferc_alloc(ny * sizeof(float));
        float *packed = NULL;
        j.x = x, j.w = w, j.b = b, j.wk = w, j.y = want;
        j.col = ncol ? ferc_alloc(ncol) : NULL;
        if (l->act < 0 ? k->dense_pack != NULL : k->conv2d_pack != NULL) {
            packed = ferc_alloc((l->act < 0 ? k->dense_packed_size(d->c, d->oc) : k->conv2d_packed_size(d)) * sizeof(float));
            if (l->act < 0) k->dense_pack(d->c, d->oc, w, packed);
            else k->conv2d_pack(d, w, packed);
            j.wk = packed;
        }
        const size_t ns = l->act >= 0 && k->conv2d_scratch ? k->conv2d_scratch(d) : 0;
        j.scratch = ns ? ferc_alloc(ns) : NULL;
        run_scalar(&j, 1);
        const double err = tolerance_used(&j, ny, got);
        j.y = got;
        for (int t = 1; t <= 2; t++) {
            run_ferc(&j, t);
            ok &= verify("ferc", l->name, got, want, ny);
            run_blas(&j, t);
            ok &= verify("im2col+sgemm", l->name, got, want, ny);
        }
        if (!ok) break;
        const double flops = 2.0 * (double)ny * d->kh * d->kw * (d->c / d->groups);
        const int wino = d->winograd;
        const double ms_scalar = scalar ? time_ms(run_scalar, &j, 1, 1) : NAN;
        for (int t = 1; t <= 2; t++) {
            const side_by_side sb = compare(&j, t, wide, quick ? 3 : 15);
            const double ms = sb.ms, ms_blas = sb.ms_blas, gf = flops / ms * 1e-6, pct = sb.pct_peak;
            printf("%-28s %3d %6s %9.4f %8.1f %6.1f %9.4f %8.2f %9.3f %8.1f %8.3f\n", l->name, t,
                   wino ? "wino" : "direct", ms, gf, pct, ms_blas, sb.x_blas, ms_scalar, ms_scalar / ms, err);
            char sc[64] = "\"ms_scalar\": null, \"x_scalar\": null";
            if (scalar) snprintf(sc, sizeof sc, "\"ms_scalar\": %.4f, \"x_scalar\": %.2f", ms_scalar, ms_scalar / ms);
            if (jf)
                fprintf(jf,
                        "%s  {\"name\": \"%s\", \"shape\": \"n%d %dx%dx%d->%d k%d s%d p%d d%d g%d\", \"threads\": %d, "
                        "\"winograd\": %s, \"tolerance_used\": %.4f, \"ms\": %.5f, \"gflops\": %.2f, \"pct_peak\": %.1f, \"peak_gflops_here\": %.1f, "
                        "\"ms_openblas\": %.5f, \"x_openblas\": %.3f, %s}",
                        first ? "" : ",\n", l->name, d->n, d->h, d->w, d->c, d->oc, l->k, l->s, l->p, l->dil, l->groups,
                        t, wino ? "true" : "false", err, ms, gf, pct, sb.peak_here, ms_blas, sb.x_blas, sc);
            first = 0;
        }
        fflush(stdout);
        ferc_free(x), ferc_free(w), ferc_free(b), ferc_free(want), ferc_free(got), ferc_free(packed);
        ferc_free(j.col), ferc_free(j.scratch);
    }
    if (jf) {
        fprintf(jf, "\n]}\n");
        fclose(jf);
    }
    return ok ? 0 : 1;
}
