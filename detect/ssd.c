/* ssd.c - the res10 SSD face detector: the network runs on the engine (weights/face_res10.ferc,
 * made by tools/model/convert_res10.py); prior boxes and detection output are computed here with
 * OpenCV 4.6's PriorBox and DetectionOutput semantics, from the "ssd.*" metadata of the file.
 *
 * PriorBox, per head with a feature map of fh x fw and a network input of W x H: for each
 * cell (y, x) in row-major order, centre c = ((x + offset) * step, (y + offset) * step) in
 * input pixels, and boxes (in order) of size min x min, sqrt(min*max) squared, then
 * min*sqrt(ar) x min/sqrt(ar) for each aspect ratio ar and its flip 1/ar; each box written
 * as ((cx - w/2) / W, (cy - h/2) / H, (cx + w/2) / W, (cy + h/2) / H), not clipped.
 *
 * DetectionOutput (one class besides background, shared locations, CENTER_SIZE code):
 *   decode: prior centre/size (pcx, pcy, pw, ph), prediction (l0..l3), variances v0..v3:
 *     cx = v0 l0 pw + pcx, cy = v1 l1 ph + pcy, w = exp(v2 l2) pw, h = exp(v3 l3) ph,
 *     box = (cx - w/2, cy - h/2, cx + w/2, cy + h/2);
 *   candidates: priors with face score > confidence_threshold, stably sorted by score
 *     (descending), the first top_k;
 *   NMS: walk the candidates in order, keep one if its IoU with every box kept so far is
 *     <= nms_threshold (IoU of normalised boxes: no +1 on sides, 0 if they do not overlap);
 *   keep at most keep_top_k (already in score order). */
#include "detect/nms.h"
#include "detect/ssd.h"
#include "nn/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADS 8
#define MAX_AR 4

typedef struct {
    int value;          /* feature-map value the priors follow */
    float min, max, step, offset;
    int n_ar;
    float ar[MAX_AR];
} ssd_head;

struct ferc_ssd {
    ferc_model *model;
    int n_heads;
    ssd_head heads[MAX_HEADS];
    float variance[4];
    float conf_threshold, nms_threshold;
    int top_k, keep_top_k;
    int loc_out, conf_out; /* output indices */
    float mean[3];         /* subtracted from B, G, R */
};

/* What one network input size needs. */
typedef struct {
    int width, height;    /* network input the slot is prepared for (0: none) */
    unsigned last_use;
    ferc_context *ctx;
    int n_priors;
    float *priors;        /* 8 * n_priors: boxes then variances */
    float *input;         /* width * height * 3 */
    int *cand, *sort_tmp; /* n_priors each */
    float *cand_score;    /* n_priors */
    ferc_ssd_det *kept;   /* up to keep_top_k */
    ferc_ssd_det *dets;   /* decoded candidates, top_k */
} ssd_slot;

/* Two slots, so that the automatic mode's two input sizes do not rebuild contexts. */
struct ferc_ssd_state {
    ssd_slot slot[2];
    ssd_slot *cur;         /* the slot ferc_ssd_prepare chose */
    unsigned tick;
    ferc_ssd_det *found;  /* detections of all passes before merging, image pixels */
    int found_cap;
};

static ferc_status meta_error(ferc_error *err, const char *key)
{
    return ferc_set_error(err, FERC_ERR_FORMAT, "not an SSD detector file: metadata '%s' missing or malformed", key);
}

static int find_value(const ferc_model *m, const char *name)
{
    for (int i = 0; i < m->n_values; i++)
        if (!strcmp(m->values[i].name, name)) return i;
    return -1;
}

