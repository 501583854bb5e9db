/* test_cli.c - the ferc command end to end: runs the binary ($FERC_BUILD/ferc as the
 * Makefile builds it for this build's flags, or $FERC_BIN) on the
 * fixtures of tests/gen/make_cli_fixtures.py, parses its JSON output and compares the numbers
 * with PyTorch's (refs.ferc); checks bad input gives a message naming the file, a non-zero
 * exit, and that the other inputs are still processed; failure modes (a closed pipe, a full
 * or read-only disk, Ctrl-C in video), --max-pixels, and the same output on every thread
 * count and kernel path. */
#include "testutil.h"
#include "json.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *bin(void)
{
    static char path[512];
    const char *b = getenv("FERC_BIN"), *build = getenv("FERC_BUILD");
    if (b && *b) return b;
    snprintf(path, sizeof path, "%s/ferc", build && *build ? build : "build");
    return path;
}

static char *slurp(const char *path)
{
    size_t n;
    unsigned char *b = read_file(path, &n);
    if (!b) return NULL;
    char *s = realloc(b, n + 1);
    s[n] = 0;
    return s;
}

/* Scratch files go in a directory of this run's own (made in main), so that suites running
 * at the same time on one machine do not meet. tp("x") is "<that directory>/x". */
static char tmpd[64];

static const char *tp(const char *name)
{
    static char bufs[8][256];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpd, name);
    return b;
}

/* printf into a static buffer (for expected messages that name scratch files). */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char buf[1024];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

/* Runs `ferc ARGS` (printf-style) in a shell; fills *out and *err (malloc'd) and returns
 * the exit code. */
static int run(char **out, char **err, const char *args_fmt, ...) __attribute__((format(printf, 3, 4)));
static int run(char **out, char **err, const char *args_fmt, ...)
{
    char args[2048], cmd[4096], o[300], e[300];
    va_list ap;
    va_start(ap, args_fmt);
    vsnprintf(args, sizeof args, args_fmt, ap);
    va_end(ap);
    snprintf(o, sizeof o, "%s", tp("stdout"));
    snprintf(e, sizeof e, "%s", tp("stderr"));
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", bin(), args, o, e);
    int st = system(cmd);
    *out = slurp(o), *err = slurp(e);
    unlink(o), unlink(e);
    ck_assert(*out && *err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static ferc_model *refs(void)
{
    char path[512];
    ferc_model *m;
    ferc_error err;
    ck_assert_msg(ferc_model_load(test_path("cli/refs.ferc", path, sizeof path), &m, &err) == FERC_OK, "%s", err.message);
    return m;
}

static const float *ref(ferc_model *r, const char *name)
{
    ferc_tensor t;
    ck_assert_msg(ferc_model_tensor(r, name, &t) == 0, "no %s", name);
    return t.data;
}

/* Lines of out as parsed JSON objects (at most max). */
static int parse_lines(const char *out, json **lines, int max)
{
    int n = 0;
    char *copy = strdup(out), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l && n < max; l = strtok_r(NULL, "\n", &save)) {
        lines[n] = json_parse(l);
        ck_assert_msg(lines[n] != NULL, "not JSON: %s", l);
        n++;
    }
    free(copy);
    return n;
}

static void check_face(const json *face, const float *want, float x, float y, float w, float h)
{
    json *box = json_get(face, "box"), *p = json_get(face, "probabilities");
    ck_assert(box && box->n == 4 && p && p->n == 7);
    ck_assert(json_at(box, 0)->num == x && json_at(box, 1)->num == y);
    ck_assert(json_at(box, 2)->num == w && json_at(box, 3)->num == h);
    int best = 0;
    for (int k = 0; k < 7; k++) {
        json *v = json_get(p, ferc_emotion_name(k));
        ck_assert_msg(v && v->type == J_NUM, "no probability for %s", ferc_emotion_name(k));
        ck_assert_msg(fabs(v->num - want[k]) <= 2e-5 + 1e-4 * want[k], "%s: %g, PyTorch %g", ferc_emotion_name(k), v->num,
                      want[k]);
        best = want[k] > want[best] ? k : best;
    }
    ck_assert_str_eq(json_get(face, "emotion")->str, ferc_emotion_name(best));
}

#define TINY "--model tests/cli/emotion_tiny.ferc"

/* Good and bad inputs in one batch: outputs in input order, errors name the file. */
START_TEST(images_json_batch)
{
    ferc_model *r = refs();
    const float *faces = ref(r, "faces");
    char *out, *err;
    int rc = run(&out, &err, TINY " --no-detect --threads 2 tests/cli/fer/sad/1.png no/such.png tests/ref/cases.txt "
                      "tests/cli/fer/angry/0.png");
    ck_assert_int_eq(rc, 1);
    json *l[8];
    ck_assert_int_eq(parse_lines(out, l, 8), 4);
    ck_assert_str_eq(json_get(l[0], "file")->str, "tests/cli/fer/sad/1.png");
    ck_assert(json_get(l[0], "width")->num == 48 && json_get(l[0], "height")->num == 48);
    ck_assert_int_eq(json_get(l[0], "faces")->n, 1);
    check_face(json_at(json_get(l[0], "faces"), 0), faces + 7 * 5, 0, 0, 48, 48);
    ck_assert_str_eq(json_get(l[1], "file")->str, "no/such.png");
    ck_assert(strstr(json_get(l[1], "error")->str, "No such file"));
    ck_assert(strstr(json_get(l[2], "error")->str, "not a supported image"));
    check_face(json_at(json_get(l[3], "faces"), 0), faces, 0, 0, 48, 48);
    ck_assert_msg(strstr(err, "ferc: no/such.png: No such file or directory"), "%s", err);
    ck_assert_msg(strstr(err, "tests/ref/cases.txt: not a supported image"), "%s", err);
    for (int i = 0; i < 4; i++) json_free(l[i]);
    free(out), free(err);
    ferc_model_free(r);
}
END_TEST

/* A directory is walked in sorted order; three threads keep that order; each spelling of
 * --tta matches PyTorch (bare --tta is flip; a mode may follow as a word or after =). */
START_TEST(images_directory_tta)
{
    static const int order[10] = {0, 1, 2, 3, 8, 9, 4, 5, 6, 7}; /* angry fear happy neutral sad surprise */
    static const char *const opts[][2] = {{"--tta", "faces_tta"}, {"--tta flip", "faces_tta"},
                                          {"--tta crops", "faces_crops"}, {"--tta=crops", "faces_crops"},
                                          {"--tta=none", "faces"}, {"--tta centre", "faces_centre"}};
    ferc_model *r = refs();
    for (int o = 0; o < 6; o++) {
        const float *want = ref(r, opts[o][1]);
        char *out, *err, cmd[256];
        snprintf(cmd, sizeof cmd, TINY " --faces-only %s --threads 3 tests/cli/fer", opts[o][0]);
        ck_assert_int_eq(run(&out, &err, cmd), 0);
        json *l[12];
        ck_assert_int_eq(parse_lines(out, l, 12), 10);
        for (int i = 0; i < 10; i++) {
            check_face(json_at(json_get(l[i], "faces"), 0), want + 7 * order[i], 0, 0, 48, 48);
            json_free(l[i]);
        }
        free(out), free(err);
    }
    char *out, *err;
    ck_assert_int_eq(run(&out, &err, TINY " --faces-only --tta=mirror tests/cli/fer"), 2);
    ck_assert_msg(strstr(err, "--tta mirror: expected one of none flip centre crops"), "%s", err);
    free(out), free(err);
    ferc_model_free(r);
}
END_TEST

START_TEST(images_stdin_and_text)
{
    char *out, *err;
    ck_assert_int_eq(run(&out, &err, TINY " --no-detect - < tests/cli/fer/happy/0.png"), 0);
    json *j = json_parse(out);
    ck_assert(j);
    ck_assert_str_eq(json_get(j, "file")->str, "-");
    json_free(j);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, TINY " --no-detect --format text tests/cli/fer/happy/0.png"), 0);
    ck_assert_msg(strstr(out, "tests/cli/fer/happy/0.png  48x48  1 face") && strstr(out, "box 0,0 48x48"), "%s", out);
    free(out), free(err);
}
END_TEST

