/* analyzer.c - image in, faces with emotions out: detect, crop each face to the
 * classifier's gray input with its detector's framing (optionally turned upright from its
 * eyes), classify all faces of the image in one batch. ferc_analyzer_open builds the
 * command's defaults from the shipped weights. */
#include "ferc.h"
#include "nn/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ferc_analyzer {
    ferc_classifier *cls;
    ferc_detector *det;       /* NULL: the whole image is the face */
    int owns;                 /* cls and det were made here (open, clone): freed with it */
    ferc_model *model;        /* the classifier model ferc_analyzer_open loaded */
    const ferc_cascade *eyes; /* alignment's eye cascade, or NULL */
    ferc_cascade *own_eyes;   /* the one ferc_analyzer_open loaded */
    ferc_box *boxes;          /* ferc_analyze's detections */
    int box_cap;
    uint8_t *crops;
    float *probs;
    int face_cap;             /* faces crops and probs hold */
};

ferc_status ferc_analyzer_create(ferc_classifier *classifier, ferc_detector *detector, ferc_analyzer **out,
                                 ferc_error *err)
{
    if (!classifier || !out) return ferc_set_error(err, FERC_ERR_ARG, "no classifier or output pointer");
    *out = calloc(1, sizeof **out);
    if (!*out) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    (*out)->cls = classifier;
    (*out)->det = detector;
    return FERC_OK;
}

ferc_status ferc_int8_file(const char *file, char *out, size_t size, ferc_error *err)
{
    const size_t n = file ? strlen(file) : 0;
    if (n > 8 && !strcmp(file + n - 8, ".q8.ferc")) {
        if (n >= size) return ferc_set_error(err, FERC_ERR_ARG, "int8: path too long");
        memcpy(out, file, n + 1);
        return FERC_OK;
    }
    if (n <= 5 || strcmp(file + n - 5, ".ferc") || n + 4 > size)
        return ferc_set_error(err, FERC_ERR_ARG, "int8: %s does not end in .ferc", file ? file : "(no file)");
    snprintf(out, size, "%.*s.q8.ferc", (int)(n - 5), file);
    return FERC_OK;
}

/* The int8 twin (--int8) of a stage's file into buf: of the caller's file if one is given,
 * else of the shipped default's, found by ferc_find_weights. */
static ferc_status int8_twin(const char *given, const char *dflt, const char *stage, char *buf, size_t size,
                             ferc_error *err)
{
    if (given) return ferc_int8_file(given, buf, size, err);
    char q8[1024];
    ferc_status s = ferc_int8_file(dflt, q8, sizeof q8, err);
    if (!s && (s = ferc_find_weights(q8, buf, size, err))) {
        char what[64];
        snprintf(what, sizeof what, "int8 %s (tools/model/quantize.py writes one)", stage);
        ferc_error_prefix(err, what);
    }
    return s;
}

static ferc_status open_classifier(const ferc_analyzer_options *o, ferc_model **m, ferc_classifier **c,
                                   ferc_error *err)
{
    char buf[1024];
    const char *path = o->model;
    ferc_status s;
    if (!path || o->int8) {
        const char *name = o->classifier ? o->classifier : "cnn", *file = ferc_default_file("classifier", name);
        if (!path && !file) return ferc_set_error(err, FERC_ERR_ARG, "unknown classifier '%s' (cnn, small or lbp-svm)", name);
        if (o->int8) s = int8_twin(path, file, "classifier", buf, sizeof buf, err);
        else if ((s = ferc_find_weights(file, buf, sizeof buf, err))) ferc_error_prefix(err, "classifier");
        if (s) return s;
        path = buf;
    }
    if ((s = ferc_model_load(path, m, err))) return s;
    const ferc_classifier_options co = {.tta = o->tta, .threads = o->threads};
    if ((s = ferc_classifier_create(*m, &co, c, err))) ferc_error_prefix(err, path);
    return s;
}

