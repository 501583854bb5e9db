/* detector.c - the ferc_detector handle: one of the built-in kinds by name, or a function
 * supplied by the caller. */
#include "api/detector.h"
#include "nn/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- res10 SSD (detect/ssd.c) ---- */

typedef struct {
    ferc_ssd *ssd;
    ferc_ssd_state *st;
    ferc_ssd_options opt;
    ferc_face_box *found;
    int cap;
} ssd_kind;

static void ssd_destroy(void *state)
{
    ssd_kind *k = state;
    ferc_ssd_state_free(k->st);
    ferc_ssd_free(k->ssd);
    free(k->found);
    free(k);
}

static ferc_status ssd_create(const ferc_detector_options *o, void **state, ferc_error *err)
{
    if (!o->model) return ferc_set_error(err, FERC_ERR_ARG, "detector ssd needs its weight file (face_res10.ferc)");
    if (o->input_size < 0 || o->input_size > 4096)
        return ferc_set_error(err, FERC_ERR_ARG, "SSD input size %d out of range", o->input_size);
    ssd_kind *k = calloc(1, sizeof *k);
    if (!k) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    ferc_status s = ferc_ssd_load(o->model, &k->ssd, err);
    if (!s) s = ferc_ssd_state_create(k->ssd, &k->st, err);
    if (s) { ssd_destroy(k); return s; }
    k->opt.input_width = k->opt.input_height = o->input_size;
    k->opt.threshold = o->threshold > 0 ? o->threshold : FERC_SSD_DEFAULT_THRESHOLD;
    k->opt.threads = o->threads;
    *state = k;
    return FERC_OK;
}

static ferc_status ssd_detect(void *state, const ferc_image *img, ferc_box *boxes, int max_boxes, int *count,
                              ferc_error *err)
{
    ssd_kind *k = state;
    if (max_boxes > k->cap) {
        ferc_face_box *f = realloc(k->found, sizeof *f * (size_t)max_boxes);
        if (!f) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        k->found = f, k->cap = max_boxes;
    }
    int n = 0;
    ferc_status s = ferc_ssd_detect(k->ssd, k->st, img, &k->opt, k->found, max_boxes, &n, err);
    if (s) return s;
    *count = 0;
    for (int i = 0; i < n && i < max_boxes; i++) {
        const ferc_face_box *f = &k->found[i];
        if (!(f->x1 > f->x0 && f->y1 > f->y0)) continue; /* degenerate boxes carry no face */
        boxes[(*count)++] = (ferc_box){.x = f->x0, .y = f->y0, .w = f->x1 - f->x0, .h = f->y1 - f->y0, .score = f->score};
    }
    return FERC_OK;
}

/* ---- YuNet (detect/yunet.c) ---- */

typedef struct {
    ferc_yunet *yunet;
    ferc_yunet_state *st;
    ferc_yunet_options opt;
} yunet_kind;

static void yunet_destroy(void *state)
{
    yunet_kind *k = state;
    ferc_yunet_state_free(k->st);
    ferc_yunet_free(k->yunet);
    free(k);
}

static ferc_status yunet_create(const ferc_detector_options *o, void **state, ferc_error *err)
{
    if (!o->model) return ferc_set_error(err, FERC_ERR_ARG, "detector yunet needs its weight file (face_yunet.ferc)");
    if (o->input_size < 0 || o->input_size > 2048)
        return ferc_set_error(err, FERC_ERR_ARG, "YuNet input size %d out of range (0: automatic, up to 2048)",
                              o->input_size);
    if (!(o->threshold >= 0 && o->threshold < 1) || !(o->nms >= 0 && o->nms <= 1))
        return ferc_set_error(err, FERC_ERR_ARG, "YuNet threshold %g and NMS IoU %g must be in [0, 1]",
                              (double)o->threshold, (double)o->nms);
    yunet_kind *k = calloc(1, sizeof *k);
    if (!k) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    ferc_status s = ferc_yunet_load(o->model, &k->yunet, err);
    if (!s) s = ferc_yunet_state_create(k->yunet, &k->st, err);
    if (s) { yunet_destroy(k); return s; }
    k->opt.input_size = o->input_size;
    k->opt.threshold = o->threshold > 0 ? o->threshold : FERC_YUNET_DEFAULT_THRESHOLD;
    k->opt.nms = o->nms > 0 ? o->nms : FERC_YUNET_DEFAULT_NMS;
    k->opt.threads = o->threads;
    *state = k;
    return FERC_OK;
}

