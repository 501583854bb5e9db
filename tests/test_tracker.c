/* test_tracker.c - face tracking on synthetic sequences: ids stay with their faces when
 * detections come in any order, survive short gaps, end after long ones; smoothing is the
 * mean of the last `window` observations, computed here independently. */
#include "testutil.h"
#include "detect/tracker.h"

static ferc_face face(float x, float y, float w, float h, int hot)
{
    ferc_face f;
    memset(&f, 0, sizeof f);
    f.box = (ferc_box){.x = x, .y = y, .w = w, .h = h, .score = 0.9f};
    for (int k = 0; k < FERC_NUM_EMOTIONS; k++) f.probabilities[k] = k == hot ? 0.7f : 0.05f;
    f.emotion = hot;
    return f;
}

static int id_at(ferc_tracker *t, float x, float y)
{
    const ferc_track *tr;
    int n = ferc_tracker_tracks(t, &tr);
    for (int i = 0; i < n; i++)
        if (tr[i].seen && tr[i].box.x == x && tr[i].box.y == y) return tr[i].id;
    return -1;
}

START_TEST(iou_values)
{
    ferc_box a = {.x = 0, .y = 0, .w = 10, .h = 10, .score = 1}, b = {.x = 5, .y = 0, .w = 10, .h = 10, .score = 1};
    ferc_box c = {.x = 20, .y = 20, .w = 5, .h = 5, .score = 1}, z = {.x = 0, .y = 0, .w = 0, .h = 10, .score = 1};
    ck_assert_float_eq_tol(ferc_box_iou(&a, &b), 50.0f / 150.0f, 1e-6f);
    ck_assert_float_eq(ferc_box_iou(&a, &a), 1.0f);
    ck_assert_float_eq(ferc_box_iou(&a, &c), 0.0f);
    ck_assert_float_eq(ferc_box_iou(&a, &z), 0.0f);
}
END_TEST

/* Face A walks right 4 px a frame, face B walks left towards it; detections alternate order. */
START_TEST(ids_stable_in_any_order)
{
    ferc_tracker *t;
    ferc_error err;
    ck_assert(ferc_tracker_create(NULL, &t, &err) == FERC_OK);
    for (long f = 0; f < 30; f++) {
        ferc_face d[2] = {face(10 + 4 * f, 50, 60, 60, FERC_HAPPY), face(400 - 4 * f, 60, 60, 60, FERC_SAD)};
        if (f & 1) {
            ferc_face tmp = d[0];
            d[0] = d[1], d[1] = tmp;
        }
        ck_assert(ferc_tracker_update(t, f, d, 2, &err) == FERC_OK);
        ck_assert_int_eq(id_at(t, 10 + 4 * f, 50), 1);
        ck_assert_int_eq(id_at(t, 400 - 4 * f, 60), 2);
    }
    const ferc_track *tr;
    ck_assert_int_eq(ferc_tracker_tracks(t, &tr), 2);
    ck_assert(tr[0].id == 1 && tr[0].emotion == FERC_HAPPY && tr[0].first_frame == 0 && tr[0].last_frame == 29);
    ck_assert(tr[1].id == 2 && tr[1].emotion == FERC_SAD);
    ferc_tracker_free(t);
}
END_TEST