static ferc_status open_eyes(const ferc_analyzer_options *o, ferc_cascade **eyes, ferc_error *err)
{
    const char *path = o->eye_cascade ? o->eye_cascade : ferc_default_file("eyes", "haar");
    char buf[1024];
    ferc_status s = o->eye_cascade ? FERC_OK : ferc_find_weights(path, buf, sizeof buf, err);
    if (!s && (s = ferc_cascade_load(path, eyes, err))) ferc_error_prefix(err, path);
    if (s) ferc_error_prefix(err, "eye cascade");
    return s;
}

ferc_status ferc_analyzer_open(const ferc_analyzer_options *opt, ferc_analyzer **out, ferc_error *err)
{
    if (!out) return ferc_set_error(err, FERC_ERR_ARG, "no output pointer");
    *out = NULL;
    const ferc_analyzer_options o = opt ? *opt : (ferc_analyzer_options){.model = NULL};
    ferc_model *m = NULL;
    ferc_classifier *c = NULL;
    ferc_detector *d = NULL;
    ferc_cascade *eyes = NULL;
    ferc_status s = open_classifier(&o, &m, &c, err);
    const char *kind = o.detector ? o.detector : FERC_DEFAULT_DETECTOR;
    char det_q8[1024];
    const char *det_model = o.detector_model;
    /* --int8: YuNet's int8 twin too (the SSD has none; cascades are not networks) */
    if (!s && o.int8 && !strcmp(kind, "yunet") &&
        !(s = int8_twin(o.detector_model, ferc_default_file("detector", "yunet"), "detector", det_q8, sizeof det_q8, err)))
        det_model = det_q8;
    if (!s && strcmp(kind, "none")) {
        const ferc_detector_options dopt = {
            .kind = kind,
            .model = det_model,
            .threshold = o.threshold,
            .min_size = o.min_size,
            .threads = o.threads,
            .input_size = o.detector_size,
            .scale_factor = o.scale_factor,
            .min_neighbors = o.min_neighbors,
            .nms = o.nms,
            .tiles = o.tiles,
            .tile_scale = o.tile_scale,
        };
        s = ferc_detector_create(&dopt, &d, err);
    }
    if (!s && (o.align || o.eye_cascade)) s = open_eyes(&o, &eyes, err);
    if (!s) s = ferc_analyzer_create(c, d, out, err);
    if (!s && eyes && (s = ferc_analyzer_set_align(*out, eyes, err))) ferc_error_prefix(err, "eye cascade");
    if (s) {
        if (*out) free(*out), *out = NULL;
        ferc_cascade_free(eyes);
        ferc_detector_free(d);
        ferc_classifier_free(c);
        ferc_model_free(m);
        return s;
    }
    (*out)->owns = 1;
    (*out)->model = m;
    (*out)->own_eyes = eyes;
    return FERC_OK;
}

ferc_status ferc_analyzer_clone(const ferc_analyzer *a, ferc_analyzer **out, ferc_error *err)
{
    if (!a || !out) return ferc_set_error(err, FERC_ERR_ARG, "no analyzer or output pointer");
    *out = NULL;
    ferc_classifier *c = NULL;
    ferc_detector *d = NULL;
    ferc_status s = ferc_classifier_clone(a->cls, &c, err);
    if (!s && a->det) s = ferc_detector_clone(a->det, &d, err);
    if (!s) s = ferc_analyzer_create(c, d, out, err);
    if (s) {
        ferc_detector_free(d);
        ferc_classifier_free(c);
        return s;
    }
    (*out)->owns = 1;
    (*out)->eyes = a->eyes;
    return FERC_OK;
}

ferc_classifier *ferc_analyzer_classifier(const ferc_analyzer *a) { return a ? a->cls : NULL; }

