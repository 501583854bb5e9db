/* test_y4m.c - the YUV4MPEG2 reader: a clip written by ffmpeg decoded as OpenCV decodes it
 * (cv2.cvtColor YUV2RGB_I420, tests/gen/make_cli_fixtures.py), mono ranges, and every kind of
 * corrupt header or frame refused with the right message. */
#include "testutil.h"
#include "detect/image/y4m.h"

static ferc_status open_mem(const char *data, size_t len, FILE **f, ferc_y4m *y, ferc_error *err)
{
    *f = tmpfile();
    ck_assert(*f != NULL);
    ck_assert_uint_eq(fwrite(data, 1, len, *f), len);
    rewind(*f);
    return ferc_y4m_open(*f, y, err);
}

START_TEST(ffmpeg_clip_matches_opencv)
{
    char path[512];
    ferc_model *refs;
    ferc_error err;
    ck_assert(ferc_model_load(test_path("cli/refs.ferc", path, sizeof path), &refs, &err) == FERC_OK);
    ferc_tensor want;
    ck_assert_int_eq(ferc_model_tensor(refs, "clip420_rgb", &want), 0);
    FILE *f = fopen(test_path("cli/clip420.y4m", path, sizeof path), "rb");
    ck_assert(f);
    ferc_y4m y;
    ck_assert_msg(ferc_y4m_open(f, &y, &err) == FERC_OK, "%s", err.message);
    ck_assert(y.width == 32 && y.height == 24 && y.chroma == FERC_Y4M_420 && !y.full_range);
    ck_assert(y.fps_num == 25 && y.fps_den == 1);
    ck_assert_uint_eq(y.frame_bytes, 32 * 24 * 3 / 2);
    uint8_t buf[32 * 24 * 3 / 2], rgb[32 * 24 * 3];
    for (int fr = 0; fr < 2; fr++) {
        int eof = 1;
        ck_assert_msg(ferc_y4m_read(&y, buf, &eof, &err) == FERC_OK, "%s", err.message);
        ck_assert_int_eq(eof, 0);
        ferc_image img = {0, 0, 0, rgb};
        ferc_y4m_to_image(&y, buf, &img);
        ck_assert(img.width == 32 && img.height == 24 && img.channels == 3);
        for (int i = 0; i < 32 * 24 * 3; i++)
            ck_assert_msg(rgb[i] == (uint8_t)want.data[fr * 32 * 24 * 3 + i], "frame %d byte %d: %d, OpenCV %g", fr, i,
                          rgb[i], want.data[fr * 32 * 24 * 3 + i]);
    }
    int eof = 0;
    ck_assert(ferc_y4m_read(&y, buf, &eof, &err) == FERC_OK && eof == 1);
    ck_assert_int_eq(y.frames, 2);
    fclose(f);
    ferc_model_free(refs);
}
END_TEST

START_TEST(mono_ranges_and_odd_sizes)
{
    static const char full[] = "YUV4MPEG2 W3 H1 F10:1 Cmono XCOLORRANGE=FULL\nFRAME\n\x10\x80\xeb";
    static const char lim[] = "YUV4MPEG2 W3 H1 Cmono\nFRAME Ixyz\n\x10\x80\xeb";
    FILE *f;
    ferc_y4m y;
    ferc_error err;
    uint8_t buf[3], gray[3];
    int eof;
    ferc_image img = {0, 0, 0, gray};
    ck_assert(open_mem(full, sizeof full - 1, &f, &y, &err) == FERC_OK);
    ck_assert(y.chroma == FERC_Y4M_MONO && y.full_range && y.frame_bytes == 3);
    ck_assert(ferc_y4m_read(&y, buf, &eof, &err) == FERC_OK && !eof);
    ferc_y4m_to_image(&y, buf, &img);
    ck_assert(img.channels == 1 && gray[0] == 16 && gray[1] == 128 && gray[2] == 235);
    fclose(f);
    ck_assert(open_mem(lim, sizeof lim - 1, &f, &y, &err) == FERC_OK);
    ck_assert_msg(ferc_y4m_read(&y, buf, &eof, &err) == FERC_OK, "%s", err.message);
    ferc_y4m_to_image(&y, buf, &img);
    /* (Y-16)*255/219 rounded: 16 -> 0, 128 -> 130, 235 -> 255. */
    ck_assert(gray[0] == 0 && gray[1] == 130 && gray[2] == 255);
    fclose(f);
    static const char odd[] = "YUV4MPEG2 W33 H25 C420mpeg2\n";
    ck_assert(open_mem(odd, sizeof odd - 1, &f, &y, &err) == FERC_OK);
    ck_assert_uint_eq(y.frame_bytes, 33 * 25 + 2 * 17 * 13);
    ck_assert(y.cw == 17 && y.ch == 13);
    ck_assert(ferc_y4m_read(&y, buf, &eof, &err) == FERC_OK && eof); /* header only: a clean end */
    fclose(f);
    static const char c444[] = "YUV4MPEG2 W4 H2 C444\n", c422[] = "YUV4MPEG2 W5 H2 C422\n";
    ck_assert(open_mem(c444, sizeof c444 - 1, &f, &y, &err) == FERC_OK && y.frame_bytes == 24);
    fclose(f);
    ck_assert(open_mem(c422, sizeof c422 - 1, &f, &y, &err) == FERC_OK && y.frame_bytes == 10 + 2 * 3 * 2);
    fclose(f);
}
END_TEST

