/* cli_video.c - `ferc video`: YUV4MPEG2 in, tracked faces with smoothed emotions out.
 *
 * Three threads form a pipeline over a ring of frame slots, so reading, detection and
 * classification of consecutive frames overlap:
 *   reader    Y4M frame -> image                 (slot FREE -> READ)
 *   detector  image -> face boxes                (READ -> DETECTED)
 *   main      crop + classify + track + output   (DETECTED -> FREE)
 * Each stage takes the slots in frame order, so output order is frame order. */
#include "tools/cli.h"
#include "video/tracker.h"
#include "video/y4m.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4

static const char video_usage[] =
    "usage: ferc video [options] FILE|-\n"
    "Reads YUV4MPEG2 (4:2:0, 4:2:2, 4:4:4 or mono, 8-bit), e.g.\n"
    "  ffmpeg -i clip.mp4 -f yuv4mpegpipe -pix_fmt yuv420p - | ferc video -\n"
    "Faces are tracked across frames (stable ids by box overlap) and their probabilities\n"
    "averaged over the last --window frames. Per frame, each visible face is written as a\n"
    "CSV row (frame,time,track,x,y,w,h,score,emotion,angry,...,neutral: smoothed) or a JSON\n"
    "line ({\"frame\",\"time\",\"faces\":[{\"track\",\"box\",\"score\",\"emotion\",\n"
    "\"probabilities\" (smoothed),\"raw\"}]}).\n"
    "Options:\n"
    "  --format csv|json   per-frame output format (default csv)\n"
    "  --window N          frames averaged per track (default 5; 1 = no smoothing)\n"
    "  --iou T             minimum box overlap to continue a track (default 0.3)\n"
    "  --max-missed N      frames a track survives without a detection (default 10)\n"
    "  --plot FILE.svg     each track's seven probabilities over time\n"
    "  --summary           print per-track dominant emotion and shares instead of frames\n"
    "  --frames FILE       write the per-frame output to FILE (with --summary, say)\n"
    "  and the image options --detector, --detector-model, --threshold, --no-detect,\n"
    "  --classifier, --model, --tta, --threads (see ferc --help).\n"
    "Example:\n"
    "  ffmpeg -i talk.mp4 -f yuv4mpegpipe - | ferc video --summary --plot talk.svg -\n";

enum { FREE, READ, DETECTED, END };

typedef struct {
    int state;
    long frame;
    uint8_t *raw;
    ferc_image img;
    ferc_box boxes[CLI_MAX_FACES];
    int n;
    ferc_error err;  /* END with err.code != 0: the stream or detector failed here */
} slot;

