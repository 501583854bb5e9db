/* test_cascade.c - the cascade detector against OpenCV 4.6 (tests/gen/make_cascade_refs.py).
 *
 * Each line of tests/data/cascade_refs.txt holds cv2.CascadeClassifier.detectMultiScale's
 * boxes for one image, cascade and setting; ferc must return exactly the same boxes (raw
 * candidates included, min_neighbors 0), on the plain and the histogram-equalised image,
 * with 1 thread (and 2 for min_neighbors 3). The pyramid steps (cv::resize INTER_LINEAR / INTER_LINEAR_EXACT,
 * cv::integral, cv::equalizeHist) are checked value by value, and malformed cascade files
 * must give an error that names the problem. Cascades come from Debian's opencv-data
 * (/usr/share/opencv4, or FERC_CASCADE_DIR). */
#include "testutil.h"
#include "detect/cascade.h"

#include <stdint.h>

static const char *cascade_dir(void)
{
    const char *d = getenv("FERC_CASCADE_DIR");
    return d && *d ? d : "/usr/share/opencv4";
}

static ferc_cascade *load_cascade(const char *rel)
{
    char path[512];
    ferc_error err;
    ferc_cascade *c;
    snprintf(path, sizeof path, "%s/%s", cascade_dir(), rel);
    ck_assert_msg(ferc_cascade_load(path, &c, &err) == FERC_OK, "%s", err.message);
    return c;
}

static ferc_image load_gray(const char *name)
{
    char rel[256], path[512];
    ferc_error err;
    ferc_image img;
    snprintf(rel, sizeof rel, "data/%s", name);
    ck_assert_msg(ferc_image_load(test_path(rel, path, sizeof path), 1, &img, &err) == FERC_OK, "%s", err.message);
    return img;
}

/* Whole file as a NUL-terminated string. */
static char *read_text(const char *rel)
{
    char path[512];
    size_t n;
    unsigned char *b = read_file(test_path(rel, path, sizeof path), &n);
    ck_assert_msg(b != NULL, "cannot read %s", path);
    char *s = realloc(b, n + 1);
    s[n] = '\0';
    return s;
}

START_TEST(loads_every_shipped_cascade)
{
    static const char *names[] = {
        "haarcascades/haarcascade_eye.xml", "haarcascades/haarcascade_eye_tree_eyeglasses.xml",
        "haarcascades/haarcascade_frontalcatface.xml", "haarcascades/haarcascade_frontalcatface_extended.xml",
        "haarcascades/haarcascade_frontalface_alt.xml", "haarcascades/haarcascade_frontalface_alt2.xml",
        "haarcascades/haarcascade_frontalface_alt_tree.xml", "haarcascades/haarcascade_frontalface_default.xml",
        "haarcascades/haarcascade_fullbody.xml", "haarcascades/haarcascade_lefteye_2splits.xml",
        "haarcascades/haarcascade_licence_plate_rus_16stages.xml", "haarcascades/haarcascade_lowerbody.xml",
        "haarcascades/haarcascade_profileface.xml", "haarcascades/haarcascade_righteye_2splits.xml",
        "haarcascades/haarcascade_russian_plate_number.xml", "haarcascades/haarcascade_smile.xml",
        "haarcascades/haarcascade_upperbody.xml", "lbpcascades/lbpcascade_frontalcatface.xml",
        "lbpcascades/lbpcascade_frontalface.xml", "lbpcascades/lbpcascade_frontalface_improved.xml",
        "lbpcascades/lbpcascade_profileface.xml", "lbpcascades/lbpcascade_silverware.xml",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        ferc_cascade *c = load_cascade(names[i]);
        ck_assert_int_gt(c->n_stages, 0);
        ck_assert_str_eq(ferc_cascade_kind(c), strstr(names[i], "lbp") ? "lbp" : "haar");
        ferc_cascade_free(c);
    }
    ferc_cascade *c = load_cascade("haarcascades/haarcascade_frontalface_default.xml");
    int w, h;
    ferc_cascade_window(c, &w, &h);
    ck_assert_int_eq(w, 24);
    ck_assert_int_eq(h, 24);
    ck_assert_int_eq(c->n_stages, 25);
    ck_assert_int_eq(c->max_nodes_per_tree, 1);
    ferc_cascade_free(c);
    c = load_cascade("haarcascades/haarcascade_licence_plate_rus_16stages.xml"); /* old format */
    ferc_cascade_window(c, &w, &h);
    ck_assert_int_eq(w, 64);
    ck_assert_int_eq(h, 16);
    ck_assert_int_eq(c->n_stages, 16);
    ferc_cascade_free(c);
}
END_TEST

