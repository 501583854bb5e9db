/* bench_q8.c - int8 against fp32 on the same model, and each int8 layer against the
 * machine's int8 peak (docs/performance.md, "int8").
 *
 *   build/bench/bench_q8 weights/emotion_cnn.ferc weights/emotion_cnn.q8.ferc [--rounds 15] [--json F]
 *
 * 1. int8 peak: 12 independent accumulators of vpdpbusd (zmm with AVX-512 VNNI, ymm with
 *    AVX-VNNI) or of AVX2's vpmaddubsw + vpmaddwd + vpaddd, in int8 multiply-accumulates per
 *    second, one thread; a short peak sample is taken beside every layer sample.
 * 2. Each conv2d_q8 layer of the int8 file at batch 64, one thread: ms, GMAC/s, % of peak,
 *    all in process CPU time (one thread: the time it ran, whatever else the machine did).
 * 3. The whole model, fp32 file against int8 file, at batch 1 / 1 thread, batch 64 / 1 thread
 *    and batch 64 / 2 threads: per round one fp32 sample then one int8 sample (each a loop of at least 20 ms),
 *    the ratio taken per round and its median reported, in wall time and in process CPU time
 *    (CPU time leaves out what other processes took from us: the machine is shared).
 *
 *   build/bench/bench_q8 --depthwise [--rounds 15]
 *
 * The int8 depthwise body against the fp32 depthwise kernel on YuNet's depthwise shapes
 * (3x3, stride 1, pad 1, batch 1, one thread, random weights): per round one fp32 sample then
 * one int8 sample, process CPU time, median of the per-round ratios. */
#include "bench/bench_time.h"
#include "kernels/q8.h"
#include "nn/model.h"

#include <stdio.h>
#include <string.h>

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- int8 peak ----------------------------------------------------------------------- */

static volatile int sink;

#define DOT12(I, R)                                                                                          \
    I " %%" R "14, %%" R "15, %%" R "0\n\t" I " %%" R "14, %%" R "15, %%" R "1\n\t" I " %%" R "14, %%" R       \
      "15, %%" R "2\n\t" I " %%" R "14, %%" R "15, %%" R "3\n\t" I " %%" R "14, %%" R "15, %%" R "4\n\t" I   \
      " %%" R "14, %%" R "15, %%" R "5\n\t" I " %%" R "14, %%" R "15, %%" R "6\n\t" I " %%" R "14, %%" R     \
      "15, %%" R "7\n\t" I " %%" R "14, %%" R "15, %%" R "8\n\t" I " %%" R "14, %%" R "15, %%" R "9\n\t" I   \
      " %%" R "14, %%" R "15, %%" R "10\n\t" I " %%" R "14, %%" R "15, %%" R "11\n\t"

#define CLOBBER "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", \
                "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory"