ferc_status ferc_analyzer_set_align(ferc_analyzer *a, const ferc_cascade *eye_cascade, ferc_error *err)
{
    if (!a) return ferc_set_error(err, FERC_ERR_ARG, "no analyzer");
    if (eye_cascade && strcmp(ferc_cascade_kind(eye_cascade), "haar"))
        return ferc_set_error(err, FERC_ERR_ARG, "alignment needs a Haar eye cascade, this one is %s",
                              ferc_cascade_kind(eye_cascade));
    a->eyes = eye_cascade;
    return FERC_OK;
}

void ferc_analyzer_free(ferc_analyzer *a)
{
    if (!a) return;
    if (a->owns) {
        ferc_detector_free(a->det);
        ferc_classifier_free(a->cls);
    }
    ferc_model_free(a->model);
    ferc_cascade_free(a->own_eyes);
    free(a->boxes);
    free(a->crops);
    free(a->probs);
    free(a);
}

/* The face in box b as the classifier's input: with a detector's framing (RES10, YUNET), the square FER2013
 * would have cropped around it (detect/image/face_crop.c), so the classifier sees what it
 * was trained on; with FERC_FRAMING_BOX, the box as it is. */
static ferc_status crop_face(const ferc_image *img, const ferc_box *b, ferc_framing framing, int fw, int fh,
                             uint8_t *out)
{
    if (framing == FERC_FRAMING_BOX || fw != fh) return ferc_face_crop(img, b, fw, fh, out, NULL);
    ferc_image face;
    ferc_status s = ferc_face_crop_fer(img, b, framing, fw, &face, NULL);
    if (s) return s;
    memcpy(out, face.data, (size_t)fw * fh);
    ferc_image_free(&face);
    return FERC_OK;
}

/* The aligned crop: the eyes from the detector's landmarks when it gives them (YuNet's,
 * refined by ferc_yunet_eyes: median residual roll 1.2 degrees, docs/detection.md), else
 * searched in the box with the eye cascade; the face turned about the centre of the square
 * crop_face would take and resampled. Returns 1 when no eye pair was found (the caller crops
 * without alignment). */
static int crop_aligned(const ferc_analyzer *a, const ferc_image *gray, const ferc_box *b, ferc_framing framing,
                        int fw, int fh, uint8_t *out)
{
    ferc_eyes e;
    if ((ferc_detector_eyes(a->det, gray, b, &e, NULL) || !e.found) &&
        (ferc_find_eyes(a->eyes, gray->data, gray->width, gray->height, gray->width, b, &e, NULL) || !e.found))
        return 1;
    ferc_box sq = *b;
    if (framing != FERC_FRAMING_BOX && fw == fh) {
        int x, y, side;
        ferc_face_crop_fer_rect(b, framing, &x, &y, &side);
        sq = (ferc_box){.x = (float)x, .y = (float)y, .w = (float)side, .h = (float)side, .score = b->score};
    }
    return fw != fh || ferc_align_crop(gray->data, gray->width, gray->height, gray->width, &sq, &e, out, fw, NULL);
}

/* The classifier's input for box b: aligned when the analyzer aligns and an eye pair is found,
 * else framed as the detector kind says. gray is img in gray when the analyzer aligns. Non-zero
 * when the box has no pixels in the image. */
static int crop_one(const ferc_analyzer *a, const ferc_image *gray, const ferc_image *img, const ferc_box *b,
                    int fw, int fh, uint8_t *out)
{
    const ferc_framing framing = ferc_detector_framing(a->det);
    return (!a->eyes || crop_aligned(a, gray, b, framing, fw, fh, out)) && crop_face(img, b, framing, fw, fh, out);
}

ferc_status ferc_analyzer_crop(ferc_analyzer *a, const ferc_image *img, const ferc_box *box, uint8_t *out,
                               ferc_error *err)
{
    if (!a || !img || !img->data || !box || !out) return ferc_set_error(err, FERC_ERR_ARG, "bad crop arguments");
    int fw, fh;
    ferc_classifier_input_size(a->cls, &fw, &fh);
    ferc_image gray = {0, 0, 0, NULL};
    ferc_status s;
    if (a->eyes && (s = ferc_image_to_gray(img, &gray, err))) return s;
    s = crop_one(a, &gray, img, box, fw, fh, out)
            ? ferc_set_error(err, FERC_ERR_ARG, "box %gx%g at (%g, %g) has no pixels in the %dx%d image", box->w,
                             box->h, box->x, box->y, img->width, img->height)
            : FERC_OK;
    ferc_image_free(&gray);
    return s;
}

