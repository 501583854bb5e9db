/* yunet.c - the YuNet face detector (weights/face_yunet.ferc, converted from
 * libfacedetection.train's yunet_n ONNX file): boxes with five landmarks.
 *
 * Pipeline: the image is scaled so that its long side is the input size (ferc_yunet_input_size),
 * resized as cv2.resize does (INTER_AREA to shrink, INTER_LINEAR to enlarge), zero-padded
 * right and bottom to multiples of 32 (the network downsamples 32 times), given to the
 * network as BGR 0..255 floats, and decoded as ../shared/models/yunet/README.md describes;
 * boxes are mapped back by each axis's scale. bench/yunet_ref.py is the same in Python.
 *
 * Decoding, per stride S (8, 16, 32), cell at column c and row r, anchor (c S, r S):
 *   score = cls * obj; centre = bbox[0:2] S + anchor; size = exp(bbox[2:4]) S;
 *   landmark k = kps[2k:2k+2] S + anchor;
 * then OpenCV's NMSBoxes over all strides (detect/nms.c). */
#include "detect/yunet.h"
#include "detect/image/image.h"
#include "detect/nms.h"
#include "nn/error.h"
#include "nn/tensor.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const int strides[FERC_YUNET_STRIDES] = {8, 16, 32};
static const int out_channels[4] = {1, 1, 4, 10}; /* cls, obj, bbox, kps */

const char *const ferc_yunet_output_names[FERC_YUNET_OUTPUTS] = {
    "cls_8", "cls_16", "cls_32", "obj_8", "obj_16", "obj_32",
    "bbox_8", "bbox_16", "bbox_32", "kps_8", "kps_16", "kps_32",
};

/* Below 32 there is no stride-32 cell; above 2048 the activations pass ~1 GB. */
#define MIN_SIDE 32
#define MAX_SIDE 2048
/* The automatic input size: twice the image's long side, kept within these bounds. YuNet
 * finds faces from about 20 pixels up at the network's scale; doubling finds the small
 * faces of group photos (recall 0.70 against 0.54 at the photo's own size, precision the
 * same, docs/detection.md). */
#define AUTO_SCALE 2
#define AUTO_MIN 640
#define AUTO_MAX 2048

struct ferc_yunet {
    ferc_model *model;
    int out[FERC_YUNET_OUTPUTS]; /* output index of each raw output */
};

/* A context and buffers for one padded input size. */
typedef struct {
    int width, height; /* padded network input the context is made for (0: none) */
    ferc_context *ctx;
    float *input;      /* width * height * 3, NHWC BGR: the context's own input buffer,
                          filled in place so that ferc_run copies nothing */
    void *work;        /* ferc_yunet_decode's */
} yunet_net;

struct ferc_yunet_state {
    /* The last input size's, and the one's before it: a tiled photo (detect/yunet_tiles.c)
     * alternates two sizes, and a new context costs about a quarter of a pass. */
    yunet_net net, spare;
    ferc_box *found;   /* faces in network pixels */
    int found_cap;
};

int ferc_yunet_cells(int width, int height)
{
    int n = 0;
    for (int i = 0; i < FERC_YUNET_STRIDES; i++) n += (width / strides[i]) * (height / strides[i]);
    return n;
}

size_t ferc_yunet_work_size(int width, int height)
{
    const size_t n = (size_t)ferc_yunet_cells(width, height);
    return n * (3 * sizeof(int) + sizeof(float) + sizeof(ferc_box));
}

