/* cascade_detect.c - cv::CascadeClassifier::detectMultiScale, CPU path of OpenCV 4.6.
 *
 * Per scale s (1, f, f^2, ... while the window fits; minSize/maxSize filter them) the image
 * is resized to round(W/s) x round(H/s) with cv::resize INTER_LINEAR_EXACT, integral images are
 * built, and the cascade runs at every window position on a grid of step 2 (step 1 once
 * s >= 2), skipping the next position when a window fails the first stage, and on the rows
 * OpenCV's parallel stripes reach (rows_scanned: some scales lose their last row). A Haar window is
 * normalised by its standard deviation over the window minus a 1-pixel border, and skipped
 * when that is ~0. Hits are mapped back by round(x * s), then grouped with
 * cv::groupRectangles(min_neighbors, 0.2) and clipped to the image. The float/double mix of
 * OpenCV's evaluation is kept exactly (float features, double stage sums), since a window
 * whose score lands within rounding of a threshold would otherwise flip. */
#include "detect/cascade.h"
#include "detect/cascade_scan.h"
#include "detect/image/image.h"
#include "nn/error.h"
#include "kernels/threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- candidate lists ---------------------------------------------------------------- */

typedef struct {
    ferc_cascade_rect *r;
    int n, cap;
} rect_list;

static int push_rect(rect_list *l, ferc_cascade_rect r)
{
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 256;
        ferc_cascade_rect *q = realloc(l->r, sizeof(ferc_cascade_rect) * (size_t)nc);
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
    const ferc_cascade_rect *x = a, *y = b;
    if (x->y != y->y) return x->y < y->y ? -1 : 1;
    if (x->x != y->x) return x->x < y->x ? -1 : 1;
    if (x->width != y->width) return x->width < y->width ? -1 : 1;
    return (x->height > y->height) - (x->height < y->height);
}

/* What one thread needs for one scale at a time: the resized image and its integral
 * planes, sized for the largest scale in either layout. All threads' buffers are one
 * allocation: separate ones of a few MB each went back to the system at every free (glibc
 * trims the heap top past twice its largest freed mapping), so every call with 2 threads
 * page-faulted them in again, which cost more than a 640x480 scan. */
typedef struct {
    uint8_t *small, *hit;
    int32_t *sum, *tilted;
    uint32_t *sq;
    rect_list found;
} workspace;

/* Planes are read up to one SIMD vector past the last window's far corner. */
#define PLANE_PAD 32

typedef struct {
    const ferc_cascade *c;
    const uint8_t *gray;
    int width, height, stride;
    int istride, hs;
    size_t odd_plane;
    const ferc_scan_layout *layout[2]; /* [0] unsplit (step 1), [1] split (step 2) */
    ferc_scan_row_fn scan;
    int stripes; /* OpenCV's row stripes: see rows_scanned */
} detect_job;

/* How many window rows OpenCV visits at one scale. detectMultiScale splits the rows into
 * `stripes` parallel tasks (ceil(first scale's window columns / 32) of them, whatever the
 * thread count) of max(ceil((rows / step) / stripes), 1) * step rows each, the integer
 * division rounding down; the stripes end at stripes x that size, so when the rows are odd
 * with step 2 and `stripes` divides rows / 2, the last row of windows is never visited.
 * Visiting it found one candidate more than OpenCV at the image's bottom edge, and so a face
 * more, or a box a pixel off, after grouping on some crowded photos (issue 14). */
static int rows_scanned(int rows, int step, int stripes)
{
    int per = (rows / step + stripes - 1) / stripes;
    int end = (per > 1 ? per : 1) * step * stripes;
    return end < rows ? end : rows;
}

static int run_scale(const detect_job *job, workspace *ws, float s)
{
    const ferc_cascade *c = job->c;
    const int sw = (int)lrintf((float)job->width / s), sh = (int)lrintf((float)job->height / s);
    const int ystep = s >= 2 ? 1 : 2;
    const int ww = sw + 1 - c->win_w, wh = sh + 1 - c->win_h;
    if (ww <= 0 || wh <= 0) return 0;
    if (ferc_resize_plane(job->gray, job->width, job->height, job->stride, ws->small, sw, sh, sw, 1,
                          FERC_RESIZE_LINEAR_EXACT, NULL))
        return -1;
    /* step-2 scales read planes split into even and odd columns (cascade_scan.h) */
    const int rs = ystep == 2 ? job->hs : job->istride;
    ferc_integral_u8(ws->small, sw, sh, sw, ws->sum, ws->sq, ws->tilted, rs, ystep == 2 ? job->odd_plane : 0);
    ferc_scan_row row = {c, job->layout[ystep == 2], ws->sum, ws->sq, ws->tilted,
                         (double)(c->win_w - 2) * (c->win_h - 2)};
    const int n = (ww + ystep - 1) / ystep;
    const int bw = (int)lrintf((float)c->win_w * s), bh = (int)lrintf((float)c->win_h * s);
    const int32_t *sum0 = row.sum, *tilted0 = row.tilted;
    const uint32_t *sq0 = row.sqsum;
    const int rows = rows_scanned(wh, ystep, job->stripes);
    for (int y = 0; y < rows; y += ystep) {
        const size_t off = (size_t)y * rs;
        row.sum = sum0 + off;
        row.sqsum = sq0 ? sq0 + off : NULL;
        row.tilted = tilted0 ? tilted0 + off : NULL;
        job->scan(&row, n, ws->hit);
        for (int j = 0; j < n; j++)
            if (ws->hit[j]) {
                ferc_cascade_rect b = {(int)lrintf((float)(j * ystep) * s), (int)lrintf((float)y * s), bw, bh};
                if (push_rect(&ws->found, b)) return -1;
            }
    }
    return 0;
}


