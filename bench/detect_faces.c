/* detect_faces - prints the faces ferc's SSD detector finds in an image, one per line:
 * "score x0 y0 x1 y1" in image pixels. Used by bench/compare_res10.py and bench/ssd_recall.py.
 *
 *   detect_faces MODEL.ferc IMAGE [WIDTH HEIGHT [THRESHOLD [THREADS [REPEAT]]]]
 * WIDTH HEIGHT 0 0: the automatic input size. With REPEAT > 1 the median time of REPEAT runs
 * is printed on stderr. */
#include "ferc.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.ferc IMAGE [WIDTH HEIGHT [THRESHOLD [THREADS [REPEAT]]]]\n", argv[0]);
        return 2;
    }
    ferc_ssd_options opt = {.threshold = FERC_SSD_DEFAULT_THRESHOLD};
    if (argc > 4) opt.input_width = atoi(argv[3]), opt.input_height = atoi(argv[4]);
    if (argc > 5) opt.threshold = (float)atof(argv[5]);
    if (argc > 6) opt.threads = atoi(argv[6]);
    int repeat = argc > 7 ? atoi(argv[7]) : 1;
    if (repeat < 1 || repeat > 1000) repeat = 1;
    ferc_error err;
    ferc_ssd *d;
    ferc_ssd_state *s;
    ferc_image img;
    if (ferc_ssd_load(argv[1], &d, &err) || ferc_ssd_state_create(d, &s, &err) ||
        ferc_image_load(argv[2], 3, &img, &err)) {
        fprintf(stderr, "detect_faces: %s\n", err.message);
        return 1;
    }
    enum { MAX = 512 };
    static ferc_box faces[MAX];
    double *ms = malloc(sizeof(double) * (size_t)repeat);
    int n = 0;
    for (int r = 0; r < repeat; r++) {
        double t0 = now_ms();
        if (ferc_ssd_detect(d, s, &img, &opt, faces, MAX, &n, &err)) {
            fprintf(stderr, "detect_faces: %s\n", err.message);
            return 1;
        }
        ms[r] = now_ms() - t0;
    }
    for (int i = 0; i < n && i < MAX; i++)
        printf("%.7g %.7g %.7g %.7g %.7g\n", faces[i].score, faces[i].x, faces[i].y, faces[i].x + faces[i].w,
               faces[i].y + faces[i].h);
    if (repeat > 1) {
        qsort(ms, (size_t)repeat, sizeof *ms, cmp_double);
        fprintf(stderr, "median %.2f ms over %d runs (%s)\n", ms[repeat / 2], repeat, ferc_isa_name());
    }
    free(ms);
    ferc_image_free(&img);
    ferc_ssd_state_free(s);
    ferc_ssd_free(d);
    return 0;
}
