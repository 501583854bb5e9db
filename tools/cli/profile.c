/* profile.c - `ferc profile`: time every node of a model (or one convolution described on the
 * command line) with the context's FERC_CTX_PROFILE timers, beside the machine's FMA peak
 * measured in the same run. The kernel microbenchmark for any shape a user cares about. */
#include "tools/cli/look.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

static const char usage[] =
    "usage: ferc profile [options] MODEL.ferc\n"
    "       ferc profile [options] --conv \"n1 48x48x32->64 k3 s1 p1\"\n"
    "\n"
    "Runs the model on random input (or --input IMAGE) and prints, per node in execution\n"
    "order: the kernel path chosen (ISA and variant), median time over the runs, share of the\n"
    "run, GFLOP/s (2 x MACs / time; Winograd layers do fewer multiplies than they are credited\n"
    "with, so theirs are effective figures) and percent of the FMA peak of this ISA and thread\n"
    "count, measured in the same command (12 independent FMA chains, best of 9 samples); int8\n"
    "layers (conv2d_q8, dense_q8) count 2 ops per multiply-accumulate against the int8 peak of\n"
    "the int8 path, measured the same way (12 vpdpbusd chains, or AVX2's vpmaddubsw sequence). Also\n"
    "the median run time and how much of it the node timers cover. Times are wall clock: on a\n"
    "busy machine, runs longer than a scheduler slice include time spent waiting for a core\n"
    "(--clock cpu: this thread's CPU time instead, peak included).\n"
    "A chain of 1x1 + depthwise convolutions (and a max pooling) that the engine runs as one\n"
    "kernel shows as its first node (path \"ISA chain\", GFLOP/s over the chain's MACs); the\n"
    "others say which node ran them (\"in #k\"), as does a max pooling run inside the\n"
    "convolution before it (a CNN's first layer).\n"
    "\n"
    "--conv profiles one convolution: nN (batch), HxWxC->OC (input and output channels),\n"
    "kK or kKHxKW, sS (stride), pP (padding, all sides), dD (dilation), gG (groups); e.g.\n"
    "\"n1 48x48x32->64 k3 s1 p1\". Its weights are random.\n"
    "\n"
    "  --batch N            samples per run (default 1; --conv: its n)\n"
    "  --threads N          engine threads (default: FERC_THREADS, else all processors)\n"
    "  --isa NAME           scalar, avx2 or avx512 (default: the best this CPU has)\n"
    "  --input IMAGE        run on this image, preprocessed as the model's metadata says\n"
    "  --size WxH           input width x height (models that take any size: detectors;\n"
    "                       default the model's nominal size)\n"
    "  --runs N             timed runs (default: as many as fill about 1 s, 10 to 1000)\n"
    "  --clock wall|cpu     wall clock (default), or the thread's CPU time, which a loaded\n"
    "                       machine does not inflate (with --threads 1 only)\n"
    "  --format text|json   output format (default text)\n";

/* ---- the FMA peak -------------------------------------------------------------------- */

#if defined(__x86_64__) || defined(__i386__)
/* 12 independent chains: more than FMA latency x throughput on current x86 cores. Each starts
 * from its own value: chains that start equal stay equal, and the compiler keeps only one. */
#define FMA_CHAINS(T, fma, set1, add, first)                                                       \
    T a0 = set1(0.f), a1 = set1(1.f), a2 = set1(2.f), a3 = set1(3.f), a4 = set1(4.f),              \
      a5 = set1(5.f), a6 = set1(6.f), a7 = set1(7.f), a8 = set1(8.f), a9 = set1(9.f),              \
      a10 = set1(10.f), a11 = set1(11.f);                                                          \
    const T x = set1(0.9999f), y = set1(1e-6f);                                                    \
    for (long i = 0; i < iters; i++) {                                                             \
        a0 = fma(a0, x, y), a1 = fma(a1, x, y), a2 = fma(a2, x, y), a3 = fma(a3, x, y);            \
        a4 = fma(a4, x, y), a5 = fma(a5, x, y), a6 = fma(a6, x, y), a7 = fma(a7, x, y);            \
        a8 = fma(a8, x, y), a9 = fma(a9, x, y), a10 = fma(a10, x, y), a11 = fma(a11, x, y);        \
    }                                                                                              \
    a0 = add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7)));                        \
    return first(add(a0, add(add(a8, a9), add(a10, a11))));

