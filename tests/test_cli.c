/* test_cli.c - the ferc command end to end: runs the binary ($FERC_BUILD/ferc as the
 * Makefile builds it for this build's flags, or $FERC_BIN) on the
 * fixtures of tests/gen/make_cli_fixtures.py, parses its JSON output and compares the numbers
 * with PyTorch's (refs.ferc); checks bad input gives a message naming the file, a non-zero
 * exit, and that the other inputs are still processed. */
#include "testutil.h"
#include "json.h"

#include <stdarg.h>
#include <sys/wait.h>
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

/* A directory is walked in sorted order; three threads keep that order; TTA matches. */
START_TEST(images_directory_tta)
{
    static const int order[10] = {0, 1, 2, 3, 8, 9, 4, 5, 6, 7}; /* angry fear happy neutral sad surprise */
    ferc_model *r = refs();
    const float *tta = ref(r, "faces_tta");
    char *out, *err;
    ck_assert_int_eq(run(&out, &err, TINY " --faces-only --tta --threads 3 tests/cli/fer"), 0);
    json *l[12];
    ck_assert_int_eq(parse_lines(out, l, 12), 10);
    for (int i = 0; i < 10; i++) {
        check_face(json_at(json_get(l[i], "faces"), 0), tta + 7 * order[i], 0, 0, 48, 48);
        json_free(l[i]);
    }
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
    const char *opts = "--model weights/emotion_cnn.ferc --detector-model weights/face_res10.ferc --ssd-size 160";
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
        for (int k = 0; k < 7; k++) {
            const char *name = ferc_emotion_name(k);
            double pp = json_get(json_get(a, "probabilities"), name)->num, vp = json_get(json_get(b, "raw"), name)->num;
            ck_assert_msg(pp == vp, "face %d %s: photo %g, video %g", i, name, pp, vp);
        }
    }
    json_free(photo), json_free(frame);
    free(out), free(err), free(vout), free(verr);
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
    tcase_set_timeout(tc, 120);
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
    tcase_add_test(tc, video_frame_equals_photo);
    suite_add_tcase(s, tc);
    int rc = run_suite(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpd);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpd);
    return rc;
}