ferc_status ferc_analyzer_detect(ferc_analyzer *a, const ferc_image *img, ferc_box *boxes, int max_boxes,
                                 int *count, ferc_error *err)
{
    if (!a || !img || !img->data || !count || max_boxes < 0 || (max_boxes && !boxes))
        return ferc_set_error(err, FERC_ERR_ARG, "bad detect arguments");
    *count = 0;
    if (a->det) return ferc_detect(a->det, img, boxes, max_boxes, count, err);
    if (max_boxes > 0)
        boxes[(*count)++] = (ferc_box){.x = 0, .y = 0, .w = (float)img->width, .h = (float)img->height, .score = 1.0f};
    return FERC_OK;
}

ferc_status ferc_analyze_boxes(ferc_analyzer *a, const ferc_image *img, const ferc_box *boxes, int n,
                               ferc_face *faces, int *count, ferc_error *err)
{
    if (!a || !img || !img->data || !count || n < 0 || (n && (!boxes || !faces)))
        return ferc_set_error(err, FERC_ERR_ARG, "bad analyze arguments");
    *count = 0;
    if (n == 0) return FERC_OK;
    int fw, fh;
    ferc_classifier_input_size(a->cls, &fw, &fh);
    const size_t face_bytes = (size_t)fw * fh;
    if (n > a->face_cap) {
        uint8_t *c = realloc(a->crops, face_bytes * (size_t)n);
        if (c) a->crops = c;
        float *p = c ? realloc(a->probs, sizeof *p * FERC_NUM_EMOTIONS * (size_t)n) : NULL;
        if (p) a->probs = p;
        if (!c || !p) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for %d faces", n);
        a->face_cap = n;
    }
    ferc_status s;
    ferc_image gray = {0, 0, 0, NULL};
    if (a->eyes && (s = ferc_image_to_gray(img, &gray, err))) return s;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        /* A box entirely outside the image (a detector at the border) has no face to crop. */
        if (crop_one(a, &gray, img, &boxes[i], fw, fh, a->crops + face_bytes * kept)) continue;
        faces[kept++].box = boxes[i];
    }
    ferc_image_free(&gray);
    const float *probs = a->probs;
    s = ferc_classify(a->cls, a->crops, kept, a->probs, err);
    for (int i = 0; !s && i < kept; i++) {
        int best = 0;
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) {
            faces[i].probabilities[k] = probs[i * FERC_NUM_EMOTIONS + k];
            if (probs[i * FERC_NUM_EMOTIONS + k] > probs[i * FERC_NUM_EMOTIONS + best]) best = k;
        }
        faces[i].emotion = best;
    }
    if (!s) *count = kept;
    return s;
}

ferc_status ferc_analyze(ferc_analyzer *a, const ferc_image *img, ferc_face *faces, int max_faces, int *count,
                         ferc_error *err)
{
    if (!a || !img || !img->data || !count || max_faces < 0 || (max_faces && !faces))
        return ferc_set_error(err, FERC_ERR_ARG, "bad analyze arguments");
    *count = 0;
    if (max_faces > a->box_cap) {
        ferc_box *b = realloc(a->boxes, sizeof *b * (size_t)max_faces);
        if (!b) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for %d faces", max_faces);
        a->boxes = b, a->box_cap = max_faces;
    }
    int n = 0;
    ferc_status s = ferc_analyzer_detect(a, img, a->boxes, max_faces, &n, err);
    return s ? s : ferc_analyze_boxes(a, img, a->boxes, n, faces, count, err);
}
