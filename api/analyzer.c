/* analyzer.c - image in, faces with emotions out: detect, crop each face to the
 * classifier's gray input (optionally turned upright from its eyes), classify all faces of
 * the image in one batch. */
#include "ferc.h"
#include "api/detector.h"
#include "nn/model.h"

#include <stdlib.h>
#include <string.h>

struct ferc_analyzer {
    ferc_classifier *cls;
    ferc_detector *det;
    ferc_model *model;     /* set when ferc_analyzer_open loaded it (then all three are owned) */
    int owns;
    const ferc_cascade *eyes; /* alignment's eye cascade, or NULL */
    ferc_cascade *own_eyes;   /* the one ferc_analyzer_open loaded */
    ferc_box *boxes;
    uint8_t *crops;
    float *probs;
    int cap;               /* faces the buffers hold */
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

ferc_status ferc_analyzer_open(const ferc_analyzer_options *opt, ferc_analyzer **out, ferc_error *err)
{
    if (!opt || !opt->model || !out) return ferc_set_error(err, FERC_ERR_ARG, "no options, model path or output pointer");
    *out = NULL;
    ferc_model *m = NULL;
    ferc_classifier *c = NULL;
    ferc_detector *d = NULL;
    ferc_status s = ferc_model_load(opt->model, &m, err);
    if (!s) {
        ferc_classifier_options co = {opt->tta, 0, opt->threads};
        if ((s = ferc_classifier_create(m, &co, &c, err))) ferc_error_prefix(err, opt->model);
    }
    if (!s && opt->detector) {
        ferc_detector_options dopt = {.kind = opt->detector, .model = opt->detector_model, .threshold = opt->threshold,
                                      .threads = opt->threads};
        s = ferc_detector_create(&dopt, &d, err);
    }
    ferc_cascade *eyes = NULL;
    if (!s && opt->eye_cascade && (s = ferc_cascade_load(opt->eye_cascade, &eyes, err)))
        ferc_error_prefix(err, opt->eye_cascade);
    if (!s) s = ferc_analyzer_create(c, d, out, err);
    if (s) {
        ferc_cascade_free(eyes);
        ferc_detector_free(d);
        ferc_classifier_free(c);
        ferc_model_free(m);
        return s;
    }
    (*out)->model = m;
    (*out)->owns = 1;
    (*out)->eyes = (*out)->own_eyes = eyes;
    return FERC_OK;
}

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
        ferc_model_free(a->model);
    }
    ferc_cascade_free(a->own_eyes);
    free(a->boxes);
    free(a->crops);
    free(a->probs);
    free(a);
}

static ferc_status reserve(ferc_analyzer *a, int n, size_t face_bytes, ferc_error *err)
{
    if (n <= a->cap) return FERC_OK;
    ferc_box *b = realloc(a->boxes, sizeof *b * (size_t)n);
    if (b) a->boxes = b;
    uint8_t *c = b ? realloc(a->crops, face_bytes * (size_t)n) : NULL;
    if (c) a->crops = c;
    float *p = c ? realloc(a->probs, sizeof *p * FERC_NUM_EMOTIONS * (size_t)n) : NULL;
    if (p) a->probs = p;
    if (!b || !c || !p) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for %d faces", n);
    a->cap = n;
    return FERC_OK;
}

/* A face from a detector with a framing (the built-in ones) is cropped as FER2013 frames
 * its faces (detect/face_crop.c), so the classifier sees what it was trained on; a whole
 * image (no detector) or a box from the caller's function is taken as it is. */
static ferc_status crop_face(const ferc_image *img, const ferc_box *b, const ferc_framing *framing, int fw, int fh,
                             uint8_t *out)
{
    if (!framing || fw != fh) return ferc_face_crop(img, b, fw, fh, out, NULL);
    ferc_face_box fb = {b->x, b->y, b->x + b->w, b->y + b->h, b->score};
    ferc_image face;
    ferc_status s = ferc_face_crop_fer(img, &fb, framing, fw, &face, NULL);
    if (s) return s;
    memcpy(out, face.data, (size_t)fw * fh);
    ferc_image_free(&face);
    return FERC_OK;
}

/* The aligned crop: eyes searched in the detector's box, the face turned about the centre of
 * the square crop_face would take (the FER framing for built-in detectors) and resampled.
 * Returns 1 when no eye pair was found (the caller crops without alignment). */
static int crop_aligned(const ferc_analyzer *a, const ferc_image *gray, const ferc_box *b, const ferc_framing *framing,
                        int fw, int fh, uint8_t *out)
{
    ferc_rect face = {(int)b->x, (int)b->y, (int)(b->w + 0.5f), (int)(b->h + 0.5f)};
    ferc_eyes e;
    if (ferc_find_eyes(a->eyes, gray->data, gray->width, gray->height, gray->width, face, &e, NULL) || !e.found)
        return 1;
    ferc_rect sq = face;
    if (framing && fw == fh) {
        ferc_face_box fb = {b->x, b->y, b->x + b->w, b->y + b->h, b->score};
        ferc_face_crop_fer_rect(&fb, framing, &sq.x, &sq.y, &sq.width);
        sq.height = sq.width;
    }
    return fw != fh || ferc_align_crop(gray->data, gray->width, gray->height, gray->width, sq, &e, out, fw, NULL);
}

ferc_status ferc_analyze(ferc_analyzer *a, const ferc_image *img, ferc_face *faces, int max_faces, int *count,
                         ferc_error *err)
{
    if (!a || !img || !img->data || !count || max_faces < 0 || (max_faces && !faces))
        return ferc_set_error(err, FERC_ERR_ARG, "bad analyze arguments");
    *count = 0;
    int fw, fh;
    ferc_classifier_input_size(a->cls, &fw, &fh);
    const size_t face_bytes = (size_t)fw * fh;
    ferc_status s = reserve(a, max_faces > 0 ? max_faces : 1, face_bytes, err);
    if (s) return s;
    int n = 0;
    if (a->det) {
        if ((s = ferc_detect(a->det, img, a->boxes, max_faces, &n, err))) return s;
    } else if (max_faces > 0) {
        a->boxes[0] = (ferc_box){.w = (float)img->width, .h = (float)img->height, .score = 1.0f};
        n = 1;
    }
    if (n == 0) return FERC_OK;
    ferc_image gray = {0, 0, 0, NULL};
    if (a->eyes && (s = ferc_image_to_gray(img, &gray, err))) return s;
    int kept = 0;
    const ferc_framing *framing = ferc_detector_framing(a->det);
    for (int i = 0; i < n; i++) {
        uint8_t *out = a->crops + face_bytes * kept;
        /* A box entirely outside the image (a detector at the border) has no face to crop. */
        if ((!a->eyes || crop_aligned(a, &gray, &a->boxes[i], framing, fw, fh, out)) &&
            crop_face(img, &a->boxes[i], framing, fw, fh, out))
            continue;
        faces[kept++].box = a->boxes[i];
    }
    ferc_image_free(&gray);
    float *probs = a->probs;
    s = ferc_classify(a->cls, a->crops, kept, probs, err);
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
