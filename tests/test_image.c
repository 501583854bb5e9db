/* test_image.c - absurd image headers are refused before decoding, with the size named;
 * ferc_image_encode gives the bytes ferc_image_save writes. */
#include "testutil.h"

#include <stdlib.h>
#include <unistd.h>

START_TEST(huge_png_header_is_named)
{
    /* PNG signature + IHDR claiming 100000 x 100000, 8-bit gray; no pixel data needed. */
    static const unsigned char png[33] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                          0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 0, 0, 0, 0, 0, 0, 0, 0};
    ferc_image img;
    ferc_error err;
    ck_assert_int_eq(ferc_image_load_memory(png, sizeof png, 1, &img, &err), FERC_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "100000x100000") != NULL, "%s", err.message);
    ck_assert_ptr_null(img.data);
}
END_TEST

START_TEST(huge_jpeg_header_is_named)
{
    /* SOI, APP0 of 16 bytes, SOF0 claiming 60000 x 50000. */
    unsigned char jpg[64] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0};
    const unsigned char sof[] = {0xff, 0xc0, 0, 11, 8, 0xc3, 0x50, 0xea, 0x60, 1, 1, 0x11, 0};
    memcpy(jpg + 2 + 2 + 16, sof, sizeof sof);
    ferc_image img;
    ferc_error err;
    ck_assert_int_eq(ferc_image_load_memory(jpg, sizeof jpg, 3, &img, &err), FERC_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "60000x50000") != NULL, "%s", err.message);
}
END_TEST

/* In memory as on disk, for both formats; the PNG decodes back to the same pixels. */
START_TEST(encode_equals_save)
{
    ferc_image img, back;
    ferc_error err;
    ck_assert_int_eq(ferc_image_load("tests/data/astronaut_face.png", 3, &img, &err), FERC_OK);
    char dir[] = "/tmp/ferc_test_image_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    static const char *const names[] = {"a.png", "a.jpg"};
    for (int i = 0; i < 2; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        ck_assert_int_eq(ferc_image_save(path, &img, &err), FERC_OK);
        size_t n_file, n_mem;
        unsigned char *file = read_file(path, &n_file);
        uint8_t *mem;
        ck_assert_int_eq(ferc_image_encode(&img, names[i], &mem, &n_mem, &err), FERC_OK);
        ck_assert_uint_eq(n_mem, n_file);
        ck_assert(memcmp(mem, file, n_file) == 0);
        if (i == 0) {
            ck_assert_int_eq(ferc_image_load_memory(mem, n_mem, 3, &back, &err), FERC_OK);
            ck_assert(back.width == img.width && back.height == img.height);
            ck_assert(memcmp(back.data, img.data, (size_t)img.width * img.height * 3) == 0);
            ferc_image_free(&back);
        }
        free(file);
        free(mem);
        unlink(path);
    }
    rmdir(dir);
    uint8_t *mem;
    size_t n;
    ck_assert_int_eq(ferc_image_encode(&img, "a.gif", &mem, &n, &err), FERC_ERR_ARG);
    ck_assert_msg(strstr(err.message, "a.gif") != NULL, "%s", err.message);
    ck_assert_ptr_null(mem);
    ferc_image_free(&img);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("headers");
    tcase_add_test(tc, huge_png_header_is_named);
    tcase_add_test(tc, huge_jpeg_header_is_named);
    tcase_add_test(tc, encode_equals_save);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
