/* bench_import_kernels.c - the importer's element-wise kernels (kernels/pointwise_*.c), SIMD
 * against the scalar reference, one thread, on the sizes YuNet and an SE block give them:
 *   sigmoid over a 40x40x1 head map and a 80x80x64 map, hard swish over 80x80x64,
 *   binary multiply of [1,40,40,64] by a per-channel [1,1,1,64] gate,
 *   resize nearest x2 of [1,20,20,64] (scalar everywhere; for scale).
 * Outputs are checked against the scalar reference first (tests/test_kernels_import.c
 * states the tolerances). Median ms per call (bench/bench_time.h).
 *     make build/bench/bench_import_kernels && build/bench/bench_import_kernels */
#include "kernels/kernels.h"
#include "nn/tensor.h"
#include "bench/bench_time.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const ferc_kernel_table *k;
    int what;
    size_t n;
    float *x, *b, *y;
    ferc_binary_desc bd;
    ferc_resize_desc rd;
} job;

static void run(void *p)
{
    job *j = p;
    if (j->what < 10) j->k->unary(j->n, j->what, 0.f, 0.f, j->x, j->y, 1);
    else if (j->what == 10) j->k->binary(&j->bd, j->x, j->b, j->y, 1);
    else j->k->resize(&j->rd, j->x, j->y, 1);
}

int main(void)
{
    const ferc_kernel_table *scalar = ferc_kernels_for("scalar"), *best = ferc_kernels();
    const size_t max = (size_t)80 * 80 * 64 * 4;
    float *x = ferc_alloc(max * 4), *b = ferc_alloc(64 * 4), *y0 = ferc_alloc(max * 4), *y1 = ferc_alloc(max * 4);
    for (size_t i = 0; i < max; i++) x[i] = (float)sin((double)i * 0.37) * 6.f;
    for (int i = 0; i < 64; i++) b[i] = 0.5f + 0.01f * (float)i;
    struct { const char *name; int what; size_t n; } cases[] = {
        {"sigmoid 40x40x1", FERC_UN_SIGMOID, 1600}, {"sigmoid 80x80x64", FERC_UN_SIGMOID, 409600},
        {"hard_swish 80x80x64", FERC_UN_HARD_SWISH, 409600}, {"mul [40,40,64] x [1,1,64]", 10, 102400},
        {"resize nearest x2 20x20x64", 11, 102400},
    };
    printf("%-30s %12s %12s %8s  (%s, 1 thread)\n", "kernel", "scalar ms", "simd ms", "ratio", best->isa);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        job j = {scalar, cases[c].what, cases[c].n, x, b, y0, {{1, 40, 40, 64}, {1, 40, 40, 64}, {1, 1, 1, 64}, FERC_BIN_MUL},
                 {1, 20, 20, 64, 40, 40, 0, 1, 2, 2.f, 2.f}};
        run(&j);
        job k = j;
        k.k = best, k.y = y1;
        run(&k);
        const size_t n = cases[c].what == 11 ? (size_t)40 * 40 * 64 : cases[c].n;
        for (size_t i = 0; i < n; i++)
            if (fabsf(y0[i] - y1[i]) > 1e-6f * fabsf(y0[i]) + 1e-30f) {
                fprintf(stderr, "%s: SIMD differs from scalar at %zu\n", cases[c].name, i);
                return 1;
            }
        const double ts = bench_median_ms(run, &j, 15), tv = bench_median_ms(run, &k, 15);
        printf("%-30s %12.4f %12.4f %8.2f\n", cases[c].name, ts, tv, ts / tv);
    }
    ferc_free(x), ferc_free(b), ferc_free(y0), ferc_free(y1);
    return 0;
}
