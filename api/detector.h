/* detector.h - how a face detector plugs into ferc_detector (api/detector.c).
 *
 * A detector kind provides create/detect/destroy/clone over its own state and is listed by
 * name in the `kinds` table in detector.c; ferc_detector_create finds it there. Contract:
 *   create   gets the caller's options: opt->model is the detector's file (SSD weights or
 *            cascade XML; NULL: look the kind's default up with ferc_find_weights),
 *            opt->threshold and opt->min_size are 0 for "your default", opt->threads is for
 *            ferc contexts. Load files here; the state is used by one thread at a time.
 *   detect   gets a gray (channels 1) or RGB (channels 3) image and writes at most
 *            max_boxes boxes, best score first, in pixels of that image (x, y, w, h; they may
 *            extend past the border, the crop clips them), score in [0, 1]. ferc_detect then
 *            checks count and that every box is finite with w, h > 0.
 *   clone    a new state for another thread that shares the loaded files of `state`.
 *   destroy  frees the state (not called when create failed); files only if not shared.
 *   framing  how the kind's boxes are cropped for the classifier (ferc_framing).
 *   eyes     optional: the eye pair of a box the kind found, in the gray image it was found
 *            in, from the kind's own landmarks (eyes->found 0 when it has none); NULL for
 *            kinds without landmarks (the analyzer then aligns with the eye cascade).
 * Errors go through ferc_set_error (nn/error.h) with a message naming the file or problem. */
#ifndef FERC_API_DETECTOR_H
#define FERC_API_DETECTOR_H

#include "ferc.h"

typedef struct {
    const char *name; /* "ssd", "yunet", "haar", "lbp", "none" */
    ferc_status (*create)(const ferc_detector_options *opt, void **state, ferc_error *err);
    ferc_status (*detect)(void *state, const ferc_image *img, ferc_box *boxes, int max_boxes, int *count,
                          ferc_error *err);
    ferc_status (*clone)(const void *state, void **out, ferc_error *err);
    void (*destroy)(void *state);
    ferc_framing framing;
    ferc_status (*eyes)(void *state, const ferc_image *gray, const ferc_box *box, ferc_eyes *eyes, ferc_error *err);
} ferc_detector_kind;

#endif
