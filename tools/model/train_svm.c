/* train_svm - trains the LBP + linear SVM emotion classifier on FER2013 (image folders).
 *
 * Features are the library's own (kernels/lbp.h), so training and inference see the same
 * numbers. The SVM is one-vs-rest, L2-regularised, squared hinge loss, solved in the dual by
 * coordinate descent with shrinking (Hsieh et al., ICML 2008; what LIBLINEAR and hence
 * sklearn.svm.LinearSVC do by default), with the bias as an extra constant feature of value 1
 * (regularised, as LIBLINEAR's intercept). Each C in --C is trained on train/ and scored on
 * val/; the best is kept. A softmax scale T is then fitted on val/ (minimum negative log
 * likelihood of softmax(T * scores)) and folded into the weights, so the model's softmax
 * gives calibrated-ish probabilities without changing its argmax.
 *
 * Deterministic: files are sorted by name, the visiting order comes from a fixed-seed
 * generator, and each class is solved independently of how classes share the threads.
 *
 * Writes <out>.txt (feature configs, C, scale, accuracy) and <out>.w.f32 / <out>.b.f32
 * (raw little-endian float32 [7][D], [7]); tools/model/pack_lbp_svm.py turns them into a .ferc.
 * --dump DIR writes the features for tools/model/svm_crosscheck.py.
 *
 * Usage: train_svm --data DIR --out PREFIX [--feat P,R,CH,CW,SH,SW,NORM]... [--C c1,c2,...]
 *                  [--flip] [--eps 0.1] [--max-epochs 300] [--dump DIR] */
#include "ferc.h"
#include "kernels/lbp.h"

#include <dirent.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_CLASSES 7
#define MAX_FEATS 8
#define MAX_C 16
#define SIDE 48

static const char *const class_names[N_CLASSES] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};

typedef struct {
    int n, dim;  /* samples, features (bias excluded) */
    float *x;    /* n x dim */
    int *y;
} dataset;

static void die(const char *fmt, const char *what)
{
    fprintf(stderr, "train_svm: ");
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    exit(1);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory (%s)", "allocation failed");
    return p;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* All files of <root>/<split>/<class>/, sorted per class, with their labels. */
static int list_split(const char *root, const char *split, char ***paths, int **labels)
{
    int n = 0, cap = 1024;
    *paths = xmalloc((size_t)cap * sizeof **paths);
    *labels = xmalloc((size_t)cap * sizeof **labels);
    for (int c = 0; c < N_CLASSES; c++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s/%s", root, split, class_names[c]);
        DIR *d = opendir(dir);
        if (!d) die("cannot open folder %s", dir);
        const int first = n;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            if (n == cap) {
                cap *= 2;
                *paths = realloc(*paths, (size_t)cap * sizeof **paths);
                *labels = realloc(*labels, (size_t)cap * sizeof **labels);
                if (!*paths || !*labels) die("out of memory (%s)", "file list");
            }
            const size_t len = strlen(dir) + strlen(e->d_name) + 2;
            (*paths)[n] = xmalloc(len);
            snprintf((*paths)[n], len, "%s/%s", dir, e->d_name);
            (*labels)[n++] = c;
        }
        closedir(d);
        qsort(*paths + first, (size_t)(n - first), sizeof **paths, cmp_str);
    }
    if (!n) die("no images under %s", root);
    return n;
}

static size_t feature_dim(const ferc_lbp_desc *f, int n_feat)
{
    size_t dim = 0;
    for (int k = 0; k < n_feat; k++) dim += ferc_lbp_dim(&f[k], SIDE, SIDE);
    return dim;
}

