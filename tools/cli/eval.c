/* cli_eval.c - `ferc eval`: accuracy of a classifier on an image-folder data set
 * (DIR/<class>/<image files>, class folders named by emotion or FER2013 digit). Faces that
 * are not the classifier's input size are resized with ferc_face_crop over the whole
 * image. Prints one JSON object. */
#include "tools/cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EVAL_BATCH 64

static const char eval_usage[] =
    "usage: ferc eval --data DIR [--model FILE | --classifier cnn|small|lbp-svm] [--tta [flip|centre|crops]] [--threads N]\n";

/* Lists DIR/<class>/... images with their labels; returns -1 (message printed) on error. */
static int list_data(const char *dir, cli_inputs *files, int **labels)
{
    struct stat st;
    if (stat(dir, &st)) {
        fprintf(stderr, "ferc eval: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "ferc eval: %s: not a directory\n", dir);
        return -1;
    }
    cli_inputs classes = {0};
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "ferc eval: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) && !rc) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) || !S_ISDIR(st.st_mode)) continue;
        if (ferc_emotion_from_name(e->d_name) < 0) {
            fprintf(stderr, "ferc eval: ignoring %s (not an emotion name)\n", path);
            continue;
        }
        if (cli_inputs_add(&classes, e->d_name)) rc = -1;
    }
    closedir(d);
    int cap = 0;
    *labels = NULL;
    /* Class folders in FER2013 order so the file order does not depend on readdir. */
    for (int k = 0; k < FERC_NUM_EMOTIONS && !rc; k++)
        for (int c = 0; c < classes.n && !rc; c++) {
            if (ferc_emotion_from_name(classes.paths[c]) != k) continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, classes.paths[c]);
            int before = files->n;
            if (cli_inputs_add(files, path)) rc = -1;
            if (files->n > cap) {
                cap = files->cap;
                int *l = realloc(*labels, sizeof *l * (size_t)cap);
                if (!l) { rc = -1; break; }
                *labels = l;
            }
            for (int i = before; i < files->n; i++) (*labels)[i] = k;
        }
    cli_inputs_free(&classes);
    if (rc) {
        fprintf(stderr, "ferc eval: out of memory listing %s\n", dir);
        return -1;
    }
    if (files->n == 0) {
        fprintf(stderr, "ferc eval: %s: no images in class folders (angry, disgust, fear, happy, sad, surprise, "
                        "neutral, or 0-6)\n", dir);
        return -1;
    }
    return 0;
}

/* Loads image i as a w x h gray face into out. Returns 0, or 1 with the error printed. */
static int load_face(const char *path, int max_pixels, int w, int h, uint8_t *out)
{
    ferc_image img;
    ferc_error err;
    ferc_status s = ferc_image_load_limit(path, 1, max_pixels, &img, &err);
    if (!s) {
        ferc_box all = {.x = 0, .y = 0, .w = (float)img.width, .h = (float)img.height, .score = 1};
        if (img.width == w && img.height == h) memcpy(out, img.data, (size_t)w * h);
        else s = ferc_face_crop(&img, &all, w, h, out, &err);
        ferc_image_free(&img);
    }
    if (s) fprintf(stderr, "ferc eval: %s\n", err.message);
    return s != FERC_OK;
}

