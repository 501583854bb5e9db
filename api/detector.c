/* detector.c - the ferc_detector handle: one of the built-in kinds by name, or a function
 * supplied by the caller, each with its crop framing. */
#include "api/detector.h"
#include "nn/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- res10 SSD (detect/ssd.c) ---- */

/* The kind's file: the caller's, or the default found by ferc_find_weights. */
static ferc_status model_file(const ferc_detector_options *o, const char *dflt, char *buf, size_t size,
                              const char **path, ferc_error *err)
{
    *path = o->model;
    if (o->model) return FERC_OK;
    ferc_status s = ferc_find_weights(dflt, buf, size, err);
    if (s) ferc_error_prefix(err, "detector");
    *path = buf;
    return s;
}

typedef struct {
    ferc_ssd *ssd;
    int shared; /* ssd belongs to the detector this one was cloned from */
    ferc_ssd_state *st;
    ferc_ssd_options opt;
    ferc_box *found;
    int cap;
} ssd_kind;

static void ssd_destroy(void *state)
{
    ssd_kind *k = state;
    ferc_ssd_state_free(k->st);
    if (!k->shared) ferc_ssd_free(k->ssd);
    free(k->found);
    free(k);
}

static ferc_status ssd_create(const ferc_detector_options *o, void **state, ferc_error *err)
{
    if (o->input_size < 0 || o->input_size > 4096)
        return ferc_set_error(err, FERC_ERR_ARG, "SSD input size %d out of range", o->input_size);
    char buf[1024];
    const char *path;
    ferc_status s = model_file(o, ferc_default_file("detector", "ssd"), buf, sizeof buf, &path, err);
    if (s) return s;
    ssd_kind *k = calloc(1, sizeof *k);
    if (!k) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    s = ferc_ssd_load(path, &k->ssd, err);
    if (!s) s = ferc_ssd_state_create(k->ssd, &k->st, err);
    if (s) { ssd_destroy(k); return s; }
    k->opt = (ferc_ssd_options){
        .input_width = o->input_size,
        .input_height = o->input_size,
        .threshold = o->threshold > 0 ? o->threshold : FERC_SSD_DEFAULT_THRESHOLD,
        .threads = o->threads,
    };
    *state = k;
    return FERC_OK;
}

static ferc_status ssd_clone(const void *state, void **out, ferc_error *err)
{
    const ssd_kind *from = state;
    ssd_kind *k = calloc(1, sizeof *k);
    if (!k) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    k->ssd = from->ssd, k->shared = 1, k->opt = from->opt;
    ferc_status s = ferc_ssd_state_create(k->ssd, &k->st, err);
    if (s) { ssd_destroy(k); return s; }
    *out = k;
    return FERC_OK;
}

static ferc_status ssd_detect(void *state, const ferc_image *img, ferc_box *boxes, int max_boxes, int *count,
                              ferc_error *err)
{
    ssd_kind *k = state;
    if (max_boxes > k->cap) {
        ferc_box *f = realloc(k->found, sizeof *f * (size_t)max_boxes);
        if (!f) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        k->found = f, k->cap = max_boxes;
    }
    int n = 0;
    ferc_status s = ferc_ssd_detect(k->ssd, k->st, img, &k->opt, k->found, max_boxes, &n, err);
    if (s) return s;
    *count = 0;
    for (int i = 0; i < n && i < max_boxes; i++) {
        if (!(k->found[i].w > 0 && k->found[i].h > 0)) continue; /* degenerate boxes carry no face */
        boxes[(*count)++] = k->found[i];
    }
    return FERC_OK;
}

/* ---- YuNet (detect/yunet.c) ---- */

typedef struct {
    ferc_yunet *yunet;
    int shared; /* yunet belongs to the detector this one was cloned from */
    ferc_yunet_state *st;
    ferc_yunet_state *eye_st; /* ferc_yunet_eyes' 320x320 runs, made on first use */
    ferc_yunet_options opt;
    int tiles;                /* ferc_yunet_detect_tiled's; 0: one pass */
    double tile_scale;
} yunet_kind;

static void yunet_destroy(void *state)
{
    yunet_kind *k = state;
    ferc_yunet_state_free(k->st);
    ferc_yunet_state_free(k->eye_st);
    if (!k->shared) ferc_yunet_free(k->yunet);
    free(k);
}