__attribute__((target("avx512f"))) static float fma512(long iters)
{
    FMA_CHAINS(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_cvtss_f32)
}
__attribute__((target("avx2,fma"))) static float fma256(long iters)
{
    FMA_CHAINS(__m256, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_cvtss_f32)
}
__attribute__((target("fma"))) static float fma_scalar(long iters)
{
    FMA_CHAINS(__m128, _mm_fmadd_ss, _mm_set_ss, _mm_add_ss, _mm_cvtss_f32)
}
#endif

static volatile float sink;
static volatile int ione = 0x01010101;
static volatile unsigned isink; /* unsigned: the chains' sums wrap, which is fine for a sink */

#if defined(__x86_64__) || defined(__i386__)
/* The int8 peak: 12 independent vpdpbusd chains (zmm or ymm), or AVX2's
 * vpmaddubsw + vpmaddwd + vpaddd, as the int8 kernels use them (kernels/q8.h). Returns
 * int8 multiply-accumulates done. */
#define DOT_CHAINS(T, dot, set1)                                                                        \
    /* distinct starting values, or the compiler would compute one chain and copy it */                \
    T a0 = set1(0), a1 = set1(1), a2 = set1(2), a3 = set1(3), a4 = set1(4), a5 = set1(5), a6 = set1(6), \
      a7 = set1(7), a8 = set1(8), a9 = set1(9), a10 = set1(10), a11 = set1(11);                         \
    const T x = set1(ione), w = set1(ione);                                                             \
    for (long i = 0; i < iters; i++) {                                                                   \
        a0 = dot(a0, x, w), a1 = dot(a1, x, w), a2 = dot(a2, x, w), a3 = dot(a3, x, w);                  \
        a4 = dot(a4, x, w), a5 = dot(a5, x, w), a6 = dot(a6, x, w), a7 = dot(a7, x, w);                  \
        a8 = dot(a8, x, w), a9 = dot(a9, x, w), a10 = dot(a10, x, w), a11 = dot(a11, x, w);              \
    }
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static double dot512(long iters)
{
    DOT_CHAINS(__m512i, _mm512_dpbusd_epi32, _mm512_set1_epi32)
    a0 = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
                          _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)));
    a0 = _mm512_add_epi32(a0, _mm512_add_epi32(_mm512_add_epi32(a8, a9), _mm512_add_epi32(a10, a11)));
    isink += (unsigned)_mm_cvtsi128_si32(_mm512_castsi512_si128(a0));
    return 64.0 * 12 * (double)iters;
}
__attribute__((target("avx2,avxvnni"))) static double dot256vnni(long iters)
{
#define DPB(a, x, w) _mm256_dpbusd_avx_epi32(a, x, w)
    DOT_CHAINS(__m256i, DPB, _mm256_set1_epi32)
#undef DPB
    a0 = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)),
                          _mm256_add_epi32(_mm256_add_epi32(a4, a5), _mm256_add_epi32(a6, a7)));
    a0 = _mm256_add_epi32(a0, _mm256_add_epi32(_mm256_add_epi32(a8, a9), _mm256_add_epi32(a10, a11)));
    isink += (unsigned)_mm256_extract_epi32(a0, 0);
    return 32.0 * 12 * (double)iters;
}
__attribute__((target("avx2"))) static double dot256(long iters)
{
    const __m256i ones = _mm256_set1_epi16(1);
#define DPB(a, x, w) _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), ones))
    DOT_CHAINS(__m256i, DPB, _mm256_set1_epi32)
#undef DPB
    a0 = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)),
                          _mm256_add_epi32(_mm256_add_epi32(a4, a5), _mm256_add_epi32(a6, a7)));
    a0 = _mm256_add_epi32(a0, _mm256_add_epi32(_mm256_add_epi32(a8, a9), _mm256_add_epi32(a10, a11)));
    isink += (unsigned)_mm256_extract_epi32(a0, 0);
    return 32.0 * 12 * (double)iters;
}
#endif

