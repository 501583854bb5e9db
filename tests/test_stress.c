/* test_stress.c - 8 threads, each with its own classifier context and SSD state, on one
 * shared classifier model and one shared SSD detector; every thread's every result must be
 * bit-for-bit (memcmp) the result one thread got alone. Runs per thread:
 * FERC_STRESS_RUNS classifier runs (default 1000) and FERC_STRESS_DETECT_RUNS detections
 * (default 100; 96x96 network input); on the scalar path 1/50 of each (its convolutions are
 * over 10x slower: 8 x 100 classifier runs took 88 s on this 2-core machine under load).
 * `make tsan` runs it under ThreadSanitizer. */
#include "testutil.h"

#include <pthread.h>

#define THREADS 8
#define FACES 10 /* distinct 48x48 crops, one per classifier run in turn */
#define MAX_BOXES 16

typedef struct {
    const ferc_model *model;
    const ferc_ssd *ssd;
    const ferc_image *photo;
    const uint8_t *faces;                            /* FACES x 48 x 48 */
    const float (*want_probs)[FERC_NUM_EMOTIONS];    /* per face */
    const ferc_box *want_boxes;
    int want_n, runs, detect_runs;
} shared;

typedef struct {
    const shared *s;
    int runs_done, mismatches, failed;
    char message[600];
} job;

static int env_int(const char *name, int fallback)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? atoi(v) : fallback;
}

static void *worker(void *arg)
{
    job *j = arg;
    const shared *s = j->s;
    ferc_error err;
    ferc_classifier *c = NULL;
    ferc_ssd_state *st = NULL;
    ferc_classifier_options co = {0, 1, 1};
    if (ferc_classifier_create(s->model, &co, &c, &err) || ferc_ssd_state_create(s->ssd, &st, &err)) {
        snprintf(j->message, sizeof j->message, "%s", err.message);
        j->failed = 1;
    }
    const ferc_ssd_options so = {96, 96, 0.1f, 1};
    for (int r = 0; !j->failed && r < s->runs; r++) {
        float p[FERC_NUM_EMOTIONS];
        const int f = r % FACES;
        if (ferc_classify(c, s->faces + (size_t)f * 48 * 48, 1, p, &err)) {
            snprintf(j->message, sizeof j->message, "classify: %s", err.message);
            j->failed = 1;
        } else {
            j->mismatches += memcmp(p, s->want_probs[f], sizeof p) != 0;
        }
        if (r < s->detect_runs && !j->failed) {
            ferc_box b[MAX_BOXES];
            int n = 0;
            if (ferc_ssd_detect(s->ssd, st, s->photo, &so, b, MAX_BOXES, &n, &err)) {
                snprintf(j->message, sizeof j->message, "detect: %s", err.message);
                j->failed = 1;
            } else {
                j->mismatches += n != s->want_n || memcmp(b, s->want_boxes, sizeof *b * (size_t)n) != 0;
            }
        }
        j->runs_done++;
    }
    ferc_ssd_state_free(st);
    ferc_classifier_free(c);
    return NULL;
}

START_TEST(eight_threads_share_a_model_and_a_detector)
{
    char path[512];
    ferc_error err;
    ferc_model *model;
    ferc_ssd *ssd;
    ferc_image photo, gray;
    ck_assert_msg(ferc_model_load("weights/emotion_cnn.ferc", &model, &err) == FERC_OK, "%s", err.message);
    ck_assert_msg(ferc_ssd_load("weights/face_res10.ferc", &ssd, &err) == FERC_OK, "%s", err.message);
    ck_assert(ferc_image_load(test_path("data/astronaut_face.png", path, sizeof path), 3, &photo, &err) == FERC_OK);
    ck_assert(ferc_image_to_gray(&photo, &gray, &err) == FERC_OK);

    /* Ten crops of the photo, then the one-thread answers. */
    static uint8_t faces[FACES * 48 * 48];
    for (int f = 0; f < FACES; f++) {
        ferc_box b = {.x = (float)(4 * f), .y = (float)(3 * f), .w = (float)gray.width / 2 + 5 * f,
                      .h = (float)gray.height / 2 + 5 * f, .score = 1};
        ck_assert(ferc_face_crop(&gray, &b, 48, 48, faces + (size_t)f * 48 * 48, &err) == FERC_OK);
    }
    static float want_probs[FACES][FERC_NUM_EMOTIONS];
    ferc_classifier *c;
    ferc_classifier_options co = {0, 1, 1};
    ck_assert(ferc_classifier_create(model, &co, &c, &err) == FERC_OK);
    for (int f = 0; f < FACES; f++) ck_assert(ferc_classify(c, faces + (size_t)f * 48 * 48, 1, want_probs[f], &err) == FERC_OK);
    ferc_classifier_free(c);
    ferc_box want_boxes[MAX_BOXES];
    int want_n = 0;
    ferc_ssd_state *st;
    ck_assert(ferc_ssd_state_create(ssd, &st, &err) == FERC_OK);
    const ferc_ssd_options so = {96, 96, 0.1f, 1};
    ck_assert(ferc_ssd_detect(ssd, st, &photo, &so, want_boxes, MAX_BOXES, &want_n, &err) == FERC_OK);
    ferc_ssd_state_free(st);
    ck_assert_int_ge(want_n, 1); /* the astronaut's face */

    const int scalar = !strcmp(ferc_isa_name(), "scalar");
    shared s = {model, ssd, &photo, faces, (const float(*)[FERC_NUM_EMOTIONS])want_probs, want_boxes, want_n,
                env_int("FERC_STRESS_RUNS", 1000), env_int("FERC_STRESS_DETECT_RUNS", 100)};
    if (scalar) s.runs = (s.runs + 49) / 50, s.detect_runs = (s.detect_runs + 49) / 50;
    job jobs[THREADS];
    pthread_t th[THREADS];
    memset(jobs, 0, sizeof jobs);
    for (int t = 0; t < THREADS; t++) {
        jobs[t].s = &s;
        ck_assert_int_eq(pthread_create(&th[t], NULL, worker, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) ck_assert_int_eq(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < THREADS; t++) {
        ck_assert_msg(!jobs[t].failed, "thread %d: %s", t, jobs[t].message);
        ck_assert_int_eq(jobs[t].runs_done, s.runs);
        ck_assert_msg(jobs[t].mismatches == 0, "thread %d: %d of %d runs differ from one thread's", t, jobs[t].mismatches,
                      s.runs);
    }
    printf("stress [%s]: %d threads x %d classifier runs and %d detections, all equal to one thread's\n",
           ferc_isa_name(), THREADS, s.runs, s.runs < s.detect_runs ? s.runs : s.detect_runs);
    free(gray.data);
    ferc_image_free(&photo);
    ferc_ssd_free(ssd);
    ferc_model_free(model);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stress");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 0); /* no limit: sanitizer builds are slow; speed is measured in bench/ */
    tcase_add_test(tc, eight_threads_share_a_model_and_a_detector);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