ferc_status ferc_cascade_detect(const ferc_cascade *c, const uint8_t *gray, int width, int height, int stride,
                                const ferc_detect_params *params, ferc_box *boxes, int max_boxes, int *n_boxes,
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

    /* One plane layout for all scales: the first (largest) one's row stride. */
    const int sw0 = (int)lrintf((float)width / scales[0]), sh0 = (int)lrintf((float)height / scales[0]);
    const int cols0 = sw0 + 1 - c->win_w;
    detect_job job = {c, gray, width, height, stride, sw0 + 1, (sw0 + 2) / 2, 0, {NULL, NULL}, ferc_cascade_scan_pick(),
                      cols0 > 0 ? (cols0 + 31) / 32 : 1};
    job.odd_plane = (size_t)job.hs * (sh0 + 1);
    size_t plane = (size_t)job.istride * (sh0 + 1), split = 2 * job.odd_plane;
    plane = (plane > split ? plane : split) + PLANE_PAD;
    int threads = params->threads > 0 ? params->threads : ferc_default_threads();
    if (threads > n_scales) threads = n_scales;
    ferc_scan_layout layouts[2];
    memset(layouts, 0, sizeof layouts);
    ferc_status st = ferc_scan_layout_init(&layouts[0], c, job.istride, 0, err);
    if (!st) st = ferc_scan_layout_init(&layouts[1], c, job.hs, (int)job.odd_plane, err);
    job.layout[0] = &layouts[0], job.layout[1] = &layouts[1];
    const int haar = c->type == FERC_CASCADE_HAAR;
    const size_t n_planes = 1 + (size_t)haar + (size_t)c->has_tilted;
    const size_t per_thread = (n_planes * plane * sizeof(int32_t) + (size_t)sw0 * sh0 + (size_t)sw0 + 2 + 63) & ~(size_t)63;
    workspace *ws = calloc((size_t)threads, sizeof *ws);
    uint8_t *mem = calloc((size_t)threads, per_thread);
    if (!st && (!ws || !mem))
        st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for a %dx%d image", width, height);
    for (int t = 0; !st && t < threads; t++) {
        workspace *w = &ws[t];
        int32_t *planes = (int32_t *)(mem + (size_t)t * per_thread);
        w->sum = planes;
        if (haar) w->sq = (uint32_t *)planes + plane;
        if (c->has_tilted) w->tilted = planes + (n_planes - 1) * plane;
        w->small = (uint8_t *)(planes + n_planes * plane);
        w->hit = w->small + (size_t)sw0 * sh0 + 1;
    }
    int failed = 0;
    if (!st) {
        /* Scales are independent: each thread takes whole scales, largest first. */
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) reduction(| : failed)
        for (int si = 0; si < n_scales; si++) {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            failed |= run_scale(&job, &ws[tid], scales[si]) != 0;
        }
    }
    if (!st && failed) st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for candidates");
    rect_list all = {0};
    for (int t = 0; !st && t < threads; t++)
        for (int i = 0; i < ws[t].found.n; i++)
            if (push_rect(&all, ws[t].found.r[i])) st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    if (!st) {
        int n = ferc_group_rects(all.r, all.n, params->min_neighbors, 0.2);
        if (n < 0) st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory grouping boxes");
        int k = 0;
        for (int i = 0; i < n; i++) { /* clip to the image like CascadeClassifier::detectMultiScale */
            ferc_cascade_rect r = all.r[i];
            int x0 = r.x > 0 ? r.x : 0, y0 = r.y > 0 ? r.y : 0;
            int x1 = r.x + r.width < width ? r.x + r.width : width, y1 = r.y + r.height < height ? r.y + r.height : height;
            if (x1 > x0 && y1 > y0) all.r[k++] = (ferc_cascade_rect){x0, y0, x1 - x0, y1 - y0};
        }
        if (k > 1) qsort(all.r, (size_t)k, sizeof(ferc_cascade_rect), by_position);
        for (int i = 0; i < k && i < max_boxes; i++) {
            const ferc_cascade_rect *r = &all.r[i];
            boxes[i] = (ferc_box){.x = (float)r->x, .y = (float)r->y, .w = (float)r->width, .h = (float)r->height,
                                  .score = 1.0f};
        }
        *n_boxes = k;
    }
    for (int t = 0; ws && t < threads; t++) free(ws[t].found.r);
    free(ws);
    free(mem);
    free(all.r);
    ferc_scan_layout_free(&layouts[0]);
    ferc_scan_layout_free(&layouts[1]);
    return st;
}