/* Features of every image of a split; with flip, each image is followed by its mirror. */
static dataset load_split(const char *root, const char *split, const ferc_lbp_desc *f, int n_feat, int flip)
{
    char **paths;
    int *labels;
    const int files = list_split(root, split, &paths, &labels), copies = flip ? 2 : 1;
    dataset ds = {files * copies, (int)feature_dim(f, n_feat), NULL, NULL};
    ds.x = xmalloc((size_t)ds.n * (size_t)ds.dim * sizeof *ds.x);
    ds.y = xmalloc((size_t)ds.n * sizeof *ds.y);
    int failed = -1;
#pragma omp parallel for schedule(dynamic, 64)
    for (int i = 0; i < files; i++) {
        ferc_image img;
        ferc_error err;
        const int ok = ferc_image_load(paths[i], 1, &img, &err) == FERC_OK;
        if (!ok || img.width != SIDE || img.height != SIDE) {
            if (ok) ferc_image_free(&img);
#pragma omp critical
            failed = i;
            continue;
        }
        float pix[SIDE * SIDE];
        uint8_t codes[SIDE * SIDE];
        for (int copy = 0; copy < copies; copy++) {
            for (int r = 0; r < SIDE; r++)
                for (int c = 0; c < SIDE; c++)
                    pix[r * SIDE + c] = img.data[r * SIDE + (copy ? SIDE - 1 - c : c)];
            float *out = ds.x + (size_t)(i * copies + copy) * (size_t)ds.dim;
            for (int k = 0; k < n_feat; k++) {
                ferc_lbp_features(&f[k], SIDE, SIDE, pix, codes, out);
                out += ferc_lbp_dim(&f[k], SIDE, SIDE);
            }
            ds.y[i * copies + copy] = labels[i];
        }
        ferc_image_free(&img);
    }
    if (failed >= 0) die("%s: cannot load as a 48x48 image", paths[failed]);
    for (int i = 0; i < files; i++) free(paths[i]);
    free(paths);
    free(labels);
    return ds;
}

static float dot(const float *a, const float *b, int n)
{
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return *s = x;
}

/* One-vs-rest dual coordinate descent; w is N_CLASSES x (dim + 1), the last entry the bias.
 * Returns the largest number of epochs any class needed. */
static int train_ovr(const dataset *ds, double C, double eps, int max_epochs, float *w)
{
    const int n = ds->n, dim = ds->dim, stride = dim + 1;
    const double diag = 0.5 / C; /* squared hinge: D_ii = 1 / (2C), no upper bound on alpha */
    float *qii = xmalloc((size_t)n * sizeof *qii);
    for (int i = 0; i < n; i++) qii[i] = (float)(dot(ds->x + (size_t)i * dim, ds->x + (size_t)i * dim, dim) + 1.0 + diag);
    memset(w, 0, (size_t)N_CLASSES * (size_t)stride * sizeof *w);
    int worst = 0;
#pragma omp parallel for schedule(static, 1) reduction(max : worst)
    for (int k = 0; k < N_CLASSES; k++) {
        float *wk = w + (size_t)k * stride;
        double *alpha = calloc((size_t)n, sizeof *alpha);
        unsigned char *active = malloc((size_t)n);
        int *perm = malloc((size_t)n * sizeof *perm);
        if (!alpha || !active || !perm) die("out of memory (%s)", "solver state");
        memset(active, 1, (size_t)n);
        uint64_t seed = 0x9e3779b97f4a7c15ull;
        double pg_max_old = INFINITY;
        int epoch;
        for (epoch = 0; epoch < max_epochs; epoch++) {
            for (int i = 0; i < n; i++) perm[i] = i;
            for (int i = n - 1; i > 0; i--) {
                const int j = (int)(rng_next(&seed) % (uint64_t)(i + 1)), t = perm[i];
                perm[i] = perm[j], perm[j] = t;
            }
            double pg_max = -INFINITY, pg_min = INFINITY;
            int n_active = 0;
            for (int s = 0; s < n; s++) {
                const int i = perm[s];
                if (!active[i]) continue;
                n_active++;
                const float *xi = ds->x + (size_t)i * dim;
                const double yi = ds->y[i] == k ? 1.0 : -1.0;
                const double g = yi * ((double)dot(wk, xi, dim) + wk[dim]) - 1.0 + diag * alpha[i];
                double pg = g;
                if (alpha[i] == 0.0) {
                    if (g > pg_max_old) { active[i] = 0; continue; } /* shrink: stays at the bound */
                    if (g > 0) pg = 0;
                }
                if (pg > pg_max) pg_max = pg;
                if (pg < pg_min) pg_min = pg;
                if (fabs(pg) > 1e-12) {
                    const double old = alpha[i];
                    alpha[i] = fmax(old - g / qii[i], 0.0);
                    const float step = (float)((alpha[i] - old) * yi);
                    for (int j = 0; j < dim; j++) wk[j] += step * xi[j];
                    wk[dim] += step;
                }
            }
            if (pg_max - pg_min <= eps) {
                if (n_active == n) break;
                memset(active, 1, (size_t)n); /* converged on the active set: check them all */
                pg_max_old = INFINITY;
                continue;
            }
            pg_max_old = pg_max <= 0 ? INFINITY : pg_max;
        }
        if (epoch > worst) worst = epoch;
        free(alpha);
        free(active);
        free(perm);
    }
    free(qii);
    return worst;
}