static int by_pos(const void *a, const void *b)
{
    const int *x = a, *y = b;
    for (int k = 0; k < 4; k++) {
        static const int order[4] = {1, 0, 2, 3};
        if (x[order[k]] != y[order[k]]) return x[order[k]] < y[order[k]] ? -1 : 1;
    }
    return 0;
}

START_TEST(detections_match_opencv)
{
    char *text = read_text("data/cascade_refs.txt");
    int cases = 0, boxes_checked = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char img_name[128], casc[256];
        double scale;
        int mn, eq, n, used;
        ck_assert_int_eq(sscanf(line, "%127s %255s %lf %d %d %d%n", img_name, casc, &scale, &mn, &eq, &n, &used), 6);
        int *want = malloc(sizeof(int) * 4 * (size_t)(n + 1));
        const char *p = line + used;
        for (int i = 0; i < 4 * n; i++) {
            int k;
            ck_assert_int_eq(sscanf(p, "%d%n", &want[i], &k), 1);
            p += k;
        }
        ferc_detect_params prm;
        ferc_detect_params_default(&prm);
        prm.scale_factor = scale;
        prm.min_neighbors = mn;
        const char *mm = strstr(p, "minmax");
        if (mm) ck_assert_int_eq(sscanf(mm, "minmax %d %d %d %d", &prm.min_width, &prm.min_height, &prm.max_width,
                                        &prm.max_height), 4);
        ferc_image img = load_gray(img_name);
        ferc_error err;
        if (eq)
            ck_assert(ferc_equalize_hist(img.data, img.width, img.height, img.width, img.data, img.width, &err) == FERC_OK);
        ferc_cascade *c = load_cascade(casc);
        qsort(want, (size_t)n, sizeof(int) * 4, by_pos);
        for (int threads = 1; threads <= (mn == 3 ? 2 : 1); threads++) { /* 2 threads: a subset, for time */
            prm.threads = threads;
            ferc_box got[512];
            int ng = -1;
            ck_assert_msg(ferc_cascade_detect(c, img.data, img.width, img.height, img.width, &prm, got, 512, &ng, &err) ==
                              FERC_OK, "%s", err.message);
            ck_assert_msg(ng == n, "%s %s scale %g neighbours %d equalised %d threads %d [%s]: %d boxes, OpenCV %d",
                          img_name, casc, scale, mn, eq, threads, getenv("FERC_ISA") ? getenv("FERC_ISA") : "default", ng, n);
            for (int i = 0; i < n; i++) {
                const int *w = &want[4 * i];
                ck_assert_msg(got[i].x == w[0] && got[i].y == w[1] && got[i].w == w[2] && got[i].h == w[3] && got[i].score == 1,
                              "%s %s neighbours %d eq %d [%s]: box %d is %g %g %g %g, OpenCV %d %d %d %d", img_name,
                              casc, mn, eq, getenv("FERC_ISA") ? getenv("FERC_ISA") : "default", i, got[i].x, got[i].y, got[i].w, got[i].h, w[0],
                              w[1], w[2], w[3]);
            }
            boxes_checked += n;
        }
        ferc_cascade_free(c);
        ferc_image_free(&img);
        free(want);
        cases++;
    }
    free(text);
    ck_assert_int_ge(cases, 40);
    ck_assert_int_gt(boxes_checked, 900);
}
END_TEST

