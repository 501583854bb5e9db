/* cli_common.c - option parsing, default weight lookup, input listing and per-thread
 * engines shared by the ferc command's modes. */
#include "tools/cli.h"

#include <dirent.h>
#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Default files per --classifier and --detector name. */
static const struct { const char *name, *file; } classifier_files[] = {
    {"cnn", "emotion_cnn.ferc"}, {"small", "emotion_small.ferc"}, {"lbp-svm", "emotion_lbp_svm.ferc"}};
static const struct { const char *name, *file; } detector_files[] = {
    {"ssd", "face_res10.ferc"}, {"yunet", "face_yunet.ferc"}, {"haar", "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"},
    {"lbp", "/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml"}};

#define EYE_CASCADE "/usr/share/opencv4/haarcascades/haarcascade_eye.xml"

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

int cli_parse_common(cli_common *o, int argc, char **argv, int *i)
{
    static const char *const classifiers[] = {"cnn", "small", "lbp-svm", NULL};
    static const char *const detectors[] = {"ssd", "yunet", "haar", "lbp", NULL};
    const char *v, *a = argv[*i];
    if (!strcmp(a, "--no-detect") || !strcmp(a, "--faces-only")) return o->no_detect = 1;
    if (!strcmp(a, "--tta")) return o->tta = 1;
    if (!strcmp(a, "--align")) {
        if (!o->eye_cascade) o->eye_cascade = EYE_CASCADE;
        return 1;
    }
    if ((v = cli_opt_value("--eye-cascade", argc, argv, i))) return o->eye_cascade = v, 1;
    if ((v = cli_opt_value("--model", argc, argv, i))) return o->model = v, 1;
    if ((v = cli_opt_value("--classifier", argc, argv, i)))
        return one_of("--classifier", v, classifiers) ? -1 : (o->classifier = v, 1);
    if ((v = cli_opt_value("--detector-model", argc, argv, i))) return o->detector_model = v, 1;
    if ((v = cli_opt_value("--cascade", argc, argv, i))) return o->detector_model = v, 1;
    if ((v = cli_opt_value("--min-neighbors", argc, argv, i)))
        return cli_parse_int("--min-neighbors", v, 1, 1000, &o->min_neighbors) ? -1 : 1;
    if ((v = cli_opt_value("--min-size", argc, argv, i))) return cli_parse_int("--min-size", v, 1, 65536, &o->min_size) ? -1 : 1;
    /* --ssd-size: the option's name before YuNet. */
    if ((v = cli_opt_value("--detector-size", argc, argv, i)) || (v = cli_opt_value("--ssd-size", argc, argv, i)))
        return cli_parse_int("--detector-size", v, 32, 2048, &o->detector_size) ? -1 : 1;
    if ((v = cli_opt_value("--scale-factor", argc, argv, i))) {
        char *end;
        double f = strtod(v, &end);
        if (end == v || *end || !(f > 1.0 && f < 10.0)) {
            fprintf(stderr, "ferc: --scale-factor %s: expected a number between 1 and 10 (exclusive)\n", v);
            return -1;
        }
        o->scale_factor = f;
        return 1;
    }
    if ((v = cli_opt_value("--detector", argc, argv, i)))
        return one_of("--detector", v, detectors) ? -1 : (o->detector = v, 1);
    if ((v = cli_opt_value("--threads", argc, argv, i))) return cli_parse_int("--threads", v, 1, 1024, &o->threads) ? -1 : 1;
    if ((v = cli_opt_value("--format", argc, argv, i))) return o->format = v, 1;
    if ((v = cli_opt_value("--nms", argc, argv, i))) {
        char *end;
        double t = strtod(v, &end);
        if (end == v || *end || !(t > 0 && t <= 1)) {
            fprintf(stderr, "ferc: --nms %s: expected an IoU above 0, at most 1\n", v);
            return -1;
        }
        o->nms = (float)t;
        return 1;
    }
    if ((v = cli_opt_value("--threshold", argc, argv, i))) {
        char *end;
        double t = strtod(v, &end);
        if (end == v || *end || !(t > 0 && t < 1)) {
            fprintf(stderr, "ferc: --threshold %s: expected a number between 0 and 1\n", v);
            return -1;
        }
        o->threshold = (float)t;
        return 1;
    }
    return 0;
}

int cli_weight_dirs(char dirs[][1024], int max)
{
    int n = 0;
    const char *env = getenv("FERC_WEIGHTS");
    if (env && *env && n < max) snprintf(dirs[n++], 1024, "%s", env);
    char exe[960];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        if (n < max) snprintf(dirs[n++], 1024, "%s/weights", exe);
        if (n < max) snprintf(dirs[n++], 1024, "%s/../share/ferc/weights", exe);
    }
    return n;
}

