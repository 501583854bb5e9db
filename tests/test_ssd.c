/* test_ssd.c - the res10 SSD face detector against OpenCV 4.6 (cv2.dnn), on a real photo
 * (tests/data/astronaut_face.png; references from tests/gen/make_ssd_refs.py):
 *   - network layers at a 96x96 input: |ferc - cv2| <= 1e-4 * max|cv2| per tensor (float
 *     sums in another order; measured ~2e-5);
 *   - prior boxes equal to OpenCV's within 1e-6;
 *   - detection output (decode + NMS) on ferc's outputs: the same detections in the same
 *     order, scores within 1e-4, coordinates within 1e-4 (normalised);
 *   - ferc_ssd_detect on the image at a 150x150 input (OpenCV's sample pipeline): the same faces
 *     above 0.1, scores within 1e-3, corners within 0.05 px;
 *   - bad files and arguments are refused with a message. */
#include "testutil.h"

#include "detect/ssd.h"

#include <pthread.h>

#define MODEL "weights/face_res10.ferc"

static ferc_model *load_ref(void)
{
    char path[512];
    ferc_error err;
    ferc_model *ref;
    ck_assert_msg(ferc_model_load(test_path("ref/res10_96.ref.ferc", path, sizeof path), &ref, &err) == FERC_OK,
                  "%s", err.message);
    return ref;
}

static double max_abs(const float *p, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(p[i]) > m ? fabs(p[i]) : m;
    return m;
}

START_TEST(layers_priors_and_detection_output_match_opencv)
{
    ferc_error err;
    ferc_ssd *d;
    ferc_ssd_state *s;
    ck_assert_msg(ferc_ssd_load(MODEL, &d, &err) == FERC_OK, "%s", err.message);
    ck_assert(ferc_ssd_state_create(d, &s, &err) == FERC_OK);
    ferc_model *ref = load_ref();
    ferc_tensor in;
    ck_assert_int_eq(ferc_model_tensor(ref, "data", &in), 0);
    ck_assert_int_eq(in.dims[1], 96);
    ck_assert_msg(ferc_ssd_prepare(d, s, 96, 96, &err) == FERC_OK, "%s", err.message);

    /* The graph, with every activation kept to compare layers. */
    ferc_model *m;
    ck_assert(ferc_model_load(MODEL, &m, &err) == FERC_OK);
    ferc_context_options opt = {.max_batch = 1, .height = 96, .width = 96, .threads = 1, .flags = FERC_CTX_KEEP_ALL};
    ferc_context *ctx;
    ck_assert_msg(ferc_context_create(m, &opt, &ctx, &err) == FERC_OK, "%s", err.message);
    const float *inputs[1] = {in.data};
    ck_assert(ferc_run(ctx, inputs, 1, &err) == FERC_OK);
    int layers = 0;
    for (int i = 0; i < ferc_model_num_tensors(ref); i++) {
        const char *name = ferc_model_tensor_name(ref, i);
        ferc_tensor want, got;
        ferc_model_tensor(ref, name, &want);
        if (!strcmp(name, "data") || ferc_context_value(ctx, name, &got)) continue;
        ck_assert_msg(tensor_count(&got) == tensor_count(&want), "%s: %zu values, OpenCV %zu", name,
                      tensor_count(&got), tensor_count(&want));
        double tol = 1e-4 * max_abs(want.data, tensor_count(&want));
        tensor_cmp c = compare_floats(got.data, want.data, tensor_count(&want), tol, 0);
        ck_assert_msg(c.worst_ratio <= 1.0, "%s [%s]: element %zu is %.7g, OpenCV %.7g", name, ferc_isa_name(),
                      c.worst_index, got.data[c.worst_index], want.data[c.worst_index]);
        layers++;
    }
    ck_assert_int_eq(layers, 10);

    /* Priors: OpenCV's blob is [1, 2, 4P]: boxes, then variances. */
    int P;
    const float *pri = ferc_ssd_priors(s, &P);
    ferc_tensor want;
    ck_assert_int_eq(ferc_model_tensor(ref, "mbox_priorbox", &want), 0);
    ck_assert_int_eq((int64_t)tensor_count(&want), 8 * (int64_t)P);
    tensor_cmp pc = compare_floats(pri, want.data, 8 * (size_t)P, 1e-6, 0);
    ck_assert_msg(pc.worst_ratio <= 1.0, "prior value %zu is %.8g, OpenCV %.8g", pc.worst_index, pri[pc.worst_index],
                  want.data[pc.worst_index]);

    /* Detection output on ferc's own network outputs. */
    ferc_tensor loc, conf;
    ck_assert_int_eq(ferc_context_value(ctx, "mbox_loc", &loc), 0);
    ck_assert_int_eq(ferc_context_value(ctx, "mbox_conf_flatten", &conf), 0);
    ferc_ssd_det dets[256];
    int n = ferc_ssd_detection_output(d, s, loc.data, conf.data, dets, 256);
    ck_assert_int_eq(ferc_model_tensor(ref, "detection_out", &want), 0);
    ck_assert_int_eq(n, (int)want.dims[0]);
    ck_assert_int_le(n, 256);
    /* Matched as sets (scores a few 1e-6 apart may swap places with other kernels), and the
     * order checked to be by score. */
    int used[256] = {0}, matched = 0;
    for (int i = 0; i < n; i++) {
        const float *w = want.data + 6 * i; /* label, score, x0, y0, x1, y1 */
        int match = -1;
        for (int j = 0; j < n && match < 0; j++) {
            const float got[5] = {dets[j].score, dets[j].x0, dets[j].y0, dets[j].x1, dets[j].y1};
            int ok = !used[j] && w[0] == 1.f;
            for (int k = 0; k < 5 && ok; k++) ok = fabsf(got[k] - w[1 + k]) <= 1e-4f;
            if (ok) match = j;
        }
        ck_assert_msg(match >= 0, "OpenCV's detection %d (score %g at %g,%g - %g,%g) not found", i, w[1], w[2], w[3],
                      w[4], w[5]);
        used[match] = 1;
        matched++;
        if (i) ck_assert(dets[i].score <= dets[i - 1].score);
    }
    ck_assert_int_eq(matched, 114);
    ferc_context_free(ctx);
    ferc_model_free(m);
    ferc_model_free(ref);
    ferc_ssd_state_free(s);
    ferc_ssd_free(d);
}
END_TEST