/* iters x 12 dot instructions; returns int8 MACs done. */
static double peak_loop(const char *isa, long iters)
{
    int out = 0;
    if (!strcmp(isa, "avx512vnni")) {
        __asm__ volatile("vpxord %%zmm0, %%zmm0, %%zmm0\n\tvmovdqa64 %%zmm0, %%zmm1\n\tvmovdqa64 %%zmm0, %%zmm2\n\t"
                         "vmovdqa64 %%zmm0, %%zmm3\n\tvmovdqa64 %%zmm0, %%zmm4\n\tvmovdqa64 %%zmm0, %%zmm5\n\t"
                         "vmovdqa64 %%zmm0, %%zmm6\n\tvmovdqa64 %%zmm0, %%zmm7\n\tvmovdqa64 %%zmm0, %%zmm8\n\t"
                         "vmovdqa64 %%zmm0, %%zmm9\n\tvmovdqa64 %%zmm0, %%zmm10\n\tvmovdqa64 %%zmm0, %%zmm11\n\t"
                         "vpbroadcastd %2, %%zmm14\n\tvpbroadcastd %2, %%zmm15\n\t"
                         "1:\n\t" DOT12("vpdpbusd", "zmm") "dec %0\n\tjnz 1b\n\t"
                         "vmovd %%xmm0, %1\n\tvzeroupper\n\t"
                         : "+r"(iters), "=r"(out) : "m"(sink) : CLOBBER);
        sink = out;
        return 64.0 * 12;
    }
    if (!strcmp(isa, "avxvnni")) {
        __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\tvmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm2\n\t"
                         "vmovdqa %%ymm0, %%ymm3\n\tvmovdqa %%ymm0, %%ymm4\n\tvmovdqa %%ymm0, %%ymm5\n\t"
                         "vmovdqa %%ymm0, %%ymm6\n\tvmovdqa %%ymm0, %%ymm7\n\tvmovdqa %%ymm0, %%ymm8\n\t"
                         "vmovdqa %%ymm0, %%ymm9\n\tvmovdqa %%ymm0, %%ymm10\n\tvmovdqa %%ymm0, %%ymm11\n\t"
                         "vpbroadcastd %2, %%ymm14\n\tvpbroadcastd %2, %%ymm15\n\t"
                         "1:\n\t" DOT12("%{vex%} vpdpbusd", "ymm") "dec %0\n\tjnz 1b\n\t"
                         "vmovd %%xmm0, %1\n\tvzeroupper\n\t"
                         : "+r"(iters), "=r"(out) : "m"(sink) : CLOBBER);
        sink = out;
        return 32.0 * 12;
    }
    /* AVX2: the three-instruction sequence q8_avx2.c uses, 6 chains (pairs of registers). */
    __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\tvmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm2\n\t"
                     "vmovdqa %%ymm0, %%ymm3\n\tvmovdqa %%ymm0, %%ymm4\n\tvmovdqa %%ymm0, %%ymm5\n\t"
                     "vpbroadcastd %2, %%ymm14\n\tvpbroadcastd %2, %%ymm15\n\tvpcmpeqw %%ymm13, %%ymm13, %%ymm13\n\t"
                     "vpsrlw $15, %%ymm13, %%ymm13\n\t"
                     "1:\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm6\n\tvpmaddubsw %%ymm14, %%ymm15, %%ymm7\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm8\n\tvpmaddubsw %%ymm14, %%ymm15, %%ymm9\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm10\n\tvpmaddubsw %%ymm14, %%ymm15, %%ymm11\n\t"
                     "vpmaddwd %%ymm13, %%ymm6, %%ymm6\n\tvpmaddwd %%ymm13, %%ymm7, %%ymm7\n\t"
                     "vpmaddwd %%ymm13, %%ymm8, %%ymm8\n\tvpmaddwd %%ymm13, %%ymm9, %%ymm9\n\t"
                     "vpmaddwd %%ymm13, %%ymm10, %%ymm10\n\tvpmaddwd %%ymm13, %%ymm11, %%ymm11\n\t"
                     "vpaddd %%ymm6, %%ymm0, %%ymm0\n\tvpaddd %%ymm7, %%ymm1, %%ymm1\n\t"
                     "vpaddd %%ymm8, %%ymm2, %%ymm2\n\tvpaddd %%ymm9, %%ymm3, %%ymm3\n\t"
                     "vpaddd %%ymm10, %%ymm4, %%ymm4\n\tvpaddd %%ymm11, %%ymm5, %%ymm5\n\t"
                     "dec %0\n\tjnz 1b\n\t"
                     "vmovd %%xmm0, %1\n\tvzeroupper\n\t"
                     : "+r"(iters), "=r"(out) : "m"(sink) : CLOBBER);
    sink = out;
    return 32.0 * 6;
}

/* GMAC/s of one thread over iters iterations, in CPU time (this process is single-threaded
 * here, so CPU time is the time it actually ran). */
static double peak_sample(const char *isa, long iters)
{
    const double t0 = cpu_now();
    const double per = peak_loop(isa, iters);
    return per * (double)iters / (cpu_now() - t0) * 1e-9;
}

/* ---- layers ------------------------------------------------------------------------------ */

typedef struct {
    const ferc_q8_kernels *k;
    ferc_q8_conv_desc d;
    uint8_t *x, *y;
    int8_t *w;
    int32_t *b;
    float *m;
    void *scratch;
    int threads;
} layer;

static void run_layer(void *p)
{
    layer *l = p;
    ferc_q8_conv2d(l->k, &l->d, l->x, l->w, l->b, l->m, l->y, l->scratch, l->threads);
}

typedef struct {
    ferc_context *c;
    const float *in;
    int batch;
} whole;

static void run_whole(void *p)
{
    whole *w = p;
    ferc_error err;
    const float *inputs[] = {w->in};
    if (ferc_run(w->c, inputs, w->batch, &err)) fprintf(stderr, "run: %s\n", err.message), exit(1);
}

/* ms per call in wall time and CPU time, one sample of `calls` calls. */
static void sample(void (*fn)(void *), void *arg, long calls, double *wall, double *cpu)
{
    const double t0 = bench_now(), c0 = cpu_now();
    for (long i = 0; i < calls; i++) fn(arg);
    *wall = (bench_now() - t0) / calls * 1e3, *cpu = (cpu_now() - c0) / calls * 1e3;
}

