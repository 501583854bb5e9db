/* test_yunet.c - the YuNet face detector against OpenCV 4.6 and a Python decoder
 * (references: tests/ref/yunet.ref.ferc from tests/gen/make_yunet_refs.py):
 *   - the decoder and NMS fed cv2.dnn's raw outputs (faces_group.png at 320x256) give the
 *     faces bench/yunet_ref.py gives (a NumPy decoder written from the model's README), in
 *     the same order: coordinates within 1e-4 px + 1e-6 relative, scores within 1e-6, at
 *     three thresholds / top-k settings;
 *   - the network's twelve raw outputs on two photos at 320x320 and 640x640 are within
 *     1e-4 + 1e-4 |cv2| of cv2.dnn's (on 1,024 fixed-seed samples per output, or all of it);
 *   - the whole pipeline (resize, pad, run, decode, map back) gives the Python pipeline's
 *     faces within 0.01 px and scores within 1e-4, landmarks included, the person's right
 *     eye first;
 *   - tiles (ferc_yunet_detect_tiled) give the faces of bench/yunet_ref.detect_tiled over
 *     cv2.dnn's passes (tests/ref/yunet_tiles.ref.ferc) on a mosaic of faces_group.png with
 *     faces down to 6 px (the whole at 640, 2x2 and 3x3 tiles at 2x): the same faces within
 *     the single pass's 0.01 px and 1e-4 in score (each pass differs from cv2.dnn's by that
 *     much), matched regardless of order (near-equal scores of the mosaic's copies may swap);
 *     90 and 83 faces where the pass alone finds 15;
 *   - bad files and options are refused with a message;
 *   - the YuNet box framed with FERC_FRAMING_YUNET and res10's box with its framing give the
 *     same FER2013 square on a face within 10% of its side. */
#include "testutil.h"

#include "detect/yunet.h"

#define MODEL "weights/face_yunet.ferc"

static ferc_model *load_ref(void)
{
    char path[512];
    ferc_error err;
    ferc_model *ref;
    ck_assert_msg(ferc_model_load(test_path("ref/yunet.ref.ferc", path, sizeof path), &ref, &err) == FERC_OK, "%s",
                  err.message);
    return ref;
}

static ferc_tensor ref_tensor(const ferc_model *ref, const char *name)
{
    ferc_tensor t;
    ck_assert_msg(ferc_model_tensor(ref, name, &t) == 0, "reference tensor %s missing", name);
    return t;
}

/* faces[i] against reference rows x, y, w, h, score, 10 landmark coordinates. */
static void compare_faces(const ferc_box *got, int n, const ferc_tensor *want, double atol, double rtol,
                          double score_tol, const char *what)
{
    ck_assert_msg(n == (int)want->dims[0], "%s: %d faces, Python %d", what, n, (int)want->dims[0]);
    for (int i = 0; i < n; i++) {
        const float *w = want->data + 15 * i;
        const ferc_box *b = &got[i];
        float g[15] = {b->x, b->y, b->w, b->h, b->score};
        ck_assert_int_eq(b->n_landmarks, 5);
        for (int k = 0; k < 10; k++) g[5 + k] = b->landmarks[k / 2][k % 2];
        for (int k = 0; k < 15; k++) {
            const double tol = k == 4 ? score_tol : atol + rtol * fabs(w[k]);
            ck_assert_msg(fabs(g[k] - w[k]) <= tol, "%s [%s]: face %d value %d is %.7g, Python %.7g", what,
                          ferc_isa_name(), i, k, g[k], w[k]);
        }
    }
}

START_TEST(decoder_matches_python_reference)
{
    ferc_model *ref = load_ref();
    const float *outs[FERC_YUNET_OUTPUTS];
    char name[64];
    for (int i = 0; i < FERC_YUNET_OUTPUTS; i++) {
        snprintf(name, sizeof name, "dec/%s", ferc_yunet_output_names[i]);
        outs[i] = ref_tensor(ref, name).data;
    }
    const ferc_tensor size = ref_tensor(ref, "dec/size");
    const int W = (int)size.data[0], H = (int)size.data[1];
    ck_assert_int_eq(W, 320);
    ck_assert_int_eq(H, 256);
    void *work = malloc(ferc_yunet_work_size(W, H));
    ferc_box faces[64];
    const struct { const char *name; float threshold; int top_k, want; } cases[] = {
        {"dec/faces_t60", 0.6f, FERC_YUNET_TOP_K, 4},
        {"dec/faces_t05", 0.05f, FERC_YUNET_TOP_K, 5},
        {"dec/faces_t05k3", 0.05f, 3, 2}, /* top-k applies before NMS: 3 candidates, 2 kept */
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const int n = ferc_yunet_decode(outs, W, H, cases[c].threshold, FERC_YUNET_DEFAULT_NMS, cases[c].top_k, work,
                                        faces, 64);
        ck_assert_int_eq(n, cases[c].want);
        const ferc_tensor want = ref_tensor(ref, cases[c].name);
        compare_faces(faces, n, &want, 1e-4, 1e-6, 1e-6, cases[c].name);
    }
    /* Room for fewer faces than found: the count is still all of them. */
    ck_assert_int_eq(ferc_yunet_decode(outs, W, H, 0.6f, 0.3f, FERC_YUNET_TOP_K, work, faces, 1), 4);
    free(work);
    ferc_model_free(ref);
}
END_TEST