static void detect_file(const ferc_ssd *d, ferc_ssd_state *s, int size, float threshold, int threads,
                        ferc_box *faces, int *n)
{
    char path[512];
    ferc_error err;
    ferc_image img;
    ck_assert_msg(ferc_image_load(test_path("data/astronaut_face.png", path, sizeof path), 3, &img, &err) == FERC_OK,
                  "%s", err.message);
    ferc_ssd_options o = {.input_width = size, .input_height = size, .threshold = threshold, .threads = threads};
    ck_assert_msg(ferc_ssd_detect(d, s, &img, &o, faces, 256, n, &err) == FERC_OK, "%s", err.message);
    ferc_image_free(&img);
}

START_TEST(detect_matches_opencv_sample)
{
    ferc_error err;
    ferc_ssd *d;
    ferc_ssd_state *s;
    ck_assert_msg(ferc_ssd_load(MODEL, &d, &err) == FERC_OK, "%s", err.message);
    ck_assert(ferc_ssd_state_create(d, &s, &err) == FERC_OK);
    ferc_model *ref = load_ref();
    ferc_tensor want, thr;
    ck_assert_int_eq(ferc_model_tensor(ref, "faces_150", &want), 0);
    ck_assert_int_eq(ferc_model_tensor(ref, "faces_threshold", &thr), 0);
    ferc_box faces[256], again[256];
    int n, n2;
    detect_file(d, s, 150, thr.data[0], 1, faces, &n);
    ck_assert_int_eq(n, (int)want.dims[0]);
    ck_assert_int_le(n, 256);
    ck_assert_float_gt(faces[0].score, 0.99f);
    /* Matched as sets: scores within ~1e-5 of each other may come in either order. */
    int used[256] = {0};
    for (int i = 0; i < n; i++) {
        const float *w = want.data + 5 * i;
        int match = -1;
        for (int j = 0; j < n && match < 0; j++) {
            const ferc_box *f = &faces[j];
            const float got[5] = {f->score, f->x, f->y, f->x + f->w, f->y + f->h};
            int ok = !used[j] && fabsf(got[0] - w[0]) <= 1e-3f;
            for (int k = 1; k < 5 && ok; k++) ok = fabsf(got[k] - w[k]) <= 0.05f;
            if (ok) match = j;
        }
        ck_assert_msg(match >= 0, "OpenCV's face %d (score %g at %g,%g - %g,%g) not found", i, w[0], w[1], w[2], w[3], w[4]);
        used[match] = 1;
    }
    /* Two threads, and a state reused across input sizes, give the same answer. */
    detect_file(d, s, 96, thr.data[0], 2, again, &n2);
    detect_file(d, s, 150, thr.data[0], 2, again, &n2);
    ck_assert_int_eq(n2, n);
    ck_assert(!memcmp(faces, again, sizeof(ferc_box) * (size_t)n));
    /* max_faces smaller than what is found: the count is still the total. */
    ferc_image img;
    char path[512];
    ck_assert(ferc_image_load(test_path("data/astronaut_face.png", path, sizeof path), 3, &img, &err) == FERC_OK);
    ferc_ssd_options o = {.input_width = 150, .input_height = 150, .threshold = thr.data[0], .threads = 1};
    ck_assert(ferc_ssd_detect(d, s, &img, &o, again, 1, &n2, &err) == FERC_OK);
    ck_assert_int_eq(n2, n);
    ck_assert(!memcmp(faces, again, sizeof(ferc_box)));
    ferc_image_free(&img);
    ferc_model_free(ref);
    ferc_ssd_state_free(s);
    ferc_ssd_free(d);
}
END_TEST

