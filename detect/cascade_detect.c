/* cascade_detect.c - cv::CascadeClassifier::detectMultiScale, CPU path of OpenCV 4.6.
 *
 * Per scale s (1, f, f^2, ... while the window fits; minSize/maxSize filter them) the image
 * is resized to round(W/s) x round(H/s) with cv::resize INTER_LINEAR_EXACT, integral images are
 * built, and the cascade runs at every window position on a grid of step 2 (step 1 once
 * s >= 2), skipping the next position when a window fails the first stage. A Haar window is
 * normalised by its standard deviation over the window minus a 1-pixel border, and skipped
 * when that is ~0. Hits are mapped back by round(x * s), then grouped with
 * cv::groupRectangles(min_neighbors, 0.2) and clipped to the image. The float/double mix of
 * OpenCV's evaluation is kept exactly (float features, double stage sums), since a window
 * whose score lands within rounding of a threshold would otherwise flip. */
#include "detect/cascade.h"
#include "nn/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct {
    int ofs[3][4];
    float weight[3];
} haar_opt;

typedef struct {
    int ofs[16];
} lbp_opt;

typedef struct {
    const ferc_cascade *c;
    int stride;          /* ints per row of every integral image */
    const int32_t *sum;
    const uint32_t *sqsum;
    const int32_t *tilted;
    haar_opt *haar;
    lbp_opt *lbp;
    int nofs[4];         /* normalisation rectangle */
    double norm_area;
} evaluator;

static inline int32_t box(const int32_t *p, const int *o)
{
    return (int32_t)((uint32_t)p[o[0]] - (uint32_t)p[o[1]] - (uint32_t)p[o[2]] + (uint32_t)p[o[3]]);
}

static void sum_ofs(int o[4], int x, int y, int w, int h, int stride)
{
    o[0] = x + stride * y;
    o[1] = x + w + stride * y;
    o[2] = x + stride * (y + h);
    o[3] = x + w + stride * (y + h);
}

static ferc_status prepare(evaluator *e, const ferc_cascade *c, int stride, ferc_error *err)
{
    memset(e, 0, sizeof *e);
    e->c = c;
    e->stride = stride;
    if (c->type == FERC_CASCADE_HAAR) {
        e->haar = calloc((size_t)c->n_features, sizeof *e->haar);
        if (!e->haar) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        for (int i = 0; i < c->n_features; i++) {
            const ferc_haar_feature *f = &c->haar[i];
            for (int k = 0; k < 3; k++) {
                const ferc_haar_rect *r = &f->r[k];
                e->haar[i].weight[k] = k < f->nrects ? r->weight : 0.f;
                if (k >= f->nrects) continue;
                if (f->tilted) { /* tilted rectangle corners: (x,y) (x-h,y+h) (x+w,y+w) (x+w-h,y+w+h) */
                    e->haar[i].ofs[k][0] = r->x + stride * r->y;
                    e->haar[i].ofs[k][1] = r->x - r->h + stride * (r->y + r->h);
                    e->haar[i].ofs[k][2] = r->x + r->w + stride * (r->y + r->w);
                    e->haar[i].ofs[k][3] = r->x + r->w - r->h + stride * (r->y + r->w + r->h);
                } else {
                    sum_ofs(e->haar[i].ofs[k], r->x, r->y, r->w, r->h, stride);
                }
            }
        }
        sum_ofs(e->nofs, 1, 1, c->win_w - 2, c->win_h - 2, stride);
        e->norm_area = (double)(c->win_w - 2) * (c->win_h - 2);
    } else {
        e->lbp = calloc((size_t)c->n_features, sizeof *e->lbp);
        if (!e->lbp) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        for (int i = 0; i < c->n_features; i++) {
            const ferc_lbp_feature *f = &c->lbp[i];
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 4; k++) e->lbp[i].ofs[j * 4 + k] = f->x + k * f->w + stride * (f->y + j * f->h);
        }
    }
    return FERC_OK;
}

/* Feature value of Haar feature i for the window at p (float, as OpenCV). */
static inline float haar_feature(const evaluator *e, const haar_opt *f, const int32_t *p, const int32_t *t, int tilted)
{
    const int32_t *b = tilted ? t : p;
    float r = f->weight[0] * (float)box(b, f->ofs[0]) + f->weight[1] * (float)box(b, f->ofs[1]);
    if (f->weight[2] != 0.0f) r += f->weight[2] * (float)box(b, f->ofs[2]);
    return r;
}

