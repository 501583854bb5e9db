/* test_api.c - the high-level API (classifier, detector plug, crop, analyzer) against
 * PyTorch and OpenCV references made by tests/gen/make_cli_fixtures.py. */
#include "testutil.h"

#include <pthread.h>

#define ATOL 2e-5
#define RTOL 1e-4

static const char *face_files[10] = {"angry/0", "fear/0", "happy/0", "happy/1", "sad/0",
                                     "sad/1",   "surprise/0", "surprise/1", "neutral/0", "neutral/1"};

static ferc_model *load(const char *rel)
{
    char path[512];
    ferc_error err;
    ferc_model *m;
    ck_assert_msg(ferc_model_load(test_path(rel, path, sizeof path), &m, &err) == FERC_OK, "%s", err.message);
    return m;
}

static const float *ref(ferc_model *refs, const char *name, size_t want_count)
{
    ferc_tensor t;
    ck_assert_msg(ferc_model_tensor(refs, name, &t) == 0, "no reference %s", name);
    ck_assert_uint_eq(tensor_count(&t), want_count);
    return t.data;
}

static void load_faces(uint8_t *faces)
{
    for (int i = 0; i < 10; i++) {
        char rel[64], path[512];
        ferc_image img;
        ferc_error err;
        snprintf(rel, sizeof rel, "cli/fer/%s.png", face_files[i]);
        ck_assert_msg(ferc_image_load(test_path(rel, path, sizeof path), 1, &img, &err) == FERC_OK, "%s", err.message);
        ck_assert(img.width == 48 && img.height == 48);
        memcpy(faces + 48 * 48 * i, img.data, 48 * 48);
        ferc_image_free(&img);
    }
}

static void check_probs(const float *got, const float *want, size_t n, const char *what)
{
    tensor_cmp c = compare_floats(got, want, n, ATOL, RTOL);
    ck_assert_msg(c.worst_ratio <= 1, "%s: element %zu is %g, PyTorch %g", what, c.worst_index, got[c.worst_index],
                  want[c.worst_index]);
}

START_TEST(emotion_names)
{
    ck_assert_str_eq(ferc_emotion_name(FERC_ANGRY), "angry");
    ck_assert_str_eq(ferc_emotion_name(FERC_NEUTRAL), "neutral");
    ck_assert_ptr_null(ferc_emotion_name(7));
    ck_assert_int_eq(ferc_emotion_from_name("Surprise"), FERC_SURPRISE);
    ck_assert_int_eq(ferc_emotion_from_name("3"), FERC_HAPPY);
    ck_assert_int_eq(ferc_emotion_from_name("7"), -1);
    ck_assert_int_eq(ferc_emotion_from_name("contempt"), -1);
}
END_TEST

/* The TTA modes' names and runs per face, in one place for the command, server and Python. */
START_TEST(tta_modes)
{
    static const char *const names[] = {"none", "flip", "crops", "centre"};
    static const int views[] = {1, 2, 12, 4};
    ck_assert_int_eq(FERC_NUM_TTA_MODES, 4);
    for (int t = FERC_TTA_NONE; t < FERC_NUM_TTA_MODES; t++) {
        ck_assert_str_eq(ferc_tta_name(t), names[t]);
        ck_assert_int_eq(ferc_tta_from_name(names[t]), t);
        ck_assert_int_eq(ferc_tta_views(t), views[t]);
    }
    ck_assert_ptr_null(ferc_tta_name(4));
    ck_assert_ptr_null(ferc_tta_name(-1));
    ck_assert_int_eq(ferc_tta_views(4), 0);
    ck_assert_int_eq(ferc_tta_views(-1), 0);
    ck_assert_int_eq(ferc_tta_from_name("Flip"), -1);
    ck_assert_int_eq(ferc_tta_from_name(NULL), -1);
}
END_TEST

/* Shuffled labels, mean/std, softmax in the graph; batches smaller than the input count;
 * each TTA mode (crops, centre: PyTorch on compare_c_torch.py's views, resized by cv2). */