START_TEST(bad_input_is_refused)
{
    char path[512];
    ferc_error err;
    ferc_ssd *d = (ferc_ssd *)1;
    /* A valid weight file that is not a detector. */
    ck_assert_int_eq(ferc_ssd_load(test_path("ref/residual.ferc", path, sizeof path), &d, &err), FERC_ERR_FORMAT);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(err.message, "not an SSD detector") != NULL, "%s", err.message);
    ck_assert_int_eq(ferc_ssd_load("no/such/file.ferc", &d, &err), FERC_ERR_IO);
    /* Detector metadata naming a feature map the graph lacks. */
    ck_assert_int_eq(ferc_ssd_load(test_path("ref/ssd_bad_head.ferc", path, sizeof path), &d, &err),
                     FERC_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "ssd.head0") != NULL, "%s", err.message);
    /* Heads whose prior count does not match the outputs: refused when a size is prepared. */
    ck_assert(ferc_ssd_load(test_path("ref/ssd_bad_priors.ferc", path, sizeof path), &d, &err) == FERC_OK);
    {
        ferc_ssd_state *bs;
        ck_assert(ferc_ssd_state_create(d, &bs, &err) == FERC_OK);
        uint8_t px[40 * 40 * 3] = {0};
        ferc_image im = {40, 40, 3, px};
        ferc_box fb[2];
        int nf;
        ferc_ssd_options bo = {.input_width = 32, .input_height = 32, .threshold = 0.5f, .threads = 1};
        ck_assert_int_eq(ferc_ssd_detect(d, bs, &im, &bo, fb, 2, &nf, &err), FERC_ERR_FORMAT);
        ck_assert_msg(strstr(err.message, "priors do not match") != NULL, "%s", err.message);
        ferc_ssd_state_free(bs);
        ferc_ssd_free(d);
    }

    ck_assert(ferc_ssd_load(MODEL, &d, &err) == FERC_OK);
    ferc_ssd_state *s;
    ck_assert(ferc_ssd_state_create(d, &s, &err) == FERC_OK);
    uint8_t pix[32 * 32 * 3] = {0};
    ferc_image img = {32, 32, 3, pix};
    ferc_box faces[4];
    int n = -1;
    ferc_ssd_options o = {.input_width = 300, .input_height = 300, .threshold = 1.5f, .threads = 1};
    ck_assert_int_eq(ferc_ssd_detect(d, s, &img, &o, faces, 4, &n, &err), FERC_ERR_ARG);
    ck_assert_msg(strstr(err.message, "threshold") != NULL, "%s", err.message);
    ck_assert_int_eq(n, 0);
    o.threshold = 0.5f, o.input_width = 8, o.input_height = 8;
    ck_assert_int_eq(ferc_ssd_detect(d, s, &img, &o, faces, 4, &n, &err), FERC_ERR_ARG);
    o.input_width = 100, o.input_height = 0;
    ck_assert_int_eq(ferc_ssd_detect(d, s, &img, &o, faces, 4, &n, &err), FERC_ERR_ARG);
    img.channels = 2;
    o.input_height = 100;
    ck_assert_int_eq(ferc_ssd_detect(d, s, &img, &o, faces, 4, &n, &err), FERC_ERR_ARG);
    img.channels = 3;
    ck_assert_int_eq(ferc_ssd_detect(d, s, NULL, &o, faces, 4, &n, &err), FERC_ERR_ARG);
    /* A blank image has no face, and a gray image is accepted. */
    ck_assert(ferc_ssd_detect(d, s, &img, &o, faces, 4, &n, &err) == FERC_OK);
    ck_assert_int_eq(n, 0);
    img.channels = 1;
    ck_assert(ferc_ssd_detect(d, s, &img, &o, faces, 4, &n, &err) == FERC_OK);
    ferc_ssd_state_free(s);
    ferc_ssd_free(d);
}
END_TEST

