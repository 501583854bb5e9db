/* conv_time.c - ms per call of ferc's conv2d (the kernels FERC_ISA picks) on 3x3, stride-1,
 * padding-1 shapes given on the command line, for quick comparisons (e.g. the Winograd
 * threshold in docs/performance.md, this file built against two versions of libferc.a).
 *
 *   build/bench/conv_time THREADS N HW CIN COUT [N HW CIN COUT ...]
 *
 * Per shape: median of 11 samples, each a loop of calls lasting at least 20 ms. */
#include "kernels/kernels.h"
#include "nn/tensor.h"

#include "bench/bench_time.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const ferc_kernel_table *k;
    const ferc_conv2d_desc *d;
    const float *x, *w, *b;
    float *y;
    void *scratch;
    int threads;
} conv_call;

static void run_conv(void *arg)
{
    const conv_call *c = arg;
    c->k->conv2d(c->d, c->x, c->w, c->b, c->y, c->scratch, c->threads);
}

int main(int argc, char **argv)
{
    if (argc < 6 || (argc - 2) % 4) {
        fprintf(stderr, "usage: %s THREADS N HW CIN COUT [N HW CIN COUT ...]\n", argv[0]);
        return 2;
    }
    const int threads = atoi(argv[1]);
    const ferc_kernel_table *k = ferc_kernels();
    for (int a = 2; a + 3 < argc; a += 4) {
        const int n = atoi(argv[a]), hw = atoi(argv[a + 1]), c = atoi(argv[a + 2]), oc = atoi(argv[a + 3]);
        ferc_conv2d_desc d = {n, hw, hw, c, hw, hw, oc, 3, 3, 1, 1, 1, 1, 1, 1, 1, FERC_ACT_RELU, 0.f, 0};
        d.winograd = k->conv2d_winograd && k->conv2d_winograd(&d);
        const size_t nx = (size_t)n * hw * hw * c, nw = (size_t)oc * 9 * c, ny = (size_t)n * hw * hw * oc;
        float *x = ferc_alloc(nx * sizeof(float)), *w = ferc_alloc(nw * sizeof(float));
        float *b = ferc_alloc((size_t)oc * sizeof(float)), *y = ferc_alloc(ny * sizeof(float));
        for (size_t i = 0; i < nx; i++) x[i] = (float)(i * 7919 % 1000) / 1000.f - .5f;
        for (size_t i = 0; i < nw; i++) w[i] = (float)(i * 104729 % 1000) / 1000.f - .5f;
        for (int i = 0; i < oc; i++) b[i] = .1f;
        float *packed = NULL;
        const float *wk = w;
        if (k->conv2d_pack) {
            packed = ferc_alloc(k->conv2d_packed_size(&d) * sizeof(float));
            k->conv2d_pack(&d, w, packed);
            wk = packed;
        }
        const size_t ns = k->conv2d_scratch ? k->conv2d_scratch(&d) : 0;
        void *scratch = ns ? ferc_alloc(ns) : NULL;
        conv_call call = {k, &d, x, wk, b, y, scratch, threads};
        const double ms = bench_median_ms(run_conv, &call, 11);
        printf("n%d %dx%d %d->%d, %d thread(s), %s: %.4f ms\n", n, hw, hw, c, oc, threads, k->isa, ms);
        ferc_free(x), ferc_free(w), ferc_free(b), ferc_free(y), ferc_free(packed), ferc_free(scratch);
    }
    return 0;
}