START_TEST(classify_matches_pytorch)
{
    static const char *const names[] = {"faces", "faces_tta", "faces_crops", "faces_centre"};
    ferc_model *m = load("cli/emotion_tiny.ferc"), *refs = load("cli/refs.ferc");
    uint8_t faces[10 * 48 * 48];
    load_faces(faces);
    for (int tta = FERC_TTA_NONE; tta < FERC_NUM_TTA_MODES; tta++) {
        ferc_classifier_options o = {.tta = tta, .max_batch = 3, .threads = 1};
        ferc_classifier *c;
        ferc_error err;
        ck_assert_msg(ferc_classifier_create(m, &o, &c, &err) == FERC_OK, "%s", err.message);
        int w, h;
        ferc_classifier_input_size(c, &w, &h);
        ck_assert(w == 48 && h == 48);
        float probs[70];
        ck_assert_msg(ferc_classify(c, faces, 10, probs, &err) == FERC_OK, "%s", err.message);
        check_probs(probs, ref(refs, names[tta], 70), 70, names[tta]);
        ferc_classifier_free(c);
    }
    ferc_classifier *c = NULL;
    ferc_error err;
    ck_assert_int_eq(ferc_classifier_create(m, &(ferc_classifier_options){.tta = 4}, &c, &err), FERC_ERR_ARG);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.message, "tta 4"), "%s", err.message);
    ferc_model_free(refs);
    ferc_model_free(m);
}
END_TEST

/* The ten faces through the classifier of model_rel (default options) against PyTorch's
 * probabilities ref_name in refs.ferc. */
static void check_model_on_faces(const char *model_rel, const char *ref_name)
{
    ferc_model *m = load(model_rel), *refs = load("cli/refs.ferc");
    uint8_t faces[10 * 48 * 48];
    load_faces(faces);
    ferc_classifier *c;
    ferc_error err;
    ck_assert_msg(ferc_classifier_create(m, NULL, &c, &err) == FERC_OK, "%s", err.message);
    float probs[70];
    ck_assert_msg(ferc_classify(c, faces, 10, probs, &err) == FERC_OK, "%s", err.message);
    check_probs(probs, ref(refs, ref_name, 70), 70, ref_name);
    ferc_classifier_free(c);
    ferc_model_free(refs);
    ferc_model_free(m);
}

/* A graph without softmax and without labels metadata: softmax applied, FER2013 order. */
START_TEST(classify_logits_model) { check_model_on_faces("cli/emotion_logits.ferc", "logits"); }
END_TEST

/* A model trained on CLAHE'd faces says so in its metadata; the classifier applies the same
 * CLAHE (OpenCV's, on the 48x48 face) before normalising. Against PyTorch on cv2's output. */
START_TEST(classify_clahe_model) { check_model_on_faces("cli/emotion_clahe.ferc", "faces_clahe"); }
END_TEST

/* A model trained on equalised faces (equalize=1) gets cv2.equalizeHist of each crop: on re-lit
 * faces its probabilities equal PyTorch's on cv2's equalised copies, and the same weights without
 * the metadata give other answers (so the test sees the equalisation, not the weights). */
START_TEST(classify_equalize_model)
{
    ferc_model *refs = load("cli/refs.ferc");
    const float *relit = ref(refs, "faces_relit", 10 * 48 * 48);
    uint8_t faces[10 * 48 * 48];
    for (int i = 0; i < 10 * 48 * 48; i++) faces[i] = (uint8_t)relit[i];
    const float *want = ref(refs, "faces_equalize", 70);
    const char *files[2] = {"cli/emotion_equalize.ferc", "cli/emotion_tiny.ferc"};
    for (int k = 0; k < 2; k++) {
        ferc_model *m = load(files[k]);
        ferc_classifier *c;
        ferc_error err;
        ck_assert_msg(ferc_classifier_create(m, NULL, &c, &err) == FERC_OK, "%s", err.message);
        float probs[70];
        ck_assert_msg(ferc_classify(c, faces, 10, probs, &err) == FERC_OK, "%s", err.message);
        if (k == 0) {
            check_probs(probs, want, 70, "faces_equalize");
        } else {
            float worst = 0;
            for (int i = 0; i < 70; i++) worst = fmaxf(worst, fabsf(probs[i] - want[i]));
            ck_assert_msg(worst > 0.01f, "without equalize metadata the answers should differ (max diff %g)", worst);
        }
        ferc_classifier_free(c);
        ferc_model_free(m);
    }
    ferc_model_free(refs);
}
END_TEST