static const char *find_weight(const char *file, const char *what, char *buf, size_t size, int quiet)
{
    if (file[0] == '/') { /* OpenCV's cascades, from Debian's opencv-data */
        snprintf(buf, size, "%s", file);
        if (access(buf, R_OK) == 0) return buf;
        if (!quiet) fprintf(stderr, "ferc: no %s: %s is missing (apt-get install opencv-data)\n", what, file);
        return NULL;
    }
    char dirs[4][1024];
    int n = cli_weight_dirs(dirs, 4);
    for (int i = 0; i < n; i++) {
        snprintf(buf, size, "%s/%s", dirs[i], file);
        if (access(buf, R_OK) == 0) return buf;
    }
    if (!quiet) {
        fprintf(stderr, "ferc: no %s: %s is not in", what, file);
        for (int i = 0; i < n; i++) fprintf(stderr, "%s %s", i ? "," : "", dirs[i]);
        fprintf(stderr, " (set FERC_WEIGHTS to its folder, or name a file with --model)\n");
    }
    return NULL;
}

/* The file of the classifier or detector called name, found by find_weight. */
static const char *default_file(int detector, const char *name, const char *what, char *buf, size_t size, int quiet)
{
    const size_t count = detector ? sizeof detector_files / sizeof *detector_files
                                  : sizeof classifier_files / sizeof *classifier_files;
    for (size_t i = 0; i < count; i++) {
        const char *n = detector ? detector_files[i].name : classifier_files[i].name;
        const char *f = detector ? detector_files[i].file : classifier_files[i].file;
        if (!strcmp(n, name)) return find_weight(f, what, buf, size, quiet);
    }
    return NULL;
}

const char *cli_default_file(int detector, const char *name, char *buf, size_t size)
{
    return default_file(detector, name, NULL, buf, size, 1);
}

const char *cli_classifier_path(const cli_common *o, char *buf, size_t size)
{
    if (o->model) return o->model;
    return default_file(0, o->classifier ? o->classifier : "cnn", "classifier model", buf, size, 0);
}

const char *cli_detector_path(const cli_common *o, char *buf, size_t size)
{
    if (o->detector_model) return o->detector_model;
    return default_file(1, o->detector ? o->detector : "ssd", "detector", buf, size, 1);
}

int cli_engines_open(cli_engines *e, const cli_common *o, int n, int engine_threads, int detect)
{
    memset(e, 0, sizeof *e);
    char mbuf[1200], dbuf[1200];
    const char *mpath = cli_classifier_path(o, mbuf, sizeof mbuf);
    if (!mpath) return 1;
    ferc_error err;
    if (ferc_model_load(mpath, &e->model, &err)) {
        fprintf(stderr, "ferc: %s\n", err.message);
        return 1;
    }
    e->cls = calloc((size_t)n, sizeof *e->cls);
    e->det = calloc((size_t)n, sizeof *e->det);
    e->an = calloc((size_t)n, sizeof *e->an);
    if (!e->cls || !e->det || !e->an) {
        fprintf(stderr, "ferc: out of memory\n");
        cli_engines_close(e);
        return 1;
    }
    e->n = n;
    if (o->eye_cascade && ferc_cascade_load(o->eye_cascade, &e->eyes, &err)) {
        fprintf(stderr, "ferc: --align: %s%s\n", err.message,
                strcmp(o->eye_cascade, EYE_CASCADE) ? "" : " (apt-get install opencv-data)");
        cli_engines_close(e);
        return 1;
    }
    const char *dpath = detect ? cli_detector_path(o, dbuf, sizeof dbuf) : NULL;
    for (int i = 0; i < n; i++) {
        ferc_classifier_options co = {o->tta, 0, engine_threads};
        ferc_status s = ferc_classifier_create(e->model, &co, &e->cls[i], &err);
        if (s) {
            fprintf(stderr, "ferc: %s: %s\n", mpath, err.message);
            cli_engines_close(e);
            return 1;
        }
        if (detect) {
            ferc_detector_options dopt = {o->detector ? o->detector : "ssd", dpath, o->threshold, o->min_size,
                                          engine_threads, o->detector_size, o->scale_factor, o->min_neighbors, o->nms};
            s = ferc_detector_create(&dopt, &e->det[i], &err);
        }
        if (!s) s = ferc_analyzer_create(e->cls[i], e->det[i], &e->an[i], &err);
        if (!s && e->eyes) s = ferc_analyzer_set_align(e->an[i], e->eyes, &err);
        if (s) {
            fprintf(stderr, "ferc: %s\n", err.message);
            cli_engines_close(e);
            return 1;
        }
    }
    return 0;
}

void cli_engines_close(cli_engines *e)
{
    for (int i = 0; i < e->n; i++) {
        ferc_analyzer_free(e->an[i]);
        ferc_detector_free(e->det[i]);
        ferc_classifier_free(e->cls[i]);
    }
    free(e->an);
    free(e->det);
    free(e->cls);
    ferc_cascade_free(e->eyes);
    ferc_model_free(e->model);
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

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

void cli_json_landmarks(FILE *f, const ferc_box *b)
{
    if (!b->n_landmarks) return;
    fputs("\"landmarks\":[", f);
    for (int k = 0; k < b->n_landmarks; k++)
        fprintf(f, "%s[%.6g,%.6g]", k ? "," : "", b->landmarks[k][0], b->landmarks[k][1]);
    fputs("],", f);
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