static int have_model(void)
{
    FILE *f = fopen(MODEL, "rb");
    if (f) fclose(f);
    else fprintf(stderr, "test_yunet: %s missing, network tests skipped\n", MODEL);
    return f != NULL;
}

static ferc_image load_photo(const char *name)
{
    char rel[128], path[512];
    ferc_error err;
    ferc_image img;
    snprintf(rel, sizeof rel, "data/%s.png", name);
    ck_assert_msg(ferc_image_load(test_path(rel, path, sizeof path), 3, &img, &err) == FERC_OK, "%s", err.message);
    return img;
}

static const char *const photos[2] = {"faces_group", "astronaut_face"};

START_TEST(network_matches_opencv)
{
    if (!have_model()) return;
    ferc_model *ref = load_ref();
    ferc_error err;
    ferc_model *m;
    ck_assert_msg(ferc_model_load(MODEL, &m, &err) == FERC_OK, "%s", err.message);
    int compared = 0;
    for (int p = 0; p < 2; p++)
        for (int S = 320; S <= 640; S += 320) {
            ferc_image img = load_photo(photos[p]), small;
            const int interp = S < img.width && S < img.height ? FERC_RESIZE_AREA : FERC_RESIZE_LINEAR;
            ck_assert(ferc_image_resize(&img, S, S, interp, &small, &err) == FERC_OK);
            float *in = malloc(sizeof(float) * 3 * (size_t)S * S);
            for (size_t i = 0; i < (size_t)S * S; i++)
                for (int c = 0; c < 3; c++) in[3 * i + c] = small.data[3 * i + 2 - c]; /* BGR */
            ferc_context_options opt = {1, S, S, 0, 0};
            ferc_context *ctx;
            ck_assert_msg(ferc_context_create(m, &opt, &ctx, &err) == FERC_OK, "%s", err.message);
            const float *inputs[1] = {in};
            ck_assert_msg(ferc_run(ctx, inputs, 1, &err) == FERC_OK, "%s", err.message);
            for (int o = 0; o < ferc_model_num_outputs(m); o++) {
                const char *oname = ferc_model_output_name(m, o);
                char key[128];
                snprintf(key, sizeof key, "net/%s_%d/%s/idx", photos[p], S, oname);
                ferc_tensor idx, val, mx, got;
                ck_assert_msg(ferc_model_tensor(ref, key, &idx) == 0, "no reference for output %s", oname);
                snprintf(key, sizeof key, "net/%s_%d/%s/val", photos[p], S, oname);
                val = ref_tensor(ref, key);
                snprintf(key, sizeof key, "net/%s_%d/%s/max", photos[p], S, oname);
                mx = ref_tensor(ref, key);
                ferc_output(ctx, o, &got);
                const size_t n = tensor_count(&got), ns = tensor_count(&idx);
                ck_assert(mx.data[0] > 0);
                for (size_t k = 0; k < ns; k++) {
                    const size_t i = (size_t)idx.data[k];
                    ck_assert_msg(i < n, "%s: %zu values, reference index %zu", oname, n, i);
                    const double want = val.data[k], tol = 1e-4 + 1e-4 * fabs(want);
                    ck_assert_msg(fabs(got.data[i] - want) <= tol, "%s %d %s [%s]: element %zu is %.7g, cv2.dnn %.7g",
                                  photos[p], S, oname, ferc_isa_name(), i, got.data[i], want);
                }
                compared++;
            }
            ferc_context_free(ctx);
            free(in);
            ferc_image_free(&small);
            ferc_image_free(&img);
        }
    ck_assert_int_eq(compared, 4 * FERC_YUNET_OUTPUTS);
    ferc_model_free(m);
    ferc_model_free(ref);
}
END_TEST