START_TEST(classifier_rejects_other_models)
{
    ferc_classifier *c = (ferc_classifier *)1;
    ferc_error err;
    ferc_model *m = load("ref/article_cnn.ferc"); /* task "test" */
    ck_assert_int_eq(ferc_classifier_create(m, NULL, &c, &err), FERC_ERR_UNSUPPORTED);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.message, "task is 'test'") != NULL, "%s", err.message);
    ferc_model_free(m);
    m = load("cli/emotion_badclahe.ferc"); /* clahe metadata with a 0-tile grid */
    ck_assert_int_eq(ferc_classifier_create(m, NULL, &c, &err), FERC_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "clahe=\"2,0\" must be CLIP,GRID") != NULL, "%s", err.message);
    ferc_model_free(m);
    m = load("cli/refs.ferc"); /* tensors, no graph */
    ck_assert_int_eq(ferc_classifier_create(m, NULL, &c, &err), FERC_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.message, "reference") || strstr(err.message, "not a model"), "%s", err.message);
    ferc_model_free(m);
}
END_TEST

/* Bilinear crop against cv2.resize(INTER_LINEAR) of the same region: within one level
 * (OpenCV rounds through 11-bit fixed point, this crop in float). */
START_TEST(crop_matches_opencv)
{
    ferc_model *refs = load("cli/refs.ferc");
    const float *src = ref(refs, "crop_src", 40 * 56), *box = ref(refs, "crop_box", 4),
                *want = ref(refs, "crop_cv2", 48 * 48);
    uint8_t pix[40 * 56], out[48 * 48];
    for (int i = 0; i < 40 * 56; i++) pix[i] = (uint8_t)src[i];
    ferc_image g = {56, 40, 1, pix};
    ferc_box b = {.x = box[0], .y = box[1], .w = box[2], .h = box[3], .score = 1};
    ferc_error err;
    ck_assert_msg(ferc_face_crop(&g, &b, 48, 48, out, &err) == FERC_OK, "%s", err.message);
    int worst = 0;
    for (int i = 0; i < 48 * 48; i++) {
        int d = abs(out[i] - (int)want[i]);
        worst = d > worst ? d : worst;
    }
    ck_assert_int_le(worst, 1);
    ferc_box outside = {.x = 60, .y = 0, .w = 10, .h = 10, .score = 1};
    ck_assert_int_eq(ferc_face_crop(&g, &outside, 48, 48, out, &err), FERC_ERR_ARG);
    ck_assert_msg(strstr(err.message, "outside") != NULL, "%s", err.message);
    ferc_model_free(refs);
}
END_TEST

/* A detector that reports the scene's two faces (from the references) and one box off the
 * image, which the analyzer must drop. */
static ferc_status scene_detector(void *user, const ferc_image *img, ferc_box *boxes, int max, int *count,
                                  ferc_error *err)
{
    const float *b = user;
    ferc_box all[3] = {{.x = b[0], .y = b[1], .w = b[2], .h = b[3], .score = 0.9f},
                       {.x = b[4], .y = b[5], .w = b[6], .h = b[7], .score = 0.8f},
                       {.x = 500, .y = 500, .w = 20, .h = 20, .score = 0.7f}};
    *count = max < 3 ? max : 3;
    memcpy(boxes, all, sizeof *boxes * (size_t)*count);
    return FERC_OK;
}