START_TEST(bad_images)
{
    /* A PNG whose header claims 100000x100000 pixels (stb refuses sides over 16384 without
     * saying why), one claiming 10000x10000 (over the pixel limit), a truncated PNG, an
     * empty file. */
    static const unsigned char huge[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                         0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 0, 0, 0, 0, 0, 0, 0, 0};
    char *out, *err;
    size_t n;
    unsigned char *png = read_file("tests/cli/scene.png", &n);
    ck_assert(png);
    FILE *f = fopen(tp("huge.png"), "wb");
    fwrite(huge, 1, sizeof huge, f);
    fclose(f);
    unsigned char big[sizeof huge];
    memcpy(big, huge, sizeof huge);
    big[18] = big[22] = 0x27, big[19] = big[23] = 0x10; /* 10000 */
    big[17] = big[21] = 0;
    f = fopen(tp("big.png"), "wb");
    fwrite(big, 1, sizeof big, f);
    fclose(f);
    f = fopen(tp("cut.png"), "wb");
    fwrite(png, 1, n / 2, f);
    fclose(f);
    fclose(fopen(tp("empty.png"), "wb"));
    free(png);
    ck_assert_int_eq(run(&out, &err, TINY " --no-detect %s/huge.png %s/big.png %s/cut.png "
                         "%s/empty.png tests/cli/fer/fear/0.png", tmpd, tmpd, tmpd, tmpd), 1);
    ck_assert_msg(strstr(err, fmt("ferc: %s/huge.png: image header says 100000x100000 pixels", tmpd)), "%s", err);
    ck_assert_msg(strstr(err, fmt("%s/big.png: image header says 10000x10000 pixels", tmpd)), "%s", err);
    ck_assert_msg(strstr(err, fmt("%s/cut.png: corrupt or truncated image: PNG chunk runs past the end", tmpd)), "%s", err);
    ck_assert_msg(strstr(err, fmt("%s/empty.png: empty file", tmpd)), "%s", err);
    json *l[5];
    ck_assert_int_eq(parse_lines(out, l, 5), 5);
    ck_assert_int_eq(json_get(l[4], "faces")->n, 1);
    for (int i = 0; i < 5; i++) json_free(l[i]);
    free(out), free(err);
    unlink(tp("huge.png")), unlink(tp("big.png")), unlink(tp("cut.png")), unlink(tp("empty.png"));
}
END_TEST

START_TEST(bad_models_and_options)
{
    char *out, *err;
    ck_assert_int_eq(run(&out, &err, "--model tests/ref/article_cnn.ferc --no-detect tests/cli/scene.png"), 1);
    ck_assert_msg(strstr(err, "tests/ref/article_cnn.ferc: model task is 'test'"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, "--model tests/cli/scene.png --no-detect tests/cli/scene.png"), 1);
    ck_assert_msg(strstr(err, "tests/cli/scene.png: not a ferc weight file"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, TINY " --classifier resnet x.png"), 2);
    ck_assert_msg(strstr(err, "--classifier resnet: expected one of cnn small lbp-svm"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, TINY " --bogus x.png"), 2);
    ck_assert_msg(strstr(err, "unknown option --bogus"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, TINY " --eye-cascade tests/cli/scene.png --no-detect tests/cli/scene.png"), 1);
    ck_assert_msg(strstr(err, "eye cascade: ") && strstr(err, "tests/cli/scene.png"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, "--help"), 0);
    ck_assert(strstr(out, "--align") && strstr(out, "Examples:") && strstr(out, "--annotate DIR") && strstr(out, "ferc eval --data"));
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, "version"), 0);
    ck_assert_msg(strstr(out, "ferc " FERC_VERSION_STRING) && strstr(out, ferc_isa_name()), "%s", out);
    free(out), free(err);
}
END_TEST

