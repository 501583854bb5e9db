/* video_output.c - what `ferc video` writes: a CSV row or JSON line per frame, the
 * per-track summary, the --plot SVG (video.h). */
#include "tools/cli/video.h"

#include <stdlib.h>
#include <string.h>

static video_track_log *log_for(video_log *L, int id)
{
    for (int i = 0; i < L->n; i++)
        if (L->t[i].id == id) return &L->t[i];
    if (L->n == L->cap) {
        int cap = L->cap ? 2 * L->cap : 8;
        video_track_log *t = realloc(L->t, sizeof *t * (size_t)cap);
        if (!t) return NULL;
        L->t = t, L->cap = cap;
    }
    video_track_log *t = &L->t[L->n++];
    memset(t, 0, sizeof *t);
    t->id = id;
    return t;
}

int video_log_track(video_log *L, long frame, const ferc_track *tr)
{
    video_track_log *t = log_for(L, tr->id);
    if (!t) return -1;
    if (!t->frames) t->first = frame;
    t->last = frame;
    t->frames++;
    t->counts[tr->emotion]++;
    for (int k = 0; k < FERC_NUM_EMOTIONS; k++) t->sum[k] += tr->smoothed[k];
    if (!L->keep_points) return 0;
    if (t->n_pts == t->cap_pts) {
        long cap = t->cap_pts ? 2 * t->cap_pts : 256;
        float *p = realloc(t->pts, sizeof(float) * 8 * (size_t)cap);
        if (!p) return -1;
        t->pts = p, t->cap_pts = cap;
    }
    float *p = t->pts + 8 * t->n_pts++;
    p[0] = (float)frame;
    memcpy(p + 1, tr->smoothed, sizeof tr->smoothed);
    return 0;
}

void video_print_frame(FILE *f, int json, long frame, double fps, const ferc_track *tr, int n)
{
    char time[32] = "";
    if (fps > 0) snprintf(time, sizeof time, "%.3f", (double)frame / fps);
    if (json) {
        fprintf(f, "{\"frame\":%ld,\"time\":%s,\"faces\":[", frame, fps > 0 ? time : "null");
        int first = 1;
        for (int i = 0; i < n; i++) {
            if (!tr[i].seen) continue;
            const ferc_box *b = &tr[i].box;
            fprintf(f, "%s{\"track\":%d,\"box\":[%.6g,%.6g,%.6g,%.6g],\"score\":%.6g,\"emotion\":\"%s\",\"probabilities\":{",
                    first ? "" : ",", tr[i].id, b->x, b->y, b->w, b->h, b->score, ferc_emotion_name(tr[i].emotion));
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++)
                fprintf(f, "%s\"%s\":%.6g", k ? "," : "", ferc_emotion_name(k), tr[i].smoothed[k]);
            fputs("},\"raw\":{", f);
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++)
                fprintf(f, "%s\"%s\":%.6g", k ? "," : "", ferc_emotion_name(k), tr[i].probabilities[k]);
            fputs("}}", f);
            first = 0;
        }
        fputs("]}\n", f);
        return;
    }
    for (int i = 0; i < n; i++) {
        if (!tr[i].seen) continue;
        const ferc_box *b = &tr[i].box;
        fprintf(f, "%ld,%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%s", frame, time, tr[i].id, b->x, b->y, b->w, b->h, b->score,
                ferc_emotion_name(tr[i].emotion));
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) fprintf(f, ",%.6g", tr[i].smoothed[k]);
        fputc('\n', f);
    }
}

void video_print_summary(FILE *f, int json, const video_log *L, double fps)
{
    if (!json) {
        fputs("track,first_frame,last_frame,frames,dominant", f);
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) fprintf(f, ",%s", ferc_emotion_name(k));
        fputc('\n', f);
    }
    for (int i = 0; i < L->n; i++) {
        const video_track_log *t = &L->t[i];
        int dom = 0;
        for (int k = 1; k < FERC_NUM_EMOTIONS; k++) dom = t->counts[k] > t->counts[dom] ? k : dom;
        if (json) {
            fprintf(f, "{\"track\":%d,\"first_frame\":%ld,\"last_frame\":%ld,\"frames\":%ld,", t->id, t->first, t->last,
                    t->frames);
            if (fps > 0) fprintf(f, "\"seconds\":%.3f,", (double)t->frames / fps);
            fprintf(f, "\"dominant\":\"%s\",\"shares\":{", ferc_emotion_name(dom));
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++)
                fprintf(f, "%s\"%s\":%.6g", k ? "," : "", ferc_emotion_name(k), (double)t->counts[k] / t->frames);
            fputs("},\"mean\":{", f);
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++)
                fprintf(f, "%s\"%s\":%.6g", k ? "," : "", ferc_emotion_name(k), t->sum[k] / t->frames);
            fputs("}}\n", f);
        } else {
            fprintf(f, "%d,%ld,%ld,%ld,%s", t->id, t->first, t->last, t->frames, ferc_emotion_name(dom));
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++) fprintf(f, ",%.6g", (double)t->counts[k] / t->frames);
            fputc('\n', f);
        }
    }
}

void video_print_header(FILE *f, int json)
{
    if (json) return;
    fputs("frame,time,track,x,y,w,h,score,emotion", f);
    for (int k = 0; k < FERC_NUM_EMOTIONS; k++) fprintf(f, ",%s", ferc_emotion_name(k));
    fputc('\n', f);
}

int video_write_plot(const char *path, const video_log *L, double fps, long frames)
{
    int *ids = malloc(sizeof(int) * (size_t)(L->n + 1));
    const float **pts = malloc(sizeof *pts * (size_t)(L->n + 1));
    long *np = malloc(sizeof(long) * (size_t)(L->n + 1));
    int rc = -1;
    if (ids && pts && np) {
        for (int i = 0; i < L->n; i++) ids[i] = L->t[i].id, pts[i] = L->t[i].pts, np[i] = L->t[i].n_pts;
        rc = cli_write_plot(path, ids, pts, np, L->n, fps, frames);
    } else {
        fprintf(stderr, "ferc video: out of memory\n");
    }
    free(ids), free(pts), free(np);
    return rc;
}

void video_log_free(video_log *L)
{
    for (int i = 0; i < L->n; i++) free(L->t[i].pts);
    free(L->t);
    memset(L, 0, sizeof *L);
}
