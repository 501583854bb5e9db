/* cascade_run - runs ferc's cascade detector on an image and prints the boxes, one
 * "x y w h" per line, then the median time per detection on stderr. Used by
 * tools/compare_cascades.py (against OpenCV) and bench/bench_cascade.py.
 *   cascade_run CASCADE IMAGE [--scale F] [--neighbors N] [--min-size S] [--max-size S]
 *               [--equalize] [--threads T] [--repeat R] [--warmup W]
 * W untimed detections come first (default 0), so that the timed ones find the thread pool
 * started and the memory mapped, as a long-running caller would. */
#include "ferc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s CASCADE IMAGE [--scale F] [--neighbors N] [--min-size S] [--max-size S] "
                        "[--equalize] [--threads T] [--repeat R] [--warmup W]\n", argv[0]);
        return 2;
    }
    ferc_detect_params p;
    ferc_detect_params_default(&p);
    int equalize = 0, repeat = 1, warmup = 0;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--equalize")) { equalize = 1; continue; }
        if (!strcmp(a, "--scale")) p.scale_factor = atof(v);
        else if (!strcmp(a, "--neighbors")) p.min_neighbors = atoi(v);
        else if (!strcmp(a, "--min-size")) p.min_width = p.min_height = atoi(v);
        else if (!strcmp(a, "--max-size")) p.max_width = p.max_height = atoi(v);
        else if (!strcmp(a, "--threads")) p.threads = atoi(v);
        else if (!strcmp(a, "--repeat")) repeat = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    ferc_error err;
    ferc_cascade *c;
    ferc_image img;
    if (ferc_cascade_load(argv[1], &c, &err)) { fprintf(stderr, "%s\n", err.message); return 1; }
    if (ferc_image_load(argv[2], 1, &img, &err)) { fprintf(stderr, "%s\n", err.message); return 1; }
    if (equalize && ferc_equalize_hist(img.data, img.width, img.height, img.width, img.data, img.width, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    if (repeat < 1) repeat = 1;
    double *times = malloc(sizeof(double) * (size_t)repeat);
    ferc_box boxes[1024];
    int n = 0;
    for (int r = -(warmup > 0 ? warmup : 0); r < repeat; r++) {
        double t0 = now();
        if (ferc_cascade_detect(c, img.data, img.width, img.height, img.width, &p, boxes, 1024, &n, &err)) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        if (r >= 0) times[r] = now() - t0;
    }
    for (int i = 0; i < n && i < 1024; i++) printf("%d %d %d %d\n", (int)boxes[i].x, (int)boxes[i].y, (int)boxes[i].w, (int)boxes[i].h);
    qsort(times, (size_t)repeat, sizeof(double), cmp_double);
    fprintf(stderr, "median_ms %.3f\n", times[repeat / 2] * 1e3);
    free(times);
    ferc_image_free(&img);
    ferc_cascade_free(c);
    return 0;
}