static ferc_status parse_meta(ferc_ssd *d, ferc_error *err)
{
    const ferc_model *m = d->model;
    const char *v;
    if (!(v = ferc_model_meta(m, "ssd.heads")) || sscanf(v, "%d", &d->n_heads) != 1 || d->n_heads < 1 ||
        d->n_heads > MAX_HEADS)
        return meta_error(err, "ssd.heads");
    for (int i = 0; i < d->n_heads; i++) {
        char key[32], name[128];
        snprintf(key, sizeof key, "ssd.head%d", i);
        ssd_head *h = &d->heads[i];
        int used = 0;
        if (!(v = ferc_model_meta(m, key)) ||
            sscanf(v, "%127s %f %f %f %f%n", name, &h->min, &h->max, &h->step, &h->offset, &used) != 5)
            return meta_error(err, key);
        for (v += used; h->n_ar < MAX_AR;) {
            int k = 0;
            if (sscanf(v, "%f%n", &h->ar[h->n_ar], &k) != 1) break;
            v += k;
            if (!(h->ar[h->n_ar] > 0 && h->ar[h->n_ar] < 100)) return meta_error(err, key);
            h->n_ar++;
        }
        if ((h->value = find_value(m, name)) < 0 || !(h->min > 0 && h->max >= h->min && h->max < 1e5f) ||
            !(h->step > 0 && h->step < 1e5f) || !(h->offset >= 0 && h->offset <= 1))
            return meta_error(err, key);
    }
    if (!(v = ferc_model_meta(m, "ssd.variance")) ||
        sscanf(v, "%f %f %f %f", &d->variance[0], &d->variance[1], &d->variance[2], &d->variance[3]) != 4)
        return meta_error(err, "ssd.variance");
    if (!(v = ferc_model_meta(m, "ssd.confidence_threshold")) || sscanf(v, "%f", &d->conf_threshold) != 1)
        return meta_error(err, "ssd.confidence_threshold");
    if (!(v = ferc_model_meta(m, "ssd.nms_threshold")) || sscanf(v, "%f", &d->nms_threshold) != 1)
        return meta_error(err, "ssd.nms_threshold");
    if (!(v = ferc_model_meta(m, "ssd.top_k")) || sscanf(v, "%d", &d->top_k) != 1 || d->top_k < 1 || d->top_k > 100000)
        return meta_error(err, "ssd.top_k");
    if (!(v = ferc_model_meta(m, "ssd.keep_top_k")) || sscanf(v, "%d", &d->keep_top_k) != 1 || d->keep_top_k < 1 ||
        d->keep_top_k > d->top_k)
        return meta_error(err, "ssd.keep_top_k");
    if (!(v = ferc_model_meta(m, "mean")) || sscanf(v, "%f %f %f", &d->mean[0], &d->mean[1], &d->mean[2]) != 3)
        return meta_error(err, "mean");
    d->loc_out = d->conf_out = -1;
    for (int i = 0; i < ferc_model_num_outputs(m); i++) {
        if (!strcmp(ferc_model_output_name(m, i), "mbox_loc")) d->loc_out = i;
        if (!strcmp(ferc_model_output_name(m, i), "mbox_conf_flatten")) d->conf_out = i;
    }
    if (d->loc_out < 0 || d->conf_out < 0 || ferc_model_num_inputs(m) != 1)
        return ferc_set_error(err, FERC_ERR_FORMAT, "not an SSD detector file: needs one input and outputs mbox_loc, mbox_conf_flatten");
    int nd;
    int64_t dims[4];
    ferc_model_input_shape(m, 0, &nd, dims);
    if (nd != 4 || dims[3] != 3) return ferc_set_error(err, FERC_ERR_FORMAT, "SSD input must be NHWC with 3 channels");
    return FERC_OK;
}

ferc_status ferc_ssd_load(const char *path, ferc_ssd **out, ferc_error *err)
{
    if (!path || !out) return ferc_set_error(err, FERC_ERR_ARG, "no path or output pointer");
    *out = NULL;
    ferc_ssd *d = calloc(1, sizeof *d);
    if (!d) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    ferc_status s = ferc_model_load(path, &d->model, err);
    if (!s && (s = parse_meta(d, err))) ferc_error_prefix(err, path);
    if (s) {
        ferc_ssd_free(d);
        return s;
    }
    *out = d;
    return FERC_OK;
}

