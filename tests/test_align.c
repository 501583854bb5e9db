/* test_align.c - eye-based roll estimate and aligned crop on the astronaut's face.
 *
 * tests/data/align/ holds the photo rotated by known angles with cv2.warpAffine
 * (tests/gen/make_align_refs.py). The roll ferc finds on each must equal the unrotated face's
 * roll minus the rotation (a counter-clockwise turn by a lowers the eye-line angle by a),
 * within 3 degrees; the aligned crop for a given roll must match cv2.warpAffine's crop of the
 * same box up to interpolation rounding (OpenCV quantises positions to 1/32 pixel). */
#include "testutil.h"

#include <stdint.h>

static ferc_cascade *eye_cascade(void)
{
    const char *d = getenv("FERC_CASCADE_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/haarcascades/haarcascade_eye.xml", d && *d ? d : "/usr/share/opencv4");
    ferc_cascade *c;
    ferc_error err;
    ck_assert_msg(ferc_cascade_load(path, &c, &err) == FERC_OK, "%s", err.message);
    return c;
}

static ferc_image load(const char *rel)
{
    char path[512];
    ferc_image img;
    ferc_error err;
    ck_assert_msg(ferc_image_load(test_path(rel, path, sizeof path), 1, &img, &err) == FERC_OK, "%s", err.message);
    return img;
}

START_TEST(roll_follows_known_rotations)
{
    ferc_cascade *c = eye_cascade();
    char path[512], file[128], rel[256];
    FILE *f = fopen(test_path("data/align/cases.txt", path, sizeof path), "r");
    ck_assert(f != NULL);
    int angle, n = 0, bx, by, bw, bh;
    double roll0 = 0;
    while (fscanf(f, "%d %127s %d %d %d %d", &angle, file, &bx, &by, &bw, &bh) == 6) {
        const ferc_box box = {.x = (float)bx, .y = (float)by, .w = (float)bw, .h = (float)bh, .score = 1};
        snprintf(rel, sizeof rel, "data/align/%s", file);
        ferc_image img = load(rel);
        ferc_eyes e;
        ferc_error err;
        ck_assert_msg(ferc_find_eyes(c, img.data, img.width, img.height, img.width, &box, &e, &err) == FERC_OK, "%s",
                      err.message);
        ck_assert_msg(e.found, "no eyes found at %d degrees", angle);
        ck_assert(e.left_eye_x < e.right_eye_x || angle);
        if (angle == 0) { /* listed first */
            roll0 = e.roll_deg;
            ck_assert_msg(fabs(roll0) < 10, "the astronaut's own roll is small, got %.2f", roll0);
            /* eyes in the upper half of the box, about a third of its width apart */
            ck_assert(e.left_eye_y > by && e.left_eye_y < by + bh / 2);
            ck_assert(e.right_eye_x - e.left_eye_x > bw / 4 && e.right_eye_x - e.left_eye_x < bw * 2 / 3);
        }
        double want = roll0 - angle;
        ck_assert_msg(fabs(e.roll_deg - want) < 3, "rotated by %d: roll %.2f, expected %.2f", angle, e.roll_deg, want);
        ferc_image_free(&img);
        n++;
    }
    fclose(f);
    ck_assert_int_eq(n, 5);
    ferc_cascade_free(c);
}
END_TEST

START_TEST(aligned_crop_matches_warp_affine)
{
    ferc_image img = load("data/faces_astronaut.png"), want = load("data/align/crop_roll17.png");
    ferc_box box = {.x = 177, .y = 66, .w = 95, .h = 95, .score = 1};
    ferc_eyes e = {.roll_deg = 17.0, .found = 1};
    uint8_t out[64 * 64];
    ferc_error err;
    ck_assert(ferc_align_crop(img.data, img.width, img.height, img.width, &box, &e, out, 64, &err) == FERC_OK);
    double sum = 0;
    int worst = 0;
    for (int i = 0; i < 64 * 64; i++) {
        int d = abs(out[i] - want.data[i]);
        sum += d;
        if (d > worst) worst = d;
    }
    ck_assert_msg(worst <= 3 && sum / (64 * 64) < 0.3, "crop differs from cv2.warpAffine: max %d, mean %.3f", worst,
                  sum / (64 * 64));
    /* without eyes the crop is the plain box, resampled */
    ck_assert(ferc_align_crop(img.data, img.width, img.height, img.width, &box, NULL, out, 64, &err) == FERC_OK);
    ck_assert(ferc_align_crop(img.data, img.width, img.height, img.width, &box, NULL, out, 0, &err) == FERC_ERR_ARG);
    ferc_image_free(&img);
    ferc_image_free(&want);
}
END_TEST

/* Shrunk 4x without rotation, the crop averages each 4x4 block as INTER_AREA does (not
 * the one bilinear sample per pixel that would alias a large face down to 48x48). */
START_TEST(shrunk_crop_averages_like_inter_area)
{
    ferc_image img = load("data/faces_astronaut.png"), want = load("data/align/crop_area24.png");
    ferc_box box = {.x = 177, .y = 66, .w = 96, .h = 96, .score = 1};
    uint8_t out[24 * 24];
    ferc_error err;
    ck_assert(ferc_align_crop(img.data, img.width, img.height, img.width, &box, NULL, out, 24, &err) == FERC_OK);
    for (int i = 0; i < 24 * 24; i++)
        ck_assert_msg(abs(out[i] - want.data[i]) <= 1, "pixel %d: %d, cv2 INTER_AREA %d", i, out[i], want.data[i]);
    ferc_image_free(&img);
    ferc_image_free(&want);
}
END_TEST

START_TEST(no_eyes_in_a_flat_box)
{
    ferc_cascade *c = eye_cascade();
    uint8_t flat[120 * 120];
    memset(flat, 128, sizeof flat);
    ferc_eyes e;
    ferc_error err;
    ferc_box box = {.x = 10, .y = 10, .w = 100, .h = 100, .score = 1};
    ck_assert(ferc_find_eyes(c, flat, 120, 120, 120, &box, &e, &err) == FERC_OK);
    ck_assert_int_eq(e.found, 0);
    ck_assert(e.roll_deg == 0);
    ferc_box outside = {.x = 500, .y = 500, .w = 50, .h = 50, .score = 1};
    ck_assert(ferc_find_eyes(c, flat, 120, 120, 120, &outside, &e, &err) == FERC_ERR_ARG);
    ferc_cascade_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("align");
    TCase *tc = tcase_create("align");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, roll_follows_known_rotations);
    tcase_add_test(tc, aligned_crop_matches_warp_affine);
    tcase_add_test(tc, shrunk_crop_averages_like_inter_area);
    tcase_add_test(tc, no_eyes_in_a_flat_box);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
