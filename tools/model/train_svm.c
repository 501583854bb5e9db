/* train_svm - trains the LBP (+ HOG) + linear SVM emotion classifier on FER2013 (image folders).
 *
 * Features are the library's own (kernels/lbp.h, kernels/hog.h) on the pixels the classifier
 * hands the graph (api/classifier.c: optional equalisation or CLAHE, then pixel / 255), so
 * training and inference see the same numbers. The SVM is one-vs-rest, L2-regularised, squared hinge loss, solved in the dual by
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
 * Writes <out>.txt (feature configs, preprocessing, C, scale, accuracy) and <out>.w.f32 /
 * <out>.b.f32 (raw little-endian float32 [7][D], [7]); tools/model/pack_lbp_svm.py turns them
 * into a .ferc. --dump DIR writes the features for tools/model/svm_crosscheck.py.
 *
 * Usage: train_svm --data DIR --out PREFIX [--feat P,R,CH,CW,SH,SW,NORM]...
 *                  [--hog O,CH,CW,BH,BW,NORM[,WEIGHT]]... [--equalize | --clahe CLIP,GRID]
 *                  [--C c1,c2,...] [--flip] [--eps 0.1] [--max-epochs 300] [--dump DIR]
 * Feature nodes are concatenated in the order of their flags. A HOG node's WEIGHT (default 1)
 * multiplies its features for the SVM, i.e. regularises them less than the LBP histograms;
 * it is folded into the written weights, so the graph computes plain HOG. */
#include "ferc.h"
#include "kernels/hog.h"
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
#define MAX_HOG_SCRATCH (1 << 16)
#define MAX_C 16
#define SIDE 48

static const char *const class_names[N_CLASSES] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};

typedef struct {
    int n, dim;  /* samples, features (bias excluded) */
    float *x;    /* n x dim */
    int *y;
} dataset;

/* One feature node of the graph: lbp_histogram or hog. */
typedef struct {
    int is_hog;
    ferc_lbp_desc lbp;
    ferc_hog_desc hog;
    float weight; /* the SVM sees the node's features times this; folded into the written weights */
} feature;

/* What api/classifier.c does to a crop before the graph: equalize=1 or clahe=CLIP,GRID. */
typedef struct {
    int equalize;
    double clahe_clip;
    int clahe_grid; /* 0: no CLAHE */
} preprocess;

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

static size_t node_dim(const feature *f) { return f->is_hog ? ferc_hog_dim(&f->hog, SIDE, SIDE) : ferc_lbp_dim(&f->lbp, SIDE, SIDE); }

static size_t feature_dim(const feature *f, int n_feat)
{
    size_t dim = 0;
    for (int k = 0; k < n_feat; k++) dim += node_dim(&f[k]);
    return dim;
}