void ferc_ssd_free(ferc_ssd *d)
{
    if (!d) return;
    ferc_model_free(d->model);
    free(d);
}

ferc_status ferc_ssd_state_create(const ferc_ssd *d, ferc_ssd_state **out, ferc_error *err)
{
    if (!d || !out) return ferc_set_error(err, FERC_ERR_ARG, "no detector or output pointer");
    *out = calloc(1, sizeof **out);
    return *out ? FERC_OK : ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
}

static void release(ssd_slot *s)
{
    ferc_context_free(s->ctx);
    free(s->priors);
    ferc_free(s->input);
    free(s->cand);
    free(s->sort_tmp);
    free(s->cand_score);
    free(s->kept);
    free(s->dets);
    memset(s, 0, sizeof *s);
}

void ferc_ssd_state_free(ferc_ssd_state *s)
{
    if (!s) return;
    release(&s->slot[0]);
    release(&s->slot[1]);
    free(s->found);
    free(s);
}

/* Box sizes of one cell of head h, in OpenCV's order. Returns the count. */
static int cell_boxes(const ssd_head *h, float *bw, float *bh)
{
    int n = 0;
    bw[n] = bh[n] = h->min, n++;
    bw[n] = bh[n] = sqrtf(h->min * h->max), n++;
    for (int i = 0; i < h->n_ar; i++) {
        const float ars[2] = {h->ar[i], 1.f / h->ar[i]};
        for (int k = 0; k < 2; k++) {
            bw[n] = h->min * sqrtf(ars[k]);
            bh[n] = h->min / sqrtf(ars[k]);
            n++;
        }
    }
    return n;
}

static ferc_status make_priors(const ferc_ssd *d, ssd_slot *s, const ferc_shape *shapes,
                               ferc_error *err)
{
    int64_t total = 0;
    float bw[2 + 2 * MAX_AR], bh[2 + 2 * MAX_AR];
    for (int i = 0; i < d->n_heads; i++) {
        const ferc_shape *fs = &shapes[d->heads[i].value];
        if (fs->ndim != 4) return ferc_set_error(err, FERC_ERR_FORMAT, "prior source is not a feature map");
        total += fs->d[1] * fs->d[2] * cell_boxes(&d->heads[i], bw, bh);
    }
    const ferc_shape *loc = &shapes[d->model->outputs[d->loc_out]], *conf = &shapes[d->model->outputs[d->conf_out]];
    if (loc->ndim != 2 || conf->ndim != 2 || loc->d[1] != 4 * total || conf->d[1] != 2 * total)
        return ferc_set_error(err, FERC_ERR_FORMAT, "%lld priors do not match the heads' outputs", (long long)total);
    s->n_priors = (int)total;
    if (!(s->priors = malloc(sizeof(float) * 8 * (size_t)total))) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    float *p = s->priors, *v = s->priors + 4 * total;
    const float W = (float)s->width, H = (float)s->height;
    for (int i = 0; i < d->n_heads; i++) {
        const ssd_head *h = &d->heads[i];
        const int nb = cell_boxes(h, bw, bh), fh = (int)shapes[h->value].d[1], fw = (int)shapes[h->value].d[2];
        for (int y = 0; y < fh; y++)
            for (int x = 0; x < fw; x++) {
                const float cx = ((float)x + h->offset) * h->step, cy = ((float)y + h->offset) * h->step;
                for (int b = 0; b < nb; b++) {
                    *p++ = (cx - bw[b] * 0.5f) / W;
                    *p++ = (cy - bh[b] * 0.5f) / H;
                    *p++ = (cx + bw[b] * 0.5f) / W;
                    *p++ = (cy + bh[b] * 0.5f) / H;
                    for (int k = 0; k < 4; k++) *v++ = d->variance[k];
                }
            }
    }
    return FERC_OK;
}