/* eval on the ten-face folder: counts, accuracy and confusion from PyTorch's argmax. */
START_TEST(eval_matches_reference)
{
    ferc_model *r = refs();
    const float *p = ref(r, "faces_tta"), *labels = ref(r, "labels");
    int conf[7][7] = {{0}}, correct = 0;
    for (int i = 0; i < 10; i++) {
        int best = 0;
        for (int k = 1; k < 7; k++) best = p[7 * i + k] > p[7 * i + best] ? k : best;
        conf[(int)labels[i]][best]++;
        correct += best == (int)labels[i];
    }
    char *out, *err;
    ck_assert_int_eq(run(&out, &err, "eval --data tests/cli/fer --tta --threads 2 " TINY), 0);
    json *j = json_parse(out);
    ck_assert_msg(j != NULL, "%s", out);
    ck_assert(json_get(j, "images")->num == 10);
    ck_assert(fabs(json_get(j, "accuracy")->num - correct / 10.0) < 1e-6);
    ck_assert(json_get(j, "seconds")->type == J_NUM);
    ck_assert_str_eq(json_get(j, "tta")->str, "flip");
    json *conf_j = json_get(j, "confusion"), *per = json_get(j, "per_class");
    ck_assert_int_eq(conf_j->n, 7);
    for (int t = 0; t < 7; t++) {
        int row = 0;
        for (int k = 0; k < 7; k++) {
            ck_assert_int_eq((int)json_at(json_at(conf_j, t), k)->num, conf[t][k]);
            row += conf[t][k];
        }
        json *pc = json_get(per, ferc_emotion_name(t));
        ck_assert(pc);
        if (row) ck_assert(fabs(pc->num - (double)conf[t][t] / row) < 1e-6);
        else ck_assert_int_eq(pc->type, J_NULL);
    }
    json_free(j);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, "eval --data tests/no-such-dir " TINY), 1);
    ck_assert_msg(strstr(err, "tests/no-such-dir: No such file or directory"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, "eval --data tests/ref " TINY), 1);
    ck_assert_msg(strstr(err, "tests/ref: no images in class folders"), "%s", err);
    free(out), free(err);
    ferc_model_free(r);
}
END_TEST

/* --annotate: the box edge takes the emotion's colour, pixels away from it do not change. */
START_TEST(annotate_draws_boxes)
{
    char *out, *err;
    ck_assert_int_eq(run(&out, &err, TINY " --no-detect --annotate %s/ann tests/cli/scene.png", tmpd), 0);
    json *j = json_parse(out);
    ck_assert(j);
    ck_assert_int_eq(json_get(j, "faces")->n, 1);
    ferc_image a, b;
    ferc_error e;
    ck_assert_msg(ferc_image_load(tp("ann/tests_cli_scene.png"), 3, &a, &e) == FERC_OK, "%s", e.message);
    ck_assert(ferc_image_load("tests/cli/scene.png", 3, &b, &e) == FERC_OK);
    ck_assert(a.width == b.width && a.height == b.height);
    /* Whole-image box: the left edge column is drawn, the centre is untouched. */
    const uint8_t *edge = a.data + (size_t)(a.height - 5) * a.width * 3;
    ck_assert(edge[0] == edge[3 * a.width] && memcmp(edge, b.data + (size_t)(a.height - 5) * a.width * 3, 3));
    size_t mid = ((size_t)(a.height / 2) * a.width + a.width / 2) * 3;
    ck_assert(!memcmp(a.data + mid, b.data + mid, 3));
    /* The label's background sits at the top left in the same colour as the edge; its text
     * (black) starts two pixels in. */
    ck_assert(!memcmp(a.data + (size_t)(2 * a.width + 1) * 3, edge, 3));
    int black = 0;
    for (int x = 2; x < 60; x++)
        for (int y = 1; y < 8; y++) black += !memcmp(a.data + ((size_t)y * a.width + x) * 3, "\0\0\0", 3);
    ck_assert_int_gt(black, 20);
    ferc_image_free(&a), ferc_image_free(&b);
    json_free(j);
    free(out), free(err);
}
END_TEST

/* Writes a mono Y4M (10 frames/s) of the given fixture faces; `cut` bytes short at the end. */
static void write_clip(const char *path, const int *faces, int n, int cut)
{
    static const char *files[10] = {"angry/0", "fear/0", "happy/0", "happy/1", "sad/0",
                                    "sad/1",   "surprise/0", "surprise/1", "neutral/0", "neutral/1"};
    FILE *f = fopen(path, "wb");
    ck_assert(f);
    fputs("YUV4MPEG2 W48 H48 F10:1 Ip A1:1 Cmono XCOLORRANGE=FULL\n", f);
    for (int i = 0; i < n; i++) {
        char rel[64], p[512];
        ferc_image img;
        ferc_error err;
        snprintf(rel, sizeof rel, "cli/fer/%s.png", files[faces[i]]);
        ck_assert(ferc_image_load(test_path(rel, p, sizeof p), 1, &img, &err) == FERC_OK);
        fputs("FRAME\n", f);
        fwrite(img.data, 1, 48 * 48 - (i == n - 1 ? cut : 0), f);
        ferc_image_free(&img);
    }
    fclose(f);
}

/* Frames through the pipeline: raw probabilities are PyTorch's, smoothed ones the mean of
 * the last two; one track; summary and plot agree. */
