/* bench_model.c - end-to-end latency of one ferc model, for bench/bench_models.py.
 *
 *   build/bench/bench_model MODEL.ferc --batch B --threads T [--input X.f32] [--output Y.f32]
 *                           [--reps R]
 *
 * Runs the model once on the input (raw float32 NHWC, B samples; random if absent), writes
 * the first output as raw float32 (so the caller can check it against PyTorch before any
 * timing), then times R samples (default 15), each as many runs as fill 20 ms, and prints
 * one JSON line: the median ms per run, the context's memory (activation arena + scratch),
 * the model's parameter count and the process's peak resident set. */
#include "ferc.h"
#include "bench/bench_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct {
    ferc_context *c;
    const float **inputs;
    int batch;
} model_call;

static void run_model(void *arg)
{
    const model_call *mc = arg;
    ferc_error err;
    ferc_run(mc->c, mc->inputs, mc->batch, &err);
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *in_path = NULL, *out_path = NULL;
    int batch = 1, threads = 1, reps = 15;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--input") && i + 1 < argc) in_path = argv[++i];
        else if (!strcmp(argv[i], "--output") && i + 1 < argc) out_path = argv[++i];
        else if (argv[i][0] != '-' && !model_path) model_path = argv[i];
        else model_path = NULL, i = argc;
    }
    if (!model_path || batch < 1 || batch > 4096 || threads < 1 || reps < 1 || reps > 1000) {
        fprintf(stderr, "usage: %s MODEL.ferc --batch B --threads T [--input X.f32] [--output Y.f32] [--reps R]\n",
                argv[0]);
        return 2;
    }
    ferc_error err;
    ferc_model *m;
    if (ferc_model_load(model_path, &m, &err) != FERC_OK) {
        fprintf(stderr, "%s: %s\n", model_path, err.message);
        return 1;
    }
    int ndim;
    int64_t dims[4];
    ferc_model_input_shape(m, 0, &ndim, dims);
    size_t per = 1;
    for (int d = 1; d < ndim; d++) per *= (size_t)dims[d];
    const size_t count = per * (size_t)batch;
    float *x = malloc(count * sizeof(float));
    if (!x) return 1;
    if (in_path) {
        FILE *f = fopen(in_path, "rb");
        if (!f || fread(x, sizeof(float), count, f) != count) {
            fprintf(stderr, "%s: cannot read %zu floats\n", in_path, count);
            return 1;
        }
        fclose(f);
    } else {
        uint32_t s = 1;
        for (size_t i = 0; i < count; i++) s = s * 1664525u + 1013904223u, x[i] = (float)(s >> 8) / 16777216.f;
    }
    ferc_context_options opt = {.max_batch = batch, .threads = threads};
    ferc_context *c;
    if (ferc_context_create(m, &opt, &c, &err) != FERC_OK) {
        fprintf(stderr, "%s: %s\n", model_path, err.message);
        return 1;
    }
    const float *inputs[1] = {x};
    if (ferc_run(c, inputs, batch, &err) != FERC_OK) {
        fprintf(stderr, "run: %s\n", err.message);
        return 1;
    }
    if (out_path) {
        ferc_tensor t;
        ferc_output(c, 0, &t);
        size_t n = 1;
        for (int d = 0; d < t.ndim; d++) n *= (size_t)t.dims[d];
        FILE *f = fopen(out_path, "wb");
        if (!f || fwrite(t.data, sizeof(float), n, f) != n) {
            fprintf(stderr, "%s: cannot write\n", out_path);
            return 1;
        }
        fclose(f);
    }
    model_call mc = {c, inputs, batch};
    const double ms = bench_median_ms(run_model, &mc, reps);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"ms\": %.5f, \"isa\": \"%s\", \"context_bytes\": %zu, \"params\": %lld, \"maxrss_kb\": %ld}\n",
           ms, ferc_isa_name(), ferc_context_memory(c), (long long)ferc_model_param_count(m), ru.ru_maxrss);
    free(x);
    ferc_context_free(c);
    ferc_model_free(m);
    return 0;
}