static inline int lbp_code(const lbp_opt *f, const int32_t *p)
{
    const int *o = f->ofs;
#define S(a, b, c, d) ((int32_t)((uint32_t)p[o[a]] - (uint32_t)p[o[b]] - (uint32_t)p[o[c]] + (uint32_t)p[o[d]]))
    int32_t cv = S(5, 6, 9, 10);
    return (S(0, 1, 4, 5) >= cv ? 128 : 0) | (S(1, 2, 5, 6) >= cv ? 64 : 0) | (S(2, 3, 6, 7) >= cv ? 32 : 0) |
           (S(6, 7, 10, 11) >= cv ? 16 : 0) | (S(10, 11, 14, 15) >= cv ? 8 : 0) | (S(9, 10, 13, 14) >= cv ? 4 : 0) |
           (S(8, 9, 12, 13) >= cv ? 2 : 0) | (S(4, 5, 8, 9) >= cv ? 1 : 0);
#undef S
}

/* OpenCV's runAt: 1 accepted, -k rejected at stage k (0 at stage 0), -1 also when a Haar
 * window has no variance. */
static int run_at(const evaluator *e, size_t pos)
{
    const ferc_cascade *c = e->c;
    if (c->type == FERC_CASCADE_HAAR) {
        const int32_t *p = e->sum + pos, *t = e->tilted ? e->tilted + pos : NULL;
        const uint32_t *q = e->sqsum + pos;
        int32_t valsum = box(p, e->nofs);
        uint32_t valsq = q[e->nofs[0]] - q[e->nofs[1]] - q[e->nofs[2]] + q[e->nofs[3]];
        double nf = e->norm_area * valsq - (double)valsum * valsum;
        if (!(nf > 0.)) return -1;
        float vnf = (float)(1. / sqrt(nf));
        if (!(e->norm_area * vnf < 1e-1)) return -1;
        if (c->max_nodes_per_tree == 1) {
            const ferc_cascade_stump *sp = c->stumps;
            for (int si = 0; si < c->n_stages; si++) {
                const ferc_cascade_stage *st = &c->stages[si];
                double tmp = 0;
                for (int i = 0; i < st->n_trees; i++, sp++) {
                    const ferc_haar_feature *hf = &c->haar[sp->feature];
                    float v = haar_feature(e, &e->haar[sp->feature], p, t, hf->tilted) * vnf;
                    tmp += v < sp->threshold ? sp->left : sp->right;
                }
                if (tmp < st->threshold) return -si;
            }
            return 1;
        }
        for (int si = 0; si < c->n_stages; si++) {
            const ferc_cascade_stage *st = &c->stages[si];
            double sum = 0;
            for (int w = 0; w < st->n_trees; w++) {
                const ferc_cascade_tree *tr = &c->trees[st->first_tree + w];
                const ferc_cascade_node *nodes = c->nodes + tr->first_node;
                int idx = 0;
                do {
                    const ferc_cascade_node *nd = &nodes[idx];
                    float v = haar_feature(e, &e->haar[nd->feature], p, t, c->haar[nd->feature].tilted) * vnf;
                    idx = v < nd->threshold ? nd->left : nd->right;
                } while (idx > 0);
                sum += c->leaves[tr->first_leaf - idx];
            }
            if (sum < st->threshold) return -si;
        }
        return 1;
    }
    const int32_t *p = e->sum + pos;
    const int ss = c->subset_size;
    if (c->max_nodes_per_tree == 1) {
        const ferc_cascade_stump *sp = c->stumps;
        const int32_t *subset = c->subsets;
        for (int si = 0; si < c->n_stages; si++) {
            const ferc_cascade_stage *st = &c->stages[si];
            double tmp = 0;
            for (int i = 0; i < st->n_trees; i++, sp++, subset += ss) {
                int code = lbp_code(&e->lbp[sp->feature], p);
                tmp += ((uint32_t)subset[code >> 5] & (1u << (code & 31))) ? sp->left : sp->right;
            }
            if (tmp < st->threshold) return -si;
        }
        return 1;
    }
    for (int si = 0; si < c->n_stages; si++) {
        const ferc_cascade_stage *st = &c->stages[si];
        double sum = 0;
        for (int w = 0; w < st->n_trees; w++) {
            const ferc_cascade_tree *tr = &c->trees[st->first_tree + w];
            int idx = 0;
            do {
                int node = tr->first_node + idx;
                int code = lbp_code(&e->lbp[c->nodes[node].feature], p);
                const int32_t *subset = c->subsets + (size_t)node * ss;
                idx = ((uint32_t)subset[code >> 5] & (1u << (code & 31))) ? c->nodes[node].left : c->nodes[node].right;
            } while (idx > 0);
            sum += c->leaves[tr->first_leaf - idx];
        }
        if (sum < st->threshold) return -si;
    }
    return 1;
}