static ferc_status yunet_create(const ferc_detector_options *o, void **state, ferc_error *err)
{
    if (o->input_size < 0 || o->input_size > 2048)
        return ferc_set_error(err, FERC_ERR_ARG, "YuNet input size %d out of range (0: automatic, up to 2048)",
                              o->input_size);
    if (!(o->threshold >= 0 && o->threshold < 1) || !(o->nms >= 0 && o->nms <= 1))
        return ferc_set_error(err, FERC_ERR_ARG, "YuNet threshold %g and NMS IoU %g must be in [0, 1]",
                              (double)o->threshold, (double)o->nms);
    if (o->tiles < 0 || o->tiles > FERC_YUNET_MAX_TILES ||
        !(o->tile_scale >= 0 && o->tile_scale <= FERC_YUNET_MAX_TILE_SCALE))
        return ferc_set_error(err, FERC_ERR_ARG, "YuNet tiles %d (0..%d) at scale %g (0: %d, up to %d)", o->tiles,
                              FERC_YUNET_MAX_TILES, o->tile_scale, FERC_YUNET_DEFAULT_TILE_SCALE,
                              FERC_YUNET_MAX_TILE_SCALE);
    char buf[1024];
    const char *path;
    ferc_status s = model_file(o, ferc_default_file("detector", "yunet"), buf, sizeof buf, &path, err);
    if (s) return s;
    yunet_kind *k = calloc(1, sizeof *k);
    if (!k) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    s = ferc_yunet_load(path, &k->yunet, err);
    if (!s) s = ferc_yunet_state_create(k->yunet, &k->st, err);
    if (s) { yunet_destroy(k); return s; }
    k->opt = (ferc_yunet_options){
        .input_size = o->input_size,
        .threshold = o->threshold > 0 ? o->threshold : FERC_YUNET_DEFAULT_THRESHOLD,
        .nms = o->nms > 0 ? o->nms : FERC_YUNET_DEFAULT_NMS,
        .threads = o->threads,
    };
    k->tiles = o->tiles, k->tile_scale = o->tile_scale;
    *state = k;
    return FERC_OK;
}

static ferc_status yunet_clone(const void *state, void **out, ferc_error *err)
{
    const yunet_kind *from = state;
    yunet_kind *k = calloc(1, sizeof *k);
    if (!k) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    k->yunet = from->yunet, k->shared = 1, k->opt = from->opt, k->tiles = from->tiles, k->tile_scale = from->tile_scale;
    ferc_status s = ferc_yunet_state_create(k->yunet, &k->st, err);
    if (s) { yunet_destroy(k); return s; }
    *out = k;
    return FERC_OK;
}

static ferc_status yunet_detect(void *state, const ferc_image *img, ferc_box *boxes, int max_boxes, int *count,
                                ferc_error *err)
{
    yunet_kind *k = state;
    int n = 0;
    ferc_status s = ferc_yunet_detect_tiled(k->yunet, k->st, img, &k->opt, k->tiles, k->tile_scale, boxes, max_boxes,
                                            &n, err);
    *count = s ? 0 : n < max_boxes ? n : max_boxes;
    return s;
}

static ferc_status yunet_eyes(void *state, const ferc_image *gray, const ferc_box *box, ferc_eyes *eyes,
                              ferc_error *err)
{
    yunet_kind *k = state;
    ferc_status s = k->eye_st ? FERC_OK : ferc_yunet_state_create(k->yunet, &k->eye_st, err);
    return s ? s : ferc_yunet_eyes(k->yunet, k->eye_st, gray, box, k->opt.threads, eyes, err);
}

/* ---- Haar / LBP cascades (detect/cascade_*.c), on equalised gray as OpenCV's sample ---- */

typedef struct {
    ferc_cascade *cascade;
    int shared; /* cascade belongs to the detector this one was cloned from */
    ferc_detect_params params;
    ferc_box *rects;
    int cap;
} cascade_kind;

static void cascade_destroy(void *state)
{
    cascade_kind *k = state;
    if (!k->shared) ferc_cascade_free(k->cascade);
    free(k->rects);
    free(k);
}