int ferc_yunet_decode(const float *const outs[FERC_YUNET_OUTPUTS], int width, int height, float threshold,
                      float nms, int top_k, void *work, ferc_box *out, int max)
{
    const int cells = ferc_yunet_cells(width, height);
    ferc_box *dets = work;
    float *score = (float *)(dets + cells);
    int *cand = (int *)(score + cells), *tmp = cand + cells, *kept = tmp + cells;
    /* Scores of every cell, strides one after another; candidates above the threshold. */
    int n = 0;
    for (int i = 0, base = 0; i < FERC_YUNET_STRIDES; i++) {
        const int nc = (width / strides[i]) * (height / strides[i]);
        const float *cls = outs[i], *obj = outs[FERC_YUNET_STRIDES + i];
        for (int c = 0; c < nc; c++) {
            score[base + c] = cls[c] * obj[c];
            if (score[base + c] > threshold) cand[n++] = base + c;
        }
        base += nc;
    }
    ferc_sort_by_score(cand, score, n, tmp);
    if (n > top_k) n = top_k;
    for (int i = 0; i < n; i++) {
        int cell = cand[i], s = 0;
        while (cell >= (width / strides[s]) * (height / strides[s])) cell -= (width / strides[s]) * (height / strides[s]), s++;
        const int cols = width / strides[s];
        const float S = (float)strides[s], ax = (float)(cell % cols * strides[s]), ay = (float)(cell / cols * strides[s]);
        const float *bb = outs[2 * FERC_YUNET_STRIDES + s] + 4 * cell, *kp = outs[3 * FERC_YUNET_STRIDES + s] + 10 * cell;
        const float cx = bb[0] * S + ax, cy = bb[1] * S + ay, w = expf(bb[2]) * S, h = expf(bb[3]) * S;
        ferc_box *d = &dets[i];
        d->x = cx - w * 0.5f, d->y = cy - h * 0.5f, d->w = w, d->h = h;
        d->score = score[cand[i]];
        d->n_landmarks = 5;
        for (int k = 0; k < 5; k++) d->landmarks[k][0] = kp[2 * k] * S + ax, d->landmarks[k][1] = kp[2 * k + 1] * S + ay;
    }
    const int nk = ferc_nms(dets, n, nms, kept);
    for (int i = 0; i < nk && i < max; i++) out[i] = dets[kept[i]];
    return nk;
}

ferc_status ferc_yunet_load(const char *path, ferc_yunet **out, ferc_error *err)
{
    if (!path || !out) return ferc_set_error(err, FERC_ERR_ARG, "no path or output pointer");
    *out = NULL;
    ferc_yunet *d = calloc(1, sizeof *d);
    if (!d) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    ferc_status s = ferc_model_load(path, &d->model, err);
    for (int i = 0; !s && i < FERC_YUNET_OUTPUTS; i++) {
        d->out[i] = -1;
        for (int k = 0; k < ferc_model_num_outputs(d->model); k++)
            if (!strcmp(ferc_model_output_name(d->model, k), ferc_yunet_output_names[i])) d->out[i] = k;
        if (d->out[i] < 0)
            s = ferc_set_error(err, FERC_ERR_FORMAT, "%s: not a YuNet detector file: no output '%s'", path,
                               ferc_yunet_output_names[i]);
    }
    if (!s) {
        int nd;
        int64_t dims[4];
        ferc_model_input_shape(d->model, 0, &nd, dims);
        if (ferc_model_num_inputs(d->model) != 1 || nd != 4 || dims[3] != 3)
            s = ferc_set_error(err, FERC_ERR_FORMAT, "%s: not a YuNet detector file: needs one NHWC input with 3 channels",
                               path);
    }
    if (s) {
        ferc_yunet_free(d);
        return s;
    }
    *out = d;
    return FERC_OK;
}

void ferc_yunet_free(ferc_yunet *d)
{
    if (!d) return;
    ferc_model_free(d->model);
    free(d);
}

ferc_status ferc_yunet_state_create(const ferc_yunet *d, ferc_yunet_state **out, ferc_error *err)
{
    if (!d || !out) return ferc_set_error(err, FERC_ERR_ARG, "no detector or output pointer");
    *out = calloc(1, sizeof **out);
    return *out ? FERC_OK : ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
}

static void release(yunet_net *n)
{
    ferc_context_free(n->ctx);
    free(n->work);
    *n = (yunet_net){0};
}

void ferc_yunet_state_free(ferc_yunet_state *s)
{
    if (!s) return;
    release(&s->net);
    release(&s->spare);
    free(s->found);
    free(s);
}

void ferc_yunet_input_size(int width, int height, int size, int *net_width, int *net_height)
{
    const int longest = width > height ? width : height;
    const int auto_size = longest > AUTO_MAX / AUTO_SCALE ? AUTO_MAX : AUTO_SCALE * longest;
    const int target = size > 0 ? size : auto_size < AUTO_MIN ? AUTO_MIN : auto_size;
    const double k = (double)target / longest;
    *net_width = (int)floor(width * k + 0.5);
    *net_height = (int)floor(height * k + 0.5);
    if (*net_width < 1) *net_width = 1;
    if (*net_height < 1) *net_height = 1;
}