START_TEST(analyze_scene_with_detector)
{
    ferc_model *m = load("cli/emotion_tiny.ferc"), *refs = load("cli/refs.ferc");
    const float *boxes = ref(refs, "scene_boxes", 8), *want = ref(refs, "scene", 14);
    ferc_classifier *c;
    ferc_detector *d;
    ferc_analyzer *a;
    ferc_error err;
    ck_assert(ferc_classifier_create(m, NULL, &c, &err) == FERC_OK);
    ck_assert(ferc_detector_from_function(scene_detector, (void *)boxes, FERC_FRAMING_BOX, &d, &err) == FERC_OK);
    ck_assert(ferc_analyzer_create(c, d, &a, &err) == FERC_OK);
    char path[512];
    ferc_image img;
    ck_assert_msg(ferc_image_load(test_path("cli/scene.png", path, sizeof path), 3, &img, &err) == FERC_OK, "%s",
                  err.message);
    ferc_face faces[8];
    int n = -1;
    ck_assert_msg(ferc_analyze(a, &img, faces, 8, &n, &err) == FERC_OK, "%s", err.message);
    ck_assert_int_eq(n, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert(faces[i].box.x == boxes[4 * i] && faces[i].box.y == boxes[4 * i + 1]);
        ck_assert(faces[i].box.w == 48 && faces[i].box.h == 48);
        check_probs(faces[i].probabilities, want + 7 * i, 7, "scene face");
        int best = 0;
        for (int k = 1; k < 7; k++) best = want[7 * i + k] > want[7 * i + best] ? k : best;
        ck_assert_int_eq(faces[i].emotion, best);
    }
    ck_assert_float_eq(faces[0].box.score, 0.9f);
    /* Room for one face: the detector is asked for one. */
    ck_assert(ferc_analyze(a, &img, faces, 1, &n, &err) == FERC_OK);
    ck_assert_int_eq(n, 1);
    ferc_image_free(&img);
    ferc_analyzer_free(a);
    ferc_detector_free(d);
    ferc_classifier_free(c);
    ferc_model_free(refs);
    ferc_model_free(m);
}
END_TEST

/* The one-call setup without a detector: the whole image is the face. */
START_TEST(analyze_faces_only)
{
    ferc_model *refs = load("cli/refs.ferc");
    const float *want = ref(refs, "faces_tta", 70);
    char path[512], mpath[512];
    ferc_analyzer_options o = {
        .model = test_path("cli/emotion_tiny.ferc", mpath, sizeof mpath), .detector = "none", .tta = 1, .threads = 1};
    ferc_analyzer *a;
    ferc_error err;
    ck_assert_msg(ferc_analyzer_open(&o, &a, &err) == FERC_OK, "%s", err.message);
    ferc_image img;
    ck_assert(ferc_image_load(test_path("cli/fer/sad/1.png", path, sizeof path), 3, &img, &err) == FERC_OK);
    ferc_face f;
    int n;
    ck_assert_msg(ferc_analyze(a, &img, &f, 1, &n, &err) == FERC_OK, "%s", err.message);
    ck_assert_int_eq(n, 1);
    ck_assert(f.box.x == 0 && f.box.y == 0 && f.box.w == 48 && f.box.h == 48 && f.box.score == 1);
    check_probs(f.probabilities, want + 7 * 5, 7, "sad/1 with tta");
    ferc_image_free(&img);
    ferc_analyzer_free(a);

    o.model = test_path("ref/article_cnn.ferc", mpath, sizeof mpath);
    ck_assert_int_eq(ferc_analyzer_open(&o, &a, &err), FERC_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.message, "article_cnn.ferc: ") != NULL, "%s", err.message);
    o.model = "no/such/model.ferc";
    ck_assert_int_eq(ferc_analyzer_open(&o, &a, &err), FERC_ERR_IO);
    ck_assert_msg(strstr(err.message, "no/such/model.ferc") != NULL, "%s", err.message);
    ferc_model_free(refs);
}
END_TEST

static ferc_status one_box(void *user, const ferc_image *img, ferc_box *boxes, int max, int *count, ferc_error *err)
{
    *count = max > 0;
    if (max > 0) boxes[0] = *(const ferc_box *)user;
    return FERC_OK;
}