ferc_status ferc_ssd_prepare(const ferc_ssd *d, ferc_ssd_state *state, int width, int height,
                             ferc_error *err)
{
    state->tick++;
    for (int i = 0; i < 2; i++) {
        ssd_slot *sl = &state->slot[i];
        if (sl->ctx && sl->width == width && sl->height == height) {
            sl->last_use = state->tick;
            state->cur = sl;
            return FERC_OK;
        }
    }
    /* Activation memory grows with the area: 5.5 MB at 300x300, 256 MB at 2048x2048. */
    if (width < 16 || height < 16 || width > 2048 || height > 2048)
        return ferc_set_error(err, FERC_ERR_ARG, "detector input %dx%d out of range (16..2048)", width, height);
    ssd_slot *s = state->slot[0].last_use <= state->slot[1].last_use ? &state->slot[0] : &state->slot[1];
    release(s);
    state->cur = NULL;
    s->width = width, s->height = height;
    s->last_use = state->tick;
    ferc_context_options opt = {.max_batch = 1, .height = height, .width = width};
    ferc_shape *shapes = malloc(sizeof *shapes * (size_t)d->model->n_values);
    ferc_status st;
    if (!shapes) st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    else if (!(st = ferc_context_create(d->model, &opt, &s->ctx, err)) &&
             !(st = ferc_graph_infer(d->model, 1, height, width, shapes, err)))
        st = make_priors(d, s, shapes, err);
    free(shapes);
    if (!st) {
        s->input = ferc_alloc(sizeof(float) * 3 * (size_t)width * height);
        s->cand = malloc(sizeof(int) * (size_t)s->n_priors);
        s->sort_tmp = malloc(sizeof(int) * (size_t)s->n_priors);
        s->cand_score = malloc(sizeof(float) * (size_t)s->n_priors);
        s->kept = malloc(sizeof(ferc_ssd_det) * (size_t)d->keep_top_k);
        s->dets = malloc(sizeof(ferc_ssd_det) * (size_t)d->top_k);
        if (!s->input || !s->cand || !s->sort_tmp || !s->cand_score || !s->kept || !s->dets)
            st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    }
    if (st) release(s);
    else state->cur = s;
    return st;
}

const float *ferc_ssd_priors(const ferc_ssd_state *s, int *count)
{
    *count = s->cur ? s->cur->n_priors : 0;
    return s->cur ? s->cur->priors : NULL;
}

ferc_context *ferc_ssd_context(ferc_ssd_state *s) { return s->cur ? s->cur->ctx : NULL; }

static float box_area(const ferc_ssd_det *b)
{
    return b->x1 < b->x0 || b->y1 < b->y0 ? 0.f : (b->x1 - b->x0) * (b->y1 - b->y0);
}

static float iou(const ferc_ssd_det *a, const ferc_ssd_det *b)
{
    if (b->x0 > a->x1 || b->x1 < a->x0 || b->y0 > a->y1 || b->y1 < a->y0) return 0.f;
    const float w = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0), h = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
    if (!(w > 0 && h > 0)) return 0.f;
    const float inter = w * h;
    return inter / (box_area(a) + box_area(b) - inter);
}

