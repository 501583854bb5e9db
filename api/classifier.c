/* classifier.c - runs an emotion model on gray face crops: reads the preprocessing from the
 * model's metadata (optional CLAHE, then mean/std), normalises, runs the engine in batches,
 * optionally averages over views of each face (test-time augmentation: the mirror image, or
 * ten crops), and reports probabilities in FER2013 order. */
#include "ferc.h"
#include "nn/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const emotion_names[FERC_NUM_EMOTIONS] = {"angry", "disgust", "fear", "happy",
                                                             "sad",   "surprise", "neutral"};

const char *ferc_emotion_name(int e) { return e >= 0 && e < FERC_NUM_EMOTIONS ? emotion_names[e] : NULL; }

int ferc_emotion_from_name(const char *name)
{
    if (!name) return -1;
    if (name[0] >= '0' && name[0] <= '6' && !name[1]) return name[0] - '0';
    for (int i = 0; i < FERC_NUM_EMOTIONS; i++)
        if (!strcasecmp(name, emotion_names[i])) return i;
    return -1;
}

static const char *const tta_names[FERC_NUM_TTA_MODES] = {"none", "flip", "crops", "centre"};

int ferc_tta_from_name(const char *name)
{
    for (int i = 0; name && i < FERC_NUM_TTA_MODES; i++)
        if (!strcmp(name, tta_names[i])) return i;
    return -1;
}

const char *ferc_tta_name(int tta) { return tta >= 0 && tta < FERC_NUM_TTA_MODES ? tta_names[tta] : NULL; }

int ferc_tta_views(int tta)
{
    static const int views[FERC_NUM_TTA_MODES] = {1, 2, 12, 4}; /* put_views below makes them */
    return tta >= 0 && tta < FERC_NUM_TTA_MODES ? views[tta] : 0;
}

struct ferc_classifier {
    const ferc_model *model;
    ferc_classifier_options opt; /* as given, for ferc_classifier_clone */
    ferc_context *ctx;
    int width, height, max_batch, views, softmax; /* views: per face, from the TTA mode */
    int map[FERC_NUM_EMOTIONS]; /* model output k -> ferc_emotion */
    float mean, std;
    double clahe_clip;          /* "clahe" metadata: a model trained on CLAHE'd faces */
    int clahe_grid;             /* 0: no CLAHE */
    int equalize;               /* "equalize" metadata: a model trained on histogram-equalised faces */
    uint8_t *eq;                /* one face after CLAHE or equalisation */
    uint8_t *crop;              /* one resized crop (FERC_TTA_CROPS, _CENTRE) */
    float *input;               /* max_batch x views normalised faces */
};

/* "labels" metadata: seven comma-separated names, each emotion once. */
static ferc_status parse_labels(const char *s, int *map, ferc_error *err)
{
    int seen[FERC_NUM_EMOTIONS] = {0}, k = 0;
    const char *p = s;
    while (k < FERC_NUM_EMOTIONS) {
        while (*p == ' ') p++;
        const char *end = p + strcspn(p, ",");
        char name[32];
        size_t len = (size_t)(end - p);
        while (len && p[len - 1] == ' ') len--;
        if (len >= sizeof name) len = sizeof name - 1;
        memcpy(name, p, len);
        name[len] = 0;
        int e = ferc_emotion_from_name(name);
        if (e < 0 || seen[e])
            return ferc_set_error(err, FERC_ERR_UNSUPPORTED, "labels \"%s\": '%s' is %s", s, name,
                                  e < 0 ? "not one of the seven emotions" : "listed twice");
        seen[e] = 1;
        map[k++] = e;
        if (!*end) break;
        p = end + 1;
    }
    if (k != FERC_NUM_EMOTIONS || strchr(p, ','))
        return ferc_set_error(err, FERC_ERR_UNSUPPORTED, "labels \"%s\" must name the seven emotions", s);
    return FERC_OK;
}

