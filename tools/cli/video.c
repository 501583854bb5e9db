/* video.c - `ferc video`: YUV4MPEG2 in, tracked faces with smoothed emotions out. The
 * arguments and the run; the threads are in video_pipeline.c, the output in video_output.c.
 * Boxes come from the detector threads' analyzers (clones of the main one) and are cropped
 * and classified by ferc_analyze_boxes with the detector's framing, exactly as a photo's. */
#include "tools/cli/video.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    "  --max-pixels N      refuse streams whose frames have over N pixels\n"
    "  and the image options --detector, --detector-model, --threshold, --no-detect,\n"
    "  --classifier, --model, --tta, --threads (see ferc --help).\n"
    "Ctrl-C (SIGINT) stops at the current frame: what was processed is written out (frames,\n"
    "--summary, --plot) and the exit status is 130; a second Ctrl-C ends at once.\n"
    "Example:\n"
    "  ffmpeg -i talk.mp4 -f yuv4mpegpipe - | ferc video --summary --plot talk.svg -\n";

typedef struct {
    const char *input, *plot, *frames_path;
    int summary, json;
    ferc_tracker_options tracker;
} video_args;

/* Returns -1 to go on, else the exit status (help printed, or a bad argument). */
static int parse_args(int argc, char **argv, cli_options *o, video_args *va)
{
    const char *v;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(video_usage, stdout);
            return 0;
        }
        int r = argv[i][0] == '-' && argv[i][1] ? cli_parse_common(o, argc, argv, &i) : 0;
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "--summary")) { va->summary = 1; continue; }
        if ((v = cli_opt_value("--plot", argc, argv, &i))) { va->plot = v; continue; }
        if ((v = cli_opt_value("--frames", argc, argv, &i))) { va->frames_path = v; continue; }
        if ((v = cli_opt_value("--window", argc, argv, &i))) {
            if (cli_parse_int("--window", v, 1, 10000, &va->tracker.window)) return 2;
            continue;
        }
        if ((v = cli_opt_value("--max-missed", argc, argv, &i))) {
            if (cli_parse_int("--max-missed", v, 0, 1000000, &va->tracker.max_missed)) return 2;
            continue;
        }
        if ((v = cli_opt_value("--iou", argc, argv, &i))) {
            char *end;
            double t = strtod(v, &end);
            if (end == v || *end || !(t > 0 && t <= 1)) {
                fprintf(stderr, "ferc video: --iou %s: expected a number in (0, 1]\n", v);
                return 2;
            }
            va->tracker.iou = (float)t;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "ferc video: unknown option %s (see ferc video --help)\n", argv[i]);
            return 2;
        }
        if (va->input) {
            fprintf(stderr, "ferc video: one input only (%s and %s given)\n", va->input, argv[i]);
            return 2;
        }
        va->input = argv[i];
    }
    if (o->format && strcmp(o->format, "csv") && !(va->json = !strcmp(o->format, "json"))) {
        fprintf(stderr, "ferc video: --format %s: video output is csv or json\n", o->format);
        return 2;
    }
    if (o->an.tiles > 1) { /* real time first: one pass per frame */
        fprintf(stderr, "ferc video: --tiles is for photos; video runs one detector pass per frame\n");
        return 2;
    }
    if (!va->input) {
        fprintf(stderr, "ferc video: no input (a .y4m file, or - for standard input)\n%s", video_usage);
        return 2;
    }
    return -1;
}

/* Classifies and tracks every frame the pipeline detects, writing as it goes. Returns the
 * exit status; *frames is the number of frames read. */
static int run(video_pipeline *p, ferc_analyzer *an, ferc_tracker *tracker, const video_args *va,
               FILE *frames_out, video_log *L, double fps, long *frames)
{
    if (frames_out) video_print_header(frames_out, va->json);
    int rc = 0;
    long f = 0;
    for (;; f++) {
        video_slot *s = video_pipeline_next(p, f);
        if (!s) {
            fprintf(stderr, "ferc video: interrupted after %ld frames\n", f);
            rc = 130;
            break;
        }
        if (video_pipeline_at_end(s)) {
            if (s->err.code) {
                fprintf(stderr, "ferc video: %s: %s\n", va->input, s->err.message);
                rc = 1;
            }
            break;
        }
        ferc_face faces[CLI_MAX_FACES];
        int n = 0;
        ferc_error err;
        ferc_status st = ferc_analyze_boxes(an, &s->img, s->boxes, s->n, faces, &n, &err);
        if (!st) st = ferc_tracker_update(tracker, f, faces, n, &err);
        if (st) {
            fprintf(stderr, "ferc video: %s: frame %ld: %s\n", va->input, f + 1, err.message);
            rc = 1;
            break;
        }
        const ferc_track *tr;
        int nt = ferc_tracker_tracks(tracker, &tr);
        if (frames_out) {
            video_print_frame(frames_out, va->json, f, fps, tr, nt);
            fflush(frames_out); /* a frame at a time: whoever reads a pipe sees frames live */
        }
        for (int i = 0; i < nt; i++)
            if (tr[i].seen && video_log_track(L, f, &tr[i])) {
                fprintf(stderr, "ferc video: out of memory\n");
                rc = 1;
            }
        if (rc) break;
        video_pipeline_done(p, s);
    }
    *frames = f;
    return rc;
}