START_TEST(video_json_summary_plot)
{
    static const int seq[5] = {0, 0, 2, 2, 2};
    ferc_model *r = refs();
    const float *p = ref(r, "faces");
    write_clip(tp("clip.y4m"), seq, 5, 0);
    char *out, *err;
    ck_assert_int_eq(run(&out, &err, "video --no-detect --window 2 --format json " TINY " %s/clip.y4m", tmpd), 0);
    json *l[6];
    ck_assert_int_eq(parse_lines(out, l, 6), 5);
    int counts[7] = {0};
    for (int f = 0; f < 5; f++) {
        ck_assert(json_get(l[f], "frame")->num == f);
        ck_assert(fabs(json_get(l[f], "time")->num - 0.1 * f) < 1e-9);
        json *faces = json_get(l[f], "faces");
        ck_assert_int_eq(faces->n, 1);
        json *fc = json_at(faces, 0);
        ck_assert(json_get(fc, "track")->num == 1);
        const float *now = p + 7 * seq[f], *prev = p + 7 * seq[f > 0 ? f - 1 : 0];
        float smooth[7];
        for (int k = 0; k < 7; k++) {
            smooth[k] = 0.5f * (now[k] + prev[k]);
            ck_assert(fabs(json_get(json_get(fc, "raw"), ferc_emotion_name(k))->num - now[k]) < 2e-5);
        }
        check_face(fc, smooth, 0, 0, 48, 48);
        counts[ferc_emotion_from_name(json_get(fc, "emotion")->str)]++;
        json_free(l[f]);
    }
    free(out), free(err);

    ck_assert_int_eq(run(&out, &err, "video --no-detect --window 2 --summary --format json --plot %s/plot.svg " TINY
                         " - < %s/clip.y4m", tmpd, tmpd), 0);
    json *s = json_parse(out);
    ck_assert_msg(s != NULL, "%s", out);
    ck_assert(json_get(s, "track")->num == 1 && json_get(s, "frames")->num == 5);
    ck_assert(json_get(s, "first_frame")->num == 0 && json_get(s, "last_frame")->num == 4);
    int dom = 0;
    for (int k = 0; k < 7; k++) {
        ck_assert(fabs(json_get(json_get(s, "shares"), ferc_emotion_name(k))->num - counts[k] / 5.0) < 1e-6);
        dom = counts[k] > counts[dom] ? k : dom;
    }
    ck_assert_str_eq(json_get(s, "dominant")->str, ferc_emotion_name(dom));
    json_free(s);
    free(out), free(err);
    char *svg = slurp(tp("plot.svg"));
    ck_assert(svg && strstr(svg, "<svg") && strstr(svg, "<g id=\"track1\">") && strstr(svg, "</svg>"));
    int lines = 0;
    for (char *q = svg; (q = strstr(q, "<polyline")); q++) {
        lines++;
        char *pts = strstr(q, "points=\""), *end = strchr(pts + 8, '"');
        int commas = 0;
        for (char *c = pts; c < end; c++) commas += *c == ',';
        ck_assert_int_eq(commas, 5); /* one x,y pair per frame */
    }
    ck_assert_int_eq(lines, 7);
    free(svg);
    unlink(tp("plot.svg"));

    ck_assert_int_eq(run(&out, &err, "video --no-detect " TINY " %s/clip.y4m", tmpd), 0);
    ck_assert_msg(!strncmp(out, "frame,time,track,x,y,w,h,score,emotion,angry,disgust,fear,happy,sad,surprise,neutral\n"
                                "0,0.000,1,0,0,48,48,1,", 105), "%s", out);
    free(out), free(err);
    unlink(tp("clip.y4m"));
    ferc_model_free(r);
}
END_TEST

START_TEST(video_bad_streams)
{
    static const int seq[3] = {1, 1, 1};
    char *out, *err;
    write_clip(tp("cut.y4m"), seq, 3, 100);
    ck_assert_int_eq(run(&out, &err, "video --no-detect --format json " TINY " %s/cut.y4m", tmpd), 1);
    json *l[4];
    ck_assert_int_eq(parse_lines(out, l, 4), 2); /* the two whole frames are still reported */
    json_free(l[0]), json_free(l[1]);
    ck_assert_msg(strstr(err, fmt("%s/cut.y4m: frame 3 truncated: 2204 of 2304 bytes", tmpd)), "%s", err);
    free(out), free(err);
    unlink(tp("cut.y4m"));
    ck_assert_int_eq(run(&out, &err, "video --no-detect " TINY " tests/cli/scene.png"), 1);
    ck_assert_msg(strstr(err, "tests/cli/scene.png: not a YUV4MPEG2 stream"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, "video --no-detect " TINY " /no/such.y4m"), 1);
    ck_assert_msg(strstr(err, "/no/such.y4m: No such file"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, "video --window 0 x.y4m"), 2);
    ck_assert_msg(strstr(err, "--window 0"), "%s", err);
    free(out), free(err);
}
END_TEST

/* ---- issue 20: failure modes, limits, the same answer on every thread count and ISA ---- */

/* The shipped classifier and SSD (the build folder has no weights/ of its own). */
#define SHIPPED "--model weights/emotion_cnn.ferc --detector-model weights/face_yunet.ferc"

/* --tiles G[xK]: photos only; the faces are the library's (tests/test_yunet.c checks
 * ferc_yunet_detect_tiled against Python): faces_group.png's five at 2x2 tiles at 3x. */
