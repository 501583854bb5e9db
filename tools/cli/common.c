/* common.c - option parsing, input listing and per-thread engines shared by the ferc
 * command's modes. */
#include "tools/cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *cli_opt_value(const char *name, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n)) return NULL;
    if (a[n] == '=') return a + n + 1;
    if (a[n]) return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "ferc: option %s needs a value (see ferc --help)\n", name);
        exit(2);
    }
    return argv[++*i];
}

int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "ferc: %s %s: expected a whole number from %d to %d\n", opt, s, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int one_of(const char *opt, const char *v, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(v, names[i])) return 0;
    fprintf(stderr, "ferc: %s %s: expected one of", opt, v);
    for (int i = 0; names[i]; i++) fprintf(stderr, " %s", names[i]);
    fprintf(stderr, "\n");
    return -1;
}

int cli_parse_common(cli_options *o, int argc, char **argv, int *i)
{
    static const char *const classifiers[] = {"cnn", "small", "lbp-svm", NULL};
    static const char *const detectors[] = {"ssd", "yunet", "haar", "lbp", NULL};
    ferc_analyzer_options *an = &o->an;
    const char *v, *a = argv[*i];
    if (!strcmp(a, "--no-detect") || !strcmp(a, "--faces-only")) return an->detector = "none", 1;
    if (!strcmp(a, "--tta") || !strncmp(a, "--tta=", 6)) { /* bare --tta: flip; a mode may follow */
        const char *const modes[] = {ferc_tta_name(FERC_TTA_NONE), ferc_tta_name(FERC_TTA_FLIP), ferc_tta_name(FERC_TTA_CENTRE),
                                     ferc_tta_name(FERC_TTA_CROPS), NULL};
        v = a[5] ? a + 6 : *i + 1 < argc && ferc_tta_from_name(argv[*i + 1]) >= 0 ? argv[++*i] : "flip";
        if (one_of("--tta", v, modes)) return -1;
        an->tta = ferc_tta_from_name(v);
        return 1;
    }
    if (!strcmp(a, "--int8")) return an->int8 = 1;
    if (!strcmp(a, "--align")) return an->align = 1;
    if ((v = cli_opt_value("--eye-cascade", argc, argv, i))) return an->eye_cascade = v, 1;
    if ((v = cli_opt_value("--model", argc, argv, i))) return an->model = v, 1;
    if ((v = cli_opt_value("--classifier", argc, argv, i)))
        return one_of("--classifier", v, classifiers) ? -1 : (an->classifier = v, 1);
    if ((v = cli_opt_value("--detector-model", argc, argv, i))) return an->detector_model = v, 1;
    if ((v = cli_opt_value("--cascade", argc, argv, i))) return an->detector_model = v, 1;
    if ((v = cli_opt_value("--min-neighbors", argc, argv, i)))
        return cli_parse_int("--min-neighbors", v, 1, 1000, &an->min_neighbors) ? -1 : 1;
    if ((v = cli_opt_value("--min-size", argc, argv, i)))
        return cli_parse_int("--min-size", v, 1, 65536, &an->min_size) ? -1 : 1;
    /* --ssd-size: the option's name before YuNet. */
    if ((v = cli_opt_value("--detector-size", argc, argv, i)) || (v = cli_opt_value("--ssd-size", argc, argv, i)))
        return cli_parse_int("--detector-size", v, 32, 2048, &an->detector_size) ? -1 : 1;
    if ((v = cli_opt_value("--nms", argc, argv, i))) {
        char *end;
        double t = strtod(v, &end);
        if (end == v || *end || !(t > 0 && t <= 1)) {
            fprintf(stderr, "ferc: --nms %s: expected an IoU above 0, at most 1\n", v);
            return -1;
        }
        an->nms = (float)t;
        return 1;
    }
    if ((v = cli_opt_value("--tiles", argc, argv, i))) { /* G or GxK */
        char *end;
        const long g = strtol(v, &end, 10);
        double k = 0;
        int bad = end == v || g < 0 || g > FERC_YUNET_MAX_TILES;
        if (!bad && *end == 'x') {
            const char *ks = end + 1;
            k = strtod(ks, &end);
            bad = end == ks || !(k >= 1 && k <= FERC_YUNET_MAX_TILE_SCALE);
        }
        if (bad || *end) {
            fprintf(stderr, "ferc: --tiles %s: expected G or GxK: G x G tiles (0..%d; 0 or 1: one pass), each at K times "
                            "its size (1..%d, default %d)\n", v, FERC_YUNET_MAX_TILES, FERC_YUNET_MAX_TILE_SCALE,
                    FERC_YUNET_DEFAULT_TILE_SCALE);
            return -1;
        }
        an->tiles = (int)g, an->tile_scale = k;
        return 1;
    }
    if ((v = cli_opt_value("--scale-factor", argc, argv, i))) {
        char *end;
        double f = strtod(v, &end);
        if (end == v || *end || !(f > 1.0 && f < 10.0)) {
            fprintf(stderr, "ferc: --scale-factor %s: expected a number between 1 and 10 (exclusive)\n", v);
            return -1;
        }
        an->scale_factor = f;
        return 1;
    }
    if ((v = cli_opt_value("--detector", argc, argv, i))) { /* --no-detect wins, in any order */
        if (one_of("--detector", v, detectors)) return -1;
        if (!an->detector || strcmp(an->detector, "none")) an->detector = v;
        return 1;
    }
    if ((v = cli_opt_value("--threads", argc, argv, i))) return cli_parse_int("--threads", v, 1, 1024, &o->threads) ? -1 : 1;
    if ((v = cli_opt_value("--format", argc, argv, i))) return o->format = v, 1;
    if ((v = cli_opt_value("--max-pixels", argc, argv, i)))
        return cli_parse_int("--max-pixels", v, 1, (int)FERC_IMAGE_MAX_PIXELS, &o->max_pixels) ? -1 : 1;
    if ((v = cli_opt_value("--threshold", argc, argv, i))) {
        char *end;
        double t = strtod(v, &end);
        if (end == v || *end || !(t > 0 && t < 1)) {
            fprintf(stderr, "ferc: --threshold %s: expected a number between 0 and 1\n", v);
            return -1;
        }
        an->threshold = (float)t;
        return 1;
    }
    return 0;
}

