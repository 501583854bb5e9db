/* video.h - the parts of `ferc video` (video.c: arguments and the run; video_pipeline.c:
 * the reader and detector threads; video_output.c: per-frame rows, summary, plot). */
#ifndef FERC_TOOLS_CLI_VIDEO_H
#define FERC_TOOLS_CLI_VIDEO_H

#include "tools/cli/cli.h"
#include "detect/image/y4m.h"
#include "detect/tracker.h"

#include <pthread.h>

/* Detector threads at most, and slots: one per detector, the one being read, the one being
 * classified and one spare. */
#define VIDEO_DETECTORS 4
#define VIDEO_SLOTS (VIDEO_DETECTORS + 3)

/* One frame in flight: read (raw planes -> img), then its boxes found. */
typedef struct {
    int state;
    long frame;
    uint8_t *raw;
    ferc_image img;
    ferc_box boxes[CLI_MAX_FACES];
    int n;
    ferc_error err; /* at the end: err.code != 0 when the stream or the detector failed here */
} video_slot;

/* A ring of frame slots that a reader thread and n_detect detector threads fill, so reading,
 * detection and classification of consecutive frames overlap, and so do the detections of
 * n_detect consecutive frames (detector i takes frames i, i + n_detect, ...):
 *   reader    Y4M frame -> image                 (slot free -> read)
 *   detector  image -> face boxes                (read -> detected)
 *   caller    crop + classify + track + output   (detected -> free, video_pipeline_done)
 * The reader and the caller take the frames in order, so output order is frame order. */
typedef struct video_pipeline_s {
    ferc_y4m y4m;
    video_slot slots[VIDEO_SLOTS];
    int n_slots; /* n_detect + 3 */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ferc_analyzer *detect[VIDEO_DETECTORS]; /* each detector thread's analyzer (ferc_analyzer_detect) */
    int n_detect;
    int stop;    /* the caller gave up: the threads exit */
    int started; /* threads started (to join) */
    pthread_t th[1 + VIDEO_DETECTORS];
    struct video_worker {
        struct video_pipeline_s *p;
        int i;
    } workers[VIDEO_DETECTORS];
} video_pipeline;

/* Catches SIGINT (Ctrl-C): the pipeline then stops at the next frame (video_pipeline_next
 * returns NULL) and its threads exit; a second Ctrl-C ends the process as usual. Call
 * before video_pipeline_start. */
void video_catch_sigint(void);

/* Allocates the slots for p->y4m's frames and starts the reader and one detector thread per
 * analyzer in detect[0 .. n - 1] (n <= VIDEO_DETECTORS). Returns 0, or -1 with a message
 * printed. */
int video_pipeline_start(video_pipeline *p, ferc_analyzer *const *detect, int n);
/* The slot of frame f once detected; its ->err says why when it is the end
 * (video_pipeline_at_end). NULL after a Ctrl-C (video_catch_sigint). */
video_slot *video_pipeline_next(video_pipeline *p, long f);
int video_pipeline_at_end(const video_slot *s);
/* Hands the slot back to the reader. */
void video_pipeline_done(video_pipeline *p, video_slot *s);
/* Stops and joins the threads, frees the slots. */
void video_pipeline_stop(video_pipeline *p);

/* Per-track record for --plot and --summary. */
typedef struct {
    int id;
    long first, last, frames;
    long counts[FERC_NUM_EMOTIONS]; /* frames with each smoothed emotion on top */
    double sum[FERC_NUM_EMOTIONS];  /* of smoothed probabilities */
    long n_pts, cap_pts;
    float *pts;                     /* per seen frame: frame index, then 7 smoothed */
} video_track_log;

typedef struct {
    video_track_log *t;
    int n, cap;
    int keep_points;
} video_log;

/* Records a seen track's frame. Returns 0, or -1 out of memory. */
int video_log_track(video_log *L, long frame, const ferc_track *tr);
void video_log_free(video_log *L);
void video_print_header(FILE *f, int json);
/* The frame's seen tracks: CSV rows or one JSON line. */
void video_print_frame(FILE *f, int json, long frame, double fps, const ferc_track *tr, int n);
void video_print_summary(FILE *f, int json, const video_log *L, double fps);
/* The --plot SVG of every logged track. Returns 0, or -1 with a message printed. */
int video_write_plot(const char *path, const video_log *L, double fps, long frames);

#endif