/* s->net for a padded input of width x height: kept while the size repeats, swapped with
 * s->spare when that one has it, else made anew (the older of the two is dropped). */
static ferc_status prepare(const ferc_yunet *d, ferc_yunet_state *s, int width, int height, ferc_error *err)
{
    if (s->net.ctx && s->net.width == width && s->net.height == height) return FERC_OK;
    const yunet_net last = s->net;
    s->net = s->spare, s->spare = last;
    if (s->net.ctx && s->net.width == width && s->net.height == height) return FERC_OK;
    release(&s->net);
    yunet_net *n = &s->net;
    ferc_context_options opt = {1, height, width, 0, 0};
    ferc_status st = ferc_context_create(d->model, &opt, &n->ctx, err);
    if (st) return st;
    ferc_tensor t;
    ferc_context_value(n->ctx, ferc_model_input_name(d->model, 0), &t);
    n->input = t.data;
    n->work = malloc(ferc_yunet_work_size(width, height));
    if (!n->work) {
        release(n);
        return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    }
    n->width = width, n->height = height;
    return FERC_OK;
}

/* The resized image into the padded BGR input, zeros right of and below it (every time: the
 * context reuses the input's buffer for later activations). */
static ferc_status fill_input(ferc_yunet_state *s, const ferc_image *img, int rw, int rh, ferc_error *err)
{
    ferc_image small = *img;
    if (rw != img->width || rh != img->height) {
        const int interp = rw < img->width && rh < img->height ? FERC_RESIZE_AREA : FERC_RESIZE_LINEAR;
        ferc_status st = ferc_image_resize(img, rw, rh, interp, &small, err);
        if (st) return st;
    }
    const int cn = small.channels;
    for (int y = 0; y < rh; y++) {
        const uint8_t *p = small.data + (size_t)y * rw * cn;
        float *q = s->net.input + (size_t)y * s->net.width * 3;
        for (int x = 0; x < rw; x++, p += cn, q += 3) {
            q[0] = p[cn > 1 ? 2 : 0];
            q[1] = p[cn > 1 ? 1 : 0];
            q[2] = p[0];
        }
        memset(q, 0, sizeof(float) * 3 * (size_t)(s->net.width - rw));
    }
    memset(s->net.input + (size_t)rh * s->net.width * 3, 0,
           sizeof(float) * 3 * (size_t)s->net.width * (s->net.height - rh));
    if (small.data != img->data) ferc_image_free(&small);
    return FERC_OK;
}