START_TEST(finds_the_faces_in_the_group_photo)
{
    /* Not a reference comparison: a plain statement of what the fixture holds (4 faces), so a
     * change that broke both ferc and the fixture generation would still be noticed. */
    ferc_image img = load_gray("faces_group.png");
    ferc_cascade *c = load_cascade("haarcascades/haarcascade_frontalface_default.xml");
    ferc_box got[16];
    int n;
    ferc_error err;
    ck_assert(ferc_cascade_detect(c, img.data, img.width, img.height, img.width, NULL, got, 16, &n, &err) == FERC_OK);
    ck_assert_int_eq(n, 4);
    ferc_cascade_free(c);
    ferc_image_free(&img);
}
END_TEST

static int next_int(char **p)
{
    char *end;
    long v = strtol(*p, &end, 10);
    ck_assert_msg(end != *p, "malformed reference file");
    *p = end;
    return (int)v;
}

START_TEST(resize_matches_opencv)
{
    char *text = read_text("data/resize_refs.txt");
    ferc_image img = load_gray("faces_astronaut.png");
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    int cx, cy, cw, ch, checked = 0;
    ck_assert_int_eq(sscanf(line, "crop %d %d %d %d", &cx, &cy, &cw, &ch), 4);
    const uint8_t *crop = img.data + (size_t)cy * img.width + cx;
    while ((line = strtok_r(NULL, "\n", &save))) {
        char mode[16];
        int w, h, used;
        ck_assert_int_eq(sscanf(line, "%15s %d %d%n", mode, &w, &h, &used), 3);
        uint8_t *out = malloc((size_t)w * h);
        ferc_error err;
        ck_assert(ferc_resize_gray(crop, cw, ch, img.width, out, w, h, w, !strcmp(mode, "exact"), &err) == FERC_OK);
        char *p = line + used;
        for (int i = 0; i < w * h; i++) {
            int want = next_int(&p);
            ck_assert_msg(out[i] == want, "resize %s %dx%d->%dx%d: pixel (%d,%d) is %d, OpenCV %d", mode, cw, ch, w, h,
                          i % w, i / w, out[i], want);
        }
        free(out);
        checked++;
    }
    ck_assert_int_ge(checked, 10);
    uint8_t one;
    ferc_error err;
    ck_assert(ferc_resize_gray(crop, cw, ch, img.width, &one, 0, 1, 1, 0, &err) == FERC_ERR_ARG);
    ferc_image_free(&img);
    free(text);
}
END_TEST

START_TEST(integral_matches_opencv)
{
    char *text = read_text("data/integral_refs.txt");
    ferc_image img = load_gray("faces_astronaut.png");
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    int cx, cy, cw, ch;
    ck_assert_int_eq(sscanf(line, "crop %d %d %d %d", &cx, &cy, &cw, &ch), 4);
    const int stride = cw + 3; /* wider than needed: the stride must be honoured */
    int32_t *sum = calloc((size_t)stride * (ch + 1), 4), *tilted = calloc((size_t)stride * (ch + 1), 4);
    uint32_t *sq = calloc((size_t)stride * (ch + 1), 4);
    ferc_integral_u8(img.data + (size_t)cy * img.width + cx, cw, ch, img.width, sum, sq, tilted, stride, 0);
    int planes = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *p = strchr(line, ' ');
        ck_assert(p != NULL);
        for (int y = 0; y <= ch; y++)
            for (int x = 0; x <= cw; x++) {
                char *end;
                unsigned long long v = strtoull(p, &end, 10);
                ck_assert(end != p);
                p = end;
                size_t i = (size_t)y * stride + x;
                long long got = !strncmp(line, "sum", 3) ? sum[i] : !strncmp(line, "sqsum", 5) ? (long long)sq[i] : tilted[i];
                ck_assert_msg(got == (long long)v, "%.6s at (%d,%d): %lld, OpenCV %llu", line, x, y, got, v);
            }
        planes++;
    }
    ck_assert_int_eq(planes, 3);
    free(sum), free(sq), free(tilted), free(text);
    ferc_image_free(&img);
}
END_TEST