static void scores(const dataset *ds, const float *w, float *s)
{
    const int stride = ds->dim + 1;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < ds->n; i++)
        for (int k = 0; k < N_CLASSES; k++)
            s[(size_t)i * N_CLASSES + k] =
                dot(w + (size_t)k * stride, ds->x + (size_t)i * ds->dim, ds->dim) + w[(size_t)k * stride + ds->dim];
}

static int argmax(const float *s)
{
    int best = 0;
    for (int k = 1; k < N_CLASSES; k++)
        if (s[k] > s[best]) best = k;
    return best;
}

static double accuracy(const dataset *ds, const float *s)
{
    int right = 0;
    for (int i = 0; i < ds->n; i++) right += argmax(s + (size_t)i * N_CLASSES) == ds->y[i];
    return (double)right / ds->n;
}

static double nll(const dataset *ds, const float *s, double t)
{
    double total = 0;
    for (int i = 0; i < ds->n; i++) {
        const float *si = s + (size_t)i * N_CLASSES;
        double mx = si[0], z = 0;
        for (int k = 1; k < N_CLASSES; k++) mx = fmax(mx, si[k]);
        for (int k = 0; k < N_CLASSES; k++) z += exp(t * (si[k] - mx));
        total += log(z) - t * (si[ds->y[i]] - mx);
    }
    return total / ds->n;
}

/* The softmax scale minimising val NLL: golden-section search on log T in [-3, 5]. */
static double fit_scale(const dataset *ds, const float *s)
{
    const double g = (sqrt(5.0) - 1) / 2;
    double a = -3, b = 5;
    for (int it = 0; it < 60; it++) {
        const double c = b - g * (b - a), d = a + g * (b - a);
        if (nll(ds, s, exp(c)) < nll(ds, s, exp(d))) b = d;
        else a = c;
    }
    return exp((a + b) / 2);
}

static void write_raw(const char *prefix, const char *suffix, const void *data, size_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s", prefix, suffix);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, bytes, f) != bytes || fclose(f)) die("cannot write %s", path);
}

static void dump(const char *dir, const char *split, const dataset *ds)
{
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s/%s", dir, split);
    write_raw(prefix, ".x.f32", ds->x, (size_t)ds->n * (size_t)ds->dim * sizeof(float));
    write_raw(prefix, ".y.i32", ds->y, (size_t)ds->n * sizeof(int));
}

static int parse_feat(const char *s, ferc_lbp_desc *d)
{
    float r;
    int p, ch, cw, sh, sw, norm;
    if (sscanf(s, "%d,%f,%d,%d,%d,%d,%d", &p, &r, &ch, &cw, &sh, &sw, &norm) != 7) return -1;
    if (p < FERC_LBP_MIN_P || p > FERC_LBP_MAX_P || !(r > 0 && r <= 16) || ch < 1 || cw < 1 || ch > SIDE ||
        cw > SIDE || sh < 1 || sw < 1 || norm < 0 || norm > FERC_LBP_NORM_L2)
        return -1;
    *d = (ferc_lbp_desc){p, r, ch, cw, sh, sw, norm};
    return 0;
}