START_TEST(pipeline_matches_python_reference)
{
    if (!have_model()) return;
    ferc_model *ref = load_ref();
    ferc_error err;
    ferc_yunet *d;
    ferc_yunet_state *s;
    ck_assert_msg(ferc_yunet_load(MODEL, &d, &err) == FERC_OK, "%s", err.message);
    ck_assert(ferc_yunet_state_create(d, &s, &err) == FERC_OK);
    ferc_box faces[64], again[64];
    for (int p = 0; p < 2; p++)
        for (int S = 0; S <= 320; S += 320) {
            ferc_image img = load_photo(photos[p]);
            ferc_yunet_options o = {S, FERC_YUNET_DEFAULT_THRESHOLD, FERC_YUNET_DEFAULT_NMS, 1};
            int n, n2;
            ck_assert_msg(ferc_yunet_detect(d, s, &img, &o, faces, 64, &n, &err) == FERC_OK, "%s", err.message);
            char key[64];
            snprintf(key, sizeof key, "pipe/%s_%d", photos[p], S);
            const ferc_tensor want = ref_tensor(ref, key);
            compare_faces(faces, n, &want, 0.01, 0, 1e-4, key);
            ck_assert_int_ge(n, 1);
            /* The person's right eye (first) is on the image's left; the mouth below the eyes. */
            for (int i = 0; i < n; i++) {
                ck_assert_float_lt(faces[i].landmarks[0][0], faces[i].landmarks[1][0]);
                ck_assert_float_lt(faces[i].landmarks[3][0], faces[i].landmarks[4][0]);
                ck_assert_float_gt(faces[i].landmarks[3][1], faces[i].landmarks[0][1]);
            }
            /* Two threads give the same faces; so does room for one (the count stays). */
            o.threads = 2;
            ck_assert(ferc_yunet_detect(d, s, &img, &o, again, 64, &n2, &err) == FERC_OK);
            ck_assert_int_eq(n2, n);
            compare_faces(again, n2, &want, 0.01, 0, 1e-4, key);
            ck_assert(ferc_yunet_detect(d, s, &img, NULL, again, 1, &n2, &err) == FERC_OK);
            if (S == 0) ck_assert_int_eq(n2, n);
            ferc_image_free(&img);
        }
    ferc_yunet_state_free(s);
    ferc_yunet_free(d);
    ferc_model_free(ref);
}
END_TEST

/* mosaic() of tests/gen/make_yunet_refs.py: 2W x 2H from g (RGB), quadrants g, g mirrored,
 * and g subsampled by f = 2 and 4 in f x f cells; cell (r, c) holds g[r::f, c::f], mirrored
 * when r + c (+ 1 in the second quadrant) is odd. */
static ferc_image mosaic(const ferc_image *g)
{
    const int W = g->width, H = g->height;
    ferc_image m = {2 * W, 2 * H, 3, malloc((size_t)12 * W * H)};
    ck_assert_ptr_nonnull(m.data);
    const int fs[4] = {1, 1, 2, 4};
    for (int q = 0; q < 4; q++) {
        const int f = fs[q], cw = W / f, ch = H / f;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const int r = y / ch, c = x / cw, v = y % ch, u = x % cw;
                const int uu = (r + c + (q == 1)) % 2 ? cw - 1 - u : u;
                const uint8_t *src = g->data + 3 * ((size_t)(r + f * v) * W + c + f * uu);
                uint8_t *dst = m.data + 3 * ((size_t)((q / 2) * H + y) * m.width + (q % 2) * W + x);
                dst[0] = src[0], dst[1] = src[1], dst[2] = src[2];
            }
    }
    return m;
}