typedef struct {
    ferc_y4m y4m;
    slot slots[SLOTS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ferc_detector *det; /* NULL: the whole frame is the face */
    int stop;           /* main thread gave up: other stages exit */
} pipeline;

static slot *wait_for(pipeline *p, long frame, int state)
{
    slot *s = &p->slots[frame % SLOTS];
    pthread_mutex_lock(&p->mu);
    while (!p->stop && s->state != state && s->state != END) pthread_cond_wait(&p->cv, &p->mu);
    if (p->stop) s = NULL;
    pthread_mutex_unlock(&p->mu);
    return s;
}

static void set_state(pipeline *p, slot *s, int state)
{
    pthread_mutex_lock(&p->mu);
    s->state = state;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *reader(void *arg)
{
    pipeline *p = arg;
    for (long f = 0;; f++) {
        slot *s = wait_for(p, f, FREE);
        if (!s) return NULL;
        int eof = 0;
        memset(&s->err, 0, sizeof s->err);
        if (ferc_y4m_read(&p->y4m, s->raw, &eof, &s->err) || eof) {
            set_state(p, s, END);
            return NULL;
        }
        s->frame = f;
        ferc_y4m_to_image(&p->y4m, s->raw, &s->img);
        set_state(p, s, READ);
    }
}

static void *detector(void *arg)
{
    pipeline *p = arg;
    for (long f = 0;; f++) {
        slot *s = wait_for(p, f, READ);
        if (!s || s->state == END) return NULL;
        if (!p->det) {
            s->boxes[0] = (ferc_box){.w = (float)s->img.width, .h = (float)s->img.height, .score = 1};
            s->n = 1;
        } else if (ferc_detect(p->det, &s->img, s->boxes, CLI_MAX_FACES, &s->n, &s->err)) {
            set_state(p, s, END);
            return NULL;
        }
        set_state(p, s, DETECTED);
    }
}

/* The main thread's analyzer "detects" by handing back the boxes the detector stage found. */
static ferc_status given_boxes(void *user, const ferc_image *img, ferc_box *boxes, int max, int *count, ferc_error *err)
{
    const slot *s = *(slot **)user;
    *count = s->n < max ? s->n : max;
    memcpy(boxes, s->boxes, sizeof *boxes * (size_t)*count);
    return FERC_OK;
}

/* Per-track record for --plot and --summary. */
typedef struct {
    int id;
    long first, last, frames;
    long counts[FERC_NUM_EMOTIONS]; /* frames with each smoothed emotion on top */
    double sum[FERC_NUM_EMOTIONS];  /* of smoothed probabilities */
    long n_pts, cap_pts;
    float *pts;                     /* per seen frame: frame index, then 7 smoothed */
} track_log;

typedef struct {
    track_log *t;
    int n, cap;
    int keep_points;
} video_log;

static track_log *log_for(video_log *L, int id)
{
    for (int i = 0; i < L->n; i++)
        if (L->t[i].id == id) return &L->t[i];
    if (L->n == L->cap) {
        int cap = L->cap ? 2 * L->cap : 8;
        track_log *t = realloc(L->t, sizeof *t * (size_t)cap);
        if (!t) return NULL;
        L->t = t, L->cap = cap;
    }
    track_log *t = &L->t[L->n++];
    memset(t, 0, sizeof *t);
    t->id = id;
    return t;
}

static int log_track(video_log *L, long frame, const ferc_track *tr)
{
    track_log *t = log_for(L, tr->id);
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

static void print_frame(FILE *f, int json, long frame, double fps, const ferc_track *tr, int n)
{
    char time[32] = "";
    if (fps > 0) snprintf(time, sizeof time, "%.3f", (double)frame / fps);
    if (json) {
        fprintf(f, "{\"frame\":%ld,\"time\":%s,\"faces\":[", frame, fps > 0 ? time : "null");
        int first = 1;
        for (int i = 0; i < n; i++) {
            if (!tr[i].seen) continue;
            const ferc_box *b = &tr[i].box;
            fprintf(f, "%s{\"track\":%d,\"box\":[%.6g,%.6g,%.6g,%.6g],\"score\":%.6g,", first ? "" : ",", tr[i].id, b->x,
                    b->y, b->w, b->h, b->score);
            cli_json_landmarks(f, b);
            fprintf(f, "\"emotion\":\"%s\",\"probabilities\":{", ferc_emotion_name(tr[i].emotion));
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

static void print_summary(FILE *f, int json, const video_log *L, double fps)
{
    if (!json) {
        fputs("track,first_frame,last_frame,frames,dominant", f);
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) fprintf(f, ",%s", ferc_emotion_name(k));
        fputc('\n', f);
    }
    for (int i = 0; i < L->n; i++) {
        const track_log *t = &L->t[i];
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

int cli_video(int argc, char **argv)
{
    cli_common o = {0};
    const char *input = NULL, *plot = NULL, *frames_path = NULL, *v;
    int summary = 0, window = 5, max_missed = 10;
    float iou = 0.3f;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(video_usage, stdout);
            return 0;
        }
        int r = argv[i][0] == '-' && argv[i][1] ? cli_parse_common(&o, argc, argv, &i) : 0;
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "--summary")) { summary = 1; continue; }
        if ((v = cli_opt_value("--plot", argc, argv, &i))) { plot = v; continue; }
        if ((v = cli_opt_value("--frames", argc, argv, &i))) { frames_path = v; continue; }
        if ((v = cli_opt_value("--window", argc, argv, &i))) {
            if (cli_parse_int("--window", v, 1, 10000, &window)) return 2;
            continue;
        }
        if ((v = cli_opt_value("--max-missed", argc, argv, &i))) {
            if (cli_parse_int("--max-missed", v, 0, 1000000, &max_missed)) return 2;
            continue;
        }
        if ((v = cli_opt_value("--iou", argc, argv, &i))) {
            char *end;
            double t = strtod(v, &end);
            if (end == v || *end || !(t > 0 && t <= 1)) {
                fprintf(stderr, "ferc video: --iou %s: expected a number in (0, 1]\n", v);
                return 2;
            }
            iou = (float)t;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "ferc video: unknown option %s (see ferc video --help)\n", argv[i]);
            return 2;
        }
        if (input) {
            fprintf(stderr, "ferc video: one input only (%s and %s given)\n", input, argv[i]);
            return 2;
        }
        input = argv[i];
    }
    int json = 0;
    if (o.format && strcmp(o.format, "csv") && !(json = !strcmp(o.format, "json"))) {
        fprintf(stderr, "ferc video: --format %s: video output is csv or json\n", o.format);
        return 2;
    }
    if (!input) {
        fprintf(stderr, "ferc video: no input (a .y4m file, or - for standard input)\n%s", video_usage);
        return 2;
    }
    FILE *in = strcmp(input, "-") ? fopen(input, "rb") : stdin;
    if (!in) {
        fprintf(stderr, "ferc video: %s: %s\n", input, strerror(errno));
        return 1;
    }
    pipeline p;
    memset(&p, 0, sizeof p);
    ferc_error err;
    if (ferc_y4m_open(in, &p.y4m, &err)) {
        fprintf(stderr, "ferc video: %s: %s\n", input, err.message);
        if (in != stdin) fclose(in);
        return 1;
    }
    FILE *frames_out = summary ? NULL : stdout;
    if (frames_path && !(frames_out = fopen(frames_path, "w"))) {
        fprintf(stderr, "ferc video: %s: %s\n", frames_path, strerror(errno));
        if (in != stdin) fclose(in);
        return 1;
    }
    /* Two engine users run at once (detector and classifier): split the threads. */
    int threads = o.threads ? o.threads : cli_default_threads();
    int engine_threads = threads / 2 > 0 ? threads / 2 : 1;
    cli_engines e;
    ferc_tracker *tracker = NULL;
    ferc_detector *given = NULL;
    ferc_analyzer *an = NULL;
    int rc = 1;
    pthread_t th[2];
    video_log L = {0};
    L.keep_points = plot != NULL;
    /* Real time first: one 300x300 SSD pass per frame (60 frames/s at 640x480 here) rather
     * than the photo default's extra full-size pass for small faces (14 frames/s). */
    if (!o.detector_size && (!o.detector || !strcmp(o.detector, "ssd"))) o.detector_size = 300;
    if (cli_engines_open(&e, &o, 1, engine_threads, !o.no_detect)) goto done;
    p.det = e.det[0];
    ferc_tracker_options to = {iou, window, max_missed};
    slot *cur = NULL; /* the frame being classified, read by given_boxes */
    if (ferc_tracker_create(&to, &tracker, &err) || ferc_detector_from_function(given_boxes, &cur, &given, &err) ||
        ferc_analyzer_create(e.cls[0], given, &an, &err) || (e.eyes && ferc_analyzer_set_align(an, e.eyes, &err))) {
        fprintf(stderr, "ferc video: %s\n", err.message);
        goto done;
    }
    /* The boxes handed on are the detector's: cropped with its FER2013 framing, as photos are. */
    ferc_detector_set_framing(given, ferc_detector_framing(p.det));
    int ch = ferc_y4m_channels(&p.y4m);
    for (int i = 0; i < SLOTS; i++) {
        p.slots[i].raw = malloc(p.y4m.frame_bytes);
        p.slots[i].img.data = malloc((size_t)p.y4m.width * p.y4m.height * ch);
        if (!p.slots[i].raw || !p.slots[i].img.data) {
            fprintf(stderr, "ferc video: out of memory for %dx%d frames\n", p.y4m.width, p.y4m.height);
            goto done;
        }
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    if (pthread_create(&th[0], NULL, reader, &p)) {
        pthread_cond_destroy(&p.cv);
        pthread_mutex_destroy(&p.mu);
        goto done;
    }
    if (pthread_create(&th[1], NULL, detector, &p)) {
        pthread_mutex_lock(&p.mu);
        p.stop = 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
        pthread_join(th[0], NULL);
        pthread_cond_destroy(&p.cv);
        pthread_mutex_destroy(&p.mu);
        goto done;
    }
    if (!json && frames_out) {
        fputs("frame,time,track,x,y,w,h,score,emotion", frames_out);
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) fprintf(frames_out, ",%s", ferc_emotion_name(k));
        fputc('\n', frames_out);
    }
    double fps = p.y4m.fps_den > 0 ? (double)p.y4m.fps_num / p.y4m.fps_den : 0;
    long f = 0;
    rc = 0;
    for (;; f++) {
        slot *s = wait_for(&p, f, DETECTED);
        if (s->state == END) {
            if (s->err.code) {
                fprintf(stderr, "ferc video: %s: %s\n", input, s->err.message);
                rc = 1;
            }
            break;
        }
        ferc_face faces[CLI_MAX_FACES];
        int n = 0;
        cur = s;
        ferc_status st = ferc_analyze(an, &s->img, faces, CLI_MAX_FACES, &n, &err);
        if (!st) st = ferc_tracker_update(tracker, f, faces, n, &err);
        if (st) {
            fprintf(stderr, "ferc video: %s: frame %ld: %s\n", input, f + 1, err.message);
            rc = 1;
            break;
        }
        const ferc_track *tr;
        int nt = ferc_tracker_tracks(tracker, &tr);
        if (frames_out) print_frame(frames_out, json, f, fps, tr, nt);
        for (int i = 0; i < nt; i++)
            if (tr[i].seen && log_track(&L, f, &tr[i])) {
                fprintf(stderr, "ferc video: out of memory\n");
                rc = 1;
            }
        if (rc) break;
        set_state(&p, s, FREE);
    }
    pthread_mutex_lock(&p.mu);
    p.stop = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    if (summary) print_summary(stdout, json, &L, fps);
    if (plot) {
        int *ids = malloc(sizeof(int) * (size_t)(L.n + 1));
        const float **pts = malloc(sizeof *pts * (size_t)(L.n + 1));
        long *np = malloc(sizeof(long) * (size_t)(L.n + 1));
        if (ids && pts && np) {
            for (int i = 0; i < L.n; i++) ids[i] = L.t[i].id, pts[i] = L.t[i].pts, np[i] = L.t[i].n_pts;
            if (cli_write_plot(plot, ids, pts, np, L.n, fps, f)) rc = 1;
        } else {
            rc = 1;
        }
        free(ids), free(pts), free(np);
    }
done:
    ferc_analyzer_free(an);
    ferc_detector_free(given);
    ferc_tracker_free(tracker);
    if (e.n) cli_engines_close(&e);
    for (int i = 0; i < SLOTS; i++) free(p.slots[i].raw), free(p.slots[i].img.data);
    for (int i = 0; i < L.n; i++) free(L.t[i].pts);
    free(L.t);
    if (frames_out && frames_out != stdout) fclose(frames_out);
    if (in != stdin) fclose(in);
    return rc;
}