static ferc_status parse_float(const char *s, const char *key, float *out, ferc_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || errno || !isfinite(v))
        return ferc_set_error(err, FERC_ERR_FORMAT, "metadata %s=\"%s\" is not a number", key, s);
    *out = (float)v;
    return FERC_OK;
}

/* "clahe" metadata, "CLIP,GRID" as tools/model/train.py --clahe wrote it: the model was trained on
 * faces after cv2.createCLAHE(CLIP, (GRID, GRID)), so every face gets the same here. */
static ferc_status parse_clahe(const char *s, double *clip, int *grid, ferc_error *err)
{
    *clip = 0, *grid = 0;
    if (!s) return FERC_OK;
    char *end;
    errno = 0;
    double c = strtod(s, &end);
    long g = 0;
    if (end != s && *end == ',' && !errno) g = strtol(end + 1, &end, 10);
    if (*end || errno || !(c > 0 && c <= 1000) || g < 1 || g > 64)
        return ferc_set_error(err, FERC_ERR_FORMAT,
                              "metadata clahe=\"%s\" must be CLIP,GRID with 0 < CLIP <= 1000 and 1 <= GRID <= 64", s);
    *clip = c, *grid = (int)g;
    return FERC_OK;
}

/* Checks that the model is an emotion classifier and reads its preprocessing. */
static ferc_status inspect(ferc_classifier *c, const ferc_model *m, ferc_error *err)
{
    const char *task = ferc_model_meta(m, "task");
    if (task && strcmp(task, "emotion"))
        return ferc_set_error(err, FERC_ERR_UNSUPPORTED, "model task is '%s', an emotion classifier needs 'emotion'",
                              task);
    if (ferc_model_num_nodes(m) == 0)
        return ferc_set_error(err, FERC_ERR_UNSUPPORTED, "file holds tensors only, not a model");
    if (ferc_model_num_inputs(m) != 1 || ferc_model_num_outputs(m) != 1)
        return ferc_set_error(err, FERC_ERR_UNSUPPORTED, "model has %d inputs and %d outputs, a classifier has 1 and 1",
                              ferc_model_num_inputs(m), ferc_model_num_outputs(m));
    int ndim;
    int64_t in[4], out[4];
    ferc_model_input_shape(m, 0, &ndim, in);
    if (ndim != 4 || in[3] != 1)
        return ferc_set_error(err, FERC_ERR_UNSUPPORTED, "model input must be [N, H, W, 1] gray, is %d-D with %lld channels",
                              ndim, ndim == 4 ? (long long)in[3] : 0LL);
    c->height = (int)in[1], c->width = (int)in[2];
    ferc_model_output_shape(m, 0, &ndim, out);
    int64_t k = 1;
    for (int d = 1; d < ndim; d++) k *= out[d]; /* scores per face: all but the batch */
    if (k != FERC_NUM_EMOTIONS)
        return ferc_set_error(err, FERC_ERR_UNSUPPORTED, "model gives %lld scores per face, expected %d emotions",
                              (long long)k, FERC_NUM_EMOTIONS);
    const char *last = ferc_model_output_op(m, 0);
    c->softmax = !(last && !strcmp(last, "softmax"));
    const char *labels = ferc_model_meta(m, "labels");
    if (labels) {
        ferc_status s = parse_labels(labels, c->map, err);
        if (s) return s;
    } else {
        for (int i = 0; i < FERC_NUM_EMOTIONS; i++) c->map[i] = i;
    }
    c->mean = 0, c->std = 1;
    const char *mean = ferc_model_meta(m, "mean"), *std = ferc_model_meta(m, "std");
    ferc_status s;
    if (mean && (s = parse_float(mean, "mean", &c->mean, err))) return s;
    if (std && (s = parse_float(std, "std", &c->std, err))) return s;
    if (!(c->std > 0)) return ferc_set_error(err, FERC_ERR_FORMAT, "metadata std=%g must be positive", c->std);
    const char *eqs = ferc_model_meta(m, "equalize");
    if (eqs) {
        if (strcmp(eqs, "0") && strcmp(eqs, "1"))
            return ferc_set_error(err, FERC_ERR_FORMAT, "metadata equalize=\"%s\" must be 0 or 1", eqs);
        c->equalize = eqs[0] == '1';
    }
    s = parse_clahe(ferc_model_meta(m, "clahe"), &c->clahe_clip, &c->clahe_grid, err);
    if (!s && c->equalize && c->clahe_grid)
        return ferc_set_error(err, FERC_ERR_FORMAT, "metadata asks for both equalize and clahe; a model is trained on one");
    return s;
}