START_TEST(tiles_option)
{
    char *out, *err;
    static const char *const bad[] = {"9", "2x", "2x0.5", "2x17", "x3", "-1", "2y3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(run(&out, &err, TINY " --tiles %s x.png", bad[i]), 2);
        ck_assert_msg(strstr(err, fmt("--tiles %s: expected G or GxK", bad[i])), "%s", err);
        free(out), free(err);
    }
    ck_assert_int_eq(run(&out, &err, "video --tiles 2 x.y4m"), 2);
    ck_assert_msg(strstr(err, "--tiles is for photos"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, SHIPPED " --threads 1 --tiles 2x3 tests/data/faces_group.png"), 0);
    json *l[2];
    ck_assert_int_eq(parse_lines(out, l, 2), 1);
    ck_assert_int_eq(json_get(l[0], "faces")->n, 5);
    json_free(l[0]);
    free(out), free(err);
}
END_TEST

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* Runs a shell command line (printf-style); its exit status, or 128 + signal. */
static int shell(const char *cmd_fmt, ...) __attribute__((format(printf, 1, 2)));
static int shell(const char *cmd_fmt, ...)
{
    char cmd[12000];
    va_list ap;
    va_start(ap, cmd_fmt);
    vsnprintf(cmd, sizeof cmd, cmd_fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* `ferc photos/ | head -1`: one whole line and nothing on stderr, whether SIGPIPE ends ferc
 * (the default) or is ignored (ferc then stops at EPIPE and exits 1 without a message).
 * 300 copies of the ten faces make ~600 KB, more than a pipe holds, so ferc is still
 * writing when head exits. */
START_TEST(pipe_to_head_is_quiet)
{
    char list[300 * 16] = "";
    for (int i = 0; i < 300; i++) strcat(list, " tests/cli/fer");
    for (int ignore = 0; ignore < 2; ignore++) {
        ck_assert_int_eq(shell("%s { %s " TINY " --no-detect --threads 2 %s 2>%s; echo $? >%s; } | head -1 >%s",
                               ignore ? "trap '' PIPE;" : "", bin(), list, tp("head.err"), tp("head.rc"), tp("head.out")),
                         0);
        char *out = slurp(tp("head.out")), *err = slurp(tp("head.err")), *rc = slurp(tp("head.rc"));
        ck_assert(out && err && rc);
        ck_assert_msg(!strcmp(err, ""), "stderr: %s", err);
        ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "%s", out);
        json *j = json_parse(out);
        ck_assert_msg(j && json_get(j, "faces")->n == 1, "%s", out);
        ck_assert_msg(atoi(rc) == (ignore ? 1 : 128 + 13), "ignore=%d: exit %s", ignore, rc);
        json_free(j);
        free(out), free(err), free(rc);
    }
}
END_TEST

START_TEST(stdout_write_error_is_named)
{
    ck_assert_int_eq(shell("%s " TINY " --no-detect tests/cli/fer >/dev/full 2>%s", bin(), tp("full.err")), 1);
    char *err = slurp(tp("full.err"));
    ck_assert_msg(err && strstr(err, "ferc: standard output: No space left on device"), "%s", err);
    free(err);
    ck_assert_int_eq(shell("%s video --no-detect --summary " TINY " tests/cli/clip420.y4m >/dev/full 2>%s", bin(),
                           tp("full.err")), 1);
    err = slurp(tp("full.err"));
    ck_assert_msg(err && strstr(err, "ferc video: standard output: No space left on device"), "%s", err);
    free(err);
}
END_TEST

/* --annotate into a 16 KB tmpfs (full after the first image) and a read-only one, each
 * mounted in a user and mount namespace of its own (unshare -rm): each failed write is
 * named, the partial file removed, the JSON for every image still complete, exit 1. */
START_TEST(annotate_to_full_or_read_only_disk)
{
    if (shell("unshare -rm true 2>/dev/null")) {
        printf("annotate_to_full_or_read_only_disk: skipped (unshare -rm is not permitted here)\n");
        return;
    }
    static const char *const opts[2] = {"size=16k", "ro"};
    static const char *const why[2] = {"No space left on device", "Read-only file system"};
    mkdir(tp("mnt"), 0777);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(shell("unshare -rm sh -c 'mount -t tmpfs -o %s none %s && %s " TINY " --no-detect --annotate %s "
                               "tests/cli/scene.png tests/cli/fer/happy/0.png >%s 2>%s; echo $? >%s; ls %s >%s'",
                               opts[k], tp("mnt"), bin(), tp("mnt"), tp("ann.out"), tp("ann.err"), tp("ann.rc"), tp("mnt"),
                               tp("ann.ls")),
                         0);
        char *out = slurp(tp("ann.out")), *err = slurp(tp("ann.err")), *rc = slurp(tp("ann.rc")), *ls = slurp(tp("ann.ls"));
        ck_assert(out && err && rc && ls);
        ck_assert_msg(atoi(rc) == 1, "exit %s", rc);
        ck_assert_msg(strstr(err, fmt("ferc: %s/tests_cli_scene.png: %s", tp("mnt"), why[k])), "%s", err);
        ck_assert_msg(!strstr(ls, "tests_cli_scene.png"), "partial file left: %s", ls);
        json *l[3];
        ck_assert_int_eq(parse_lines(out, l, 3), 2);
        for (int i = 0; i < 2; i++) {
            ck_assert_int_eq(json_get(l[i], "faces")->n, 1);
            json_free(l[i]);
        }
        free(out), free(err), free(rc), free(ls);
    }
    rmdir(tp("mnt"));
}
END_TEST

/* --max-pixels: an image or a video frame over the limit is refused by size, before decoding. */
START_TEST(max_pixels_option)
{
    char *out, *err;
    ck_assert_int_eq(run(&out, &err, TINY " --no-detect --max-pixels 2303 tests/cli/fer/happy/0.png tests/cli/scene.png"), 1);
    ck_assert_msg(strstr(err, "tests/cli/fer/happy/0.png: image header says 48x48 pixels, limit 2303 pixels"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, TINY " --no-detect --max-pixels 2304 tests/cli/fer/happy/0.png"), 0);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, "video --no-detect --max-pixels 767 " TINY " tests/cli/clip420.y4m"), 1);
    ck_assert_msg(strstr(err, "tests/cli/clip420.y4m: frames of 32x24 pixels are over --max-pixels 767"), "%s", err);
    ck_assert_str_eq(out, "");
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, "video --no-detect --max-pixels 768 " TINY " tests/cli/clip420.y4m"), 0);
    free(out), free(err);
    ck_assert_int_eq(run(&out, &err, TINY " --max-pixels 0 x.png"), 2);
    ck_assert_msg(strstr(err, "--max-pixels 0: expected a whole number from 1 to 67108864"), "%s", err);
    free(out), free(err);
}
END_TEST