/* One detector shared by two threads, each with its own state. (pthreads, joined, rather
 * than an OpenMP region, whose lingering thread pool valgrind reports as possibly lost.) */
typedef struct {
    const ferc_ssd *d;
    const ferc_image *img;
    ferc_box got[16];
    int n, ok;
} detect_job;

static void *detect_thread(void *arg)
{
    detect_job *j = arg;
    ferc_ssd_state *s = NULL;
    ferc_error e;
    ferc_ssd_options o = {.input_width = 96, .input_height = 96, .threshold = 0.1f, .threads = 1};
    j->ok = ferc_ssd_state_create(j->d, &s, &e) == FERC_OK &&
            ferc_ssd_detect(j->d, s, j->img, &o, j->got, 16, &j->n, &e) == FERC_OK;
    ferc_ssd_state_free(s);
    return NULL;
}

START_TEST(threads_share_a_detector)
{
    ferc_error err;
    ferc_ssd *d;
    ck_assert(ferc_ssd_load(MODEL, &d, &err) == FERC_OK);
    char path[512];
    ferc_image img;
    ck_assert(ferc_image_load(test_path("data/astronaut_face.png", path, sizeof path), 3, &img, &err) == FERC_OK);
    detect_job jobs[2] = {{.d = d, .img = &img}, {.d = d, .img = &img}};
    pthread_t th[2];
    for (int t = 0; t < 2; t++) ck_assert_int_eq(pthread_create(&th[t], NULL, detect_thread, &jobs[t]), 0);
    for (int t = 0; t < 2; t++) ck_assert_int_eq(pthread_join(th[t], NULL), 0);
    ck_assert(jobs[0].ok && jobs[1].ok);
    ck_assert_int_ge(jobs[0].n, 1);
    ck_assert_int_le(jobs[0].n, 16);
    ck_assert_int_eq(jobs[0].n, jobs[1].n);
    ck_assert(!memcmp(jobs[0].got, jobs[1].got, sizeof(ferc_box) * (size_t)jobs[0].n));
    ferc_image_free(&img);
    ferc_ssd_free(d);
}
END_TEST

START_TEST(automatic_input_sizes)
{
    int sz[2][2];
    ck_assert_int_eq(ferc_ssd_auto_sizes(128, 128, sz), 1);
    ck_assert_int_eq(sz[0][0], 300);
    ck_assert_int_eq(sz[0][1], 300);
    ck_assert_int_eq(ferc_ssd_auto_sizes(1280, 720, sz), 2);
    ck_assert_int_eq(sz[1][0], 1024);
    ck_assert_int_eq(sz[1][1], 576);
    ck_assert_int_eq(ferc_ssd_auto_sizes(640, 480, sz), 2);
    ck_assert_int_eq(sz[1][0], 640);
    ck_assert_int_eq(sz[1][1], 480);
    ck_assert_int_eq(ferc_ssd_auto_sizes(4000, 10, sz), 2);
    ck_assert_int_eq(sz[1][0], 1024);
    ck_assert_int_eq(sz[1][1], 16);
    /* A small image: the automatic mode is OpenCV's 300x300 pass. */
    ferc_error err;
    ferc_ssd *d;
    ferc_ssd_state *s;
    ck_assert(ferc_ssd_load(MODEL, &d, &err) == FERC_OK);
    ck_assert(ferc_ssd_state_create(d, &s, &err) == FERC_OK);
    ferc_box a[256], b[256];
    int na, nb;
    detect_file(d, s, 0, 0.3f, 1, a, &na);
    detect_file(d, s, 300, 0.3f, 1, b, &nb);
    ck_assert_int_eq(na, nb);
    ck_assert_int_ge(na, 1);
    ck_assert(!memcmp(a, b, sizeof(ferc_box) * (size_t)na));
    ferc_ssd_state_free(s);
    ferc_ssd_free(d);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("ssd");
    TCase *tc = tcase_create("opencv");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, layers_priors_and_detection_output_match_opencv);
    tcase_add_test(tc, detect_matches_opencv_sample);
    tcase_add_test(tc, bad_input_is_refused);
    tcase_add_test(tc, automatic_input_sizes);
    tcase_add_test(tc, threads_share_a_detector);
    suite_add_tcase(su, tc);
    return run_suite(su);
}