START_TEST(corrupt_headers)
{
    static const struct { const char *data, *message; ferc_status code; } cases[] = {
        {"", "empty stream", FERC_ERR_FORMAT},
        {"GIF89a\n", "not a YUV4MPEG2 stream", FERC_ERR_FORMAT},
        {"YUV4MPEG2X W2 H2\n", "not a YUV4MPEG2 stream", FERC_ERR_FORMAT},
        {"YUV4MPEG2 W0 H10\n", "width '0' is not 1..16384", FERC_ERR_FORMAT},
        {"YUV4MPEG2 W100000 H100000\n", "width '100000' is not 1..16384", FERC_ERR_FORMAT},
        {"YUV4MPEG2 W10 H-5\n", "height '-5'", FERC_ERR_FORMAT},
        {"YUV4MPEG2 W16384 H16384\n", "16384x16384 pixels are over the 67108864-pixel limit", FERC_ERR_FORMAT},
        {"YUV4MPEG2 W10\n", "no W (width) or H (height)", FERC_ERR_FORMAT},
        {"YUV4MPEG2 W10 H10 F30\n", "frame rate '30' is not N:D", FERC_ERR_FORMAT},
        {"YUV4MPEG2 W10 H10 Fx:1\n", "frame rate 'x:1'", FERC_ERR_FORMAT},
        {"YUV4MPEG2 W10 H10 Q5\n", "unknown header field 'Q5'", FERC_ERR_FORMAT},
        {"YUV4MPEG2 W10 H10 C420p10\n", "colour space C420p10 is not supported", FERC_ERR_UNSUPPORTED},
        {"YUV4MPEG2 W10 H10 Cmono16\n", "colour space Cmono16 is not supported", FERC_ERR_UNSUPPORTED},
        {"YUV4MPEG2 W10 H10", "not one line", FERC_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        FILE *f;
        ferc_y4m y;
        ferc_error err = {0};
        size_t len = strlen(cases[i].data);
        ck_assert_int_eq(open_mem(cases[i].data, len, &f, &y, &err), cases[i].code);
        ck_assert_msg(strstr(err.message, cases[i].message), "case %zu: got '%s', want '%s'", i, err.message,
                      cases[i].message);
        fclose(f);
    }
    /* A header line longer than the limit is refused without reading on forever. */
    size_t n = 10000;
    char *big = malloc(n);
    memcpy(big, "YUV4MPEG2 ", 10);
    memset(big + 10, 'X', n - 10);
    FILE *f;
    ferc_y4m y;
    ferc_error err;
    ck_assert_int_eq(open_mem(big, n, &f, &y, &err), FERC_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "not one line"), "%s", err.message);
    fclose(f);
    free(big);
}
END_TEST

START_TEST(corrupt_frames)
{
    static const struct { const char *data, *message; } cases[] = {
        {"YUV4MPEG2 W4 H2 Cmono\nFRAME\n12345", "frame 1 truncated: 5 of 8 bytes"},
        {"YUV4MPEG2 W4 H2 Cmono\nFRAME\n12345678FRAME\n1", "frame 2 truncated: 1 of 8 bytes"},
        {"YUV4MPEG2 W4 H2 Cmono\nFRAMX\n12345678", "frame 1: expected a FRAME line"},
        {"YUV4MPEG2 W4 H2 Cmono\nFRAME\n123456789FRAME\n12345678", "frame 2: expected a FRAME line"},
        {"YUV4MPEG2 W4 H2 Cmono\nFRAME", "frame 1: expected a FRAME line"},
        {"YUV4MPEG2 W4 H2 Cmono\nFRAMES\n12345678", "frame 1: expected a FRAME line"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        FILE *f;
        ferc_y4m y;
        ferc_error err;
        uint8_t buf[8];
        int eof = 0;
        ck_assert(open_mem(cases[i].data, strlen(cases[i].data), &f, &y, &err) == FERC_OK);
        ferc_status s = FERC_OK;
        while (!s && !eof) s = ferc_y4m_read(&y, buf, &eof, &err);
        ck_assert_msg(s == FERC_ERR_FORMAT, "case %zu: no error", i);
        ck_assert_msg(strstr(err.message, cases[i].message), "case %zu: got '%s'", i, err.message);
        fclose(f);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("y4m");
    TCase *tc = tcase_create("y4m");
    tcase_add_test(tc, ffmpeg_clip_matches_opencv);
    tcase_add_test(tc, mono_ranges_and_odd_sizes);
    tcase_add_test(tc, corrupt_headers);
    tcase_add_test(tc, corrupt_frames);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