START_TEST(tiles_match_python_reference)
{
    if (!have_model()) return;
    char path[512];
    ferc_error err;
    ferc_model *ref;
    ck_assert_msg(ferc_model_load(test_path("ref/yunet_tiles.ref.ferc", path, sizeof path), &ref, &err) == FERC_OK,
                  "%s", err.message);
    ferc_yunet *d;
    ferc_yunet_state *s;
    ck_assert_msg(ferc_yunet_load(MODEL, &d, &err) == FERC_OK, "%s", err.message);
    ck_assert(ferc_yunet_state_create(d, &s, &err) == FERC_OK);
    ferc_image g = load_photo("faces_group");
    ferc_image m = mosaic(&g);
    enum { MAX = 256 };
    ferc_box *faces = malloc(sizeof *faces * MAX), *again = malloc(sizeof *again * MAX);
    const ferc_yunet_options o = {640, FERC_YUNET_DEFAULT_THRESHOLD, FERC_YUNET_DEFAULT_NMS, 1};
    int n, n2;
    ck_assert(ferc_yunet_detect(d, s, &m, &o, faces, MAX, &n, &err) == FERC_OK);
    ck_assert_int_eq(n, 15);
    const int grids[2][3] = {{2, 2, 90}, {3, 2, 83}};
    for (int c = 0; c < 2; c++) {
        char key[64];
        snprintf(key, sizeof key, "tile/mosaic_640_%dx%d", grids[c][0], grids[c][1]);
        const ferc_tensor want = ref_tensor(ref, key);
        ck_assert_msg(ferc_yunet_detect_tiled(d, s, &m, &o, grids[c][0], grids[c][1], faces, MAX, &n, &err) == FERC_OK,
                      "%s", err.message);
        ck_assert_msg(n == (int)want.dims[0], "%s [%s]: %d faces, Python %d", key, ferc_isa_name(), n,
                      (int)want.dims[0]);
        ck_assert_int_eq(n, grids[c][2]);
        int used[MAX] = {0};
        for (int i = 0; i < n; i++) {
            const ferc_box *b = &faces[i];
            if (i) ck_assert_float_le(b->score, faces[i - 1].score); /* best first */
            float got[15] = {b->x, b->y, b->w, b->h, b->score};
            for (int k = 0; k < 10; k++) got[5 + k] = b->landmarks[k / 2][k % 2];
            int match = -1;
            for (int j = 0; j < n && match < 0; j++) {
                const float *w = want.data + 15 * j;
                int ok = !used[j];
                for (int k = 0; k < 15 && ok; k++) ok = fabs(got[k] - w[k]) <= (k == 4 ? 1e-4 : 0.01);
                if (ok) match = j;
            }
            ck_assert_msg(match >= 0, "%s [%s]: face %d (%.2f, %.2f, %.2f x %.2f, score %.6f) not in Python's", key,
                          ferc_isa_name(), i, b->x, b->y, b->w, b->h, b->score);
            used[match] = 1;
        }
    }
    /* Room for fewer: the count stays, the best ones are written. */
    ck_assert(ferc_yunet_detect_tiled(d, s, &m, &o, 3, 2, again, 3, &n2, &err) == FERC_OK);
    ck_assert_int_eq(n2, n);
    ck_assert(!memcmp(again, faces, 3 * sizeof *faces));
    /* One pass: tiles 0 or 1, and tiles no larger at their scale than the whole image (a
     * 128-pixel photo is seen at 5x; 2 x 2 tiles of 73 pixels at 3x). */
    ferc_image small = load_photo("astronaut_face");
    const int tiles[3][2] = {{0, 0}, {1, 4}, {2, 3}};
    ck_assert(ferc_yunet_detect(d, s, &small, &o, faces, MAX, &n, &err) == FERC_OK);
    ck_assert_int_eq(n, 1);
    for (int t = 0; t < 3; t++) {
        ck_assert(ferc_yunet_detect_tiled(d, s, &small, &o, tiles[t][0], tiles[t][1], again, MAX, &n2, &err) == FERC_OK);
        ck_assert_int_eq(n2, n);
        ck_assert(!memcmp(again, faces, (size_t)n * sizeof *faces));
    }
    /* Bad tiles, scales and arguments are refused. */
    const double bad[][2] = {{-1, 3}, {FERC_YUNET_MAX_TILES + 1, 3}, {2, -1}, {2, FERC_YUNET_MAX_TILE_SCALE + 1}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        n = 7;
        ck_assert_int_eq(ferc_yunet_detect_tiled(d, s, &m, &o, (int)bad[i][0], bad[i][1], faces, MAX, &n, &err),
                         FERC_ERR_ARG);
        ck_assert_int_eq(n, 0);
        ck_assert_msg(strstr(err.message, "tiles") != NULL, "%s", err.message);
    }
    ck_assert_int_eq(ferc_yunet_detect_tiled(d, s, &m, &o, 2, 3, faces, MAX, NULL, &err), FERC_ERR_ARG);
    ck_assert_int_eq(ferc_yunet_detect_tiled(d, s, &m, &o, 2, 3, NULL, 4, &n, &err), FERC_ERR_ARG);
    ck_assert_int_eq(ferc_yunet_detect_tiled(d, s, NULL, &o, 2, 3, faces, 4, &n, &err), FERC_ERR_ARG);
    const ferc_yunet_options bad_opt = {4096, 0.6f, 0.3f, 1};
    ck_assert_int_eq(ferc_yunet_detect_tiled(d, s, &m, &bad_opt, 2, 3, faces, 4, &n, &err), FERC_ERR_ARG);
    free(faces), free(again);
    ferc_image_free(&small), ferc_image_free(&g);
    free(m.data);
    ferc_yunet_state_free(s);
    ferc_yunet_free(d);
    ferc_model_free(ref);
}
END_TEST