START_TEST(equalize_matches_opencv)
{
    char *text = read_text("data/equalize_refs.txt");
    char name[128];
    int n, used;
    ck_assert_int_eq(sscanf(text, "%127s %d%n", name, &n, &used), 2);
    int lut[256];
    for (int i = 0; i < 256; i++) lut[i] = -1;
    char *p = text + used;
    for (int i = 0; i < n; i++) {
        int v = next_int(&p);
        lut[v] = next_int(&p);
    }
    ferc_image img = load_gray(name);
    uint8_t *out = malloc((size_t)img.width * img.height);
    ferc_error err;
    ck_assert(ferc_equalize_hist(img.data, img.width, img.height, img.width, out, img.width, &err) == FERC_OK);
    for (int i = 0; i < img.width * img.height; i++)
        ck_assert_msg(out[i] == lut[img.data[i]], "level %d maps to %d, OpenCV %d", img.data[i], out[i], lut[img.data[i]]);
    free(out), free(text);
    ferc_image_free(&img);
}
END_TEST

/* ---- malformed input --------------------------------------------------------------- */

static void expect_error(const char *xml, const char *needle)
{
    ferc_cascade *c = (ferc_cascade *)1;
    ferc_error err;
    memset(&err, 0, sizeof err);
    ferc_status st = ferc_cascade_load_memory(xml, strlen(xml), &c, &err);
    ck_assert_msg(st != FERC_OK, "accepted: %s", xml);
    ck_assert(c == NULL);
    ck_assert_msg(strstr(err.message, needle) != NULL, "error '%s' does not mention '%s'", err.message, needle);
}

#define HEAD "<?xml version=\"1.0\"?>\n<opencv_storage>\n<cascade type_id=\"opencv-cascade-classifier\">"
#define PARAMS "<stageType>BOOST</stageType><featureType>HAAR</featureType><height>4</height><width>4</width>" \
               "<featureParams><maxCatCount>0</maxCatCount></featureParams>"
#define FEATURE "<features><_><rects><_>0 0 4 2 -1.</_><_>0 2 4 2 1.</_></rects></_></features>"
#define STAGE(nodes) "<stages><_><stageThreshold>-1.</stageThreshold><weakClassifiers><_><internalNodes>" nodes \
                     "</internalNodes><leafValues>-1. 1.</leafValues></_></weakClassifiers></_></stages>"
#define TAIL "</cascade>\n</opencv_storage>\n"

