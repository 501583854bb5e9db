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

int main(void)
{
    Suite *su = suite_create("yunet");
    TCase *tc = tcase_create("opencv");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, decoder_matches_python_reference);
    tcase_add_test(tc, network_matches_opencv);
    tcase_add_test(tc, pipeline_matches_python_reference);
    tcase_add_test(tc, bad_input_is_refused);
    tcase_add_test(tc, framing_agrees_with_res10);
    tcase_add_test(tc, eyes_from_landmarks);
    suite_add_tcase(su, tc);
    return run_suite(su);
}