ferc_status ferc_classifier_create(const ferc_model *model, const ferc_classifier_options *opt, ferc_classifier **out,
                                   ferc_error *err)
{
    if (!model || !out) return ferc_set_error(err, FERC_ERR_ARG, "no model or output pointer");
    *out = NULL;
    ferc_classifier_options o = {.tta = 0};
    if (opt) o = *opt;
    if (o.max_batch <= 0) o.max_batch = 16;
    if (o.max_batch > 4096) return ferc_set_error(err, FERC_ERR_ARG, "max_batch %d is above 4096", o.max_batch);
    ferc_classifier *c = calloc(1, sizeof *c);
    if (!c) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    c->model = model;
    c->opt = o;
    c->views = ferc_tta_views(o.tta);
    c->max_batch = o.max_batch;
    ferc_status s = !c->views
                        ? ferc_set_error(err, FERC_ERR_ARG, "tta %d: expected 0 (none), 1 (flip), 2 (crops) or 3 (centre)", o.tta)
                        : inspect(c, model, err);
    if (!s) {
        /* All views of a batch's faces go through in one engine run. */
        ferc_context_options co = {.max_batch = c->max_batch * c->views, .threads = o.threads};
        s = ferc_context_create(model, &co, &c->ctx, err);
    }
    if (!s) {
        const size_t px = (size_t)c->width * c->height;
        c->input = malloc(sizeof(float) * px * c->max_batch * c->views);
        int need_eq = c->clahe_grid || c->equalize, need_crop = c->views > 2;
        c->eq = need_eq ? malloc(px) : NULL;
        c->crop = need_crop ? malloc(px) : NULL;
        if (!c->input || (need_eq && !c->eq) || (need_crop && !c->crop))
            s = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    }
    if (s) {
        ferc_classifier_free(c);
        return s;
    }
    *out = c;
    return FERC_OK;
}

ferc_status ferc_classifier_clone(const ferc_classifier *c, ferc_classifier **out, ferc_error *err)
{
    if (!c) return ferc_set_error(err, FERC_ERR_ARG, "no classifier");
    return ferc_classifier_create(c->model, &c->opt, out, err);
}

void ferc_classifier_free(ferc_classifier *c)
{
    if (!c) return;
    ferc_context_free(c->ctx);
    free(c->input);
    free(c->eq);
    free(c->crop);
    free(c);
}

void ferc_classifier_input_size(const ferc_classifier *c, int *width, int *height)
{
    if (width) *width = c->width;
    if (height) *height = c->height;
}

static void softmax7(const float *x, float *y)
{
    float mx = x[0], sum = 0;
    for (int i = 1; i < FERC_NUM_EMOTIONS; i++) mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < FERC_NUM_EMOTIONS; i++) sum += y[i] = expf(x[i] - mx);
    for (int i = 0; i < FERC_NUM_EMOTIONS; i++) y[i] /= sum;
}

/* One view: face f (w x h, stride w) normalised into x, mirrored left to right if asked. */
static void put_view(const uint8_t *f, int w, int h, int mirror, float scale, float shift, float *x)
{
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++) x[y * w + (mirror ? w - 1 - i : i)] = f[y * w + i] * scale + shift;
}

/* The views of one face, view v at x + v * stride: the face, its mirror, then (crops) five
 * crops of 11/12 of each side (the four corners and the centre, offset half the margin
 * rounded down) resized back to w x h as cv2.resize does (bilinear), each followed by its
 * mirror: 44-px crops of a 48-px face, the usual ten-crop test of FER models plus the face;
 * (centre) only the last of the five. tools/model/compare_c_torch.py's views() is the same
 * definition in Python. */