static int count_lines(const char *path)
{
    char *s = slurp(path);
    int n = 0;
    for (char *c = s; c && *c; c++) n += *c == '\n';
    free(s);
    return n;
}

/* SIGINT in `ferc video` reading a pipe that stays open: frames so far, the summary and the
 * plot are written before ferc waits for its reader thread; exit status 130. */
START_TEST(video_sigint_writes_what_was_processed)
{
    static const char *const faces[3] = {"happy/0", "sad/0", "fear/0"};
    ck_assert_int_eq(mkfifo(tp("fifo"), 0600), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (!freopen(tp("sig.out"), "w", stdout) || !freopen(tp("sig.err"), "w", stderr)) _exit(99);
        execl(bin(), "ferc", "video", "--no-detect", "--model", "tests/cli/emotion_tiny.ferc", "--format", "json",
              "--summary", "--frames", tp("sig.frames"), "--plot", tp("sig.svg"), tp("fifo"), (char *)NULL);
        _exit(98);
    }
    FILE *f = fopen(tp("fifo"), "wb");
    ck_assert(f);
    fputs("YUV4MPEG2 W48 H48 F10:1 Cmono XCOLORRANGE=FULL\n", f);
    for (int i = 0; i < 3; i++) {
        char rel[64], p[512];
        ferc_image img;
        ferc_error e;
        snprintf(rel, sizeof rel, "cli/fer/%s.png", faces[i]);
        ck_assert(ferc_image_load(test_path(rel, p, sizeof p), 1, &img, &e) == FERC_OK);
        fputs("FRAME\n", f);
        fwrite(img.data, 1, 48 * 48, f);
        ferc_image_free(&img);
    }
    fflush(f);
    /* ferc flushes each frame's line: wait for the three (the pipe stays open). */
    for (int t = 0; t < 1200 && count_lines(tp("sig.frames")) < 3; t++) sleep_ms(50);
    ck_assert_int_eq(count_lines(tp("sig.frames")), 3);
    ck_assert_int_eq(kill(pid, SIGINT), 0);
    char *svg = NULL;
    for (int t = 0; t < 1200; t++, sleep_ms(50)) {
        free(svg);
        svg = slurp(tp("sig.svg"));
        if (svg && strstr(svg, "</svg>")) break;
    }
    ck_assert_msg(svg && strstr(svg, "</svg>") && strstr(svg, "<g id=\"track1\">"), "plot not written before the pipe closed");
    free(svg);
    fclose(f); /* lets ferc's reader thread see the end and ferc exit */
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %d", status);
    char *out = slurp(tp("sig.out")), *err = slurp(tp("sig.err"));
    json *s = json_parse(out);
    ck_assert_msg(s && json_get(s, "frames")->num == 3, "%s", out);
    ck_assert_msg(strstr(err, "ferc video: interrupted after 3 frames"), "%s", err);
    json_free(s);
    free(out), free(err);
    unlink(tp("fifo")), unlink(tp("sig.out")), unlink(tp("sig.err")), unlink(tp("sig.frames")), unlink(tp("sig.svg"));
}
END_TEST

/* A mono Y4M of n 320x240 windows moving across the astronaut (a face in every frame). */
static void write_face_clip(const char *path, int n)
{
    ferc_image img;
    ferc_error e;
    ck_assert(ferc_image_load("tests/data/astronaut.jpg", 1, &img, &e) == FERC_OK);
    FILE *f = fopen(path, "wb");
    ck_assert(f);
    fputs("YUV4MPEG2 W320 H240 F10:1 Cmono XCOLORRANGE=FULL\n", f);
    for (int i = 0; i < n; i++) {
        fputs("FRAME\n", f);
        for (int y = 0; y < 240; y++) fwrite(img.data + (size_t)(10 + 3 * i + y) * img.width + 60 + 8 * i, 1, 320, f);
    }
    fclose(f);
    ferc_image_free(&img);
}

/* The same bytes out for --threads 1 and 2 on every fixture photo (tests/data/clahe holds
 * CLAHE reference outputs, not photos): images shared between workers, one image run
 * with two engine threads, and a video (at --threads 4 four detector threads, each on every
 * fourth frame, against one at --threads 1). On
 * the scalar path a subset (its convolutions are over 10x slower). */