/* ---- candidate lists ---------------------------------------------------------------- */

typedef struct {
    ferc_rect *r;
    int n, cap;
} rect_list;

static int push_rect(rect_list *l, ferc_rect r)
{
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 256;
        ferc_rect *q = realloc(l->r, sizeof(ferc_rect) * (size_t)nc);
        if (!q) return -1;
        l->r = q;
        l->cap = nc;
    }
    l->r[l->n++] = r;
    return 0;
}

/* ---- detectMultiScale --------------------------------------------------------------- */

void ferc_detect_params_default(ferc_detect_params *p)
{
    memset(p, 0, sizeof *p);
    p->scale_factor = 1.1;
    p->min_neighbors = 3;
}

static int default_threads(void)
{
    const char *e = getenv("FERC_THREADS");
    if (e && atoi(e) > 0) return atoi(e);
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

#define MAX_SCALES 1024

/* The scale list of detectMultiScaleNoGrouping. */
static int make_scales(const ferc_cascade *c, int w, int h, const ferc_detect_params *p, float *scales)
{
    float all[MAX_SCALES];
    int n_all = 0, n = 0;
    int max_w = w, max_h = h; /* OpenCV ignores maxSize unless both sides are given */
    if (p->max_width > 0 && p->max_height > 0) max_w = p->max_width, max_h = p->max_height;
    for (double f = 1; n_all < MAX_SCALES; f *= p->scale_factor) {
        if (lrint(c->win_w * f) > w || lrint(c->win_h * f) > h) break;
        all[n_all++] = (float)f;
    }
    for (int i = 0; i < n_all; i++) {
        int ww = (int)lrintf((float)c->win_w * all[i]), wh = (int)lrintf((float)c->win_h * all[i]);
        if (ww > max_w || wh > max_h) break;
        if (ww < p->min_width || wh < p->min_height) continue;
        scales[n++] = all[i];
    }
    if (!n && n_all) { /* OpenCV then takes the scale closest to minSize */
        int best = 0;
        double bd = 0;
        for (int i = 0; i < n_all; i++) {
            int ww = (int)lrintf((float)c->win_w * all[i]), wh = (int)lrintf((float)c->win_h * all[i]);
            double d = (double)(p->min_width - ww) * (p->min_width - ww) + (double)(p->min_height - wh) * (p->min_height - wh);
            if (i == 0 || bd > d) bd = d, best = i;
        }
        scales[n++] = all[best];
    }
    return n;
}

static int by_position(const void *a, const void *b)
{
    const ferc_rect *x = a, *y = b;
    if (x->y != y->y) return x->y < y->y ? -1 : 1;
    if (x->x != y->x) return x->x < y->x ? -1 : 1;
    if (x->width != y->width) return x->width < y->width ? -1 : 1;
    return (x->height > y->height) - (x->height < y->height);
}

ferc_status ferc_cascade_detect(const ferc_cascade *c, const uint8_t *gray, int width, int height, int stride,
                                const ferc_detect_params *params, ferc_rect *boxes, int max_boxes, int *n_boxes,
                                ferc_error *err)
{
    ferc_detect_params dp;
    if (n_boxes) *n_boxes = 0;
    if (!params) ferc_detect_params_default(&dp), params = &dp;
    if (!c || !gray || !n_boxes || (max_boxes > 0 && !boxes))
        return ferc_set_error(err, FERC_ERR_ARG, "cascade, image, and n_boxes must not be NULL");
    if (width < 1 || height < 1 || stride < width)
        return ferc_set_error(err, FERC_ERR_ARG, "bad image geometry %dx%d, stride %d", width, height, stride);
    if ((int64_t)width * height > FERC_IMAGE_MAX_PIXELS)
        return ferc_set_error(err, FERC_ERR_ARG, "image of %dx%d pixels exceeds the limit", width, height);
    if (!(params->scale_factor > 1.0) || params->scale_factor > 100)
        return ferc_set_error(err, FERC_ERR_ARG, "scale factor %g must be in (1, 100]", params->scale_factor);
    if (params->min_neighbors < 0 || params->min_width < 0 || params->min_height < 0)
        return ferc_set_error(err, FERC_ERR_ARG, "min_neighbors and minimum sizes must be >= 0");
    if (width < c->win_w || height < c->win_h) return FERC_OK;

    float scales[MAX_SCALES];
    int n_scales = make_scales(c, width, height, params, scales);
    if (!n_scales) return FERC_OK;

    /* One buffer layout for all scales: the first (largest) one's row stride. */
    const int sw0 = (int)lrintf((float)width / scales[0]), sh0 = (int)lrintf((float)height / scales[0]);
    const int istride = sw0 + 1;
    const size_t plane = (size_t)istride * (sh0 + 1);
    int threads = params->threads > 0 ? params->threads : default_threads();
    evaluator ev;
    ferc_status st = prepare(&ev, c, istride, err);
    uint8_t *small = malloc((size_t)sw0 * sh0 + 1);
    int32_t *sum = malloc(sizeof(int32_t) * plane);
    uint32_t *sq = c->type == FERC_CASCADE_HAAR ? malloc(sizeof(uint32_t) * plane) : NULL;
    int32_t *tl = c->has_tilted ? malloc(sizeof(int32_t) * plane) : NULL;
    rect_list *lists = calloc((size_t)threads, sizeof(rect_list));
    if (!st && (!small || !sum || (c->type == FERC_CASCADE_HAAR && !sq) || (c->has_tilted && !tl) || !lists))
        st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for a %dx%d image", width, height);
    int failed = 0;
    for (int si = 0; !st && si < n_scales; si++) {
        const float s = scales[si];
        const int sw = (int)lrintf((float)width / s), sh = (int)lrintf((float)height / s);
        ferc_resize_linear_exact_u8(gray, width, height, stride, small, sw, sh, sw);
        ferc_integral_u8(small, sw, sh, sw, sum, sq, tl, istride);
        ev.sum = sum, ev.sqsum = sq, ev.tilted = tl;
        const int ystep = s >= 2 ? 1 : 2;
        const int ww = sw + 1 - c->win_w, wh = sh + 1 - c->win_h;
        const int bw = (int)lrintf((float)c->win_w * s), bh = (int)lrintf((float)c->win_h * s);
        const int nrows = wh > 0 ? (wh + ystep - 1) / ystep : 0;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4) reduction(| : failed)
        for (int r = 0; r < nrows; r++) {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            const int y = r * ystep;
            for (int x = 0; x < ww; x += ystep) {
                int res = run_at(&ev, (size_t)y * istride + x);
                if (res > 0) {
                    ferc_rect b = {(int)lrintf((float)x * s), (int)lrintf((float)y * s), bw, bh};
                    failed |= push_rect(&lists[tid], b) != 0;
                }
                if (res == 0) x += ystep;
            }
        }
    }
    if (!st && failed) st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for candidates");
    rect_list all = {0};
    for (int t = 0; !st && t < threads; t++)
        for (int i = 0; i < lists[t].n; i++)
            if (push_rect(&all, lists[t].r[i])) st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    if (!st) {
        int n = ferc_group_rects(all.r, all.n, params->min_neighbors, 0.2);
        if (n < 0) st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory grouping boxes");
        int k = 0;
        for (int i = 0; i < n; i++) { /* clip to the image like CascadeClassifier::detectMultiScale */
            ferc_rect r = all.r[i];
            int x0 = r.x > 0 ? r.x : 0, y0 = r.y > 0 ? r.y : 0;
            int x1 = r.x + r.width < width ? r.x + r.width : width, y1 = r.y + r.height < height ? r.y + r.height : height;
            if (x1 > x0 && y1 > y0) all.r[k++] = (ferc_rect){x0, y0, x1 - x0, y1 - y0};
        }
        if (k > 1) qsort(all.r, (size_t)k, sizeof(ferc_rect), by_position);
        for (int i = 0; i < k && i < max_boxes; i++) boxes[i] = all.r[i];
        *n_boxes = k;
    }
    for (int t = 0; lists && t < threads; t++) free(lists[t].r);
    free(lists);
    free(all.r);
    free(small);
    free(sum);
    free(sq);
    free(tl);
    free(ev.haar);
    free(ev.lbp);
    return st;
}
