/* tracker.h - follows faces across video frames: each frame's detections are matched to
 * the existing tracks by box overlap (IoU, greedily, best pairs first), unmatched
 * detections start new tracks with the next id, and a track missing for more than
 * max_missed frames ends. Each track's probabilities are smoothed by a moving average
 * over the last `window` frames it was seen in. */
#ifndef FERC_DETECT_TRACKER_H
#define FERC_DETECT_TRACKER_H

#include "ferc.h"

typedef struct {
    int id;                                 /* 1, 2, ... in order of appearance */
    ferc_box box;                           /* latest box */
    float probabilities[FERC_NUM_EMOTIONS]; /* this frame's (raw) */
    float smoothed[FERC_NUM_EMOTIONS];      /* moving average over the window */
    int emotion;                            /* argmax of smoothed */
    int seen;                               /* 1 if detected in the current frame */
    int missed;                             /* frames since last detected */
    long first_frame, last_frame;
} ferc_track;

typedef struct ferc_tracker ferc_tracker;

typedef struct {
    float iou;       /* minimum IoU to continue a track (0: 0.3) */
    int window;      /* frames averaged (0: 5; 1 = no smoothing) */
    int max_missed;  /* frames a track survives undetected (0: 10; -1: none) */
} ferc_tracker_options;

ferc_status ferc_tracker_create(const ferc_tracker_options *opt, ferc_tracker **out, ferc_error *err);
void ferc_tracker_free(ferc_tracker *t);
/* Feeds one frame's faces. Afterwards ferc_tracker_tracks lists the live tracks (seen this
 * frame or recently), ordered by id. */
ferc_status ferc_tracker_update(ferc_tracker *t, long frame, const ferc_face *faces, int n, ferc_error *err);
int ferc_tracker_tracks(ferc_tracker *t, const ferc_track **tracks);

#endif