ferc_status ferc_yunet_detect(const ferc_yunet *d, ferc_yunet_state *s, const ferc_image *img,
                              const ferc_yunet_options *opt, ferc_box *out, int max_faces, int *n_faces,
                              ferc_error *err)
{
    if (n_faces) *n_faces = 0;
    if (!d || !s || !img || !n_faces || max_faces < 0 || (max_faces > 0 && !out))
        return ferc_set_error(err, FERC_ERR_ARG, "detect: missing detector, state, image or output");
    if (!img->data || img->width < 1 || img->height < 1 || (img->channels != 1 && img->channels != 3) ||
        (int64_t)img->width * img->height > FERC_IMAGE_MAX_PIXELS)
        return ferc_set_error(err, FERC_ERR_ARG, "detect: not a valid gray or RGB image");
    ferc_yunet_options o = {0, FERC_YUNET_DEFAULT_THRESHOLD, FERC_YUNET_DEFAULT_NMS, 0};
    if (opt) o = *opt;
    if (o.nms == 0) o.nms = FERC_YUNET_DEFAULT_NMS;
    if (!(o.threshold >= 0 && o.threshold <= 1) || !(o.nms > 0 && o.nms <= 1))
        return ferc_set_error(err, FERC_ERR_ARG, "detect: threshold %g and NMS IoU %g must be in [0, 1]",
                              (double)o.threshold, (double)o.nms);
    if (o.input_size < 0 || o.input_size > MAX_SIDE)
        return ferc_set_error(err, FERC_ERR_ARG, "detect: input size %d out of range (0: automatic, %d..%d)",
                              o.input_size, MIN_SIDE, MAX_SIDE);
    int rw, rh;
    ferc_yunet_input_size(img->width, img->height, o.input_size, &rw, &rh);
    const int pw = (rw + 31) / 32 * 32, ph = (rh + 31) / 32 * 32;
    if (pw < MIN_SIDE || ph < MIN_SIDE || pw > MAX_SIDE || ph > MAX_SIDE)
        return ferc_set_error(err, FERC_ERR_ARG, "detect: network input %dx%d out of range (%d..%d); choose another input size",
                              pw, ph, MIN_SIDE, MAX_SIDE);
    ferc_status st = prepare(d, s, pw, ph, err);
    if (!st) st = fill_input(s, img, rw, rh, err);
    if (st) return st;
    if (o.threads > 0) ferc_context_set_threads(s->net.ctx, o.threads);
    const float *inputs[1] = {s->net.input};
    if ((st = ferc_run(s->net.ctx, inputs, 1, err))) return st;

    const float *outs[FERC_YUNET_OUTPUTS];
    for (int i = 0; i < FERC_YUNET_OUTPUTS; i++) {
        ferc_tensor t;
        ferc_output(s->net.ctx, d->out[i], &t);
        const int64_t want = (int64_t)(pw / strides[i % FERC_YUNET_STRIDES]) * (ph / strides[i % FERC_YUNET_STRIDES]) *
                             out_channels[i / FERC_YUNET_STRIDES];
        int64_t numel = 1;
        for (int k = 0; k < t.ndim; k++) numel *= t.dims[k];
        if (numel != want)
            return ferc_set_error(err, FERC_ERR_FORMAT, "YuNet output '%s' has %lld values, %lld expected at %dx%d",
                                  ferc_yunet_output_names[i], (long long)numel, (long long)want, pw, ph);
        outs[i] = t.data;
    }
    const int cells = ferc_yunet_cells(pw, ph);
    if (s->found_cap < cells) {
        ferc_box *f = realloc(s->found, sizeof *f * (size_t)cells);
        if (!f) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        s->found = f, s->found_cap = cells;
    }
    const int n = ferc_yunet_decode(outs, pw, ph, o.threshold, o.nms, FERC_YUNET_TOP_K, s->net.work, s->found, cells);
    /* Back to image pixels: each axis by its own scale. */
    const double kx = (double)rw / img->width, ky = (double)rh / img->height;
    for (int i = 0; i < n && i < max_faces; i++) {
        ferc_box b = s->found[i];
        b.x = (float)(b.x / kx), b.w = (float)(b.w / kx), b.y = (float)(b.y / ky), b.h = (float)(b.h / ky);
        for (int k = 0; k < b.n_landmarks; k++)
            b.landmarks[k][0] = (float)(b.landmarks[k][0] / kx), b.landmarks[k][1] = (float)(b.landmarks[k][1] / ky);
        out[i] = b;
    }
    *n_faces = n;
    return FERC_OK;
}

/* The eye line of a found face, refined. YuNet's landmarks follow only part of a face's roll
 * (it learnt from mostly upright faces: on FER2013 faces turned by 30 degrees one pass
 * levels the eyes to within 12-16 degrees), at every input scale and with all five points
 * alike, but they are nearly unbiased on an upright face. So the face's square, EYES_CONTEXT
 * times the box's longer side, is turned upright by the current estimate, resampled to
 * EYES_CROP pixels and detected again, until a pass moves the eye line by less than
 * EYES_STOP_DEG (at most EYES_PASSES passes). Each pass centres and sizes the next square on
 * the box found upright in this one, which frames the face the same way whatever its turn
 * (the box of a turned face is wider and off centre; most per-angle medians drop by 0.05-0.3
 * degrees). Median residual roll 1.2 degrees on FER2013 faces turned -30..30, against 4.3
 * from the detector's own landmarks (bench/measure_alignment.py, docs/detection.md). */
#define EYES_CROP 320
#define EYES_CONTEXT 1.5
#define EYES_PASSES 3
#define EYES_STOP_DEG 1.0
#define EYES_THRESHOLD 0.3f /* the face is known to be there: a low score still places it */
#define EYES_MIN_IOU 0.3f
#define RAD (3.14159265358979323846 / 180)