static ferc_status put_views(ferc_classifier *c, const uint8_t *f, float scale, float shift, float *x, size_t stride,
                             ferc_error *err)
{
    const int w = c->width, h = c->height;
    put_view(f, w, h, 0, scale, shift, x);
    if (c->views == 1) return FERC_OK;
    put_view(f, w, h, 1, scale, shift, x + stride);
    if (c->views == 2) return FERC_OK;
    const int cw = (w * 11 + 6) / 12, ch = (h * 11 + 6) / 12, mx = w - cw, my = h - ch;
    const int off[5][2] = {{0, 0}, {0, mx}, {my, 0}, {my, mx}, {my / 2, mx / 2}};
    for (int k = c->opt.tta == FERC_TTA_CENTRE ? 4 : 0, v = 2; k < 5; k++, v += 2) { /* off[4]: the centre */
        ferc_status s = ferc_resize_gray(f + off[k][0] * w + off[k][1], cw, ch, w, c->crop, w, h, w, 0, err);
        if (s) return s;
        put_view(c->crop, w, h, 0, scale, shift, x + (size_t)v * stride);
        put_view(c->crop, w, h, 1, scale, shift, x + (size_t)(v + 1) * stride);
    }
    return FERC_OK;
}

ferc_status ferc_classify(ferc_classifier *c, const uint8_t *faces, int n, float *probs, ferc_error *err)
{
    if (!c || (n > 0 && (!faces || !probs)) || n < 0) return ferc_set_error(err, FERC_ERR_ARG, "bad classify arguments");
    const int w = c->width, h = c->height, px = w * h, nv = c->views;
    const float scale = 1.0f / (255.0f * c->std), shift = -c->mean / c->std;
    for (int start = 0; start < n; start += c->max_batch) {
        int b = n - start < c->max_batch ? n - start : c->max_batch;
        for (int i = 0; i < b; i++) {
            const uint8_t *f = faces + (size_t)(start + i) * px;
            if (c->clahe_grid) {
                ferc_status s = ferc_clahe(f, w, h, w, c->eq, w, c->clahe_clip, c->clahe_grid, c->clahe_grid, err);
                if (s) return s;
                f = c->eq;
            } else if (c->equalize) {
                ferc_status s = ferc_equalize_hist(f, w, h, w, c->eq, w, err);
                if (s) return s;
                f = c->eq;
            }
            /* view v of face i at v * b + i: the first b entries are the batch without TTA */
            ferc_status s = put_views(c, f, scale, shift, c->input + (size_t)i * px, (size_t)b * px, err);
            if (s) return s;
        }
        const float *in = c->input;
        ferc_status s = ferc_run(c->ctx, &in, nv * b, err);
        if (s) return s;
        ferc_tensor t;
        ferc_output(c->ctx, 0, &t);
        for (int i = 0; i < b; i++) {
            float p[FERC_NUM_EMOTIONS] = {0}, q[FERC_NUM_EMOTIONS];
            for (int v = 0; v < nv; v++) { /* the mean of the views' probabilities */
                const float *o = t.data + ((size_t)v * b + i) * FERC_NUM_EMOTIONS;
                if (c->softmax) softmax7(o, q); else memcpy(q, o, sizeof q);
                for (int k = 0; k < FERC_NUM_EMOTIONS; k++) p[k] += q[k];
            }
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++) p[k] /= (float)nv;
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++)
                if (!isfinite(p[k])) /* NaN weights, or overflow: callers print these as numbers */
                    return ferc_set_error(err, FERC_ERR_FORMAT, "model output for face %d is not finite", start + i);
            float *dst = probs + (size_t)(start + i) * FERC_NUM_EMOTIONS;
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++) dst[c->map[k]] = p[k];
        }
    }
    return FERC_OK;
}
