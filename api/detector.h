/* detector.h - how a face detector plugs into ferc_detector (api/detector.c).
 *
 * A detector kind provides create/detect/destroy over its own state and is listed by name
 * in the `kinds` table in detector.c; ferc_detector_create finds it there. Contract:
 *   create   gets the caller's options: opt->model is the detector's file (SSD weights or
 *            cascade XML; may be NULL, then say which file is needed), opt->threshold and
 *            opt->min_size are 0 for "your default", opt->threads is for ferc contexts.
 *            Load models here; the state is used by one thread at a time.
 *   detect   gets a gray (channels 1) or RGB (channels 3) image and writes at most
 *            max_boxes boxes, best score first, in pixels of that image (x, y, w, h; they may
 *            extend past the border, the crop clips them), score in [0, 1]. ferc_detect then
 *            checks count and that every box is finite with w, h > 0.
 *   destroy  frees the state (not called when create failed).
 * Errors go through ferc_set_error (nn/model.h) with a message naming the file or problem. */
#ifndef FERC_API_DETECTOR_H
#define FERC_API_DETECTOR_H

#include "ferc.h"

typedef struct {
    const char *name; /* "ssd", "yunet", "haar", "lbp" */
    const ferc_framing *framing; /* where its boxes sit in a FER2013 crop */
    /* NULL while the detector is not built in. */
    ferc_status (*create)(const ferc_detector_options *opt, void **state, ferc_error *err);
    ferc_status (*detect)(void *state, const ferc_image *img, ferc_box *boxes, int max_boxes, int *count,
                          ferc_error *err);
    void (*destroy)(void *state);
} ferc_detector_kind;


#endif