ferc_status ferc_yunet_eyes(const ferc_yunet *d, ferc_yunet_state *s, const ferc_image *gray, const ferc_box *face,
                            int threads, ferc_eyes *eyes, ferc_error *err)
{
    if (eyes) memset(eyes, 0, sizeof *eyes);
    if (!d || !s || !gray || !gray->data || gray->channels != 1 || gray->width < 1 || gray->height < 1 || !face ||
        !eyes)
        return ferc_set_error(err, FERC_ERR_ARG, "yunet_eyes: needs a detector, a state, a gray image and a face");
    if (!(face->w > 0 && face->h > 0 && face->w * EYES_CONTEXT <= 8192 && face->h * EYES_CONTEXT <= 8192) ||
        !(fabsf(face->x) < 1e6f) || !(fabsf(face->y) < 1e6f))
        return ferc_set_error(err, FERC_ERR_ARG, "yunet_eyes: face box %gx%g at (%g, %g) empty or too large",
                              (double)face->w, (double)face->h, (double)face->x, (double)face->y);
    ferc_eyes cur;
    double roll = ferc_eyes_from_landmarks(face, &cur) ? cur.roll_deg : 0; /* no landmarks: start level */
    /* the face: centre (corner coordinates) and size, upright */
    double cx = face->x + face->w * 0.5, cy = face->y + face->h * 0.5, w = face->w, h = face->h;
    const ferc_yunet_options o = {EYES_CROP, EYES_THRESHOLD, FERC_YUNET_DEFAULT_NMS, threads};
    uint8_t *crop = malloc((size_t)EYES_CROP * EYES_CROP);
    if (!crop) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    const ferc_image in = {EYES_CROP, EYES_CROP, 1, crop};
    ferc_status st = FERC_OK;
    for (int pass = 0; pass < EYES_PASSES; pass++) {
        const int side = (int)ceil((w > h ? w : h) * EYES_CONTEXT);
        const double k = (double)side / EYES_CROP; /* image pixels per crop pixel */
        if (side < 1 || side > 8192) break;
        if (ferc_rotate_crop(gray->data, gray->width, gray->height, gray->width, cx - 0.5, cy - 0.5, roll, side, crop,
                             EYES_CROP)) {
            st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
            break;
        }
        ferc_box found[8];
        int n;
        if ((st = ferc_yunet_detect(d, s, &in, &o, found, 8, &n, err))) break;
        const ferc_box want = {.x = (float)(EYES_CROP * 0.5 - w * 0.5 / k), .y = (float)(EYES_CROP * 0.5 - h * 0.5 / k),
                               .w = (float)(w / k), .h = (float)(h / k)};
        int best = -1;
        float best_iou = EYES_MIN_IOU;
        for (int i = 0; i < n && i < 8; i++) {
            const float v = ferc_box_iou(&found[i], &want);
            if (v >= best_iou) best = i, best_iou = v;
        }
        if (best < 0) break;
        /* back to the image: crop corner coordinates scaled by k, turned by roll about the
         * square's centre (cx, cy) */
        const ferc_box *f = &found[best];
        const double c = cos(roll * RAD), sn = sin(roll * RAD);
        ferc_box back = {.n_landmarks = 2};
        for (int j = 0; j < 2; j++) {
            const double u = f->landmarks[j][0] * k - side * 0.5, v = f->landmarks[j][1] * k - side * 0.5;
            back.landmarks[j][0] = (float)(cx + c * u - sn * v), back.landmarks[j][1] = (float)(cy + sn * u + c * v);
        }
        ferc_eyes next;
        if (!ferc_eyes_from_landmarks(&back, &next)) break;
        const double u = (f->x + f->w * 0.5) * k - side * 0.5, v = (f->y + f->h * 0.5) * k - side * 0.5;
        cx += c * u - sn * v, cy += sn * u + c * v, w = f->w * k, h = f->h * k;
        const double moved = next.roll_deg - roll;
        cur = next, roll = next.roll_deg;
        if (fabs(moved) < EYES_STOP_DEG) break;
    }
    free(crop);
    if (!st && cur.found) *eyes = cur;
    return st;
}