START_TEST(same_json_on_every_thread_count)
{
    const int scalar = !strcmp(ferc_isa_name(), "scalar");
    const char *photos = scalar ? "tests/data/astronaut_face.png tests/cli/scene.png tests/cli/bad"
                                : "tests/data/*.jpg tests/data/*.png tests/data/align tests/cli/scene.png tests/cli/fer "
                                  "tests/cli/bad";
    char *o1, *o2, *e1, *e2;
    int r1 = run(&o1, &e1, SHIPPED " --threads 1 %s", photos), r2 = run(&o2, &e2, SHIPPED " --threads 2 %s", photos);
    ck_assert_int_eq(r1, r2);
    ck_assert_msg(!strcmp(o1, o2), "--threads 1 and 2 differ:\n%s\n%s", o1, o2);
    ck_assert_int_ge((int)strlen(o1), 1000);
    ck_assert_msg(strstr(o1, "\"emotion\""), "%s", o1);
    free(o1), free(o2), free(e1), free(e2);
    ck_assert_int_eq(run(&o1, &e1, SHIPPED " --threads 1 tests/data/astronaut.jpg"), 0);
    ck_assert_int_eq(run(&o2, &e2, SHIPPED " --threads 2 tests/data/astronaut.jpg"), 0);
    ck_assert_msg(!strcmp(o1, o2), "--threads 1 and 2 differ:\n%s\n%s", o1, o2);
    free(o1), free(o2), free(e1), free(e2);

    write_face_clip(tp("faces.y4m"), scalar ? 3 : 12);
    ck_assert_int_eq(run(&o1, &e1, "video " SHIPPED " --format json --ssd-size 150 --threads 1 %s", tp("faces.y4m")), 0);
    ck_assert_int_eq(run(&o2, &e2, "video " SHIPPED " --format json --ssd-size 150 --threads 4 %s", tp("faces.y4m")), 0);
    ck_assert_msg(!strcmp(o1, o2), "video: --threads 1 and 4 differ:\n%s\n%s", o1, o2);
    ck_assert_msg(strstr(o1, "\"track\":1"), "no face tracked: %s", o1);
    free(o1), free(o2), free(e1), free(e2);
    unlink(tp("faces.y4m"));
}
END_TEST

/* FERC_ISA=scalar, avx2, avx512 (those this CPU has): the same faces and emotions, boxes and
 * probabilities within 1e-5 (the 8-bit SSD weights are widened to float at load: every path
 * computes in float, in its own order). Runs in the suite's avx2 pass only (it runs every
 * path itself). */
START_TEST(same_answer_on_every_isa)
{
    const char *isa = getenv("FERC_ISA");
    if (isa && *isa && strcmp(isa, "avx2")) {
        printf("same_answer_on_every_isa: runs in the FERC_ISA=avx2 pass\n");
        return;
    }
    char *saved = isa ? strdup(isa) : NULL;
    const char *isas[3] = {"scalar", "avx2", "avx512"};
    __builtin_cpu_init();
    const int n_isa = !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1
                      : __builtin_cpu_supports("avx512bw") ? 3 : 2;
    json *l[3][8];
    int n[3];
    for (int k = 0; k < n_isa; k++) {
        setenv("FERC_ISA", isas[k], 1);
        char *out, *err;
        ck_assert_int_eq(run(&out, &err, SHIPPED " --ssd-size 300 tests/data/astronaut.jpg tests/data/faces_group.png "
                                         "tests/data/faces_astronaut.png tests/cli/scene.png"), 0);
        n[k] = parse_lines(out, l[k], 8);
        ck_assert_int_eq(n[k], 4);
        free(out), free(err);
    }
    if (saved) setenv("FERC_ISA", saved, 1);
    else unsetenv("FERC_ISA");
    free(saved);
    double worst_p = 0, worst_box = 0;
    int faces = 0;
    for (int k = 1; k < n_isa; k++)
        for (int i = 0; i < 4; i++) {
            json *fa = json_get(l[0][i], "faces"), *fb = json_get(l[k][i], "faces");
            ck_assert_int_eq(fa->n, fb->n);
            for (int j = 0; j < fa->n; j++, faces++) {
                json *a = json_at(fa, j), *b = json_at(fb, j);
                ck_assert_str_eq(json_get(a, "emotion")->str, json_get(b, "emotion")->str);
                for (int c = 0; c < 4; c++) {
                    double d = fabs(json_at(json_get(a, "box"), c)->num - json_at(json_get(b, "box"), c)->num);
                    double tol = 1e-5 * fmax(1, fabs(json_at(json_get(a, "box"), c)->num)); /* printed to 6 digits */
                    ck_assert_msg(d <= tol, "%s vs scalar: box differs by %g", isas[k], d);
                    worst_box = fmax(worst_box, d);
                }
                ck_assert(fabs(json_get(a, "score")->num - json_get(b, "score")->num) <= 1e-5);
                for (int e = 0; e < 7; e++) {
                    const char *name = ferc_emotion_name(e);
                    double d = fabs(json_get(json_get(a, "probabilities"), name)->num -
                                    json_get(json_get(b, "probabilities"), name)->num);
                    ck_assert_msg(d <= 1e-5, "%s vs scalar: %s differs by %g", isas[k], name, d);
                    worst_p = fmax(worst_p, d);
                }
            }
        }
    printf("same_answer_on_every_isa: %d ISAs, %d face comparisons, max |dp| %.2g, max |dbox| %.2g px\n", n_isa, faces,
           worst_p, worst_box);
    for (int k = 0; k < n_isa; k++)
        for (int i = 0; i < 4; i++) json_free(l[k][i]);
}
END_TEST

/* examples/analyze.c, built by the Makefile from the public header alone. */
START_TEST(example_program)
{
    ferc_model *r = refs();
    const float *tta = ref(r, "faces_tta") + 7 * 2; /* happy/0 */
    const char *build = getenv("FERC_BUILD");
    char cmd[1024], *out;
    snprintf(cmd, sizeof cmd, "%s/examples/analyze tests/cli/emotion_tiny.ferc tests/cli/fer/happy/0.png >%s",
             build && *build ? build : "build", tp("example.txt"));
    ck_assert_int_eq(system(cmd), 0);
    ck_assert(out = slurp(tp("example.txt")));
    ck_assert_msg(!strncmp(out, "face 0 at 0,0 size 48x48: ", 26), "%s", out);
    for (int k = 0; k < 7; k++) {
        char key[32];
        snprintf(key, sizeof key, " %s=", ferc_emotion_name(k));
        const char *v = strstr(out, key);
        ck_assert_msg(v && fabs(atof(v + strlen(key)) - tta[k]) < 1e-4, "%s%s", key, out);
    }
    free(out);
    ck_assert_int_ne(system(strcat(strtok(cmd, " "), " tests/cli/emotion_tiny.ferc no/such.png 2>/dev/null")), 0);
    ferc_model_free(r);
}
END_TEST