static ferc_status yunet_detect(void *state, const ferc_image *img, ferc_box *boxes, int max_boxes, int *count,
                                ferc_error *err)
{
    yunet_kind *k = state;
    int n = 0;
    ferc_status s = ferc_yunet_detect(k->yunet, k->st, img, &k->opt, boxes, max_boxes, &n, err);
    *count = s ? 0 : n < max_boxes ? n : max_boxes;
    return s;
}

/* ---- Haar / LBP cascades (detect/cascade_*.c), on equalised gray as OpenCV's sample ---- */

typedef struct {
    ferc_cascade *cascade;
    ferc_detect_params params;
    ferc_rect *rects;
    int cap;
} cascade_kind;

static void cascade_destroy(void *state)
{
    cascade_kind *k = state;
    ferc_cascade_free(k->cascade);
    free(k->rects);
    free(k);
}

static ferc_status cascade_create(const ferc_detector_options *o, const char *want, void **state, ferc_error *err)
{
    if (!o->model) return ferc_set_error(err, FERC_ERR_ARG, "detector %s needs a cascade XML (--cascade FILE)", want);
    if (o->scale_factor < 0 || (o->scale_factor > 0 && o->scale_factor <= 1.0) || o->min_neighbors < 0 ||
        o->min_size < 0)
        return ferc_set_error(err, FERC_ERR_ARG, "scale factor must be > 1, min neighbours and min size >= 0");
    cascade_kind *k = calloc(1, sizeof *k);
    if (!k) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    ferc_status s = ferc_cascade_load(o->model, &k->cascade, err);
    if (!s && strcmp(ferc_cascade_kind(k->cascade), want))
        s = ferc_set_error(err, FERC_ERR_ARG, "%s: is a %s cascade, --detector %s was asked for", o->model,
                           ferc_cascade_kind(k->cascade), want);
    if (s) { cascade_destroy(k); return s; }
    ferc_detect_params_default(&k->params);
    if (o->scale_factor > 0) k->params.scale_factor = o->scale_factor;
    if (o->min_neighbors > 0) k->params.min_neighbors = o->min_neighbors;
    k->params.min_width = k->params.min_height = o->min_size;
    k->params.threads = o->threads;
    *state = k;
    return FERC_OK;
}

static ferc_status haar_create(const ferc_detector_options *o, void **state, ferc_error *err)
{
    return cascade_create(o, "haar", state, err);
}

static ferc_status lbp_create(const ferc_detector_options *o, void **state, ferc_error *err)
{
    return cascade_create(o, "lbp", state, err);
}

static ferc_status cascade_detect(void *state, const ferc_image *img, ferc_box *boxes, int max_boxes, int *count,
                                  ferc_error *err)
{
    cascade_kind *k = state;
    ferc_image gray;
    ferc_status s = ferc_image_to_gray(img, &gray, err);
    if (s) return s;
    int n = 0;
    if (!(s = ferc_equalize_hist(gray.data, gray.width, gray.height, gray.width, gray.data, gray.width, err)))
        s = ferc_cascade_detect(k->cascade, gray.data, gray.width, gray.height, gray.width, &k->params, k->rects,
                                k->cap, &n, err);
    if (!s && n > k->cap) { /* more faces than room: grow once and scan again */
        ferc_rect *r = realloc(k->rects, sizeof *r * (size_t)n);
        if (!r) s = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        else {
            k->rects = r, k->cap = n;
            s = ferc_cascade_detect(k->cascade, gray.data, gray.width, gray.height, gray.width, &k->params, k->rects,
                                    k->cap, &n, err);
        }
    }
    ferc_image_free(&gray);
    if (s) return s;
    /* Cascades give no confidence: score 1, largest faces first. */
    *count = 0;
    for (int i = 0; i < n && *count < max_boxes; i++) {
        int best = i;
        for (int j = i + 1; j < n; j++)
            if (k->rects[j].width * k->rects[j].height > k->rects[best].width * k->rects[best].height) best = j;
        ferc_rect t = k->rects[i];
        k->rects[i] = k->rects[best], k->rects[best] = t;
        const ferc_rect *r = &k->rects[i];
        boxes[(*count)++] = (ferc_box){.x = (float)r->x, .y = (float)r->y, .w = (float)r->width, .h = (float)r->height, .score = 1.0f};
    }
    return FERC_OK;
}