int cli_engines_open(cli_engines *e, const cli_options *o, int n, int engine_threads)
{
    memset(e, 0, sizeof *e);
    if (!(e->an = calloc((size_t)n, sizeof *e->an))) {
        fprintf(stderr, "ferc: out of memory\n");
        return 1;
    }
    ferc_analyzer_options an = o->an;
    an.threads = engine_threads;
    ferc_error err;
    ferc_status s = ferc_analyzer_open(&an, &e->an[0], &err);
    for (int i = 1; !s && i < n; i++) s = ferc_analyzer_clone(e->an[0], &e->an[i], &err);
    e->n = n;
    if (s) {
        fprintf(stderr, "ferc: %s\n", err.message);
        cli_engines_close(e);
        return 1;
    }
    return 0;
}

void cli_engines_close(cli_engines *e)
{
    for (int i = e->n - 1; i >= 0; i--) ferc_analyzer_free(e->an[i]); /* clones before the original */
    free(e->an);
    memset(e, 0, sizeof *e);
}

int cli_is_image_name(const char *name)
{
    static const char *const ext[] = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".pnm", ".tga", ".gif"};
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (!strcasecmp(dot, ext[i])) return 1;
    return 0;
}

static int push(cli_inputs *in, const char *path)
{
    if (in->n == in->cap) {
        int cap = in->cap ? in->cap * 2 : 64;
        char **p = realloc(in->paths, sizeof *p * (size_t)cap);
        if (!p) return -1;
        in->paths = p, in->cap = cap;
    }
    return (in->paths[in->n] = strdup(path)) ? (in->n++, 0) : -1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Walks dir depth-first; entries sorted by name at each level. depth bounds symlink loops. */
static int walk(cli_inputs *in, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return push(in, dir); /* reported as unreadable when processed */
    char **names = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, sizeof *p * (size_t)cap);
            if (!p) { rc = -1; break; }
            names = p;
        }
        if (!(names[n] = strdup(e->d_name))) { rc = -1; break; }
        n++;
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *p = malloc(len);
        if (!p) { rc = -1; break; }
        snprintf(p, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
        struct stat st;
        if (!rc && stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode) && depth < 32) rc = walk(in, p, depth + 1);
            else if (S_ISREG(st.st_mode) && cli_is_image_name(names[i])) rc = push(in, p);
        }
        free(p);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int cli_inputs_add(cli_inputs *in, const char *arg)
{
    struct stat st;
    if (strcmp(arg, "-") && stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) return walk(in, arg, 0);
    return push(in, arg);
}

void cli_inputs_free(cli_inputs *in)
{
    for (int i = 0; i < in->n; i++) free(in->paths[i]);
    free(in->paths);
    memset(in, 0, sizeof *in);
}

int cli_default_threads(void)
{
    const char *env = getenv("FERC_THREADS");
    int n = env ? atoi(env) : 0;
    return n > 0 && n <= 1024 ? n : omp_get_num_procs();
}

double cli_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
