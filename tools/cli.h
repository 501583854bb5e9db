/* cli.h - pieces shared by the ferc command's modes (tools/ferc.c and tools/cli_*.c). */
#ifndef FERC_TOOLS_CLI_H
#define FERC_TOOLS_CLI_H

#include "ferc.h"

#include <stdio.h>

#define CLI_MAX_FACES 256

/* Options common to all modes, filled by cli_parse_common. */
typedef struct {
    const char *classifier;  /* cnn, small, lbp-svm */
    const char *model;       /* --model FILE: overrides classifier */
    const char *detector;    /* ssd, yunet, haar, lbp */
    const char *detector_model;
    float threshold;
    int min_size;            /* --min-size: smallest face, pixels */
    int detector_size;       /* --detector-size (--ssd-size): network input side (0: by image size) */
    float nms;               /* --nms: YuNet's NMS IoU (0: default) */
    double scale_factor;     /* --scale-factor (cascades) */
    int min_neighbors;       /* --min-neighbors (cascades) */
    int no_detect;
    int tta;
    const char *eye_cascade; /* --align [--eye-cascade FILE]: roll correction from the eyes */
    int threads;             /* total threads to use */
    const char *format;      /* json, text (images); csv, json (video) */
} cli_common;

/* Parses one common option at argv[*i] (with its value, as "--x v" or "--x=v").
 * Returns 1 if consumed, 0 if not a common option, -1 on a bad value (message printed). */
int cli_parse_common(cli_common *o, int argc, char **argv, int *i);
/* Value of option `name` at argv[*i] ("--name v" or "--name=v"), advancing *i; NULL if
 * argv[*i] is not that option. Prints an error and exits 2 if the value is missing. */
const char *cli_opt_value(const char *name, int argc, char **argv, int *i);
int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out);

/* The classifier weight file to load: --model, else the file for --classifier found in
 * FERC_WEIGHTS, weights/ next to the binary, or ../share/ferc/weights from it. NULL (and a
 * message printed naming the places tried) if not found. */
const char *cli_classifier_path(const cli_common *o, char *buf, size_t size);
/* Same for the detector's file; NULL if --detector-model was not given and none is found
 * (the detector then reports what it needs). */
const char *cli_detector_path(const cli_common *o, char *buf, size_t size);
/* The default file for a classifier (detector 0) or detector (1) name, or NULL. */
const char *cli_default_file(int detector, const char *name, char *buf, size_t size);
/* Where default weights are looked for, in order (for `ferc version`). */
int cli_weight_dirs(char dirs[][1024], int max);

/* Per-thread analyzers over one shared model. */
typedef struct {
    ferc_model *model;
    int n;
    ferc_classifier **cls;
    ferc_detector **det;
    ferc_analyzer **an;
    ferc_cascade *eyes;      /* --align: shared by every analyzer */
} cli_engines;

/* n analyzers, each running the engine with engine_threads. Prints the error and returns
 * non-zero on failure. */
int cli_engines_open(cli_engines *e, const cli_common *o, int n, int engine_threads, int detect);
void cli_engines_close(cli_engines *e);

/* Input list: files, directories walked recursively (image files only, sorted), "-". */
typedef struct {
    char **paths;
    int n, cap;
} cli_inputs;

/* Adds arg (walking directories); a missing path is added too so that its error is
 * reported in order. Returns non-zero only when out of memory. */
int cli_inputs_add(cli_inputs *in, const char *arg);
void cli_inputs_free(cli_inputs *in);
int cli_is_image_name(const char *name);

/* JSON string (quoted, escaped) to f. */
void cli_json_string(FILE *f, const char *s);
/* "landmarks":[[x,y],...], (with the comma) for a box that has them; nothing otherwise. */
void cli_json_landmarks(FILE *f, const ferc_box *b);

/* Default thread count: FERC_THREADS, else the number of processors. */
int cli_default_threads(void);
double cli_seconds(void);

/* Modes. */
int cli_eval(int argc, char **argv);
int cli_video(int argc, char **argv);
int cli_version(void);

/* SVG of each track's smoothed probabilities: pts[t] holds n_pts[t] records of 8 floats
 * (frame index, then the 7 probabilities). Returns 0, or -1 with a message printed. */
int cli_write_plot(const char *path, const int *ids, const float *const *pts, const long *n_pts, int n_tracks,
                   double fps, long frames);

/* Annotation: draws each face's box and label onto rgb (3 channels). */
void cli_annotate(ferc_image *rgb, const ferc_face *faces, int n);

#endif
