/* detector.h - how a face detector plugs into ferc_detector (api/detector.c).
 * A kind provides create/detect/destroy over its own state; ferc_detector_create looks the
 * kind up by name in the table in detector.c. */
#ifndef FERC_API_DETECTOR_H
#define FERC_API_DETECTOR_H

#include "ferc.h"

typedef struct {
    const char *name; /* "ssd", "haar", "lbp" */
    /* NULL while the detector is not built in. */
    ferc_status (*create)(const ferc_detector_options *opt, void **state, ferc_error *err);
    ferc_status (*detect)(void *state, const ferc_image *img, ferc_box *boxes, int max_boxes, int *count,
                          ferc_error *err);
    void (*destroy)(void *state);
} ferc_detector_kind;

#endif