/* Features of every image of a split; with flip, each image is followed by its mirror. */
static dataset load_split(const char *root, const char *split, const feature *f, int n_feat, const preprocess *pre,
                          int flip)
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
        uint8_t face[SIDE * SIDE], codes[SIDE * SIDE];
        float pix[SIDE * SIDE];
        _Alignas(8) unsigned char hog_scratch[MAX_HOG_SCRATCH];
        ferc_status s = FERC_OK;
        if (pre->clahe_grid)
            s = ferc_clahe(img.data, SIDE, SIDE, SIDE, face, SIDE, pre->clahe_clip, pre->clahe_grid, pre->clahe_grid, &err);
        else if (pre->equalize)
            s = ferc_equalize_hist(img.data, SIDE, SIDE, SIDE, face, SIDE, &err);
        else
            memcpy(face, img.data, sizeof face);
        if (s) die("preprocessing failed: %s", err.message);
        for (int copy = 0; copy < copies; copy++) {
            /* the classifier's input for mean 0, std 1: pixel / 255 */
            for (int r = 0; r < SIDE; r++)
                for (int c = 0; c < SIDE; c++)
                    pix[r * SIDE + c] = (float)face[r * SIDE + (copy ? SIDE - 1 - c : c)] * (1.0f / 255.0f);
            float *out = ds.x + (size_t)(i * copies + copy) * (size_t)ds.dim;
            for (int k = 0; k < n_feat; k++) {
                if (f[k].is_hog) ferc_hog_features(&f[k].hog, SIDE, SIDE, pix, hog_scratch, out);
                else ferc_lbp_features(&f[k].lbp, SIDE, SIDE, pix, codes, out);
                const size_t dim = node_dim(&f[k]);
                if (f[k].weight != 1.f)
                    for (size_t j = 0; j < dim; j++) out[j] *= f[k].weight;
                out += dim;
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

/* Dual coordinate descent state of one class (one binary one-vs-rest problem). */
typedef struct {
    double *alpha;
    unsigned char *active;
    double pg_max_old, pg_max, pg_min;
    int n_active, epochs, done;
} ovr_state;

/* One-vs-rest dual coordinate descent for classes k0..k1-1; w is N_CLASSES x (dim + 1), the
 * last entry the bias. Every class visits the samples in the same fixed-seed order, one epoch
 * after another; the classes of a range share each pass over the samples, so a sample's
 * features are read from memory once for all of them (the solver is bound by that traffic).
 * Each class's arithmetic is that of solving it alone. */
static void train_classes(const dataset *ds, const float *qii, double C, double eps, int max_epochs, float *w, int k0,
                          int k1, ovr_state *st)
{
    const int n = ds->n, dim = ds->dim, stride = dim + 1;
    const double diag = 0.5 / C; /* squared hinge: D_ii = 1 / (2C), no upper bound on alpha */
    int *perm = malloc((size_t)n * sizeof *perm);
    if (!perm) die("out of memory (%s)", "solver state");
    for (int k = k0; k < k1; k++) {
        st[k] = (ovr_state){calloc((size_t)n, sizeof(double)), malloc((size_t)n), INFINITY, 0, 0, 0, max_epochs, 0};
        if (!st[k].alpha || !st[k].active) die("out of memory (%s)", "solver state");
        memset(st[k].active, 1, (size_t)n);
    }
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int epoch = 0, left = k1 - k0; epoch < max_epochs && left; epoch++) {
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            const int j = (int)(rng_next(&seed) % (uint64_t)(i + 1)), t = perm[i];
            perm[i] = perm[j], perm[j] = t;
        }
        for (int k = k0; k < k1; k++) st[k].pg_max = -INFINITY, st[k].pg_min = INFINITY, st[k].n_active = 0;
        for (int s = 0; s < n; s++) {
            const int i = perm[s];
            const float *xi = ds->x + (size_t)i * dim;
            for (int k = k0; k < k1; k++) {
                ovr_state *c = &st[k];
                if (c->done || !c->active[i]) continue;
                c->n_active++;
                float *wk = w + (size_t)k * stride;
                const double yi = ds->y[i] == k ? 1.0 : -1.0;
                const double g = yi * ((double)dot(wk, xi, dim) + wk[dim]) - 1.0 + diag * c->alpha[i];
                double pg = g;
                if (c->alpha[i] == 0.0) {
                    if (g > c->pg_max_old) { c->active[i] = 0; continue; } /* shrink: stays at the bound */
                    if (g > 0) pg = 0;
                }
                if (pg > c->pg_max) c->pg_max = pg;
                if (pg < c->pg_min) c->pg_min = pg;
                if (fabs(pg) > 1e-12) {
                    const double old = c->alpha[i];
                    c->alpha[i] = fmax(old - g / qii[i], 0.0);
                    const float step = (float)((c->alpha[i] - old) * yi);
                    for (int j = 0; j < dim; j++) wk[j] += step * xi[j];
                    wk[dim] += step;
                }
            }
        }
        for (int k = k0; k < k1; k++) {
            ovr_state *c = &st[k];
            if (c->done) continue;
            if (c->pg_max - c->pg_min <= eps) {
                if (c->n_active == n) { c->done = 1, c->epochs = epoch, left--; continue; }
                memset(c->active, 1, (size_t)n); /* converged on the active set: check them all */
                c->pg_max_old = INFINITY;
                continue;
            }
            c->pg_max_old = c->pg_max <= 0 ? INFINITY : c->pg_max;
        }
    }
    for (int k = k0; k < k1; k++) free(st[k].alpha), free(st[k].active);
    free(perm);
}

