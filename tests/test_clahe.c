/* test_clahe.c - ferc_clahe against cv2.createCLAHE(clip, grid).apply (OpenCV 4.6) on crops
 * of the face photos, for grids that divide the crop and grids that do not (OpenCV then
 * pads by reflection), clip limits from none to 40. Outputs were stored by
 * tests/gen/make_clahe_refs.py; every pixel must be within 1 gray level (in practice they are
 * equal: the arithmetic is OpenCV's), and the count of unequal pixels is reported. */
#include "testutil.h"

START_TEST(clahe_matches_opencv)
{
    char path[512], rel[256];
    FILE *f = fopen(test_path("data/clahe/cases.txt", path, sizeof path), "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char name[128], out_name[128];
    int x, y, w, h, gx, gy, cases = 0;
    double clip;
    while (fscanf(f, "%127s %d %d %d %d %lf %d %d %127s", name, &x, &y, &w, &h, &clip, &gx, &gy, out_name) == 9) {
        ferc_image img, want;
        ferc_error err;
        snprintf(rel, sizeof rel, "data/%s", name);
        ck_assert_msg(ferc_image_load(test_path(rel, path, sizeof path), 1, &img, &err) == FERC_OK, "%s", err.message);
        snprintf(rel, sizeof rel, "data/clahe/%s", out_name);
        ck_assert_msg(ferc_image_load(test_path(rel, path, sizeof path), 1, &want, &err) == FERC_OK, "%s", err.message);
        ck_assert_int_eq(want.width, w);
        ck_assert_int_eq(want.height, h);
        uint8_t *out = malloc((size_t)w * h);
        ck_assert_msg(ferc_clahe(img.data + (size_t)y * img.width + x, w, h, img.width, out, w, clip, gx, gy, &err) ==
                          FERC_OK, "%s", err.message);
        int worst = 0, differ = 0;
        for (int i = 0; i < w * h; i++) {
            int d = abs(out[i] - want.data[i]);
            differ += d != 0;
            if (d > worst) worst = d;
        }
        ck_assert_msg(worst <= 1, "%s clip %g grid %dx%d: max difference %d gray levels (%d pixels differ)", name, clip,
                      gx, gy, worst, differ);
        if (differ) printf("clahe %s clip %g grid %dx%d: %d pixels differ by 1\n", name, clip, gx, gy, differ);
        free(out);
        ferc_image_free(&img);
        ferc_image_free(&want);
        cases++;
    }
    fclose(f);
    ck_assert_int_ge(cases, 10);
}
END_TEST

START_TEST(clahe_rejects_bad_arguments)
{
    uint8_t img[16 * 8] = {0}, out[16 * 8];
    ferc_error err;
    ck_assert(ferc_clahe(img, 16, 8, 16, out, 16, 2.0, 0, 8, &err) == FERC_ERR_ARG);
    ck_assert(strstr(err.message, "tile grid") != NULL);
    ck_assert(ferc_clahe(img, 16, 8, 16, out, 16, 2.0, 8, 9, &err) == FERC_ERR_ARG);
    ck_assert(ferc_clahe(img, 16, 8, 8, out, 16, 2.0, 2, 2, &err) == FERC_ERR_ARG);
    /* a flat image stays flat: every tile's table maps its one level to the same value */
    memset(img, 77, sizeof img);
    ck_assert(ferc_clahe(img, 16, 8, 16, out, 16, 2.0, 2, 2, &err) == FERC_OK);
    for (int i = 1; i < 16 * 8; i++) ck_assert_int_eq(out[i], out[0]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clahe");
    TCase *tc = tcase_create("clahe");
    tcase_add_test(tc, clahe_matches_opencv);
    tcase_add_test(tc, clahe_rejects_bad_arguments);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
