/* test_hog.c - the hog op against scikit-image.
 *
 * tests/gen/make_hog_refs.py stores three FER2013 faces (pixel / 255, as the classifier feeds a
 * model with mean 0, std 1) and a signed synthetic image, a model of hog nodes (all four block
 * norms, non-square cells and blocks, a block of 180 values) and skimage.feature.hog's outputs.
 * The kernel repeats skimage's arithmetic, so the outputs are expected bit for bit; the
 * comparison allows float rounding (a libm whose atan2 differs in the last place could move
 * a pixel across a bin edge elsewhere, not here). */
#include "testutil.h"

#include "kernels/hog.h"

#define N_IMAGES 4

static ferc_model *load(const char *rel)
{
    char path[512];
    ferc_model *m;
    ferc_error err;
    ck_assert_msg(ferc_model_load(test_path(rel, path, sizeof path), &m, &err) == FERC_OK, "%s: %s", rel, err.message);
    return m;
}

START_TEST(model_matches_skimage)
{
    ferc_model *m = load("hog/hog_model.ferc"), *ref = load("hog/hog.ref.ferc");
    float *batch = malloc(N_IMAGES * 48 * 48 * sizeof *batch);
    for (int k = 0; k < N_IMAGES; k++) {
        char name[32];
        snprintf(name, sizeof name, "img%d", k);
        ferc_tensor img;
        ck_assert_int_eq(ferc_model_tensor(ref, name, &img), 0);
        ck_assert_int_eq((int)tensor_count(&img), 48 * 48);
        memcpy(batch + k * 48 * 48, img.data, 48 * 48 * sizeof *batch);
    }
    for (int threads = 1; threads <= 2; threads++) {
        ferc_context_options opt = {.max_batch = N_IMAGES, .threads = threads};
        ferc_context *ctx;
        ferc_error err;
        ck_assert_msg(ferc_context_create(m, &opt, &ctx, &err) == FERC_OK, "%s", err.message);
        const float *inputs[1] = {batch};
        ck_assert_msg(ferc_run(ctx, inputs, N_IMAGES, &err) == FERC_OK, "%s", err.message);
        ferc_tensor out;
        ck_assert_int_eq(ferc_output(ctx, 0, &out), 0);
        ck_assert_int_eq(out.dims[0], N_IMAGES);
        for (int k = 0; k < N_IMAGES; k++) {
            char name[32];
            snprintf(name, sizeof name, "features%d", k);
            ferc_tensor want;
            ck_assert_int_eq(ferc_model_tensor(ref, name, &want), 0);
            ck_assert_int_eq(out.dims[1], want.dims[1]);
            const float *got = out.data + (size_t)k * (size_t)out.dims[1];
            int nonzero = 0, exact = 0;
            for (int64_t i = 0; i < want.dims[1]; i++) nonzero += want.data[i] != 0.f, exact += got[i] == want.data[i];
            ck_assert_int_gt(nonzero, (int)want.dims[1] / 2); /* the faces have gradients everywhere */
            tensor_cmp c = compare_floats(got, want.data, (size_t)want.dims[1], 1e-7, 2e-7);
            ck_assert_msg(c.worst_ratio <= 1.0, "image %d: feature %zu is %.9g, skimage %.9g", k, c.worst_index,
                          (double)got[c.worst_index], (double)want.data[c.worst_index]);
            if (threads == 1) printf("hog image %d: %d of %lld values equal to skimage's bit for bit\n", k, exact,
                                     (long long)want.dims[1]);
        }
        ferc_context_free(ctx);
    }
    free(batch);
    ferc_model_free(m);
    ferc_model_free(ref);
}
END_TEST

/* The layout and length rules of kernels/hog.h, checked on sizes the model does not use. */
START_TEST(dimensions)
{
    const ferc_hog_desc d = {9, 8, 8, 3, 3, FERC_HOG_NORM_L2HYS};
    ck_assert_uint_eq(ferc_hog_dim(&d, 48, 48), 4 * 4 * 3 * 3 * 9);
    ck_assert_uint_eq(ferc_hog_dim(&d, 55, 31), 4 * 1 * 3 * 3 * 9); /* partial cells are dropped */
    ck_assert_uint_eq(ferc_hog_dim(&d, 23, 48), 0);                 /* no whole block */
    float img[24 * 24], out[9 * 9];
    for (int i = 0; i < 24 * 24; i++) img[i] = (float)(i % 24) * 0.01f; /* horizontal ramp: bin 0 only */
    /* every cell's bin 0 exceeds the L2-Hys clip of 0.2, so all nine clip to 0.2: 1/3 once renormalised */
    _Alignas(8) unsigned char scratch[4096];
    ck_assert_uint_le(ferc_hog_scratch(&d, 24, 24), sizeof scratch);
    ferc_hog_features(&d, 24, 24, img, scratch, out);
    for (int i = 0; i < 81; i++) ck_assert_float_eq_tol(out[i], i % 9 == 0 ? 1.f / 3.f : 0.f, 1e-6f);
}
END_TEST

START_TEST(bad_attributes_are_refused)
{
    static const char *const names[] = {"orientations", "cell", "block", "norm"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char rel[64], path[512];
        snprintf(rel, sizeof rel, "hog/bad_%s.ferc", names[i]);
        ferc_model *m = NULL;
        ferc_error err;
        ck_assert_int_eq(ferc_model_load(test_path(rel, path, sizeof path), &m, &err), FERC_ERR_FORMAT);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(err.message, names[i]) != NULL, "message '%s' does not name '%s'", err.message, names[i]);
    }
}
END_TEST

START_TEST(image_smaller_than_a_block_is_refused)
{
    ferc_model *m = load("hog/hog_model.ferc");
    ferc_context_options opt = {.max_batch = 1, .height = 20, .width = 48, .threads = 1};
    ferc_context *ctx = NULL;
    ferc_error err;
    ck_assert_int_eq(ferc_context_create(m, &opt, &ctx, &err), FERC_ERR_FORMAT);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err.message, "smaller than") != NULL, "%s", err.message);
    ferc_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hog");
    TCase *tc = tcase_create("hog");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, model_matches_skimage);
    tcase_add_test(tc, dimensions);
    tcase_add_test(tc, bad_attributes_are_refused);
    tcase_add_test(tc, image_smaller_than_a_block_is_refused);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