int cli_eval(int argc, char **argv)
{
    cli_options o = {.format = NULL};
    const char *data = NULL, *v;
    for (int i = 1; i < argc; i++) {
        int r = cli_parse_common(&o, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if ((v = cli_opt_value("--data", argc, argv, &i))) { data = v; continue; }
        fprintf(stderr, "ferc eval: unexpected argument %s\n%s", argv[i], eval_usage);
        return 2;
    }
    if (!data) {
        fprintf(stderr, "ferc eval: --data DIR is required\n%s", eval_usage);
        return 2;
    }
    double t0 = cli_seconds();
    cli_inputs files = {0};
    int *labels = NULL;
    if (list_data(data, &files, &labels)) {
        free(labels);
        cli_inputs_free(&files);
        return 1;
    }
    int threads = o.threads ? o.threads : cli_default_threads();
    int batches = (files.n + EVAL_BATCH - 1) / EVAL_BATCH;
    int workers = threads < batches ? threads : batches;
    cli_engines e;
    int *pred = malloc(sizeof(int) * (size_t)files.n);
    o.an.detector = "none"; /* FER2013 images are faces */
    if (!pred || cli_engines_open(&e, &o, workers, threads / workers)) {
        if (!pred) fprintf(stderr, "ferc eval: out of memory\n");
        free(pred);
        free(labels);
        cli_inputs_free(&files);
        return 1;
    }
    int w, h, errors = 0, failed = 0;
    ferc_classifier_input_size(ferc_analyzer_classifier(e.an[0]), &w, &h);
#pragma omp parallel num_threads(workers) reduction(+ : errors, failed)
    {
        ferc_classifier *c = ferc_analyzer_classifier(e.an[omp_get_thread_num()]);
        uint8_t *faces = malloc((size_t)w * h * EVAL_BATCH);
        float *probs = malloc(sizeof(float) * FERC_NUM_EMOTIONS * EVAL_BATCH);
        int idx[EVAL_BATCH];
        if (!faces || !probs) failed++;
#pragma omp for schedule(dynamic, 1)
        for (int b = 0; b < batches; b++) {
            if (!faces || !probs) continue;
            int n = 0;
            for (int i = b * EVAL_BATCH; i < files.n && i < (b + 1) * EVAL_BATCH; i++) {
                pred[i] = -1;
                if (load_face(files.paths[i], o.max_pixels, w, h, faces + (size_t)n * w * h)) errors++;
                else idx[n++] = i;
            }
            ferc_error err;
            if (ferc_classify(c, faces, n, probs, &err)) {
                fprintf(stderr, "ferc eval: %s\n", err.message);
                failed++;
                continue;
            }
            for (int j = 0; j < n; j++) {
                int best = 0;
                for (int k = 1; k < FERC_NUM_EMOTIONS; k++)
                    if (probs[j * FERC_NUM_EMOTIONS + k] > probs[j * FERC_NUM_EMOTIONS + best]) best = k;
                pred[idx[j]] = best;
            }
        }
        free(faces);
        free(probs);
    }
    int conf[FERC_NUM_EMOTIONS][FERC_NUM_EMOTIONS] = {{0}}, total = 0, correct = 0;
    for (int i = 0; i < files.n; i++) {
        if (pred[i] < 0) continue;
        conf[labels[i]][pred[i]]++;
        total++;
        correct += pred[i] == labels[i];
    }
    double seconds = cli_seconds() - t0;
    if (!failed && total) {
        printf("{\"images\":%d,\"accuracy\":%.6f,\"per_class\":{", total, (double)correct / total);
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) {
            int row = 0;
            for (int j = 0; j < FERC_NUM_EMOTIONS; j++) row += conf[k][j];
            if (row) printf("%s\"%s\":%.6f", k ? "," : "", ferc_emotion_name(k), (double)conf[k][k] / row);
            else printf("%s\"%s\":null", k ? "," : "", ferc_emotion_name(k));
        }
        printf("},\"confusion\":[");
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) {
            printf("%s[", k ? "," : "");
            for (int j = 0; j < FERC_NUM_EMOTIONS; j++) printf("%s%d", j ? "," : "", conf[k][j]);
            printf("]");
        }
        printf("],\"labels\":[");
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) printf("%s\"%s\"", k ? "," : "", ferc_emotion_name(k));
        printf("],\"tta\":\"%s\",\"errors\":%d,\"seconds\":%.3f}\n", ferc_tta_name(o.an.tta), errors, seconds);
    } else if (!total) {
        fprintf(stderr, "ferc eval: %s: none of the %d images could be read\n", data, files.n);
    }
    cli_engines_close(&e);
    free(pred);
    free(labels);
    cli_inputs_free(&files);
    return failed || errors || !total ? 1 : 0;
}