/* Kinds in the order `ferc --help` lists them. */
static const ferc_detector_kind kinds[] = {
    {"ssd", &ferc_framing_res10, ssd_create, ssd_detect, ssd_destroy},
    {"yunet", &ferc_framing_yunet, yunet_create, yunet_detect, yunet_destroy},
    {"haar", &ferc_framing_res10, haar_create, cascade_detect, cascade_destroy},
    {"lbp", &ferc_framing_res10, lbp_create, cascade_detect, cascade_destroy},
};

struct ferc_detector {
    const ferc_detector_kind *kind; /* NULL for a function detector */
    const ferc_framing *framing;    /* the kind's, or what ferc_detector_set_framing said */
    void *state;
    ferc_detect_fn fn;
    void *user;
};

ferc_status ferc_detector_create(const ferc_detector_options *opt, ferc_detector **out, ferc_error *err)
{
    if (!out) return ferc_set_error(err, FERC_ERR_ARG, "no output pointer");
    *out = NULL;
    ferc_detector_options o = {0};
    if (opt) o = *opt;
    const char *name = o.kind ? o.kind : "ssd";
    const ferc_detector_kind *k = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kinds[i].name, name)) k = &kinds[i];
    if (!k) return ferc_set_error(err, FERC_ERR_ARG, "unknown detector '%s' (ssd, yunet, haar or lbp)", name);
    if (!k->create) return ferc_set_error(err, FERC_ERR_UNSUPPORTED, "detector %s is not built in yet", name);
    ferc_detector *d = calloc(1, sizeof *d);
    if (!d) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    d->kind = k;
    d->framing = k->framing;
    ferc_status s = k->create(&o, &d->state, err);
    if (s) {
        free(d);
        return s;
    }
    *out = d;
    return FERC_OK;
}

ferc_status ferc_detector_from_function(ferc_detect_fn fn, void *user, ferc_detector **out, ferc_error *err)
{
    if (!fn || !out) return ferc_set_error(err, FERC_ERR_ARG, "no function or output pointer");
    *out = calloc(1, sizeof **out);
    if (!*out) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    (*out)->fn = fn;
    (*out)->user = user;
    return FERC_OK;
}

ferc_status ferc_detect(ferc_detector *d, const ferc_image *img, ferc_box *boxes, int max_boxes, int *count,
                        ferc_error *err)
{
    if (!d || !img || !img->data || !count || max_boxes < 0 || (max_boxes && !boxes))
        return ferc_set_error(err, FERC_ERR_ARG, "bad detect arguments");
    *count = 0;
    ferc_status s = d->kind ? d->kind->detect(d->state, img, boxes, max_boxes, count, err)
                            : d->fn(d->user, img, boxes, max_boxes, count, err);
    if (!s && (*count < 0 || *count > max_boxes))
        return ferc_set_error(err, FERC_ERR_ARG, "detector returned %d boxes for room for %d", *count, max_boxes);
    for (int i = 0; !s && i < *count; i++) {
        const ferc_box *b = &boxes[i];
        if (!isfinite(b->x) || !isfinite(b->y) || !isfinite(b->score) || !(b->w > 0 && b->w < 1e9f) ||
            !(b->h > 0 && b->h < 1e9f) || !(fabsf(b->x) < 1e9f && fabsf(b->y) < 1e9f))
            s = ferc_set_error(err, FERC_ERR_ARG, "detector returned an invalid box [%g, %g, %g, %g]", b->x, b->y, b->w, b->h);
    }
    if (s) *count = 0;
    return s;
}

const ferc_framing *ferc_detector_framing(const ferc_detector *d) { return d ? d->framing : NULL; }

void ferc_detector_set_framing(ferc_detector *d, const ferc_framing *framing)
{
    if (d) d->framing = framing;
}

void ferc_detector_free(ferc_detector *d)
{
    if (!d) return;
    if (d->kind && d->kind->destroy) d->kind->destroy(d->state);
    free(d);
}