START_TEST(malformed_cascades_are_refused)
{
    /* the minimal valid file, to be sure the failures below are for the stated reason */
    const char *ok = HEAD PARAMS FEATURE STAGE("0 -1 0 0.5") TAIL;
    ferc_cascade *c;
    ferc_error err;
    ck_assert_msg(ferc_cascade_load_memory(ok, strlen(ok), &c, &err) == FERC_OK, "%s", err.message);
    ck_assert_int_eq(c->n_stages, 1);
    ferc_cascade_free(c);

    expect_error("", "empty");
    expect_error("<opencv_storage><cascade>", "end of file inside <cascade>");
    expect_error("<opencv_storage></cascade>", "does not match <opencv_storage>");
    expect_error("<a><b></a>", "line 1");
    expect_error("<opencv_storage><!-- never closed", "unterminated comment");
    expect_error("<opencv_storage><cascade x=\"1></cascade></opencv_storage>", "unterminated start tag");
    expect_error("<other></other>", "not an OpenCV FileStorage");
    expect_error("<opencv_storage><x></x></opencv_storage>", "neither a new-format cascade");
    expect_error(HEAD PARAMS FEATURE STAGE("0 -1 7 0.5") TAIL, "feature index 7 out of range");
    expect_error(HEAD PARAMS FEATURE STAGE("0 -1 0") TAIL, "not a multiple of 4");
    expect_error(HEAD PARAMS FEATURE STAGE("0 -1 0 abc") TAIL, "non-number");
    expect_error(HEAD PARAMS FEATURE STAGE("0 5 0 0.5") TAIL, "invalid child 5");
    expect_error(HEAD PARAMS FEATURE STAGE("0 -7 0 0.5") TAIL, "invalid child -7");
    expect_error(HEAD PARAMS "<features><_><rects><_>0 0 5 2 -1.</_><_>0 2 4 2 1.</_></rects></_></features>"
                 STAGE("0 -1 0 0.5") TAIL, "outside the 4x4 window");
    expect_error(HEAD PARAMS "<features><_><rects><_>0 0 1 1 -1.</_><_>1 0 1 1 1.</_></rects><tilted>1</tilted></_>"
                 "</features>" STAGE("0 -1 0 0.5") TAIL, "tilted rectangle");
    expect_error(HEAD "<stageType>BOOST</stageType><featureType>HOG</featureType>" TAIL, "featureType 'HOG'");
    expect_error(HEAD PARAMS FEATURE TAIL, "has no <stages>");
    expect_error(HEAD "<stageType>BOOST</stageType><featureType>HAAR</featureType><height>0</height><width>4</width>"
                 "<featureParams><maxCatCount>0</maxCatCount></featureParams>" FEATURE STAGE("0 -1 0 0.5") TAIL,
                 "window 4x0");

    /* deep nesting stops at the limit instead of recursing */
    size_t depth = 100000;
    char *deep = malloc(depth * 3 + 1), *q = deep;
    for (size_t i = 0; i < depth; i++) *q++ = '<', *q++ = 'a', *q++ = '>';
    *q = '\0';
    expect_error(deep, "nested deeper than");
    free(deep);

    ck_assert(ferc_cascade_load("/nonexistent/cascade.xml", &c, &err) == FERC_ERR_IO);
    ck_assert(strstr(err.message, "/nonexistent/cascade.xml") != NULL);
}
END_TEST

START_TEST(bad_detect_arguments_are_refused)
{
    ferc_cascade *c = load_cascade("lbpcascades/lbpcascade_frontalface_improved.xml");
    uint8_t img[64 * 64] = {0};
    ferc_box r[4];
    int n;
    ferc_error err;
    ferc_detect_params p;
    ferc_detect_params_default(&p);
    p.scale_factor = 1.0;
    ck_assert(ferc_cascade_detect(c, img, 64, 64, 64, &p, r, 4, &n, &err) == FERC_ERR_ARG);
    ck_assert(strstr(err.message, "scale factor") != NULL);
    ck_assert(ferc_cascade_detect(c, img, 64, 64, 10, NULL, r, 4, &n, &err) == FERC_ERR_ARG);
    ck_assert(ferc_cascade_detect(c, img, 0, 64, 64, NULL, r, 4, &n, &err) == FERC_ERR_ARG);
    /* smaller than the window: nothing, no error */
    ck_assert(ferc_cascade_detect(c, img, 20, 20, 64, NULL, r, 4, &n, &err) == FERC_OK);
    ck_assert_int_eq(n, 0);
    ferc_cascade_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cascade");
    TCase *tc = tcase_create("cascade");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, loads_every_shipped_cascade);
    tcase_add_test(tc, detections_match_opencv);
    tcase_add_test(tc, finds_the_faces_in_the_group_photo);
    tcase_add_test(tc, resize_matches_opencv);
    tcase_add_test(tc, integral_matches_opencv);
    tcase_add_test(tc, equalize_matches_opencv);
    tcase_add_test(tc, malformed_cascades_are_refused);
    tcase_add_test(tc, bad_detect_arguments_are_refused);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
