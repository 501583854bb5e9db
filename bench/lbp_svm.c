/* lbp_svm - accuracy, speed and memory of an emotion classifier on FER2013 val/, through
 * the public API only, as any caller would: accuracy through ferc_classify (the metadata's
 * equalisation or CLAHE and pixel scaling, as `ferc eval`), speed of the graph alone
 * (ferc_context_create, ferc_run).
 *
 * Usage: lbp_svm MODEL.ferc [FER2013_DIR] [OTHER.ferc ...]
 *   accuracy, per-class accuracy and the confusion matrix (rows true, columns predicted) of
 *   MODEL on DIR/val (skipped with a note when DIR is absent); then faces per second (batch 1
 *   on one thread, and batch 64 on all threads; medians of 7 repetitions) and memory for
 *   MODEL and every OTHER model, measured side by side in this one run so ratios hold on a
 *   busy machine. Speed inputs are normalised as docs/FORMAT.md says: (pixel/255 - mean) / std. */
#include "ferc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define N_CLASSES 7
#define SIDE 48
#define BATCH 64
#define REPS 7

static const char *const class_names[N_CLASSES] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void fail(const char *what, const ferc_error *err)
{
    fprintf(stderr, "lbp_svm: %s: %s\n", what, err->message);
    exit(1);
}

/* Pixels as the model wants them: (v/255 - mean) / std with the model's metadata (default 0, 1). */
static void to_input(const ferc_model *m, const uint8_t *pix, float *out)
{
    const char *ms = ferc_model_meta(m, "mean"), *ss = ferc_model_meta(m, "std");
    const float mean = ms ? (float)atof(ms) : 0.f, std = ss && atof(ss) > 0 ? (float)atof(ss) : 1.f;
    for (int i = 0; i < SIDE * SIDE; i++) out[i] = ((float)pix[i] / 255.f - mean) / std;
}

static int argmax(const float *p)
{
    int best = 0;
    for (int k = 1; k < N_CLASSES; k++)
        if (p[k] > p[best]) best = k;
    return best;
}

static void evaluate(const ferc_model *m, const char *root)
{
    ferc_classifier_options opt = {.max_batch = BATCH};
    ferc_classifier *cls;
    ferc_error err;
    if (ferc_classifier_create(m, &opt, &cls, &err)) fail("classifier", &err);
    uint8_t *in = malloc((size_t)BATCH * SIDE * SIDE);
    float probs[BATCH * N_CLASSES];
    int conf[N_CLASSES][N_CLASSES] = {{0}}, total = 0, right = 0;
    const double t0 = now();
    for (int c = 0; c < N_CLASSES; c++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/val/%s", root, class_names[c]);
        DIR *d = opendir(dir);
        if (!d) { fprintf(stderr, "lbp_svm: cannot open %s\n", dir); exit(1); }
        char **names = NULL;
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') {
                names = realloc(names, (size_t)(n + 1) * sizeof *names);
                names[n++] = strdup(e->d_name);
            }
        closedir(d);
        qsort(names, (size_t)n, sizeof *names, cmp_str);
        for (int start = 0; start < n; start += BATCH) {
            const int b = n - start < BATCH ? n - start : BATCH;
            for (int i = 0; i < b; i++) {
                char path[4400];
                snprintf(path, sizeof path, "%s/%s", dir, names[start + i]);
                ferc_image img;
                if (ferc_image_load(path, 1, &img, &err)) fail(path, &err);
                if (img.width != SIDE || img.height != SIDE) { fprintf(stderr, "lbp_svm: %s is not 48x48\n", path); exit(1); }
                memcpy(in + (size_t)i * SIDE * SIDE, img.data, SIDE * SIDE);
                ferc_image_free(&img);
            }
            if (ferc_classify(cls, in, b, probs, &err)) fail("classify", &err);
            for (int i = 0; i < b; i++) {
                const int pred = argmax(probs + (size_t)i * N_CLASSES);
                conf[c][pred]++, total++, right += pred == c;
            }
        }
        for (int i = 0; i < n; i++) free(names[i]);
        free(names);
    }
    printf("val: %d images, accuracy %.4f (%.1f s including JPEG decoding)\n\nper class:\n", total,
           (double)right / total, now() - t0);
    for (int c = 0; c < N_CLASSES; c++) {
        int row = 0;
        for (int k = 0; k < N_CLASSES; k++) row += conf[c][k];
        printf("  %-9s %4d images, accuracy %.4f\n", class_names[c], row, row ? (double)conf[c][c] / row : 0.0);
    }
    printf("\nconfusion (rows true, columns predicted):\n%10s", "");
    for (int k = 0; k < N_CLASSES; k++) printf("%9s", class_names[k]);
    printf("\n");
    for (int c = 0; c < N_CLASSES; c++) {
        printf("%10s", class_names[c]);
        for (int k = 0; k < N_CLASSES; k++) printf("%9d", conf[c][k]);
        printf("\n");
    }
    free(in);
    ferc_classifier_free(cls);
}