/* With alignment, the analyzer classifies the face turned upright from its eyes: the
 * astronaut rotated by +-30 degrees (cv2.warpAffine, tests/data/align) gets exactly the
 * probabilities of ferc_align_face's crop, differs from the unaligned crop, and keeps the
 * upright face's top emotion. */
START_TEST(analyze_with_alignment)
{
    char path[512];
    ferc_error err;
    ferc_model *m = load("../weights/emotion_cnn.ferc");
    const char *d = getenv("FERC_CASCADE_DIR");
    snprintf(path, sizeof path, "%s/haarcascades/haarcascade_eye.xml", d && *d ? d : "/usr/share/opencv4");
    ferc_cascade *eyes;
    ck_assert_msg(ferc_cascade_load(path, &eyes, &err) == FERC_OK, "%s", err.message);
    ferc_box box = {.x = 53, .y = 52, .w = 95, .h = 95, .score = 1}; /* tests/data/align/cases.txt */
    ferc_classifier *c;
    ferc_detector *det;
    ferc_analyzer *a;
    ck_assert(ferc_classifier_create(m, NULL, &c, &err) == FERC_OK);
    ck_assert(ferc_detector_from_function(one_box, &box, FERC_FRAMING_BOX, &det, &err) == FERC_OK);
    ck_assert(ferc_analyzer_create(c, det, &a, &err) == FERC_OK);
    int upright = -1;
    static const char *const files[] = {"data/align/astronaut_rot0.png", "data/align/astronaut_rot30.png",
                                        "data/align/astronaut_rot-30.png"};
    for (int i = 0; i < 3; i++) {
        ferc_image img;
        ck_assert(ferc_image_load(test_path(files[i], path, sizeof path), 1, &img, &err) == FERC_OK);
        ferc_face plain, aligned;
        int n;
        ck_assert(ferc_analyzer_set_align(a, NULL, &err) == FERC_OK);
        ck_assert(ferc_analyze(a, &img, &plain, 1, &n, &err) == FERC_OK && n == 1);
        ck_assert(ferc_analyzer_set_align(a, eyes, &err) == FERC_OK);
        ck_assert_msg(ferc_analyze(a, &img, &aligned, 1, &n, &err) == FERC_OK && n == 1, "%s", err.message);
        uint8_t face[48 * 48];
        ferc_eyes e;
        ferc_box r = {.x = 53, .y = 52, .w = 95, .h = 95, .score = 1};
        ck_assert(ferc_align_face(eyes, img.data, img.width, img.height, img.width, &r, face, 48, &e, &err) == FERC_OK);
        ck_assert_msg(e.found, "%s: no eyes", files[i]);
        float p[7];
        ck_assert(ferc_classify(c, face, 1, p, &err) == FERC_OK);
        for (int k = 0; k < 7; k++) ck_assert_float_eq(aligned.probabilities[k], p[k]);
        if (i == 0) upright = aligned.emotion;
        else {
            float diff = 0;
            for (int k = 0; k < 7; k++) diff += fabsf(plain.probabilities[k] - p[k]);
            ck_assert_msg(diff > 1e-3f, "%s: alignment changed nothing", files[i]);
            ck_assert_int_eq(aligned.emotion, upright);
        }
        ferc_image_free(&img);
    }
    ferc_cascade *lbp;
    snprintf(path, sizeof path, "%s/lbpcascades/lbpcascade_frontalface_improved.xml", d && *d ? d : "/usr/share/opencv4");
    ck_assert(ferc_cascade_load(path, &lbp, &err) == FERC_OK);
    ck_assert_int_eq(ferc_analyzer_set_align(a, lbp, &err), FERC_ERR_ARG);
    ck_assert_msg(strstr(err.message, "Haar eye cascade") != NULL, "%s", err.message);
    ferc_cascade_free(lbp);
    ferc_analyzer_free(a);
    ferc_detector_free(det);
    ferc_classifier_free(c);
    ferc_cascade_free(eyes);
    ferc_model_free(m);
}
END_TEST