START_TEST(gaps_and_new_faces)
{
    ferc_tracker_options o = {.iou = 0.3f, .window = 3, .max_missed = 5};
    ferc_tracker *t;
    ferc_error err;
    ck_assert(ferc_tracker_create(&o, &t, &err) == FERC_OK);
    ferc_face a = face(100, 100, 50, 50, FERC_FEAR);
    long f = 0;
    ck_assert(ferc_tracker_update(t, f++, &a, 1, &err) == FERC_OK);
    for (int i = 0; i < 5; i++) ck_assert(ferc_tracker_update(t, f++, NULL, 0, &err) == FERC_OK); /* 5 missed: kept */
    const ferc_track *tr;
    ck_assert_int_eq(ferc_tracker_tracks(t, &tr), 1);
    ck_assert(!tr[0].seen && tr[0].missed == 5);
    ck_assert(ferc_tracker_update(t, f++, &a, 1, &err) == FERC_OK);
    ck_assert_int_eq(id_at(t, 100, 100), 1);
    for (int i = 0; i < 6; i++) ck_assert(ferc_tracker_update(t, f++, NULL, 0, &err) == FERC_OK); /* 6: gone */
    ck_assert_int_eq(ferc_tracker_tracks(t, &tr), 0);
    ck_assert(ferc_tracker_update(t, f++, &a, 1, &err) == FERC_OK);
    ck_assert_int_eq(id_at(t, 100, 100), 2);
    /* A jump with no overlap is a different face. */
    ferc_face far = face(300, 100, 50, 50, FERC_FEAR);
    ck_assert(ferc_tracker_update(t, f++, &far, 1, &err) == FERC_OK);
    ck_assert_int_eq(id_at(t, 300, 100), 3);
    /* IoU 0.25 with track 3 is under the threshold: a new track. The next box overlaps
     * track 3 by 0.33 and track 4 by 0.82: the best overlap wins. */
    ferc_face b = face(300 + 30, 100, 50, 50, FERC_FEAR), c = face(300 + 25, 100, 50, 50, FERC_FEAR);
    ck_assert(ferc_tracker_update(t, f++, &b, 1, &err) == FERC_OK);
    ck_assert_int_eq(id_at(t, 330, 100), 4);
    ck_assert(ferc_tracker_update(t, f++, &c, 1, &err) == FERC_OK);
    ck_assert_int_eq(id_at(t, 325, 100), 4);
    ferc_tracker_free(t);
}
END_TEST

START_TEST(smoothing_window)
{
    for (int window = 1; window <= 4; window++) {
        ferc_tracker_options o = {.iou = 0.3f, .window = window, .max_missed = 10};
        ferc_tracker *t;
        ferc_error err;
        ck_assert(ferc_tracker_create(&o, &t, &err) == FERC_OK);
        float raw[12][FERC_NUM_EMOTIONS];
        for (int f = 0; f < 12; f++) {
            ferc_face d = face(10, 10, 40, 40, 0);
            float sum = 0;
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++) sum += d.probabilities[k] = (float)((f * 7 + k * 3) % 11 + 1);
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++) raw[f][k] = d.probabilities[k] /= sum;
            ck_assert(ferc_tracker_update(t, f, &d, 1, &err) == FERC_OK);
            const ferc_track *tr;
            ck_assert_int_eq(ferc_tracker_tracks(t, &tr), 1);
            int from = f - window + 1 > 0 ? f - window + 1 : 0, best = 0;
            float mean[FERC_NUM_EMOTIONS];
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++) {
                mean[k] = 0;
                for (int j = from; j <= f; j++) mean[k] += raw[j][k];
                mean[k] /= (float)(f - from + 1);
                ck_assert_float_eq_tol(tr[0].smoothed[k], mean[k], 1e-6f);
                ck_assert_float_eq(tr[0].probabilities[k], raw[f][k]);
                best = mean[k] > mean[best] ? k : best;
            }
            ck_assert_int_eq(tr[0].emotion, best);
        }
        ferc_tracker_free(t);
    }
}
END_TEST

START_TEST(bad_options)
{
    ferc_tracker *t;
    ferc_error err;
    ferc_tracker_options o = {.iou = 1.5f, .window = 5, .max_missed = 10};
    ck_assert_int_eq(ferc_tracker_create(&o, &t, &err), FERC_ERR_ARG);
    ck_assert_msg(strstr(err.message, "iou 1.5"), "%s", err.message);
    o = (ferc_tracker_options){0.3f, -2, 10};
    ck_assert_int_eq(ferc_tracker_create(&o, &t, &err), FERC_ERR_ARG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tracker");
    TCase *tc = tcase_create("tracker");
    tcase_add_test(tc, iou_values);
    tcase_add_test(tc, ids_stable_in_any_order);
    tcase_add_test(tc, gaps_and_new_faces);
    tcase_add_test(tc, smoothing_window);
    tcase_add_test(tc, bad_options);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