/* The same picture as a photo and as a one-frame video gives the same faces: the video path
 * crops the detector's boxes with the same framing as photos (it once cropped them as plain
 * boxes: 0.087 apart in a probability here). The group photo at half size (INTER_AREA), gray,
 * as a PGM and as a full-range mono Y4M (the same pixels); one 160x160 SSD pass in both
 * (the scale of 300x300 on the full photo, at a quarter of the work, for the ASan build). */
START_TEST(video_frame_equals_photo)
{
    char path[512];
    ferc_image img;
    ferc_error e;
    ferc_image full;
    ck_assert(ferc_image_load(test_path("data/faces_group.png", path, sizeof path), 1, &full, &e) == FERC_OK);
    ck_assert(ferc_image_resize(&full, full.width / 2, full.height / 2, FERC_RESIZE_AREA, &img, &e) == FERC_OK);
    ferc_image_free(&full);
    FILE *f = fopen(tp("group.pgm"), "wb");
    ck_assert(f != NULL);
    fprintf(f, "P5\n%d %d\n255\n", img.width, img.height);
    fwrite(img.data, 1, (size_t)img.width * img.height, f);
    fclose(f);
    ck_assert((f = fopen(tp("group.y4m"), "wb")) != NULL);
    fprintf(f, "YUV4MPEG2 W%d H%d F25:1 Ip A1:1 Cmono XCOLORRANGE=FULL\nFRAME\n", img.width, img.height);
    fwrite(img.data, 1, (size_t)img.width * img.height, f);
    fclose(f);
    ferc_image_free(&img);
    /* Both network detectors, at the input size video uses by default; YuNet's landmarks
     * must be the same too. */
    const char *const optss[2] = {
        "--model weights/emotion_cnn.ferc --detector ssd --detector-model weights/face_res10.ferc --ssd-size 160",
        "--model weights/emotion_cnn.ferc --detector yunet --detector-model weights/face_yunet.ferc --detector-size 640"};
    for (int d = 0; d < 2; d++) {
        const char *opts = optss[d];
        char *out, *err, *vout, *verr;
        ck_assert_int_eq(run(&out, &err, "--format json %s %s", opts, tp("group.pgm")), 0);
        ck_assert_int_eq(run(&vout, &verr, "video --format json --window 1 %s %s", opts, tp("group.y4m")), 0);
        json *photo = json_parse(out), *frame = json_parse(vout);
        ck_assert(photo && frame);
        json *pf = json_get(photo, "faces"), *vf = json_get(frame, "faces");
        ck_assert_msg(pf->n >= 2 && pf->n == vf->n, "photo %d faces, video %d", pf->n, vf->n);
        for (int i = 0; i < pf->n; i++) {
            json *a = json_at(pf, i), *b = NULL;
            /* The video lists faces by track; match by box. */
            for (int j = 0; j < vf->n && !b; j++) {
                int same = 1;
                for (int k = 0; k < 4; k++)
                    same &= json_at(json_get(json_at(vf, j), "box"), k)->num == json_at(json_get(a, "box"), k)->num;
                if (same) b = json_at(vf, j);
            }
            ck_assert_msg(b != NULL, "photo face %d has no video face with the same box", i);
            ck_assert(json_get(a, "score")->num == json_get(b, "score")->num);
            json *la = json_get(a, "landmarks"), *lb = json_get(b, "landmarks");
            ck_assert_int_eq(la != NULL, d == 1);
            ck_assert(!la == !lb);
            for (int k = 0; la && k < 5; k++)
                ck_assert(json_at(json_at(la, k), 0)->num == json_at(json_at(lb, k), 0)->num &&
                          json_at(json_at(la, k), 1)->num == json_at(json_at(lb, k), 1)->num);
            for (int k = 0; k < 7; k++) {
                const char *name = ferc_emotion_name(k);
                double pp = json_get(json_get(a, "probabilities"), name)->num, vp = json_get(json_get(b, "raw"), name)->num;
                ck_assert_msg(pp == vp, "face %d %s: photo %g, video %g", i, name, pp, vp);
            }
        }
        json_free(photo), json_free(frame);
        free(out), free(err), free(vout), free(verr);
    }
}
END_TEST

int main(void)
{
    snprintf(tmpd, sizeof tmpd, "/tmp/ferc_test_cli_XXXXXX");
    if (!mkdtemp(tmpd)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 600); /* the ISA and thread-count comparisons run the SSD on the scalar path */
    tcase_add_test(tc, images_json_batch);
    tcase_add_test(tc, images_directory_tta);
    tcase_add_test(tc, images_stdin_and_text);
    tcase_add_test(tc, bad_images);
    tcase_add_test(tc, bad_models_and_options);
    tcase_add_test(tc, eval_matches_reference);
    tcase_add_test(tc, annotate_draws_boxes);
    tcase_add_test(tc, example_program);
    tcase_add_test(tc, video_json_summary_plot);
    tcase_add_test(tc, video_bad_streams);
    tcase_add_test(tc, tiles_option);
    tcase_add_test(tc, video_frame_equals_photo);
    tcase_add_test(tc, pipe_to_head_is_quiet);
    tcase_add_test(tc, stdout_write_error_is_named);
    tcase_add_test(tc, annotate_to_full_or_read_only_disk);
    tcase_add_test(tc, max_pixels_option);
    tcase_add_test(tc, video_sigint_writes_what_was_processed);
    tcase_add_test(tc, same_json_on_every_thread_count);
    tcase_add_test(tc, same_answer_on_every_isa);
    suite_add_tcase(s, tc);
    int rc = run_suite(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpd);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpd);
    return rc;
}