/* The clock of --clock: wall (cli_seconds) or this thread's CPU time. */
static double clock_now(int cpu)
{
    if (!cpu) return cli_seconds();
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* G int8 ops/s (2 x MACs) of the int8 path `isa` on `threads` threads, as fma_peak; 0 for the
 * scalar path (not shown then). */
static double int8_peak(const char *isa, int threads, int cpu)
{
#if defined(__x86_64__) || defined(__i386__)
    const int kind = !strcmp(isa, "avx512vnni") ? 2 : !strcmp(isa, "avxvnni") ? 1 : !strcmp(isa, "avx2") ? 0 : -1;
    if (kind < 0) return 0;
    const long iters = 500000;
    double best = 0;
    for (int r = 0; r < 9; r++) {
        double macs = 0;
        const double t0 = clock_now(cpu);
#pragma omp parallel num_threads(threads) reduction(+ : macs)
        macs += kind == 2 ? dot512(iters) : kind == 1 ? dot256vnni(iters) : dot256(iters);
        const double g = 2 * macs / (clock_now(cpu) - t0) * 1e-9;
        best = g > best ? g : best;
    }
    return best;
#else
    (void)isa, (void)threads, (void)cpu;
    return 0;
#endif
}

/* GFLOP/s of `threads` threads each running 12 FMA chains of the ISA's vector width: the best
 * of 9 samples of ~2 ms (a peak is a maximum; on a shared machine any sample can lose its
 * core for a while, which only ever lowers it). 0 when there is no FMA (not shown then). */
static double fma_peak(const char *isa, int threads, int cpu)
{
#if defined(__x86_64__) || defined(__i386__)
    int lanes = !strcmp(isa, "avx512") ? 16 : !strcmp(isa, "avx2") ? 8 : 1;
    if (!__builtin_cpu_supports("fma")) return 0;
    const long iters = lanes == 1 ? 2000000 : 1000000;
    double best = 0;
    for (int r = 0; r < 9; r++) {
        const double t0 = clock_now(cpu);
#pragma omp parallel num_threads(threads)
        {
            float v = lanes == 16 ? fma512(iters) : lanes == 8 ? fma256(iters) : fma_scalar(iters);
#pragma omp critical
            sink += v;
        }
        const double g = (double)threads * iters * 12 * lanes * 2 / (clock_now(cpu) - t0) * 1e-9;
        best = g > best ? g : best;
    }
    return best;
#else
    (void)isa, (void)threads, (void)cpu;
    return 0;
#endif
}

/* ---- --conv: a one-node model built in memory ------------------------------------------ */

typedef struct {
    int n, h, w, c, oc, kh, kw, s, p, d, g;
} conv_spec;

static int parse_conv(const char *spec, conv_spec *c)
{
    *c = (conv_spec){1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        int a, b, k = 0, ok;
        char end = 0;
        if (t[0] >= '0' && t[0] <= '9') {
            ok = sscanf(t, "%dx%dx%d->%d%c", &c->h, &c->w, &c->c, &c->oc, &end) == 4;
        } else if (t[0] == 'k') {
            k = sscanf(t + 1, "%dx%d%c", &a, &b, &end);
            ok = k == 1 || k == 2;
            c->kh = a, c->kw = k == 2 ? b : a;
        } else {
            ok = strchr("nspdg", t[0]) && t[0] && sscanf(t + 1, "%d%c", &a, &end) == 1;
            if (ok) *(t[0] == 'n' ? &c->n : t[0] == 's' ? &c->s : t[0] == 'p' ? &c->p : t[0] == 'd' ? &c->d : &c->g) = a;
        }
        if (!ok) {
            fprintf(stderr, "ferc profile: --conv: cannot read '%s' (expected e.g. \"n1 48x48x32->64 k3 s1 p1\")\n", t);
            return -1;
        }
    }
    const char *bad = !c->h || !c->kh ? "needs HxWxC->OC and kK"
                      : c->n < 1 || c->n > 4096 ? "batch n must be 1..4096"
                      : c->h < 1 || c->w < 1 || c->h > 4096 || c->w > 4096 ? "height and width must be 1..4096"
                      : c->c < 1 || c->oc < 1 || c->c > 16384 || c->oc > 16384 ? "channels must be 1..16384"
                      : c->kh < 1 || c->kw < 1 || c->kh > 64 || c->kw > 64 ? "kernel must be 1..64"
                      : c->s < 1 || c->s > 64 || c->d < 1 || c->d > 64 || c->p < 0 || c->p > 64
                          ? "stride and dilation must be 1..64, padding 0..64"
                      : c->g < 1 || c->c % c->g || c->oc % c->g ? "groups must divide both channel counts"
                      : (double)c->n * c->h * c->w * (c->c > c->oc ? c->c : c->oc) > (double)(1 << 26)
                          ? "more than 2^26 elements in a tensor"
                          : NULL;
    if (bad) fprintf(stderr, "ferc profile: --conv \"%s\": %s\n", spec, bad);
    return bad ? -1 : 0;
}

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c >> 1 ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

typedef struct {
    uint8_t *p;
    size_t n;
} bytes;

static void put(bytes *b, const void *src, size_t n)
{
    if (b->p) memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put_u32(bytes *b, uint32_t v) { put(b, &v, 4); } /* little-endian hosts, as the format */
static void put_u64(bytes *b, uint64_t v) { put(b, &v, 8); }
static void put_str(bytes *b, const char *s) { put_u32(b, (uint32_t)strlen(s)), put(b, s, strlen(s)); }
static void put_value(bytes *b, const char *name, int kind, int ndim, const uint32_t *dims, uint64_t offset)
{
    put_str(b, name);
    uint8_t k[4] = {(uint8_t)kind, 0, (uint8_t)ndim, 0};
    put(b, k, 4);
    for (int i = 0; i < ndim; i++) put_u32(b, dims[i]);
    if (kind != 1) return;
    float scale = 1;
    uint64_t size = 4;
    for (int i = 0; i < ndim; i++) size *= dims[i];
    put(b, &scale, 4), put_u32(b, 0), put_u64(b, offset), put_u64(b, size);
}
static void put_ints(bytes *b, const char *key, int count, const int *v)
{
    put_str(b, key);
    uint8_t type = 0;
    put(b, &type, 1), put_u32(b, (uint32_t)count);
    for (int i = 0; i < count; i++) put_u32(b, (uint32_t)v[i]);
}

/* The index of docs/FORMAT.md for x -> conv2d(w, b) -> y; b->p NULL only counts bytes. */
static void conv_index(bytes *b, const conv_spec *c, uint64_t b_offset)
{
    const uint32_t xd[4] = {1, (uint32_t)c->h, (uint32_t)c->w, (uint32_t)c->c};
    const uint32_t wd[4] = {(uint32_t)c->oc, (uint32_t)c->kh, (uint32_t)c->kw, (uint32_t)(c->c / c->g)};
    const uint32_t bd[1] = {(uint32_t)c->oc};
    put_u32(b, 1), put_str(b, "name"), put_str(b, "conv");
    put_u32(b, 4);
    put_value(b, "x", 0, 4, xd, 0), put_value(b, "w", 1, 4, wd, 0), put_value(b, "b", 1, 1, bd, b_offset);
    put_value(b, "y", 2, 0, NULL, 0);
    put_u32(b, 1), put_str(b, "conv2d");
    put_u32(b, 3), put_u32(b, 0), put_u32(b, 1), put_u32(b, 2), put_u32(b, 1), put_u32(b, 3);
    const int stride[2] = {c->s, c->s}, pad[4] = {c->p, c->p, c->p, c->p}, dil[2] = {c->d, c->d};
    put_u32(b, 4), put_ints(b, "stride", 2, stride), put_ints(b, "pad", 4, pad), put_ints(b, "dilation", 2, dil);
    put_ints(b, "groups", 1, &c->g);
    put_u32(b, 1), put_u32(b, 3);
}

static ferc_model *conv_model(const conv_spec *c)
{
    const size_t wn = (size_t)c->oc * c->kh * c->kw * (c->c / c->g), boff = (wn * 4 + 63) / 64 * 64;
    bytes idx = {NULL, 0};
    conv_index(&idx, c, boff);
    const size_t data_off = (64 + idx.n + 63) / 64 * 64, size = data_off + boff + (size_t)c->oc * 4;
    uint8_t *f = calloc(1, size);
    if (!f) return NULL;
    bytes b = {f, 0};
    put(&b, "\x89" "FERC\r\n\x1a", 8), put_u32(&b, 1), put_u32(&b, 64), put_u64(&b, size), put_u64(&b, 64);
    put_u64(&b, idx.n), put_u64(&b, data_off), put_u64(&b, size - data_off);
    b.n = 64;
    conv_index(&b, c, boff);
    /* He-scaled uniform weights and small biases from a fixed LCG: the numbers only need to be
     * finite and typical. */
    uint32_t r = 12345;
    const float sc = 2.0f / (float)(c->kh * c->kw * (c->c / c->g));
    float *w = (float *)(void *)(f + data_off), *bias = (float *)(void *)(f + data_off + boff);
    for (size_t i = 0; i < wn; i++) w[i] = ((r = r * 1664525u + 1013904223u) >> 8) * (1.0f / 16777216.0f) * sc - sc / 2;
    for (int i = 0; i < c->oc; i++) bias[i] = 0.01f * (float)(i % 7);
    uint32_t crc = crc32_ieee(f + 64, size - 64);
    memcpy(f + 56, &crc, 4);
    ferc_model *m = NULL;
    ferc_error err;
    if (ferc_model_load_memory(f, size, &m, &err)) fprintf(stderr, "ferc profile: --conv: %s\n", err.message);
    free(f);
    return m;
}

/* ---- the runs ------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int cli_profile(int argc, char **argv)
{
    const char *path = NULL, *conv = NULL, *isa = NULL, *image = NULL, *format = "text", *clock = "wall", *v;
    int batch = 0, threads = 0, runs = 0, width = 0, height = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 0;
        }
        int bad = 0;
        if ((v = cli_opt_value("--conv", argc, argv, &i))) conv = v;
        else if ((v = cli_opt_value("--isa", argc, argv, &i))) isa = v;
        else if ((v = cli_opt_value("--input", argc, argv, &i))) image = v;
        else if ((v = cli_opt_value("--format", argc, argv, &i))) format = v;
        else if ((v = cli_opt_value("--clock", argc, argv, &i))) clock = v;
        else if ((v = cli_opt_value("--size", argc, argv, &i))) {
            char end;
            if (sscanf(v, "%dx%d%c", &width, &height, &end) != 2 || width < 1 || height < 1 || width > 8192 ||
                height > 8192) {
                fprintf(stderr, "ferc profile: --size takes WxH, e.g. 640x480\n");
                return 2;
            }
        }
        else if ((v = cli_opt_value("--batch", argc, argv, &i))) bad = cli_parse_int("--batch", v, 1, 4096, &batch);
        else if ((v = cli_opt_value("--threads", argc, argv, &i))) bad = cli_parse_int("--threads", v, 1, 1024, &threads);
        else if ((v = cli_opt_value("--runs", argc, argv, &i))) bad = cli_parse_int("--runs", v, 1, 100000, &runs);
        else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "ferc profile: unexpected argument %s (see ferc profile --help)\n", argv[i]);
            return 2;
        } else path = argv[i];
        if (bad) return 2;
    }
    if (!path == !conv) {
        fprintf(stderr, "ferc profile: give a MODEL.ferc or --conv SPEC (see ferc profile --help)\n");
        return 2;
    }
    if (strcmp(format, "text") && strcmp(format, "json")) {
        fprintf(stderr, "ferc profile: --format is text or json\n");
        return 2;
    }
    if (strcmp(clock, "wall") && strcmp(clock, "cpu")) {
        fprintf(stderr, "ferc profile: --clock is wall or cpu\n");
        return 2;
    }
    const int cpu = !strcmp(clock, "cpu");
    if (cpu && threads != 1) {
        fprintf(stderr, "ferc profile: --clock cpu needs --threads 1 (other threads' time is not counted)\n");
        return 2;
    }
    if (conv && image) {
        fprintf(stderr, "ferc profile: --input needs a model, not --conv\n");
        return 2;
    }
    if (isa) {
        setenv("FERC_ISA", isa, 1); /* read when the model picks its kernels */
        if (strcmp(ferc_isa_name(), isa)) {
            fprintf(stderr, "ferc profile: --isa %s: not a kernel path this CPU runs (scalar, avx2, avx512)\n", isa);
            return 2;
        }
    }
    conv_spec cs;
    ferc_model *m = NULL;
    ferc_error err;
    if (conv) {
        if (parse_conv(conv, &cs)) return 2;
        if (!(m = conv_model(&cs))) return 1;
        if (!batch) batch = cs.n;
    } else if (ferc_model_load(path, &m, &err)) {
        fprintf(stderr, "ferc profile: %s\n", err.message);
        return 1;
    }
    if (!batch) batch = 1;
    if (!threads) threads = cli_default_threads();
    ferc_context *ctx = NULL;
    ferc_context_options o = {batch, height, width, threads, FERC_CTX_PROFILE | (cpu ? FERC_CTX_PROFILE_CPU : 0)};
    int nd;
    int64_t dims[4];
    ferc_model_input_shape(m, 0, &nd, dims);
    if (width && nd == 4) dims[1] = height, dims[2] = width;
    size_t per = 1;
    for (int d = 1; d < nd; d++) per *= (size_t)dims[d];
    float *in = NULL;
    int nin = ferc_model_num_inputs(m), rc = 1;
    if (!ferc_model_num_nodes(m))
        fprintf(stderr, "ferc profile: %s holds tensors only, no graph to run\n", conv ? "--conv" : path);
    else if (nin != 1) fprintf(stderr, "ferc profile: the model has %d inputs; profile runs models with one\n", nin);
    else if (ferc_context_create(m, &o, &ctx, &err)) fprintf(stderr, "ferc profile: %s\n", err.message);
    else if (!(in = malloc(per * (size_t)batch * sizeof(float)))) fprintf(stderr, "ferc profile: out of memory\n");
    else if (!image || !look_model_input(m, image, height, width, in)) rc = 0;
    if (rc) goto done;
    if (image)
        for (int b = 1; b < batch; b++) memcpy(in + per * (size_t)b, in, per * sizeof(float));
    else {
        uint32_t r = 1;
        for (size_t i = 0; i < per * (size_t)batch; i++) in[i] = ((r = r * 1664525u + 1013904223u) >> 8) * (2.0f / 16777216.0f) - 1;
    }
    const float *inputs[1] = {in};
    const int n = ferc_model_num_nodes(m);
    /* The peak first, then a warm-up run and enough runs for ~1 s. */
    const double peak = fma_peak(ferc_isa_name(), threads, cpu);
    int int8 = 0;
    for (int k = 0; k < n; k++) {
        ferc_node_info info;
        ferc_model_node_info(m, k, &info);
        int8 |= !strcmp(info.dtype, "i8");
    }
    const double peak8 = int8 ? int8_peak(ferc_int8_isa_name(), threads, cpu) : 0;
    if (ferc_run(ctx, inputs, batch, &err)) {
        fprintf(stderr, "ferc profile: %s\n", err.message);
        rc = 1;
        goto done;
    }
    double once = 1e9, t0; /* the fastest of 3 runs: a loaded machine can stall any one */
    for (int r = 0; r < 3; r++) {
        t0 = clock_now(cpu);
        ferc_run(ctx, inputs, batch, &err);
        if (clock_now(cpu) - t0 < once) once = clock_now(cpu) - t0;
    }
    if (!runs) runs = once > 0.1 ? 10 : once < 1e-3 ? 1000 : (int)(1.0 / once);
    double *node = malloc(sizeof(double) * (size_t)n * (size_t)runs), *total = malloc(sizeof(double) * (size_t)runs),
           *cover = malloc(sizeof(double) * (size_t)runs), *col = malloc(sizeof(double) * (size_t)runs);
    if (!node || !total || !cover || !col) {
        fprintf(stderr, "ferc profile: out of memory\n");
        free(node), free(total), free(cover), free(col);
        rc = 1;
        goto done;
    }
    for (int r = 0; r < runs; r++) {
        t0 = clock_now(cpu);
        ferc_run(ctx, inputs, batch, &err);
        total[r] = clock_now(cpu) - t0;
        double sum = 0;
        for (int k = 0; k < n; k++) sum += node[(size_t)k * runs + r] = ferc_context_node_seconds(ctx, k);
        cover[r] = sum / total[r];
    }
    const double run_med = median(total, runs), cover_med = median(cover, runs);
    double *med = malloc(sizeof(double) * (size_t)n), med_sum = 0;
    int64_t macs_all = 0;
    for (int k = 0; med && k < n; k++) {
        memcpy(col, node + (size_t)k * runs, sizeof(double) * (size_t)runs);
        med_sum += med[k] = median(col, runs);
        macs_all += ferc_context_node_macs(ctx, k);
    }
    const int json = !strcmp(format, "json");
    const char *what = conv ? conv : path;
    if (json) {
        printf("{\"model\":");
        cli_json_string(stdout, what);
        printf(",\"isa\":\"%s\",\"threads\":%d,\"batch\":%d,\"input\":", ferc_isa_name(), threads, batch);
        if (image) cli_json_string(stdout, image);
        else printf("\"random\"");
        if (int8) printf(",\"int8_isa\":\"%s\",\"int8_peak_gops\":%.4g", ferc_int8_isa_name(), peak8);
        printf(",\"runs\":%d,\"peak_gflops\":%.4g,\"run_ms\":%.6g,\"node_coverage\":%.4f,\"macs\":%lld,\"gflops\":%.4g,"
               "\"node_ms_sum\":%.6g,\"nodes\":[",
               runs, peak, run_med * 1e3, cover_med, (long long)macs_all, 2e-9 * (double)macs_all / run_med, med_sum * 1e3);
    } else {
        printf("%s  isa %s  threads %d  batch %d  input %s  runs %d\n", what, ferc_isa_name(), threads, batch,
               image ? image : "random", runs);
        if (peak > 0)
            printf("FMA peak (%s, %d thread%s, measured now): %.1f GFLOP/s\n", ferc_isa_name(), threads,
                   threads == 1 ? "" : "s", peak);
        if (peak8 > 0)
            printf("int8 peak (%s, %d thread%s, measured now): %.1f GOP/s (2 per int8 multiply-accumulate)\n",
                   ferc_int8_isa_name(), threads, threads == 1 ? "" : "s", peak8);
        printf("run: median %.4g ms, %.3g GFLOP/s; node timers cover %.1f%% of each run (median); node medians sum to "
               "%.4g ms\n\n",
               run_med * 1e3, 2e-9 * (double)macs_all / run_med, 100 * cover_med, med_sum * 1e3);
        printf("%3s  %-26s %-14s %-19s %-16s %12s %10s %6s %8s %6s\n", "#", "name", "op", "path", "out", "MACs", "ms",
               "share", "GFLOP/s", "%peak");
    }
    for (int k = 0; med && k < n; k++) {
        ferc_node_info info;
        ferc_model_node_info(m, k, &info);
        ferc_tensor t;
        ferc_context_value(ctx, ferc_model_node_output(m, k, 0), &t);
        char shp[64];
        look_shape(t.ndim, t.dims, 1, shp, sizeof shp);
        const int64_t macs = ferc_context_node_macs(ctx, k);
        /* A fused chain's time is its first node's: GFLOP/s count the whole chain's MACs there,
         * and the other nodes name the node that ran them. */
        const int runner = ferc_context_node_runner(ctx, k);
        int64_t run_macs = 0;
        for (int j = k; runner == k && j < n; j++)
            if (ferc_context_node_runner(ctx, j) == k) run_macs += ferc_context_node_macs(ctx, j);
        const double gf = run_macs && med[k] > 0 ? 2e-9 * (double)run_macs / med[k] : 0;
        const double pk = strcmp(info.dtype, "i8") ? peak : peak8; /* int8 layers: of the int8 peak */
        char shown[64];
        if (runner != k) snprintf(shown, sizeof shown, "in #%d", runner);
        else if (run_macs > macs) snprintf(shown, sizeof shown, "%s chain", ferc_isa_name());
        else snprintf(shown, sizeof shown, "%s", info.path);
        if (json) {
            printf("%s{\"index\":%d,\"name\":", k ? "," : "", k);
            cli_json_string(stdout, info.name);
            printf(",\"op\":\"%s\",\"path\":\"%s\",\"shape\":\"%s\",\"macs\":%lld,\"ms\":%.6g,\"share\":%.4f,\"gflops\":%.4g,"
                   "\"peak_percent\":%.3g}",
                   info.op, shown, shp, (long long)macs, med[k] * 1e3, med[k] / med_sum, gf,
                   pk > 0 ? 100 * gf / pk : 0);
        } else {
            char g[16] = "-", pp[16] = "-";
            if (gf > 0) snprintf(g, sizeof g, "%.1f", gf);
            if (gf > 0 && pk > 0) snprintf(pp, sizeof pp, "%.1f", 100 * gf / pk);
            printf("%3d  %-26s %-14s %-19s %-16s %12lld %10.4f %5.1f%% %8s %6s\n", k, info.name, info.op, shown, shp,
                   (long long)macs, med[k] * 1e3, 100 * med[k] / med_sum, g, pp);
        }
    }
    if (json) printf("]}\n");
    free(med), free(node), free(total), free(cover), free(col);
done:
    free(in);
    ferc_context_free(ctx);
    ferc_model_free(m);
    return rc;
}
