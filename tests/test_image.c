/* test_image.c - absurd image headers are refused before decoding, with the size named. */
#include "testutil.h"

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

int main(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("headers");
    tcase_add_test(tc, huge_png_header_is_named);
    tcase_add_test(tc, huge_jpeg_header_is_named);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