int ferc_ssd_detection_output(const ferc_ssd *d, ferc_ssd_state *state, const float *loc, const float *conf,
                              ferc_ssd_det *out, int max)
{
    ssd_slot *s = state->cur;
    if (!s) return 0;
    const int P = s->n_priors;
    int n = 0;
    for (int p = 0; p < P; p++)
        if (conf[2 * p + 1] > d->conf_threshold) s->cand[n++] = p;
    for (int p = 0; p < P; p++) s->cand_score[p] = conf[2 * p + 1];
    ferc_sort_by_score(s->cand, s->cand_score, n, s->sort_tmp);
    if (n > d->top_k) n = d->top_k;
    const float *pr = s->priors, *var = s->priors + 4 * (size_t)P;
    for (int i = 0; i < n; i++) {
        const int p = s->cand[i];
        const float *b = pr + 4 * p, *v = var + 4 * p, *l = loc + 4 * p;
        const float pw = b[2] - b[0], ph = b[3] - b[1];
        const float pcx = (b[0] + b[2]) * 0.5f, pcy = (b[1] + b[3]) * 0.5f;
        const float cx = v[0] * l[0] * pw + pcx, cy = v[1] * l[1] * ph + pcy;
        const float w = expf(v[2] * l[2]) * pw, h = expf(v[3] * l[3]) * ph;
        ferc_ssd_det *o = &s->dets[i];
        o->score = s->cand_score[p];
        o->x0 = cx - w * 0.5f, o->y0 = cy - h * 0.5f, o->x1 = cx + w * 0.5f, o->y1 = cy + h * 0.5f;
    }
    int kept = 0;
    for (int i = 0; i < n && kept < d->keep_top_k; i++) {
        int keep = 1;
        for (int k = 0; k < kept && keep; k++) keep = iou(&s->dets[i], &s->kept[k]) <= d->nms_threshold;
        if (keep) s->kept[kept++] = s->dets[i];
    }
    for (int i = 0; i < kept && i < max; i++) out[i] = s->kept[i];
    return kept;
}

int ferc_ssd_auto_sizes(int image_width, int image_height, int sizes[2][2])
{
    sizes[0][0] = sizes[0][1] = FERC_SSD_DEFAULT_SIZE;
    const int longest = image_width > image_height ? image_width : image_height;
    if (longest <= 400) return 1;
    /* The image at its own scale, long side at most 1024, for the faces 300x300 loses. */
    const double k = longest > 1024 ? 1024.0 / longest : 1.0;
    sizes[1][0] = (int)lround(image_width * k), sizes[1][1] = (int)lround(image_height * k);
    for (int i = 0; i < 2; i++) sizes[1][i] = sizes[1][i] < 16 ? 16 : sizes[1][i];
    return 2;
}

/* One pass at a w x h input: appends detections above the threshold to s->found (pixels). */
static ferc_status run_pass(const ferc_ssd *d, ferc_ssd_state *state, const ferc_image *img, int w, int h,
                            const ferc_ssd_options *o, int *n_found, ferc_error *err)
{
    ferc_status st = ferc_ssd_prepare(d, state, w, h, err);
    if (st) return st;
    ssd_slot *s = state->cur;
    if (o->threads > 0) ferc_context_set_threads(s->ctx, o->threads);

    /* As OpenCV's sample: cv2.resize to the input size (bilinear), then blobFromImage with
     * the mean subtracted, channels in BGR order. */
    ferc_image small = *img;
    if (img->width != w || img->height != h) {
        if ((st = ferc_image_resize(img, w, h, FERC_RESIZE_LINEAR, &small, err))) return st;
    }
    const int cn = small.channels;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const uint8_t *p = small.data + i * cn;
        const float r = p[0], g = p[cn > 1 ? 1 : 0], b = p[cn > 1 ? 2 : 0];
        s->input[3 * i + 0] = b - d->mean[0];
        s->input[3 * i + 1] = g - d->mean[1];
        s->input[3 * i + 2] = r - d->mean[2];
    }
    if (small.data != img->data) ferc_image_free(&small);
    const float *inputs[1] = {s->input};
    if ((st = ferc_run(s->ctx, inputs, 1, err))) return st;
    ferc_tensor loc, conf;
    ferc_output(s->ctx, d->loc_out, &loc);
    ferc_output(s->ctx, d->conf_out, &conf);
    const int kept = ferc_ssd_detection_output(d, state, loc.data, conf.data, NULL, 0); /* into s->kept */
    for (int i = 0; i < kept; i++) {
        const ferc_ssd_det *k = &s->kept[i];
        if (!(k->score > o->threshold)) continue;
        ferc_ssd_det *b = &state->found[(*n_found)++];
        b->x0 = k->x0 * (float)img->width, b->y0 = k->y0 * (float)img->height;
        b->x1 = k->x1 * (float)img->width, b->y1 = k->y1 * (float)img->height;
        b->score = k->score;
    }
    return FERC_OK;
}

