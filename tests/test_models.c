/* test_models.c - the shipped emotion CNNs (weights/) against PyTorch, through the public
 * classifier API, on ten FER2013 faces (tests/cli/fer/). tests/gen/make_model_refs.py stored
 * PyTorch's probabilities from the training checkpoints, with and without flip TTA; ferc
 * must give each probability within 1e-4 and the same top emotion. */
#include "testutil.h"

static void check_model(const char *name)
{
    char path[512], rel[256];
    ferc_error err;
    ferc_model *m, *ref;
    snprintf(rel, sizeof rel, "../weights/%s.ferc", name);
    ck_assert_msg(ferc_model_load(test_path(rel, path, sizeof path), &m, &err) == FERC_OK, "%s", err.message);
    ck_assert_msg(ferc_model_load(test_path("ref/emotion_models.ref.ferc", path, sizeof path), &ref, &err) == FERC_OK,
                  "%s", err.message);
    ferc_tensor faces;
    ck_assert_int_eq(ferc_model_tensor(ref, "faces", &faces), 0);
    const int n = (int)faces.dims[0];
    ck_assert_int_eq(n, 10);
    uint8_t px[10 * 48 * 48];
    for (int i = 0; i < n * 48 * 48; i++) px[i] = (uint8_t)faces.data[i];
    for (int tta = 0; tta <= 1; tta++) {
        ferc_tensor want;
        char key[64];
        snprintf(key, sizeof key, "%s%s", name, tta ? ".tta" : "");
        ck_assert_int_eq(ferc_model_tensor(ref, key, &want), 0);
        ferc_classifier_options o = {.tta = tta, .max_batch = 4, .threads = 1};
        ferc_classifier *c;
        ck_assert_msg(ferc_classifier_create(m, &o, &c, &err) == FERC_OK, "%s", err.message);
        float probs[10 * FERC_NUM_EMOTIONS];
        ck_assert_msg(ferc_classify(c, px, n, probs, &err) == FERC_OK, "%s", err.message);
        for (int i = 0; i < n; i++) {
            int bg = 0, bw = 0;
            for (int k = 0; k < 7; k++) {
                float g = probs[i * 7 + k], w = want.data[i * 7 + k];
                ck_assert_msg(fabsf(g - w) <= 1e-4f, "%s face %d class %d: ferc %.7f, torch %.7f [%s]", key, i, k, g, w,
                              ferc_isa_name());
                if (g > probs[i * 7 + bg]) bg = k;
                if (w > want.data[i * 7 + bw]) bw = k;
            }
            ck_assert_int_eq(bg, bw);
        }
        ferc_classifier_free(c);
    }
    ferc_model_free(ref);
    ferc_model_free(m);
}

START_TEST(default_cnn_matches_pytorch) { check_model("emotion_cnn"); }
END_TEST

START_TEST(small_cnn_matches_pytorch) { check_model("emotion_small"); }
END_TEST

int main(void)
{
    Suite *s = suite_create("models");
    TCase *tc = tcase_create("shipped");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, default_cnn_matches_pytorch);
    tcase_add_test(tc, small_cnn_matches_pytorch);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
