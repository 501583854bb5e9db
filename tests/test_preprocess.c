/* test_preprocess.c - gray conversion and resizing against OpenCV 4.6 (cv2.cvtColor,
 * cv2.resize) on a real photo (tests/data/astronaut_face.png, references from
 * tests/gen/make_ssd_refs.py). Required: within 1 gray level everywhere; measured and asserted
 * here: bit-exact (bench/compare_preprocess.py checks more sizes on larger photos). */
#include "testutil.h"

static ferc_image load_face(void)
{
    char path[512];
    ferc_error err;
    ferc_image img;
    ck_assert_msg(ferc_image_load(test_path("data/astronaut_face.png", path, sizeof path), 3, &img, &err) == FERC_OK,
                  "%s", err.message);
    ck_assert_int_eq(img.width, 128);
    return img;
}

/* Compares img with reference tensor name; returns the number of differing values. */
static size_t compare(const ferc_model *ref, const char *name, const ferc_image *img)
{
    ferc_tensor t;
    ck_assert_msg(ferc_model_tensor(ref, name, &t) == 0, "no reference '%s'", name);
    ck_assert_int_eq(t.dims[0], img->height);
    ck_assert_int_eq(t.dims[1], img->width);
    ck_assert_int_eq(t.ndim == 3 ? t.dims[2] : 1, img->channels);
    size_t n = tensor_count(&t), diff = 0, worst = 0;
    float worst_d = 0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf((float)img->data[i] - t.data[i]);
        if (d > worst_d) worst_d = d, worst = i;
        diff += d > 0;
    }
    /* One assertion per image: Check records every assertion, which is slow per pixel. */
    ck_assert_msg(worst_d <= 1.f, "%s: value %zu is %d, OpenCV %g", name, worst, img->data[worst], t.data[worst]);
    return diff;
}

START_TEST(gray_and_resize_match_opencv)
{
    char path[512];
    ferc_error err;
    ferc_model *ref;
    ck_assert(ferc_model_load(test_path("ref/preprocess.ref.ferc", path, sizeof path), &ref, &err) == FERC_OK);
    ferc_image rgb = load_face(), gray;
    ck_assert(ferc_image_to_gray(&rgb, &gray, &err) == FERC_OK);
    ck_assert_int_eq(compare(ref, "gray", &gray), 0);
    static const int sizes[][2] = {{48, 48}, {61, 47}, {37, 53}, {64, 64}, {100, 100}, {150, 140}};
    static const char *const modes[2] = {"linear", "area"};
    int compared = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (int m = 0; m < 2; m++)
            for (int c = 0; c < 2; c++) {
                char name[64];
                snprintf(name, sizeof name, "%s_%s_%dx%d", modes[m], c ? "rgb" : "gray", sizes[i][0], sizes[i][1]);
                ferc_tensor t;
                if (ferc_model_tensor(ref, name, &t)) continue;
                ferc_image out;
                ck_assert(ferc_image_resize(c ? &rgb : &gray, sizes[i][0], sizes[i][1],
                                            m ? FERC_RESIZE_AREA : FERC_RESIZE_LINEAR, &out, &err) == FERC_OK);
                size_t diff = compare(ref, name, &out), n = (size_t)out.width * out.height * out.channels;
                ck_assert_msg(diff == 0, "%s: %zu of %zu values differ by 1", name, diff, n);
                ferc_image_free(&out);
                compared++;
            }
    ck_assert_int_eq(compared, 18);
    ferc_image_free(&gray);
    ferc_image_free(&rgb);
    ferc_model_free(ref);
}
END_TEST