/* Median faces per second over REPS repetitions of `runs` batches; *cpu_ms gets the median
 * CPU milliseconds per face of this thread (meaningful for one-thread runs), which a busy
 * machine disturbs far less than the wall clock. */
static double faces_per_second(ferc_context *ctx, const float *in, int batch, int runs, double *cpu_ms)
{
    double rate[REPS], cpu[REPS];
    ferc_error err;
    const float *inputs[1] = {in};
    if (ferc_run(ctx, inputs, batch, &err)) fail("run", &err); /* warm-up */
    for (int r = 0; r < REPS; r++) {
        const double t = now(), c = clock_s(CLOCK_THREAD_CPUTIME_ID);
        for (int i = 0; i < runs; i++) ferc_run(ctx, inputs, batch, &err);
        rate[r] = (double)runs * batch / (now() - t);
        cpu[r] = 1e3 * (clock_s(CLOCK_THREAD_CPUTIME_ID) - c) / ((double)runs * batch);
    }
    qsort(rate, REPS, sizeof *rate, cmp_double);
    qsort(cpu, REPS, sizeof *cpu, cmp_double);
    *cpu_ms = cpu[REPS / 2];
    return rate[REPS / 2];
}

static void speed(const char *path, const float *faces)
{
    ferc_model *m;
    ferc_error err;
    if (ferc_model_load(path, &m, &err)) fail(path, &err);
    struct stat st;
    stat(path, &st);
    float *in = malloc((size_t)BATCH * SIDE * SIDE * sizeof *in);
    for (int i = 0; i < BATCH; i++) {
        uint8_t pix[SIDE * SIDE];
        for (int j = 0; j < SIDE * SIDE; j++) pix[j] = (uint8_t)faces[(size_t)i * SIDE * SIDE + j];
        to_input(m, pix, in + (size_t)i * SIDE * SIDE);
    }
    ferc_context_options one = {.max_batch = 1, .threads = 1}, many = {.max_batch = BATCH};
    ferc_context *c1, *cb;
    if (ferc_context_create(m, &one, &c1, &err) || ferc_context_create(m, &many, &cb, &err)) fail("context", &err);
    double cpu1, unused;
    const double f1 = faces_per_second(c1, in, 1, 200, &cpu1), fb = faces_per_second(cb, in, BATCH, 8, &unused);
    printf("%-36s %11.3f %11.0f %12.0f %11lld %11zu %13zu\n", path, cpu1, f1, fb, (long long)st.st_size,
           (size_t)ferc_model_param_count(m) * sizeof(float), ferc_context_memory(c1));
    ferc_context_free(c1);
    ferc_context_free(cb);
    free(in);
    ferc_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: lbp_svm MODEL.ferc [FER2013_DIR] [OTHER.ferc ...]\n");
        return 2;
    }
    ferc_model *m;
    ferc_error err;
    if (ferc_model_load(argv[1], &m, &err)) fail(argv[1], &err);
    const char *root = argc > 2 ? argv[2] : NULL;
    struct stat st;
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/val", root ? root : "");
    const int have_data = root && stat(probe, &st) == 0 && S_ISDIR(st.st_mode);
    if (have_data) evaluate(m, root);
    else printf("FER2013 not found%s%s: accuracy skipped, speed measured on synthetic faces\n", root ? " at " : "",
                root ? root : "");
    ferc_model_free(m);

    /* speed inputs: a fixed pseudo-random texture (LBP cost does not depend on content) */
    float *faces = malloc((size_t)BATCH * SIDE * SIDE * sizeof *faces);
    uint32_t s = 12345;
    for (int i = 0; i < BATCH * SIDE * SIDE; i++) s = s * 1664525u + 1013904223u, faces[i] = (float)(s >> 24);
    printf("\n%-36s %11s %11s %12s %11s %11s %13s\n", "model", "cpu ms b=1", "faces/s b=1", "faces/s b=64", "file bytes",
           "param bytes", "ctx bytes b=1");
    printf("  (ISA %s; batch 1 on 1 thread, batch 64 on all threads; medians of %d)\n", ferc_isa_name(), REPS);
    speed(argv[1], faces);
    for (int i = 3; i < argc; i++) speed(argv[i], faces);
    free(faces);
    return 0;
}