/* All classes, split into one contiguous range per thread; returns the largest number of
 * epochs any class needed (max_epochs: not converged). */
static int train_ovr(const dataset *ds, double C, double eps, int max_epochs, float *w)
{
    const int n = ds->n, dim = ds->dim;
    float *qii = xmalloc((size_t)n * sizeof *qii);
    for (int i = 0; i < n; i++) qii[i] = (float)(dot(ds->x + (size_t)i * dim, ds->x + (size_t)i * dim, dim) + 1.0 + 0.5 / C);
    memset(w, 0, (size_t)N_CLASSES * (size_t)(dim + 1) * sizeof *w);
    ovr_state st[N_CLASSES];
    int groups = omp_get_max_threads();
    if (groups > N_CLASSES) groups = N_CLASSES;
#pragma omp parallel for schedule(static, 1) num_threads(groups)
    for (int t = 0; t < groups; t++)
        train_classes(ds, qii, C, eps, max_epochs, w, t * N_CLASSES / groups, (t + 1) * N_CLASSES / groups, st);
    free(qii);
    int worst = 0;
    for (int k = 0; k < N_CLASSES; k++) worst = st[k].epochs > worst ? st[k].epochs : worst;
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

static int parse_feat(const char *s, feature *f)
{
    float r;
    int p, ch, cw, sh, sw, norm;
    if (sscanf(s, "%d,%f,%d,%d,%d,%d,%d", &p, &r, &ch, &cw, &sh, &sw, &norm) != 7) return -1;
    if (p < FERC_LBP_MIN_P || p > FERC_LBP_MAX_P || !(r > 0 && r <= 16) || ch < 1 || cw < 1 || ch > SIDE ||
        cw > SIDE || sh < 1 || sw < 1 || norm < 0 || norm > FERC_LBP_NORM_L2)
        return -1;
    *f = (feature){.lbp = {p, r, ch, cw, sh, sw, norm}, .weight = 1.f};
    return 0;
}

static int parse_hog(const char *s, feature *f)
{
    int o, ch, cw, bh, bw, norm;
    float weight = 1.f;
    const int got = sscanf(s, "%d,%d,%d,%d,%d,%d,%f", &o, &ch, &cw, &bh, &bw, &norm, &weight);
    if (got != 6 && got != 7) return -1;
    *f = (feature){.is_hog = 1, .hog = {o, ch, cw, bh, bw, norm}, .weight = weight};
    if (!(weight > 0 && weight <= 100) || o < 1 || o > FERC_HOG_MAX_ORIENTATIONS || ch < 1 || cw < 1 || bh < 1 || bw < 1 || bh > 16 || bw > 16 ||
        norm < FERC_HOG_NORM_L1 || norm > FERC_HOG_NORM_L2HYS || !ferc_hog_dim(&f->hog, SIDE, SIDE) ||
        ferc_hog_scratch(&f->hog, SIDE, SIDE) > MAX_HOG_SCRATCH)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *data = NULL, *out = NULL, *dump_dir = NULL;
    feature feats[MAX_FEATS];
    preprocess pre = {0, 0, 0};
    double cs[MAX_C] = {0.01}, eps = 0.1;
    int n_feat = 0, n_c = 1, flip = 0, max_epochs = 300;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(arg, "--flip")) { flip = 1; continue; }
        if (!strcmp(arg, "--equalize")) { pre.equalize = 1; continue; }
        if (!val) die("%s needs a value", arg);
        a++;
        if (!strcmp(arg, "--data")) data = val;
        else if (!strcmp(arg, "--out")) out = val;
        else if (!strcmp(arg, "--dump")) dump_dir = val;
        else if (!strcmp(arg, "--eps")) eps = atof(val);
        else if (!strcmp(arg, "--max-epochs")) max_epochs = atoi(val);
        else if (!strcmp(arg, "--feat")) {
            if (n_feat == MAX_FEATS || parse_feat(val, &feats[n_feat++]))
                die("bad --feat '%s' (P,R,cell_h,cell_w,stride_h,stride_w,norm; at most 8 nodes)", val);
        } else if (!strcmp(arg, "--hog")) {
            if (n_feat == MAX_FEATS || parse_hog(val, &feats[n_feat++]))
                die("bad --hog '%s' (orientations,cell_h,cell_w,block_h,block_w,norm[,weight]; at most 8 nodes)", val);
        } else if (!strcmp(arg, "--clahe")) {
            if (sscanf(val, "%lf,%d", &pre.clahe_clip, &pre.clahe_grid) != 2 || !(pre.clahe_clip > 0) ||
                pre.clahe_clip > 1000 || pre.clahe_grid < 1 || pre.clahe_grid > 64)
                die("bad --clahe '%s' (CLIP,GRID with 0 < CLIP <= 1000, 1 <= GRID <= 64)", val);
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
                                 "[--hog O,CH,CW,BH,BW,NORM[,W]]... [--equalize | --clahe CLIP,GRID] [--C c1,c2,...] "
                                 "[--flip] [--eps E] [--max-epochs N] [--dump DIR]");
    if (!(eps > 0) || max_epochs < 1) die("%s", "--eps must be > 0 and --max-epochs >= 1");
    if (pre.equalize && pre.clahe_grid) die("%s", "--equalize and --clahe exclude each other (a model has one)");
    if (!n_feat) feats[n_feat++] = (feature){.lbp = {8, 1.f, 6, 6, 6, 6, FERC_LBP_NORM_L1SQRT}};

    double t0 = now();
    dataset train = load_split(data, "train", feats, n_feat, &pre, flip), val = load_split(data, "val", feats, n_feat, &pre, 0);
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

    /* the graph computes the features without the node weights: fold them (and T) into w */
    float *wout = xmalloc((size_t)N_CLASSES * train.dim * sizeof *wout), b[N_CLASSES];
    for (int k = 0; k < N_CLASSES; k++) {
        int j = 0;
        for (int f = 0; f < n_feat; f++)
            for (size_t e = node_dim(&feats[f]); e; e--, j++)
                wout[(size_t)k * train.dim + j] = (float)(scale * feats[f].weight * best_w[(size_t)k * stride + j]);
        b[k] = (float)(scale * best_w[(size_t)k * stride + train.dim]);
    }
    write_raw(out, ".w.f32", wout, (size_t)N_CLASSES * train.dim * sizeof *wout);
    write_raw(out, ".b.f32", b, sizeof b);
    char path[4096];
    snprintf(path, sizeof path, "%s.txt", out);
    FILE *f = fopen(path, "w");
    if (!f) die("cannot write %s", path);
    for (int k = 0; k < n_feat; k++) {
        const ferc_lbp_desc *l = &feats[k].lbp;
        const ferc_hog_desc *g = &feats[k].hog;
        if (feats[k].is_hog)
            fprintf(f, "hog %d %d %d %d %d %d %g\n", g->orientations, g->cell_h, g->cell_w, g->block_h, g->block_w, g->norm,
                    (double)feats[k].weight);
        else
            fprintf(f, "feat %d %g %d %d %d %d %d\n", l->p, (double)l->radius, l->cell_h, l->cell_w, l->stride_h,
                    l->stride_w, l->norm);
    }
    if (pre.equalize) fprintf(f, "equalize 1\n");
    if (pre.clahe_grid) fprintf(f, "clahe %g,%d\n", pre.clahe_clip, pre.clahe_grid);
    fprintf(f, "dim %d\nC %g\nscale %.6f\nflip %d\nval_accuracy %.4f\ntrain_samples %d\nseconds %.0f\n", train.dim, best_c,
            scale, flip, best_acc, train.n, now() - t0);
    fclose(f);
    printf("wrote %s.{txt,w.f32,b.f32} in %.1f s total\n", out, now() - t0);
    free(train.x), free(train.y), free(val.x), free(val.y), free(w), free(best_w), free(s), free(wout);
    return 0;
}