ferc_status ferc_ssd_detect(const ferc_ssd *d, ferc_ssd_state *s, const ferc_image *img,
                        const ferc_ssd_options *opt, ferc_box *out, int max_faces, int *n_faces,
                        ferc_error *err)
{
    if (n_faces) *n_faces = 0;
    if (!d || !s || !img || !n_faces || (max_faces > 0 && !out) || max_faces < 0)
        return ferc_set_error(err, FERC_ERR_ARG, "detect: missing detector, state, image or output");
    if (!img->data || img->width < 1 || img->height < 1 || (img->channels != 1 && img->channels != 3) ||
        (int64_t)img->width * img->height > FERC_IMAGE_MAX_PIXELS)
        return ferc_set_error(err, FERC_ERR_ARG, "detect: not a valid gray or RGB image");
    ferc_ssd_options o = {.threshold = FERC_SSD_DEFAULT_THRESHOLD};
    if (opt) o = *opt;
    if (!(o.threshold >= 0 && o.threshold <= 1))
        return ferc_set_error(err, FERC_ERR_ARG, "detect: threshold %g is not in [0, 1]", (double)o.threshold);
    if ((o.input_width > 0) != (o.input_height > 0) || o.input_width < 0 || o.input_height < 0)
        return ferc_set_error(err, FERC_ERR_ARG, "detect: give both input width and height, or neither");
    int sizes[2][2] = {{o.input_width, o.input_height}, {0, 0}};
    const int passes = o.input_width ? 1 : ferc_ssd_auto_sizes(img->width, img->height, sizes);
    if (s->found_cap < passes * d->keep_top_k) {
        free(s->found);
        s->found_cap = 0;
        if (!(s->found = malloc(sizeof(ferc_ssd_det) * (size_t)(passes * d->keep_top_k))))
            return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        s->found_cap = passes * d->keep_top_k;
    }
    int n = 0;
    for (int p = 0; p < passes; p++) {
        const int before = n;
        ferc_status st = run_pass(d, s, img, sizes[p][0], sizes[p][1], &o, &n, err);
        if (st) return st;
        /* Later passes only add faces no earlier box covers (IoU <= the NMS threshold); an
         * overlapping better box replaces the earlier one. */
        for (int i = before; i < n; i++) {
            int dup = -1;
            for (int k = 0; k < before && dup < 0; k++)
                if (iou(&s->found[i], &s->found[k]) > d->nms_threshold) dup = k;
            if (dup >= 0) {
                if (s->found[i].score > s->found[dup].score) s->found[dup] = s->found[i];
                s->found[i].score = -1.f; /* dropped */
            }
        }
        int w = before;
        for (int i = before; i < n; i++)
            if (s->found[i].score >= 0) s->found[w++] = s->found[i];
        n = w;
    }
    /* Best first (a single pass is already in OpenCV's order; insertion sort is stable). */
    for (int i = 1; i < n; i++) {
        ferc_ssd_det b = s->found[i];
        int j = i;
        for (; j > 0 && s->found[j - 1].score < b.score; j--) s->found[j] = s->found[j - 1];
        s->found[j] = b;
    }
    for (int i = 0; i < n && i < max_faces; i++) {
        const ferc_ssd_det *f = &s->found[i];
        out[i] = (ferc_box){.x = f->x0, .y = f->y0, .w = f->x1 - f->x0, .h = f->y1 - f->y0, .score = f->score};
    }
    *n_faces = n;
    return FERC_OK;
}