START_TEST(bad_input_is_refused)
{
    char path[512];
    ferc_error err;
    ferc_yunet *d = (ferc_yunet *)1;
    ck_assert_int_eq(ferc_yunet_load(test_path("ref/residual.ferc", path, sizeof path), &d, &err), FERC_ERR_FORMAT);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(err.message, "not a YuNet detector file") != NULL, "%s", err.message);
    ck_assert_int_eq(ferc_yunet_load("no/such/file.ferc", &d, &err), FERC_ERR_IO);
    ck_assert_int_eq(ferc_yunet_load(NULL, &d, &err), FERC_ERR_ARG);
    if (!have_model()) return;
    ferc_yunet_state *s;
    ck_assert(ferc_yunet_load(MODEL, &d, &err) == FERC_OK);
    ck_assert(ferc_yunet_state_create(d, &s, &err) == FERC_OK);
    ferc_image img = load_photo("astronaut_face");
    ferc_box faces[4];
    int n = 7;
    const ferc_yunet_options bad[] = {
        {0, 1.5f, 0.3f, 1}, {0, -0.1f, 0.3f, 1}, {0, 0.6f, -0.3f, 1}, {0, 0.6f, 2.f, 1}, {4096, 0.6f, 0.3f, 1},
        {-1, 0.6f, 0.3f, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(ferc_yunet_detect(d, s, &img, &bad[i], faces, 4, &n, &err), FERC_ERR_ARG);
        ck_assert_int_eq(n, 0);
        ck_assert(strlen(err.message) > 10);
    }
    ck_assert_int_eq(ferc_yunet_detect(d, s, &img, NULL, NULL, 4, &n, &err), FERC_ERR_ARG);
    ferc_image none = {0, 0, 3, NULL};
    ck_assert_int_eq(ferc_yunet_detect(d, s, &none, NULL, faces, 4, &n, &err), FERC_ERR_ARG);
    /* A 1-pixel-high strip: scaled to 640 wide, 1 high, padded to 32: runs, finds nothing. */
    ferc_image strip = {img.width, 1, 3, img.data};
    ck_assert_msg(ferc_yunet_detect(d, s, &strip, NULL, faces, 4, &n, &err) == FERC_OK, "%s", err.message);
    ck_assert_int_eq(n, 0);
    ferc_image_free(&img);
    ferc_yunet_state_free(s);
    ferc_yunet_free(d);
}
END_TEST

/* Each detector's box, framed its own way, gives about the same FER2013 square on a face:
 * the framings were measured independently (bench/fer_framing.py), so this checks both. */
START_TEST(framing_agrees_with_res10)
{
    if (!have_model()) return;
    ferc_error err;
    ferc_image img = load_photo("astronaut_face");
    const char *kinds[2] = {"ssd", "yunet"}, *files[2] = {"weights/face_res10.ferc", MODEL};
    int sq[2][3];
    for (int k = 0; k < 2; k++) {
        ferc_detector_options o = {.kind = kinds[k], .model = files[k], .threads = 1};
        ferc_detector *d;
        ck_assert_msg(ferc_detector_create(&o, &d, &err) == FERC_OK, "%s", err.message);
        ck_assert_int_eq(ferc_detector_framing(d), k ? FERC_FRAMING_YUNET : FERC_FRAMING_RES10);
        ferc_box b[4];
        int n;
        ck_assert_msg(ferc_detect(d, &img, b, 4, &n, &err) == FERC_OK, "%s", err.message);
        ck_assert_int_eq(n, 1);
        ck_assert_int_eq(b[0].n_landmarks, k ? 5 : 0);
        ferc_face_crop_fer_rect(&b[0], ferc_detector_framing(d), &sq[k][0], &sq[k][1], &sq[k][2]);
        ferc_detector_free(d);
    }
    /* Measured: YuNet's square is 5-9% smaller on the astronaut photos (the framings are
     * medians over FER2013's enlarged crops, not over photos). */
    const int tol = sq[0][2] / 10;
    for (int i = 0; i < 3; i++)
        ck_assert_msg(abs(sq[1][i] - sq[0][i]) <= tol, "square value %d: yunet %d, res10 %d", i, sq[1][i], sq[0][i]);
    ferc_image_free(&img);
}
END_TEST

