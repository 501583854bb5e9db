/* test_lbp.c - LBP codes and the lbp_histogram op against scikit-image.
 *
 * tests/gen/make_lbp_refs.py stores three FER2013 faces and one synthetic image (flat areas,
 * exact ties) as PNG, skimage's local_binary_pattern(..., method="nri_uniform") code images
 * for several (P, R), and the histograms of a model of lbp_histogram nodes computed with
 * numpy from skimage's codes. Codes and raw counts must match exactly; normalised
 * histograms to float32 rounding (the reference is computed in double). */
#include "testutil.h"

#include "kernels/lbp.h"

#define N_IMAGES 4

static float *load_png(int k)
{
    char rel[64], path[512];
    snprintf(rel, sizeof rel, "lbp/face%d.png", k);
    ferc_image img;
    ferc_error err;
    ck_assert_msg(ferc_image_load(test_path(rel, path, sizeof path), 1, &img, &err) == FERC_OK, "%s", err.message);
    ck_assert_int_eq(img.width, 48);
    ck_assert_int_eq(img.height, 48);
    float *f = malloc(48 * 48 * sizeof *f);
    for (int i = 0; i < 48 * 48; i++) f[i] = img.data[i];
    ferc_image_free(&img);
    return f;
}

static ferc_model *load_ref(void)
{
    char path[512];
    ferc_model *ref;
    ferc_error err;
    ck_assert_msg(ferc_model_load(test_path("lbp/lbp.ref.ferc", path, sizeof path), &ref, &err) == FERC_OK, "%s",
                  err.message);
    return ref;
}

START_TEST(codes_match_skimage)
{
    ferc_model *ref = load_ref();
    int checked = 0, distinct_p8r1 = 0;
    for (int t = 0; t < ferc_model_num_tensors(ref); t++) {
        const char *name = ferc_model_tensor_name(ref, t);
        int k, p;
        float r;
        if (sscanf(name, "codes%d_P%d_R%f", &k, &p, &r) != 3) continue;
        ck_assert(k >= 0 && k < N_IMAGES);
        ferc_tensor want;
        ferc_model_tensor(ref, name, &want);
        ck_assert_int_eq((int)tensor_count(&want), 48 * 48);
        float *img = load_png(k);
        ferc_tensor pixels;
        char iname[32];
        snprintf(iname, sizeof iname, "img%d", k);
        ck_assert_int_eq(ferc_model_tensor(ref, iname, &pixels), 0);
        ck_assert_msg(!memcmp(img, pixels.data, 48 * 48 * sizeof(float)), "face%d.png decodes differently", k);
        uint8_t codes[48 * 48];
        ferc_lbp_codes_scalar(48, 48, img, p, r, codes);
        int seen[256] = {0}, n_seen = 0;
        for (int i = 0; i < 48 * 48; i++) {
            ck_assert_msg(codes[i] == (int)want.data[i], "%s: pixel (%d, %d) has code %d, skimage %g", name, i / 48,
                          i % 48, codes[i], (double)want.data[i]);
            ck_assert_int_lt(codes[i], ferc_lbp_bins(p));
            if (!seen[codes[i]]++) n_seen++;
        }
        if (p == 8 && r == 1.f && k < 3 && n_seen > distinct_p8r1) distinct_p8r1 = n_seen;
        free(img);
        checked++;
    }
    ck_assert_int_ge(checked, 6 * N_IMAGES);
    /* the faces exercise most of the 59 codes, so the comparison means something */
    ck_assert_int_ge(distinct_p8r1, 45);
    ferc_model_free(ref);
}
END_TEST

/* Every one of the 2^P patterns gets a code below P*(P-1)+3, and the uniform codes are a
 * bijection: P*(P-1)+2 distinct values for the uniform patterns. */
START_TEST(code_table_is_complete)
{
    for (int p = FERC_LBP_MIN_P; p <= 12; p++) {
        static int hits[256];
        memset(hits, 0, sizeof hits);
        for (unsigned b = 0; b < (1u << p); b++) {
            int c = ferc_lbp_code(b, p);
            ck_assert(c >= 0 && c < ferc_lbp_bins(p));
            hits[c]++;
        }
        for (int c = 0; c < ferc_lbp_bins(p) - 1; c++) ck_assert_int_eq(hits[c], 1);
        ck_assert_int_eq(hits[ferc_lbp_bins(p) - 1], (1 << p) - (p * (p - 1) + 2));
    }
}
END_TEST

START_TEST(model_matches_numpy_histograms)
{
    char path[512];
    ferc_model *m, *ref = load_ref();
    ferc_error err;
    ck_assert_msg(ferc_model_load(test_path("lbp/lbp_model.ferc", path, sizeof path), &m, &err) == FERC_OK, "%s",
                  err.message);
    float *batch = malloc(N_IMAGES * 48 * 48 * sizeof *batch);
    for (int k = 0; k < N_IMAGES; k++) {
        float *img = load_png(k);
        memcpy(batch + k * 48 * 48, img, 48 * 48 * sizeof *img);
        free(img);
    }
    for (int threads = 1; threads <= 2; threads++) {
        ferc_context_options opt = {.max_batch = N_IMAGES, .threads = threads};
        ferc_context *ctx;
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
            tensor_cmp c = compare_floats(got, want.data, (size_t)want.dims[1], 1e-7, 2e-7);
            ck_assert_msg(c.worst_ratio <= 1.0, "image %d: feature %zu is %.9g, numpy %.9g", k, c.worst_index,
                          (double)got[c.worst_index], (double)want.data[c.worst_index]);
        }
        ferc_context_free(ctx);
    }
    free(batch);
    ferc_model_free(m);
    ferc_model_free(ref);
}
END_TEST

START_TEST(bad_attributes_are_refused)
{
    static const char *const names[] = {"points", "radius", "norm", "stride"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char rel[64], path[512];
        snprintf(rel, sizeof rel, "lbp/bad_%s.ferc", names[i]);
        ferc_model *m = NULL;
        ferc_error err;
        ck_assert_int_eq(ferc_model_load(test_path(rel, path, sizeof path), &m, &err), FERC_ERR_FORMAT);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(err.message, names[i]) != NULL, "message '%s' does not name '%s'", err.message, names[i]);
    }
}
END_TEST

START_TEST(image_smaller_than_cell_is_refused)
{
    char path[512];
    ferc_model *m;
    ferc_error err;
    ck_assert(ferc_model_load(test_path("lbp/lbp_model.ferc", path, sizeof path), &m, &err) == FERC_OK);
    ferc_context_options opt = {.max_batch = 1, .height = 12, .width = 12, .threads = 1};
    ferc_context *ctx = NULL;
    ck_assert_int_eq(ferc_context_create(m, &opt, &ctx, &err), FERC_ERR_FORMAT);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err.message, "smaller than") != NULL, "%s", err.message);
    ferc_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lbp");
    TCase *tc = tcase_create("lbp");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, codes_match_skimage);
    tcase_add_test(tc, code_table_is_complete);
    tcase_add_test(tc, model_matches_numpy_histograms);
    tcase_add_test(tc, bad_attributes_are_refused);
    tcase_add_test(tc, image_smaller_than_cell_is_refused);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
