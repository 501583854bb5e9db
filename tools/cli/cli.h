/* cli.h - pieces shared by the ferc command's modes (the C files in tools/cli/). */
#ifndef FERC_TOOLS_CLI_CLI_H
#define FERC_TOOLS_CLI_CLI_H

#include "ferc.h"

#include <stdio.h>

#define CLI_MAX_FACES 256

/* Options common to all modes, filled by cli_parse_common: the image options go straight
 * into the library's analyzer options, which ferc_analyzer_open turns into the pipeline. */
typedef struct {
    ferc_analyzer_options an; /* an.threads is set per worker by cli_engines_open */
    int threads;              /* --threads: total threads to use */
    const char *format;       /* json, text (images); csv, json (video) */
    int max_pixels;           /* --max-pixels: per image or video frame; 0: the library's limit */
} cli_options;

/* Parses one common option at argv[*i] (with its value, as "--x v" or "--x=v").
 * Returns 1 if consumed, 0 if not a common option, -1 on a bad value (message printed). */
int cli_parse_common(cli_options *o, int argc, char **argv, int *i);
/* Value of option `name` at argv[*i] ("--name v" or "--name=v"), advancing *i; NULL if
 * argv[*i] is not that option. Prints an error and exits 2 if the value is missing. */
const char *cli_opt_value(const char *name, int argc, char **argv, int *i);
int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out);

/* Per-thread analyzers: one opened from the options, the others its clones (sharing the
 * loaded files). */
typedef struct {
    int n;
    ferc_analyzer **an;
} cli_engines;

/* n analyzers, each running the engine with engine_threads. Prints the error and returns
 * non-zero on failure. */
int cli_engines_open(cli_engines *e, const cli_options *o, int n, int engine_threads);
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

/* Default thread count: FERC_THREADS, else the number of processors. */
int cli_default_threads(void);
double cli_seconds(void);

/* Modes. */
int cli_eval(int argc, char **argv);
int cli_video(int argc, char **argv);
int cli_serve(int argc, char **argv);
extern const char cli_serve_usage[];
int cli_version(void);

/* SVG of each track's smoothed probabilities: pts[t] holds n_pts[t] records of 8 floats
 * (frame index, then the 7 probabilities). Returns 0, or -1 with a message printed. */
int cli_write_plot(const char *path, const int *ids, const float *const *pts, const long *n_pts, int n_tracks,
                   double fps, long frames);

/* Annotation: draws each face's box and label onto rgb (3 channels). */
void cli_annotate(ferc_image *rgb, const ferc_face *faces, int n);
/* Drawing on an RGB image (clipped to it): a filled rectangle [x0, x1) x [y0, y1), and text in
 * a 5x7 font (letters, digits, % . # - :), each dot scale x scale pixels, top-left at (x, y). */
void cli_fill(ferc_image *im, int x0, int y0, int x1, int y1, const uint8_t c[3]);
void cli_draw_text(ferc_image *im, int x, int y, int scale, const char *text, const uint8_t color[3]);

#endif