START_TEST(detector_kinds)
{
    ferc_detector *d = (ferc_detector *)1;
    ferc_error err;
    ferc_detector_options o = {.kind = "yolo"};
    ck_assert_int_eq(ferc_detector_create(&o, &d, &err), FERC_ERR_ARG);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(err.message, "unknown detector 'yolo'") != NULL, "%s", err.message);
}
END_TEST

/* Inputs fuzz/fuzz_image.c found to crash stb_image 2.27 (or make it allocate 1.5 GB), now
 * refused with a message. */
START_TEST(stb_bug_guards)
{
    static const struct { const char *file, *message; } cases[] = {
        {"cli/bad/jpeg_dht_overflow.jpg", "corrupt JPEG Huffman table"},
        {"cli/bad/pnm16_channels.ppm", "16-bit PNM is not supported"},
        {"cli/bad/pnm_long_number.pgm", "PNM header number too long"},
        {"cli/bad/png_huge_chunk.png", "PNG chunk runs past the end of the file"}, /* made stb allocate 1.5 GB */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int ch = 1; ch <= 3; ch += 2) {
            char path[512];
            ferc_image img;
            ferc_error err;
            ck_assert_int_eq(ferc_image_load(test_path(cases[i].file, path, sizeof path), ch, &img, &err), FERC_ERR_FORMAT);
            ck_assert_msg(strstr(err.message, cases[i].message) && strstr(err.message, path), "%s", err.message);
            ck_assert_ptr_null(img.data);
        }
}
END_TEST

/* One model, a classifier per thread: every thread gets PyTorch's numbers. (pthreads, not
 * OpenMP, so valgrind sees every thread joined.) */
typedef struct {
    const ferc_model *m;
    const uint8_t *faces;
    const float *want;
    int bad;
} share_job;

static void *share_worker(void *arg)
{
    share_job *j = arg;
    for (int rep = 0; rep < 5; rep++) {
        ferc_classifier *c;
        ferc_error err;
        ferc_classifier_options o = {.tta = rep & 1, .max_batch = 4, .threads = 1};
        float probs[70];
        if (ferc_classifier_create(j->m, &o, &c, &err) || ferc_classify(c, j->faces, 10, probs, &err)) {
            j->bad++;
        } else if (!(rep & 1)) {
            j->bad += compare_floats(probs, j->want, 70, ATOL, RTOL).worst_ratio > 1;
        }
        ferc_classifier_free(c);
    }
    return NULL;
}

START_TEST(threads_share_a_model)
{
    ferc_model *m = load("cli/emotion_tiny.ferc"), *refs = load("cli/refs.ferc");
    static uint8_t faces[10 * 48 * 48];
    load_faces(faces);
    share_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (share_job){m, faces, ref(refs, "faces", 70), 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, share_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(jobs[i].bad, 0);
    }
    ferc_model_free(refs);
    ferc_model_free(m);
}
END_TEST

static ferc_status nan_detector(void *user, const ferc_image *img, ferc_box *boxes, int max, int *count,
                                ferc_error *err)
{
    boxes[0] = (ferc_box){.x = NAN, .y = 0, .w = 10, .h = 10, .score = 1};
    *count = 1;
    return FERC_OK;
}

START_TEST(detector_boxes_checked)
{
    ferc_detector *d;
    ferc_error err;
    ck_assert(ferc_detector_from_function(nan_detector, NULL, FERC_FRAMING_BOX, &d, &err) == FERC_OK);
    uint8_t px[16] = {0};
    ferc_image img = {4, 4, 1, px};
    ferc_box b[4];
    int n = -1;
    ck_assert_int_eq(ferc_detect(d, &img, b, 4, &n, &err), FERC_ERR_ARG);
    ck_assert_int_eq(n, 0);
    ck_assert_msg(strstr(err.message, "invalid box"), "%s", err.message);
    ferc_detector_free(d);
}
END_TEST

/* ferc_analyzer_open(NULL) is the command's default (CNN + res10 SSD from the shipped
 * weights, found through FERC_WEIGHTS here); a clone and the two halves
 * (ferc_analyzer_detect, ferc_analyze_boxes) give the same faces as ferc_analyze; the SSD's
 * face on the astronaut is happy, as `make demo` prints (a 128x128 crop of it: one SSD pass,
 * so that the scalar path stays well inside the time limit). */