static ferc_status cascade_create(const ferc_detector_options *o, const char *want, void **state, ferc_error *err)
{
    if (o->scale_factor < 0 || (o->scale_factor > 0 && o->scale_factor <= 1.0) || o->min_neighbors < 0 ||
        o->min_size < 0)
        return ferc_set_error(err, FERC_ERR_ARG, "scale factor must be > 1, min neighbours and min size >= 0");
    char buf[1024];
    const char *path;
    ferc_status s = model_file(o, ferc_default_file("detector", want), buf, sizeof buf, &path, err);
    if (s) return s;
    cascade_kind *k = calloc(1, sizeof *k);
    if (!k) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    s = ferc_cascade_load(path, &k->cascade, err);
    if (!s && strcmp(ferc_cascade_kind(k->cascade), want))
        s = ferc_set_error(err, FERC_ERR_ARG, "%s: is a %s cascade, detector %s was asked for", path,
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

static ferc_status cascade_clone(const void *state, void **out, ferc_error *err)
{
    const cascade_kind *from = state;
    cascade_kind *k = calloc(1, sizeof *k);
    if (!k) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    k->cascade = from->cascade, k->shared = 1, k->params = from->params;
    *out = k;
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
        ferc_box *r = realloc(k->rects, sizeof *r * (size_t)n);
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
            if ((double)k->rects[j].w * k->rects[j].h > (double)k->rects[best].w * k->rects[best].h) best = j;
        ferc_box t = k->rects[i];
        k->rects[i] = k->rects[best], k->rects[best] = t;
        boxes[(*count)++] = k->rects[i];
    }
    return FERC_OK;
}

/* ---- none: the whole image is one face (an already-cropped face, as FER2013's) ---- */

static ferc_status none_create(const ferc_detector_options *o, void **state, ferc_error *err)
{
    *state = NULL;
    return FERC_OK;
}

static ferc_status none_detect(void *state, const ferc_image *img, ferc_box *boxes, int max_boxes, int *count,
                               ferc_error *err)
{
    *count = 0;
    if (max_boxes > 0)
        boxes[(*count)++] = (ferc_box){.x = 0, .y = 0, .w = (float)img->width, .h = (float)img->height, .score = 1.0f};
    return FERC_OK;
}

static ferc_status none_clone(const void *state, void **out, ferc_error *err)
{
    *out = NULL;
    return FERC_OK;
}

/* Kinds in the order `ferc --help` lists them. The cascades' boxes sit on the face much as
 * the SSD's do, so they share its framing. */
static const ferc_detector_kind kinds[] = {
    {.name = "ssd", .create = ssd_create, .detect = ssd_detect, .clone = ssd_clone, .destroy = ssd_destroy,
     .framing = FERC_FRAMING_RES10},
    {.name = "yunet", .create = yunet_create, .detect = yunet_detect, .clone = yunet_clone, .destroy = yunet_destroy,
     .framing = FERC_FRAMING_YUNET, .eyes = yunet_eyes},
    {.name = "haar", .create = haar_create, .detect = cascade_detect, .clone = cascade_clone,
     .destroy = cascade_destroy, .framing = FERC_FRAMING_RES10},
    {.name = "lbp", .create = lbp_create, .detect = cascade_detect, .clone = cascade_clone,
     .destroy = cascade_destroy, .framing = FERC_FRAMING_RES10},
    {.name = "none", .create = none_create, .detect = none_detect, .clone = none_clone, .framing = FERC_FRAMING_BOX},
};

struct ferc_detector {
    const ferc_detector_kind *kind; /* NULL for a function detector */
    void *state;
    ferc_detect_fn fn;
    void *user;
    ferc_framing framing;
};

ferc_status ferc_detector_create(const ferc_detector_options *opt, ferc_detector **out, ferc_error *err)
{
    if (!out) return ferc_set_error(err, FERC_ERR_ARG, "no output pointer");
    *out = NULL;
    ferc_detector_options o = {0};
    if (opt) o = *opt;
    const char *name = o.kind ? o.kind : FERC_DEFAULT_DETECTOR;
    const ferc_detector_kind *k = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kinds[i].name, name)) k = &kinds[i];
    if (!k) return ferc_set_error(err, FERC_ERR_ARG, "unknown detector '%s' (ssd, yunet, haar, lbp or none)", name);
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

ferc_status ferc_detector_from_function(ferc_detect_fn fn, void *user, ferc_framing framing, ferc_detector **out,
                                        ferc_error *err)
{
    if (!fn || !out) return ferc_set_error(err, FERC_ERR_ARG, "no function or output pointer");
    if (framing != FERC_FRAMING_BOX && framing != FERC_FRAMING_RES10 && framing != FERC_FRAMING_YUNET)
        return ferc_set_error(err, FERC_ERR_ARG, "unknown framing %d", (int)framing);
    *out = calloc(1, sizeof **out);
    if (!*out) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    (*out)->fn = fn;
    (*out)->user = user;
    (*out)->framing = framing;
    return FERC_OK;
}

ferc_status ferc_detector_clone(const ferc_detector *d, ferc_detector **out, ferc_error *err)
{
    if (!d || !out) return ferc_set_error(err, FERC_ERR_ARG, "no detector or output pointer");
    ferc_detector *c = calloc(1, sizeof *c);
    if (!c) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    *c = *d;
    c->state = NULL;
    ferc_status s = d->kind ? d->kind->clone(d->state, &c->state, err) : FERC_OK;
    if (s) {
        free(c);
        return s;
    }
    *out = c;
    return FERC_OK;
}

ferc_framing ferc_detector_framing(const ferc_detector *d) { return d ? d->framing : FERC_FRAMING_BOX; }

ferc_status ferc_detector_eyes(ferc_detector *d, const ferc_image *gray, const ferc_box *box, ferc_eyes *eyes,
                               ferc_error *err)
{
    if (!gray || !gray->data || gray->channels != 1 || !box || !eyes)
        return ferc_set_error(err, FERC_ERR_ARG, "detector_eyes: needs a gray image, a box and an output");
    memset(eyes, 0, sizeof *eyes);
    return d && d->kind && d->kind->eyes ? d->kind->eyes(d->state, gray, box, eyes, err) : FERC_OK;
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

void ferc_detector_free(ferc_detector *d)
{
    if (!d) return;
    if (d->kind && d->kind->destroy) d->kind->destroy(d->state);
    free(d);
}