START_TEST(crop_and_bad_arguments)
{
    ferc_error err;
    ferc_image rgb = load_face(), out;
    ck_assert(ferc_image_crop(&rgb, 10, 20, 30, 40, &out, &err) == FERC_OK);
    ck_assert_int_eq(out.width, 30);
    ck_assert_int_eq(out.height, 40);
    for (int y = 0; y < 40; y++)
        ck_assert(!memcmp(out.data + y * 30 * 3, rgb.data + ((y + 20) * 128 + 10) * 3, 30 * 3));
    ferc_image_free(&out);
    ck_assert_int_eq(ferc_image_crop(&rgb, 100, 0, 30, 10, &out, &err), FERC_ERR_ARG);
    ck_assert_msg(strstr(err.message, "not inside") != NULL, "%s", err.message);
    ck_assert_int_eq(ferc_image_crop(&rgb, -1, 0, 3, 3, &out, &err), FERC_ERR_ARG);
    ck_assert_int_eq(ferc_image_resize(&rgb, 0, 10, FERC_RESIZE_AREA, &out, &err), FERC_ERR_ARG);
    ck_assert_int_eq(ferc_image_resize(&rgb, 10, 10, 2, &out, &err), FERC_ERR_ARG);
    ck_assert_int_eq(ferc_image_resize(&rgb, 100000, 100000, FERC_RESIZE_LINEAR, &out, &err), FERC_ERR_ARG);
    ck_assert_ptr_null(out.data);
    ferc_image bad = {10, 10, 2, rgb.data};
    ck_assert_int_eq(ferc_image_to_gray(&bad, &out, &err), FERC_ERR_ARG);
    /* 1x1 images and 1-pixel targets. */
    ferc_image one;
    ck_assert(ferc_image_resize(&rgb, 1, 1, FERC_RESIZE_AREA, &one, &err) == FERC_OK);
    ck_assert(ferc_image_resize(&one, 7, 5, FERC_RESIZE_LINEAR, &out, &err) == FERC_OK);
    for (int i = 0; i < 7 * 5 * 3; i++) ck_assert_int_eq(out.data[i], one.data[i % 3]);
    ferc_image_free(&out);
    ck_assert(ferc_image_resize(&one, 7, 5, FERC_RESIZE_AREA, &out, &err) == FERC_OK);
    ferc_image_free(&out);
    ferc_image_free(&one);
    ferc_image_free(&rgb);
}
END_TEST

/* FER2013-framed crops (detect/image/face_crop.c) against the same chain done with cv2 in
 * tests/gen/make_ssd_refs.py: the astronaut's detected face, a box over the image corner
 * (replicated edge pixels) and a small box (enlarged). */
START_TEST(face_crops_match_opencv_chain)
{
    char path[512];
    ferc_error err;
    ferc_model *ref;
    ck_assert(ferc_model_load(test_path("ref/preprocess.ref.ferc", path, sizeof path), &ref, &err) == FERC_OK);
    ferc_image rgb = load_face();
    static const char *const names[3] = {"face", "edge", "small"};
    for (int i = 0; i < 3; i++) {
        char key[32];
        ferc_tensor b;
        snprintf(key, sizeof key, "%s_box", names[i]);
        ck_assert_int_eq(ferc_model_tensor(ref, key, &b), 0);
        /* the reference gives corners */
        ferc_box box = {.x = b.data[0], .y = b.data[1], .w = b.data[2] - b.data[0], .h = b.data[3] - b.data[1], .score = 1};
        ferc_image crop;
        ck_assert_msg(ferc_face_crop_fer(&rgb, &box, 48, &crop, &err) == FERC_OK, "%s", err.message);
        ck_assert_int_eq(crop.channels, 1);
        snprintf(key, sizeof key, "%s_crop_48", names[i]);
        size_t diff = compare(ref, key, &crop);
        ck_assert_msg(diff == 0, "%s: %zu pixels differ by 1", key, diff);
        ferc_image_free(&crop);
    }
    ferc_box bad = {.x = 10, .y = 10, .w = -5, .h = 10, .score = 1};
    ferc_image crop;
    ck_assert_int_eq(ferc_face_crop_fer(&rgb, &bad, 48, &crop, &err), FERC_ERR_ARG);
    bad.w = 1e9f;
    ck_assert_int_eq(ferc_face_crop_fer(&rgb, &bad, 48, &crop, &err), FERC_ERR_ARG);
    bad.w = 10.f;
    ck_assert_int_eq(ferc_face_crop_fer(&rgb, &bad, 0, &crop, &err), FERC_ERR_ARG);
    ferc_image_free(&rgb);
    ferc_model_free(ref);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("preprocess");
    TCase *tc = tcase_create("opencv");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gray_and_resize_match_opencv);
    tcase_add_test(tc, crop_and_bad_arguments);
    tcase_add_test(tc, face_crops_match_opencv_chain);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