int main(int argc, char **argv)
{
    const char *data = NULL, *out = NULL, *dump_dir = NULL;
    ferc_lbp_desc feats[MAX_FEATS];
    double cs[MAX_C] = {0.01}, eps = 0.1;
    int n_feat = 0, n_c = 1, flip = 0, max_epochs = 300;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(arg, "--flip")) { flip = 1; continue; }
        if (!val) die("%s needs a value", arg);
        a++;
        if (!strcmp(arg, "--data")) data = val;
        else if (!strcmp(arg, "--out")) out = val;
        else if (!strcmp(arg, "--dump")) dump_dir = val;
        else if (!strcmp(arg, "--eps")) eps = atof(val);
        else if (!strcmp(arg, "--max-epochs")) max_epochs = atoi(val);
        else if (!strcmp(arg, "--feat")) {
            if (n_feat == MAX_FEATS || parse_feat(val, &feats[n_feat++]))
                die("bad --feat '%s' (P,R,cell_h,cell_w,stride_h,stride_w,norm; at most 8)", val);
        } else if (!strcmp(arg, "--C")) {
            char *end;
            n_c = 0;
            for (const char *p = val; *p && n_c < MAX_C; p = *end ? end + 1 : end) {
                cs[n_c] = strtod(p, &end);
                if (end == p || !(cs[n_c] > 0)) die("bad --C list '%s'", val);
                n_c++;
            }
        } else die("unknown option %s", arg);
    }
    if (!data || !out) die("%s", "usage: train_svm --data DIR --out PREFIX [--feat P,R,CH,CW,SH,SW,NORM]... "
                                 "[--C c1,c2,...] [--flip] [--eps E] [--max-epochs N] [--dump DIR]");
    if (!(eps > 0) || max_epochs < 1) die("%s", "--eps must be > 0 and --max-epochs >= 1");
    if (!n_feat) feats[n_feat++] = (ferc_lbp_desc){8, 1.f, 6, 6, 6, 6, FERC_LBP_NORM_L1SQRT};

    double t0 = now();
    dataset train = load_split(data, "train", feats, n_feat, flip), val = load_split(data, "val", feats, n_feat, 0);
    printf("features: %d train samples%s, %d val, dimension %d, %.1f s, %d threads\n", train.n,
           flip ? " (with mirrors)" : "", val.n, train.dim, now() - t0, omp_get_max_threads());
    if (dump_dir) {
        dump(dump_dir, "train", &train);
        dump(dump_dir, "val", &val);
    }

    const int stride = train.dim + 1;
    float *w = xmalloc((size_t)N_CLASSES * stride * sizeof *w), *best_w = xmalloc((size_t)N_CLASSES * stride * sizeof *w);
    float *s = xmalloc((size_t)val.n * N_CLASSES * sizeof *s);
    double best_acc = -1, best_c = 0;
    for (int i = 0; i < n_c; i++) {
        const double t = now();
        const int epochs = train_ovr(&train, cs[i], eps, max_epochs, w);
        scores(&val, w, s);
        const double acc = accuracy(&val, s);
        printf("C=%g: val accuracy %.4f (%d epochs%s, %.1f s)\n", cs[i], acc, epochs,
               epochs == max_epochs ? ", not converged" : "", now() - t);
        fflush(stdout);
        if (acc > best_acc) {
            best_acc = acc, best_c = cs[i];
            memcpy(best_w, w, (size_t)N_CLASSES * stride * sizeof *w);
        }
    }
    scores(&val, best_w, s);
    const double scale = fit_scale(&val, s);
    printf("best C=%g, val accuracy %.4f; softmax scale %.4f (val NLL %.4f, unscaled %.4f)\n", best_c, best_acc, scale,
           nll(&val, s, scale), nll(&val, s, 1.0));

    float *wout = xmalloc((size_t)N_CLASSES * train.dim * sizeof *wout), b[N_CLASSES];
    for (int k = 0; k < N_CLASSES; k++) {
        for (int j = 0; j < train.dim; j++) wout[(size_t)k * train.dim + j] = (float)(scale * best_w[(size_t)k * stride + j]);
        b[k] = (float)(scale * best_w[(size_t)k * stride + train.dim]);
    }
    write_raw(out, ".w.f32", wout, (size_t)N_CLASSES * train.dim * sizeof *wout);
    write_raw(out, ".b.f32", b, sizeof b);
    char path[4096];
    snprintf(path, sizeof path, "%s.txt", out);
    FILE *f = fopen(path, "w");
    if (!f) die("cannot write %s", path);
    for (int k = 0; k < n_feat; k++)
        fprintf(f, "feat %d %g %d %d %d %d %d\n", feats[k].p, (double)feats[k].radius, feats[k].cell_h, feats[k].cell_w,
                feats[k].stride_h, feats[k].stride_w, feats[k].norm);
    fprintf(f, "dim %d\nC %g\nscale %.6f\nflip %d\nval_accuracy %.4f\ntrain_samples %d\nseconds %.0f\n", train.dim, best_c,
            scale, flip, best_acc, train.n, now() - t0);
    fclose(f);
    printf("wrote %s.{txt,w.f32,b.f32} in %.1f s total\n", out, now() - t0);
    free(train.x), free(train.y), free(val.x), free(val.y), free(w), free(best_w), free(s), free(wout);
    return 0;
}
