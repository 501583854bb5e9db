/* tracker.c - IoU association of faces between frames, with moving-average smoothing. */
#include "detect/tracker.h"
#include "nn/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    ferc_track pub;
    float *history; /* window x 7 ring of raw probabilities */
    int count, head;
} track;

struct ferc_tracker {
    ferc_tracker_options o;
    track *tracks;
    int n, cap, next_id;
    ferc_track *view; /* public copies handed out by ferc_tracker_tracks */
};

ferc_status ferc_tracker_create(const ferc_tracker_options *opt, ferc_tracker **out, ferc_error *err)
{
    ferc_tracker_options o = {.iou = 0};
    if (opt) o = *opt;
    if (o.iou == 0) o.iou = 0.3f;
    if (o.window == 0) o.window = 5;
    if (o.max_missed == 0) o.max_missed = 10;
    if (o.max_missed < 0) o.max_missed = 0;
    if (!(o.iou > 0 && o.iou <= 1) || o.window < 1 || o.window > 10000)
        return ferc_set_error(err, FERC_ERR_ARG, "tracker: iou %g must be in (0, 1], window %d in 1..10000", o.iou, o.window);
    *out = calloc(1, sizeof **out);
    if (!*out) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    (*out)->o = o;
    (*out)->next_id = 1;
    return FERC_OK;
}

void ferc_tracker_free(ferc_tracker *t)
{
    if (!t) return;
    for (int i = 0; i < t->n; i++) free(t->tracks[i].history);
    free(t->tracks);
    free(t->view);
    free(t);
}

static void add_observation(track *tr, const ferc_face *f, int window, long frame)
{
    memcpy(tr->history + (size_t)tr->head * FERC_NUM_EMOTIONS, f->probabilities, sizeof f->probabilities);
    tr->head = (tr->head + 1) % window;
    if (tr->count < window) tr->count++;
    ferc_track *p = &tr->pub;
    p->box = f->box;
    memcpy(p->probabilities, f->probabilities, sizeof p->probabilities);
    int best = 0;
    for (int k = 0; k < FERC_NUM_EMOTIONS; k++) {
        float s = 0;
        for (int j = 0; j < tr->count; j++) s += tr->history[(size_t)j * FERC_NUM_EMOTIONS + k];
        p->smoothed[k] = s / (float)tr->count;
        if (p->smoothed[k] > p->smoothed[best]) best = k;
    }
    p->emotion = best;
    p->seen = 1;
    p->missed = 0;
    p->last_frame = frame;
}

ferc_status ferc_tracker_update(ferc_tracker *t, long frame, const ferc_face *faces, int n, ferc_error *err)
{
    if (n < 0 || (n && !faces)) return ferc_set_error(err, FERC_ERR_ARG, "bad tracker update");
    int *det_used = calloc((size_t)n + 1, sizeof *det_used), *trk_used = calloc((size_t)t->n + 1, sizeof *trk_used);
    if (!det_used || !trk_used) {
        free(det_used), free(trk_used);
        return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < t->n; i++) t->tracks[i].pub.seen = 0;
    /* Greedy matching, best overlap first: repeatedly take the highest-IoU free pair. With a
     * handful of faces per frame this O(T*D*min(T,D)) loop is negligible. */
    for (;;) {
        float best = t->o.iou;
        int bi = -1, bj = -1;
        for (int i = 0; i < t->n; i++) {
            if (trk_used[i]) continue;
            for (int j = 0; j < n; j++) {
                if (det_used[j]) continue;
                float v = ferc_box_iou(&t->tracks[i].pub.box, &faces[j].box);
                if (v >= best && (bi < 0 || v > best)) best = v, bi = i, bj = j;
            }
        }
        if (bi < 0) break;
        trk_used[bi] = det_used[bj] = 1;
        add_observation(&t->tracks[bi], &faces[bj], t->o.window, frame);
    }
    free(trk_used);
    /* Age unmatched tracks; drop those gone too long. */
    int w = 0;
    for (int i = 0; i < t->n; i++) {
        track *tr = &t->tracks[i];
        if (!tr->pub.seen && ++tr->pub.missed > t->o.max_missed) {
            free(tr->history);
            continue;
        }
        t->tracks[w++] = *tr;
    }
    t->n = w;
    /* New tracks for unmatched detections, in detection order. */
    ferc_status s = FERC_OK;
    for (int j = 0; j < n && !s; j++) {
        if (det_used[j]) continue;
        if (t->n == t->cap) {
            int cap = t->cap ? 2 * t->cap : 8;
            track *nt = realloc(t->tracks, sizeof *nt * (size_t)cap);
            if (!nt) { s = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory"); break; }
            t->tracks = nt, t->cap = cap;
        }
        track *tr = &t->tracks[t->n];
        memset(tr, 0, sizeof *tr);
        tr->history = malloc(sizeof(float) * FERC_NUM_EMOTIONS * (size_t)t->o.window);
        if (!tr->history) { s = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory"); break; }
        tr->pub.id = t->next_id++;
        tr->pub.first_frame = frame;
        add_observation(tr, &faces[j], t->o.window, frame);
        t->n++;
    }
    free(det_used);
    return s;
}

/* Tracks are kept in id order: compaction keeps order and new ones are appended. */
int ferc_tracker_tracks(ferc_tracker *t, const ferc_track **tracks)
{
    ferc_track *v = realloc(t->view, sizeof *v * (size_t)(t->n ? t->n : 1));
    if (!v) { *tracks = NULL; return 0; }
    t->view = v;
    for (int i = 0; i < t->n; i++) v[i] = t->tracks[i].pub;
    *tracks = v;
    return t->n;
}