int cli_video(int argc, char **argv)
{
    cli_options o = {.format = NULL};
    video_args va = {.tracker = {.iou = 0.3f, .window = 5, .max_missed = 10}};
    int rc = parse_args(argc, argv, &o, &va);
    if (rc >= 0) return rc;
    FILE *in = strcmp(va.input, "-") ? fopen(va.input, "rb") : stdin;
    if (!in) {
        fprintf(stderr, "ferc video: %s: %s\n", va.input, strerror(errno));
        return 1;
    }
    video_pipeline p;
    memset(&p, 0, sizeof p);
    ferc_error err;
    if (ferc_y4m_open(in, &p.y4m, &err)) {
        fprintf(stderr, "ferc video: %s: %s\n", va.input, err.message);
        if (in != stdin) fclose(in);
        return 1;
    }
    if (o.max_pixels && (int64_t)p.y4m.width * p.y4m.height > o.max_pixels) {
        fprintf(stderr, "ferc video: %s: frames of %dx%d pixels are over --max-pixels %d\n", va.input, p.y4m.width,
                p.y4m.height, o.max_pixels);
        if (in != stdin) fclose(in);
        return 1;
    }
    FILE *frames_out = va.summary ? NULL : stdout;
    if (va.frames_path && !(frames_out = fopen(va.frames_path, "w"))) {
        fprintf(stderr, "ferc video: %s: %s\n", va.frames_path, strerror(errno));
        if (in != stdin) fclose(in);
        return 1;
    }
    /* Detection is most of the work: one detector thread per core (at most VIDEO_DETECTORS),
     * each on its own frames with an engine of threads / detectors threads. Whole frames in
     * parallel keep the cores busy without the engine's per-layer barriers, which cost the
     * most when a core is shared. The classifier (this thread) runs with the same count. */
    const int threads = o.threads ? o.threads : cli_default_threads();
    const int detectors = threads < VIDEO_DETECTORS ? threads : VIDEO_DETECTORS;
    const int engine_threads = threads / detectors;
    /* Real time first: the SSD in one 300x300 pass per frame rather than the photo default's
     * extra full-size pass for small faces; YuNet at a long side of 640 rather than twice the
     * frame's. */
    const char *kind = o.an.detector ? o.an.detector : FERC_DEFAULT_DETECTOR;
    if (!o.an.detector_size && !strcmp(kind, "ssd")) o.an.detector_size = 300;
    if (!o.an.detector_size && !strcmp(kind, "yunet")) o.an.detector_size = 640;
    cli_engines e = {0};
    ferc_tracker *tracker = NULL;
    video_log L = {.keep_points = va.plot != NULL};
    rc = 1;
    long frames = 0;
    if (cli_engines_open(&e, &o, 1 + detectors, engine_threads)) goto done; /* [0] classifies, the rest detect */
    if (ferc_tracker_create(&va.tracker, &tracker, &err)) {
        fprintf(stderr, "ferc video: %s\n", err.message);
        goto done;
    }
    video_catch_sigint();
    if (video_pipeline_start(&p, e.an + 1, detectors)) goto done;
    const double fps = p.y4m.fps_den > 0 ? (double)p.y4m.fps_num / p.y4m.fps_den : 0;
    rc = run(&p, e.an[0], tracker, &va, frames_out, &L, fps, &frames);
    /* What was processed is written before the threads are joined: after a Ctrl-C the
     * reader may still be blocked on a stream that has stopped. */
    if (va.summary) video_print_summary(stdout, va.json, &L, fps);
    if (va.plot && video_write_plot(va.plot, &L, fps, frames)) rc = rc ? rc : 1;
    if ((frames_out && fflush(frames_out)) || fflush(stdout)) {
        fprintf(stderr, "ferc video: %s: %s\n", frames_out && frames_out != stdout ? va.frames_path : "standard output",
                strerror(errno));
        rc = rc ? rc : 1;
    }
    video_pipeline_stop(&p);
done:
    video_pipeline_stop(&p);
    ferc_tracker_free(tracker);
    cli_engines_close(&e);
    video_log_free(&L);
    if (frames_out && frames_out != stdout) fclose(frames_out);
    if (in != stdin) fclose(in);
    return rc;
}
