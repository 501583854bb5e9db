/* ssd.h - internals of the SSD face detector (detect/ssd.c), exposed for the tests that
 * check prior boxes and detection output against OpenCV's. */
#ifndef FERC_DETECT_SSD_H
#define FERC_DETECT_SSD_H

#include "ferc.h"

/* A detection in normalised coordinates (fractions of the network input), as OpenCV's
 * DetectionOutput writes them. */
typedef struct {
    float score, x0, y0, x1, y1;
} ferc_ssd_det;

/* Sets the state up for a network input of width x height (context, priors). No-op if it
 * already is. */
ferc_status ferc_ssd_prepare(const ferc_ssd *d, ferc_ssd_state *s, int width, int height,
                             ferc_error *err);
/* The prepared priors: count boxes, then count variance quadruples (OpenCV's [1, 2, 4P]). */
const float *ferc_ssd_priors(const ferc_ssd_state *s, int *count);
/* The prepared context (to run the graph directly). */
ferc_context *ferc_ssd_context(ferc_ssd_state *s);
/* OpenCV's DetectionOutput on loc [4P] and conf [2P] with the prepared priors: every
 * detection NMS keeps (at most keep_top_k), best first. Returns how many were written. */
int ferc_ssd_detection_output(const ferc_ssd *d, ferc_ssd_state *s, const float *loc,
                              const float *conf, ferc_ssd_det *out, int max);

#endif