START_TEST(analyzer_defaults_clone_and_boxes)
{
    char path[512], weights[512];
    snprintf(weights, sizeof weights, "%s", test_path("../weights", path, sizeof path));
    setenv("FERC_WEIGHTS", weights, 1);
    ferc_error err;
    ferc_analyzer *a, *b;
    ck_assert_msg(ferc_analyzer_open(NULL, &a, &err) == FERC_OK, "%s", err.message);
    ck_assert_msg(ferc_analyzer_clone(a, &b, &err) == FERC_OK, "%s", err.message);
    ferc_image img;
    ck_assert(ferc_image_load(test_path("data/astronaut_face.png", path, sizeof path), 3, &img, &err) == FERC_OK);
    ferc_face fa[4], fb[4];
    int na, nb, nbox;
    ck_assert_msg(ferc_analyze(a, &img, fa, 4, &na, &err) == FERC_OK, "%s", err.message);
    ck_assert_int_eq(na, 1);
    ck_assert_int_eq(fa[0].emotion, FERC_HAPPY);
    ck_assert(fa[0].box.w > 30 && fa[0].box.score > 0.9f);
    ferc_box boxes[4];
    ck_assert(ferc_analyzer_detect(b, &img, boxes, 4, &nbox, &err) == FERC_OK);
    ck_assert(ferc_analyze_boxes(b, &img, boxes, nbox, fb, &nb, &err) == FERC_OK);
    ck_assert_int_eq(nb, na);
    ck_assert(!memcmp(&fa[0], &fb[0], sizeof fa[0]));
    ferc_analyzer_free(b);
    ferc_analyzer_free(a);

    /* "none": the whole image is the face; a missing file names the places searched. */
    ferc_analyzer_options o = {.detector = "none"};
    ck_assert_msg(ferc_analyzer_open(&o, &a, &err) == FERC_OK, "%s", err.message);
    ck_assert(ferc_analyze(a, &img, fa, 4, &na, &err) == FERC_OK);
    ck_assert(na == 1 && fa[0].box.x == 0 && fa[0].box.w == 128 && fa[0].box.h == 128);
    ferc_analyzer_free(a);
    setenv("FERC_WEIGHTS", "/no/such/dir", 1);
    o.detector = NULL, o.model = test_path("cli/emotion_tiny.ferc", path, sizeof path);
    ck_assert_int_eq(ferc_analyzer_open(&o, &a, &err), FERC_ERR_IO);
    ck_assert_msg(strstr(err.message, "face_yunet.ferc is not in /no/such/dir"), "%s", err.message);
    o.detector = "yolo";
    ck_assert_int_eq(ferc_analyzer_open(&o, &a, &err), FERC_ERR_ARG);
    ck_assert_msg(strstr(err.message, "yolo"), "%s", err.message);
    unsetenv("FERC_WEIGHTS");
    ck_assert_str_eq(ferc_version(), FERC_VERSION_STRING);
    ferc_image_free(&img);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, emotion_names);
    tcase_add_test(tc, tta_modes);
    tcase_add_test(tc, classify_matches_pytorch);
    tcase_add_test(tc, classify_logits_model);
    tcase_add_test(tc, classify_clahe_model);
    tcase_add_test(tc, classify_equalize_model);
    tcase_add_test(tc, classifier_rejects_other_models);
    tcase_add_test(tc, crop_matches_opencv);
    tcase_add_test(tc, analyze_scene_with_detector);
    tcase_add_test(tc, analyze_faces_only);
    tcase_add_test(tc, analyze_with_alignment);
    tcase_add_test(tc, detector_kinds);
    tcase_add_test(tc, stb_bug_guards);
    tcase_add_test(tc, threads_share_a_model);
    tcase_add_test(tc, detector_boxes_checked);
    tcase_add_test(tc, analyzer_defaults_clone_and_boxes);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
