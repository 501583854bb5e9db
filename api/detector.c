/* detector.c - the ferc_detector handle: one of the built-in kinds by name, or a function
 * supplied by the caller. */
#include "api/detector.h"
#include "nn/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Kinds in the order `ferc --help` lists them. create == NULL: not built in yet. */
static const ferc_detector_kind kinds[] = {
    {"ssd", NULL, NULL, NULL},
    {"haar", NULL, NULL, NULL},
    {"lbp", NULL, NULL, NULL},
};

struct ferc_detector {
    const ferc_detector_kind *kind; /* NULL for a function detector */
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
    if (!k) return ferc_set_error(err, FERC_ERR_ARG, "unknown detector '%s' (ssd, haar or lbp)", name);
    if (!k->create) return ferc_set_error(err, FERC_ERR_UNSUPPORTED, "detector %s is not built in yet", name);
    ferc_detector *d = calloc(1, sizeof *d);
    if (!d) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    d->kind = k;
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

void ferc_detector_free(ferc_detector *d)
{
    if (!d) return;
    if (d->kind && d->kind->destroy) d->kind->destroy(d->state);
    free(d);
}