/* Eyes from landmarks: the first two points, the image-left one as ferc_eyes' left eye. */
START_TEST(eyes_from_landmarks)
{
    ferc_box b = {.x = 0, .y = 0, .w = 40, .h = 40, .score = 1, .n_landmarks = 5};
    b.landmarks[0][0] = 10, b.landmarks[0][1] = 10, b.landmarks[1][0] = 30, b.landmarks[1][1] = 30;
    ferc_eyes e;
    ck_assert_int_eq(ferc_eyes_from_landmarks(&b, &e), 1);
    ck_assert_double_eq_tol(e.roll_deg, 45.0, 1e-9);
    ck_assert(e.left_eye_x == 10 && e.right_eye_y == 30);
    b.landmarks[1][0] = 5; /* eyes in the wrong order */
    ck_assert_int_eq(ferc_eyes_from_landmarks(&b, &e), 0);
    ck_assert_int_eq(e.found, 0);
    b.n_landmarks = 0;
    ck_assert_int_eq(ferc_eyes_from_landmarks(&b, &e), 0);
    if (!have_model()) return;
    /* On the photo: found, nearly level (the astronaut's own roll is about 4 degrees). */
    ferc_error err;
    ferc_yunet *d;
    ferc_yunet_state *s;
    ck_assert(ferc_yunet_load(MODEL, &d, &err) == FERC_OK);
    ck_assert(ferc_yunet_state_create(d, &s, &err) == FERC_OK);
    ferc_image img = load_photo("astronaut_face");
    ferc_box f[4];
    int n;
    ck_assert(ferc_yunet_detect(d, s, &img, NULL, f, 4, &n, &err) == FERC_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(ferc_eyes_from_landmarks(&f[0], &e), 1);
    ck_assert_msg(fabs(e.roll_deg) < 10, "roll %g", e.roll_deg);
    ferc_image_free(&img);
    ferc_yunet_state_free(s);
    ferc_yunet_free(d);
}
END_TEST

static ferc_cascade *eye_cascade(void)
{
    const char *d = getenv("FERC_CASCADE_DIR");
    char path[512];
    ferc_cascade *c;
    ferc_error err;
    snprintf(path, sizeof path, "%s/haarcascades/haarcascade_eye.xml", d && *d ? d : "/usr/share/opencv4");
    ck_assert_msg(ferc_cascade_load(path, &c, &err) == FERC_OK, "%s", err.message);
    return c;
}

/* Refined eyes on known rotations: the astronaut turned by -30, -15, 15, 30 degrees with
 * cv2.warpAffine (tests/data/align, tests/gen/make_align_refs.py). The roll ferc_yunet_eyes
 * finds must be the upright face's minus the rotation within 3.5 degrees (measured: 1.5 to 2.7;
 * the detector's own landmarks alone are off by 4 to 16, and by more than 8 at +-30 as
 * checked here, since that bias is why the refinement exists); upright, it is within 2 degrees of the eye
 * cascade's roll (OpenCV's haarcascade_eye.xml, ferc_find_eyes). A box without landmarks
 * starts level and ends within 5 degrees of the same expectation (measured: 0.6 to 4.4:
 * this face is turned a little sideways, and its landmarks wander by a few degrees from one
 * pass to the next, so where the passes stop matters). The analyzer with --align and YuNet classifies
 * exactly ferc_align_crop's crop of the FER square turned by these eyes. */
START_TEST(eyes_refined_follow_known_rotations)
{
    if (!have_model()) return;
    ferc_error err;
    ferc_yunet *d;
    ferc_yunet_state *s, *es;
    ck_assert(ferc_yunet_load(MODEL, &d, &err) == FERC_OK);
    ck_assert(ferc_yunet_state_create(d, &s, &err) == FERC_OK);
    ck_assert(ferc_yunet_state_create(d, &es, &err) == FERC_OK);
    ferc_cascade *casc = eye_cascade();
    ferc_model *m;
    ck_assert_msg(ferc_model_load("weights/emotion_cnn.ferc", &m, &err) == FERC_OK, "%s", err.message);
    ferc_classifier *cls;
    ferc_detector *det;
    ferc_analyzer *an;
    const ferc_detector_options dopt = {.kind = "yunet", .model = MODEL, .threads = 1};
    ck_assert(ferc_classifier_create(m, NULL, &cls, &err) == FERC_OK);
    ck_assert_msg(ferc_detector_create(&dopt, &det, &err) == FERC_OK, "%s", err.message);
    ck_assert(ferc_analyzer_create(cls, det, &an, &err) == FERC_OK);
    ck_assert(ferc_analyzer_set_align(an, casc, &err) == FERC_OK);

    char path[512], file[128], rel[256];
    FILE *f = fopen(test_path("data/align/cases.txt", path, sizeof path), "r");
    ck_assert(f != NULL);
    int angle, n_cases = 0, bx, by, bw, bh;
    double roll0 = 0;
    while (fscanf(f, "%d %127s %d %d %d %d", &angle, file, &bx, &by, &bw, &bh) == 6) {
        snprintf(rel, sizeof rel, "data/align/%s", file);
        ferc_image img;
        ck_assert(ferc_image_load(test_path(rel, path, sizeof path), 1, &img, &err) == FERC_OK);
        ferc_box face[4];
        int n;
        ck_assert(ferc_yunet_detect(d, s, &img, NULL, face, 4, &n, &err) == FERC_OK);
        ck_assert_msg(n == 1, "rotated by %d: %d faces", angle, n);
        ferc_eyes e, one, level;
        ck_assert_msg(ferc_yunet_eyes(d, es, &img, &face[0], 1, &e, &err) == FERC_OK, "%s", err.message);
        ck_assert_msg(e.found, "rotated by %d: no eyes", angle);
        ck_assert(ferc_eyes_from_landmarks(&face[0], &one));
        ferc_box bare = face[0];
        bare.n_landmarks = 0;
        ck_assert(ferc_yunet_eyes(d, es, &img, &bare, 1, &level, &err) == FERC_OK && level.found);
        if (angle == 0) { /* listed first */
            roll0 = e.roll_deg;
            const ferc_box box = {.x = (float)bx, .y = (float)by, .w = (float)bw, .h = (float)bh, .score = 1};
            ferc_eyes c;
            ck_assert(ferc_find_eyes(casc, img.data, img.width, img.height, img.width, &box, &c, &err) == FERC_OK);
            ck_assert_msg(c.found && fabs(c.roll_deg - roll0) < 2, "upright: roll %.2f, eye cascade %.2f", roll0,
                          c.roll_deg);
            /* the eyes sit in the upper half of the box, about a third of its width apart */
            ck_assert(e.left_eye_y > face[0].y && e.left_eye_y < face[0].y + face[0].h / 2);
            ck_assert(e.right_eye_x - e.left_eye_x > face[0].w / 4 && e.right_eye_x - e.left_eye_x < face[0].w * 2 / 3);
        } else if (abs(angle) == 30) {
            ck_assert_msg(fabs(one.roll_deg - (roll0 - angle)) > 8, "rotated by %d: one pass already levels (%.2f)",
                          angle, one.roll_deg);
        }
        ck_assert_msg(fabs(e.roll_deg - (roll0 - angle)) < 3.5, "rotated by %d: roll %.2f, expected %.2f", angle,
                      e.roll_deg, roll0 - angle);
        ck_assert_msg(fabs(level.roll_deg - (roll0 - angle)) < 5, "rotated by %d, from level: %.2f, expected %.2f",
                      angle, level.roll_deg, roll0 - angle);

        /* the analyzer aligns from these eyes */
        ferc_image rgb;
        ck_assert(ferc_image_load(test_path(rel, path, sizeof path), 3, &rgb, &err) == FERC_OK);
        ferc_face got;
        ck_assert(ferc_analyze(an, &rgb, &got, 1, &n, &err) == FERC_OK && n == 1);
        ferc_box rb[1];
        ck_assert(ferc_detect(det, &rgb, rb, 1, &n, &err) == FERC_OK && n == 1);
        ck_assert(ferc_detector_eyes(det, &img, &rb[0], &e, &err) == FERC_OK && e.found);
        int x, y, side;
        ferc_face_crop_fer_rect(&rb[0], FERC_FRAMING_YUNET, &x, &y, &side);
        const ferc_box sq = {.x = (float)x, .y = (float)y, .w = (float)side, .h = (float)side};
        uint8_t crop[48 * 48];
        float p[7];
        ck_assert(ferc_align_crop(img.data, img.width, img.height, img.width, &sq, &e, crop, 48, &err) == FERC_OK);
        ck_assert(ferc_classify(cls, crop, 1, p, &err) == FERC_OK);
        for (int k = 0; k < 7; k++) ck_assert_float_eq(got.probabilities[k], p[k]);
        ferc_image_free(&rgb);
        ferc_image_free(&img);
        n_cases++;
    }
    fclose(f);
    ck_assert_int_eq(n_cases, 5);

    /* bad arguments */
    ferc_image rgb = load_photo("astronaut_face"), flat = {8, 8, 1, (uint8_t[64]){0}};
    ferc_box b = {.x = 0, .y = 0, .w = 0, .h = 8, .score = 1};
    ferc_eyes e;
    ck_assert_int_eq(ferc_yunet_eyes(d, es, &rgb, &b, 1, &e, &err), FERC_ERR_ARG); /* RGB */
    ck_assert_int_eq(ferc_yunet_eyes(d, es, &flat, &b, 1, &e, &err), FERC_ERR_ARG); /* empty box */
    b.w = 8; /* nothing to find in a flat square: no eyes, no error */
    ck_assert(ferc_yunet_eyes(d, es, &flat, &b, 1, &e, &err) == FERC_OK && !e.found);
    ck_assert(ferc_detector_eyes(NULL, &flat, &b, &e, &err) == FERC_OK && !e.found);
    ferc_image_free(&rgb);
    ferc_analyzer_free(an);
    ferc_detector_free(det);
    ferc_classifier_free(cls);
    ferc_model_free(m);
    ferc_cascade_free(casc);
    ferc_yunet_state_free(es);
    ferc_yunet_state_free(s);
    ferc_yunet_free(d);
}
END_TEST

/* The shipped int8 twin (weights/face_yunet.q8.ferc, tools/model/quantize.py) finds the
 * fp32 network's faces on the photo fixtures at the default size and threshold: as many,
 * each with IoU >= 0.95 (issue 17's bar; measured 0.973-0.994, bench/yunet_int8_check.py),
 * scores within 0.05. The fp32 faces are the ones checked against OpenCV above. --int8
 * (ferc_analyzer_open's int8) chooses this file: its analyzer detects the same boxes. */
START_TEST(int8_twin_finds_the_fp32_faces)
{
    if (!have_model()) return;
    static const char *const fixtures[] = {"faces_group", "faces_astronaut", "astronaut_face", "../cli/scene"};
    ferc_error err;
    ferc_yunet *d[2];
    ferc_yunet_state *s[2];
    const char *files[2] = {MODEL, "weights/face_yunet.q8.ferc"};
    for (int k = 0; k < 2; k++) {
        ck_assert_msg(ferc_yunet_load(files[k], &d[k], &err) == FERC_OK, "%s", err.message);
        ck_assert(ferc_yunet_state_create(d[k], &s[k], &err) == FERC_OK);
    }
    char path[512], weights[512];
    snprintf(weights, sizeof weights, "%s", test_path("../weights", path, sizeof path));
    setenv("FERC_WEIGHTS", weights, 1); /* the shipped files, as the command finds them */
    const ferc_analyzer_options ao = {.detector = "yunet", .classifier = "small", .int8 = 1, .threads = 1};
    ferc_analyzer *an;
    ck_assert_msg(ferc_analyzer_open(&ao, &an, &err) == FERC_OK, "%s", err.message);
    unsetenv("FERC_WEIGHTS");
    int total = 0;
    for (size_t p = 0; p < sizeof fixtures / sizeof *fixtures; p++) {
        ferc_image img = load_photo(fixtures[p]);
        ferc_box f[2][16], via[16];
        int n[2], nv;
        for (int k = 0; k < 2; k++)
            ck_assert_msg(ferc_yunet_detect(d[k], s[k], &img, NULL, f[k], 16, &n[k], &err) == FERC_OK, "%s",
                          err.message);
        ck_assert_msg(n[1] == n[0], "%s: int8 %d faces, fp32 %d", fixtures[p], n[1], n[0]);
        for (int i = 0; i < n[0]; i++) {
            int best = 0;
            for (int j = 1; j < n[1]; j++)
                if (ferc_box_iou(&f[0][i], &f[1][j]) > ferc_box_iou(&f[0][i], &f[1][best])) best = j;
            const float iou = ferc_box_iou(&f[0][i], &f[1][best]);
            ck_assert_msg(iou >= 0.95f, "%s face %d: IoU %.3f", fixtures[p], i, (double)iou);
            ck_assert_msg(fabsf(f[1][best].score - f[0][i].score) < 0.05f, "%s face %d: score %.3f, fp32 %.3f",
                          fixtures[p], i, (double)f[1][best].score, (double)f[0][i].score);
        }
        ck_assert(ferc_analyzer_detect(an, &img, via, 16, &nv, &err) == FERC_OK);
        ck_assert_int_eq(nv, n[1]);
        for (int i = 0; i < nv; i++)
            ck_assert(via[i].x == f[1][i].x && via[i].y == f[1][i].y && via[i].w == f[1][i].w && via[i].h == f[1][i].h);
        total += n[0];
        ferc_image_free(&img);
    }
    ck_assert_int_eq(total, 9);
    ferc_analyzer_free(an);
    for (int k = 0; k < 2; k++) ferc_yunet_state_free(s[k]), ferc_yunet_free(d[k]);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("yunet");
    TCase *tc = tcase_create("opencv");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, decoder_matches_python_reference);
    tcase_add_test(tc, network_matches_opencv);
    tcase_add_test(tc, pipeline_matches_python_reference);
    tcase_add_test(tc, tiles_match_python_reference);
    tcase_add_test(tc, bad_input_is_refused);
    tcase_add_test(tc, framing_agrees_with_res10);
    tcase_add_test(tc, eyes_from_landmarks);
    tcase_add_test(tc, eyes_refined_follow_known_rotations);
    tcase_add_test(tc, int8_twin_finds_the_fp32_faces);
    suite_add_tcase(su, tc);
    return run_suite(su);
}