typedef struct {
    const ferc_kernel_table *k;
    ferc_conv2d_desc d;
    const float *x, *w;
    float *y;
    void *scratch;
} fp32_layer;

static void run_fp32(void *p)
{
    fp32_layer *l = p;
    l->k->conv2d(&l->d, l->x, l->w, NULL, l->y, l->scratch, 1);
}

static int depthwise(int rounds)
{
    const ferc_q8_kernels *k = ferc_q8_kernels_get();
    printf("depthwise 3x3 (stride 1, pad 1, batch 1, 1 thread, CPU time): int8 %s against fp32 %s\n", k->isa,
           ferc_isa_name());
    printf("%-14s %10s %10s %8s\n", "in", "fp32 ms", "int8 ms", "x");
    static const int shapes[][2] = {{160, 16}, {80, 16}, {80, 64}, {40, 64}, {20, 64}};
    for (int i = 0; i < 5; i++) {
        const int hw = shapes[i][0], c = shapes[i][1];
        const size_t nx = (size_t)hw * hw * c;
        layer l = {k, {1, hw, hw, c, hw, hw, c, 3, 3, 1, 1, 1, 1, 1, 1, c, 3, 0, 0, 255}, NULL, NULL, NULL, NULL, NULL,
                   NULL, 1};
        l.x = ferc_alloc(nx), l.y = ferc_alloc(nx);
        int8_t *w = ferc_alloc((size_t)9 * c);
        int32_t *b = ferc_alloc(sizeof(int32_t) * c);
        l.m = ferc_alloc(sizeof(float) * c);
        for (size_t j = 0; j < nx; j++) l.x[j] = (uint8_t)(j * 2654435761u >> 24);
        for (int j = 0; j < 9 * c; j++) w[j] = (int8_t)((j * 37) % 129 - 64);
        for (int j = 0; j < c; j++) b[j] = 100 * (j % 7), l.m[j] = 1e-3f;
        l.b = ferc_alloc(sizeof(int32_t) * c);
        l.w = ferc_alloc(ferc_q8_packed_size(&l.d));
        ferc_q8_pack(&l.d, w, b, l.w, l.b);
        l.scratch = ferc_alloc(ferc_q8_conv_scratch(&l.d, 1));
        fp32_layer f = {ferc_kernels(), {1, hw, hw, c, hw, hw, c, 3, 3, 1, 1, 1, 1, 1, 1, c, 1, 0.f, 0}, NULL, NULL,
                        NULL, NULL};
        float *fx = ferc_alloc(nx * 4), *fw = ferc_alloc((size_t)36 * c), *fp = NULL;
        f.y = ferc_alloc(nx * 4);
        for (size_t j = 0; j < nx; j++) fx[j] = (float)l.x[j] / 255.f;
        for (int j = 0; j < 9 * c; j++) fw[j] = (float)w[j] / 64.f;
        f.d.winograd = f.k->conv2d_winograd && f.k->conv2d_winograd(&f.d);
        f.x = fx, f.w = fw;
        if (f.k->conv2d_pack) {
            fp = ferc_alloc(f.k->conv2d_packed_size(&f.d) * sizeof(float));
            f.k->conv2d_pack(&f.d, fw, fp);
            f.w = fp;
        }
        f.scratch = f.k->conv2d_scratch ? ferc_alloc(f.k->conv2d_scratch(&f.d) + 64) : NULL;
        const long cf = bench_calls(bench_once(run_fp32, &f)), cq = bench_calls(bench_once(run_layer, &l));
        double tf[99], tq[99], x[99], wall;
        for (int r = 0; r < rounds; r++) {
            sample(run_fp32, &f, cf, &wall, &tf[r]);
            sample(run_layer, &l, cq, &wall, &tq[r]);
            x[r] = tf[r] / tq[r];
        }
        char in[32];
        snprintf(in, sizeof in, "%dx%dx%d", hw, hw, c);
        printf("%-14s %10.4f %10.4f %7.2fx\n", in, bench_median(tf, rounds), bench_median(tq, rounds), bench_median(x, rounds));
        ferc_free(l.x), ferc_free(l.y), ferc_free(w), ferc_free(b), ferc_free(l.m), ferc_free(l.b), ferc_free(l.w);
        ferc_free(l.scratch), ferc_free(fx), ferc_free(fw), ferc_free(fp), ferc_free(f.y), ferc_free(f.scratch);
    }
    printf("(x: fp32 CPU time / int8 CPU time, median of %d per-round ratios)\n", rounds);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--depthwise"))
        return depthwise(argc >= 4 && !strcmp(argv[2], "--rounds") ? atoi(argv[3]) < 3 ? 3 : atoi(argv[3]) > 99 ? 99 : atoi(argv[3]) : 15);
    if (argc < 3) {
        fprintf(stderr, "usage: %s FP32.ferc INT8.ferc [--rounds R] [--json FILE]\n       %s --depthwise [--rounds R]\n",
                argv[0], argv[0]);
        return 2;
    }
    int rounds = 15;
    const char *json = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    }
    if (rounds < 3) rounds = 3;
    if (rounds > 99) rounds = 99;
    ferc_error err;
    ferc_model *mf = NULL, *mq = NULL;
    if (ferc_model_load(argv[1], &mf, &err) || ferc_model_load(argv[2], &mq, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    const ferc_q8_kernels *k = ferc_q8_kernels_get();
    if (!k->gemm) {
        printf("bench_q8: the int8 path is scalar here (FERC_ISA=scalar or no AVX2): nothing to compare with a peak\n");
        return 0;
    }
    double loadavg[3] = {0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) { if (fscanf(la, "%lf %lf %lf", &loadavg[0], &loadavg[1], &loadavg[2]) != 3) loadavg[0] = -1; fclose(la); }
    double pk[99];
    for (int r = 0; r < 7; r++) pk[r] = peak_sample(k->isa, 2000000);
    const double peak = bench_median(pk, 7);
    printf("int8 path %s, float kernels %s; load average %.2f %.2f %.2f (shared machine)\n", k->isa, ferc_isa_name(),
           loadavg[0], loadavg[1], loadavg[2]);
    printf("int8 peak (%s, %s, 1 thread): %.1f GMAC/s\n", k->isa,
           strcmp(k->isa, "avx2") ? "12 independent vpdpbusd chains" : "6 chains of vpmaddubsw + vpmaddwd + vpaddd", peak);
    FILE *jf = json ? fopen(json, "w") : NULL;
    if (jf) fprintf(jf, "{\"int8_isa\": \"%s\", \"int8_peak_gmacs_1thread\": %.2f, \"load_average\": [%.2f, %.2f, %.2f], \"layers\": [",
                    k->isa, peak, loadavg[0], loadavg[1], loadavg[2]);

    /* 2. layers */
    printf("\n%-16s %-22s %-12s %9s %9s %7s\n", "layer (int8)", "in (batch 64)", "kernel", "cpu ms", "GMAC/s", "%peak");
    int first = 1;
    for (int i = 0; i < mq->n_nodes; i++) {
        const ferc_node *n = &mq->nodes[mq->order[i]];
        if (strcmp(n->op->name, "conv2d_q8")) continue;
        const ferc_value *xv = &mq->values[n->in[0]], *wv = &mq->values[n->in[1]], *yv = &mq->values[n->out[0]];
        layer l = {k, {0}, NULL, NULL, NULL, NULL, NULL, NULL, 1};
        ferc_q8_conv_desc *d = &l.d;
        int st[2], pad[4], dil[2], ones[2] = {1, 1}, zeros[4] = {0};
        ferc_attr_ints(n, "stride", 2, ones, st, &err);
        ferc_attr_ints(n, "pad", 4, zeros, pad, &err);
        ferc_attr_ints(n, "dilation", 2, ones, dil, &err);
        ferc_attr_int(n, "groups", 1, &d->groups, &err);
        d->n = 64, d->h = (int)xv->shape.d[1], d->w = (int)xv->shape.d[2], d->c = (int)xv->shape.d[3];
        d->oh = (int)yv->shape.d[1], d->ow = (int)yv->shape.d[2], d->oc = (int)wv->shape.d[0];
        d->kh = (int)wv->shape.d[1], d->kw = (int)wv->shape.d[2], d->sh = st[0], d->sw = st[1];
        d->pt = pad[0], d->pl = pad[1], d->dh = dil[0], d->dw = dil[1], d->lo = 0, d->hi = 255;
        const size_t nx = (size_t)64 * d->h * d->w * d->c, ny = (size_t)64 * d->oh * d->ow * d->oc;
        l.x = ferc_alloc(nx), l.y = ferc_alloc(ny);
        for (size_t j = 0; j < nx; j++) l.x[j] = (uint8_t)(j * 2654435761u >> 24);
        const int8_t *w = (const int8_t *)(const void *)wv->data;
        l.b = ferc_alloc(sizeof(int32_t) * d->oc);
        l.m = (float *)mq->values[n->in[3]].data;
        l.w = ferc_alloc(ferc_q8_packed_size(d));
        ferc_q8_pack(d, w, (const int32_t *)(const void *)mq->values[n->in[2]].data, l.w, l.b);
        l.scratch = ferc_alloc(ferc_q8_conv_scratch(d, 1));
        const double macs = (double)ny * d->kh * d->kw * (d->c / d->groups);
        const long calls = bench_calls(bench_once(run_layer, &l));
        double ms[99], pct[99], wall;
        for (int r = 0; r < rounds; r++) {
            sample(run_layer, &l, calls, &wall, &ms[r]);
            const double p = peak_sample(k->isa, 200000);
            pct[r] = 100 * macs / (ms[r] * 1e-3) * 1e-9 / p;
        }
        const double mm = bench_median(ms, rounds), pp = bench_median(pct, rounds);
        char in[64], kern[32];
        snprintf(in, sizeof in, "%dx%dx%d", d->h, d->w, d->c);
        snprintf(kern, sizeof kern, "%dx%d -> %d", d->kh, d->kw, d->oc);
        printf("%-16s %-22s %-12s %9.3f %9.1f %6.1f%%\n", ferc_node_name(mq, n), in, kern, mm, macs / (mm * 1e-3) * 1e-9, pp);
        if (jf) fprintf(jf, "%s{\"name\": \"%s\", \"in\": \"%s\", \"kernel\": \"%s\", \"batch\": 64, \"threads\": 1, \"ms\": %.4f, "
                        "\"gmacs\": %.2f, \"pct_int8_peak\": %.1f}", first ? "" : ", ", ferc_node_name(mq, n), in, kern, mm,
                        macs / (mm * 1e-3) * 1e-9, pp);
        first = 0;
        ferc_free(l.x), ferc_free(l.y), ferc_free(l.b), ferc_free(l.scratch), ferc_free(l.w);
    }

    /* 3. whole model */
    printf("\n%-8s %-6s %11s %11s %8s %11s %11s %8s\n", "batch", "thr", "fp32 ms", "int8 ms", "x", "fp32 cpu", "int8 cpu",
           "x cpu");
    if (jf) fprintf(jf, "], \"models\": [");
    static const int configs[3][2] = {{1, 1}, {64, 1}, {64, 2}};
    for (int cfg = 0; cfg < 3; cfg++) {
        const int batch = configs[cfg][0], threads = configs[cfg][1];
        ferc_context_options o = {batch, 0, 0, threads, 0};
        ferc_context *cf = NULL, *cq = NULL;
        if (ferc_context_create(mf, &o, &cf, &err) || ferc_context_create(mq, &o, &cq, &err)) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        int nd;
        int64_t dims[4];
        ferc_model_input_shape(mf, 0, &nd, dims);
        const size_t per = (size_t)(dims[1] * dims[2] * dims[3]);
        float *in = malloc(sizeof(float) * per * batch);
        for (size_t j = 0; j < per * batch; j++) in[j] = (float)((j * 2654435761u >> 20) % 2000) / 1000.f - 1.f;
        whole wf = {cf, in, batch}, wq = {cq, in, batch};
        const long callf = bench_calls(bench_once(run_whole, &wf)), callq = bench_calls(bench_once(run_whole, &wq));
        double f[99], q[99], x[99], fc[99], qc[99], xc[99];
        for (int r = 0; r < rounds; r++) {
            sample(run_whole, &wf, callf, &f[r], &fc[r]);
            sample(run_whole, &wq, callq, &q[r], &qc[r]);
            x[r] = f[r] / q[r], xc[r] = fc[r] / qc[r];
        }
        const double mf_ = bench_median(f, rounds), mq_ = bench_median(q, rounds), mx = bench_median(x, rounds);
        const double mfc = bench_median(fc, rounds), mqc = bench_median(qc, rounds), mxc = bench_median(xc, rounds);
        printf("%-8d %-6d %11.3f %11.3f %7.2fx %11.3f %11.3f %7.2fx\n", batch, threads, mf_, mq_, mx, mfc, mqc, mxc);
        if (jf) fprintf(jf, "%s{\"batch\": %d, \"threads\": %d, \"ms_fp32\": %.4f, \"ms_int8\": %.4f, \"x_int8\": %.3f, "
                        "\"cpu_ms_fp32\": %.4f, \"cpu_ms_int8\": %.4f, \"x_int8_cpu\": %.3f}", cfg ? ", " : "", batch, threads,
                        mf_, mq_, mx, mfc, mqc, mxc);
        free(in);
        ferc_context_free(cf), ferc_context_free(cq);
    }
    printf("(x: fp32 time / int8 time, median of %d per-round ratios; cpu: process CPU time per call)\n", rounds);
    if (jf) fprintf(jf, "]}\n"), fclose(jf);
    ferc_model_free(mf), ferc_model_free(mq);
    return 0;
}
