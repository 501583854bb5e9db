/* test_image.c - absurd image headers are refused before decoding, with the size named; the
 * caller's pixel limit; the fuzz findings of issue 20 (tests/gen/make_bad_images.py);
 * ferc_image_encode gives the bytes ferc_image_save writes. */
#include "testutil.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* A second, unguarded copy of stb_image built with the library's flags (asserts on, as in
 * every ferc build), whose allocations are filled with 0xFF: what an unlucky heap leaves in
 * a table no DHT defined. It shows what ferc's guard in detect/stb_impl.c stands between. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
static void *ff_malloc(size_t n)
{
    void *p = malloc(n);
    if (p) memset(p, 0xFF, n);
    return p;
}
#define STBI_MALLOC(sz) ff_malloc(sz)
#define STBI_REALLOC(p, sz) realloc(p, sz)
#define STBI_FREE(p) free(p)
#define STBI_ONLY_JPEG
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#pragma GCC diagnostic ignored "-Wunused-function" /* stb's unused static declarations, reported at the end */
#endif

static ferc_status load(const char *rel, int channels, int64_t max_pixels, ferc_image *img, ferc_error *err)
{
    char path[512];
    return ferc_image_load_limit(test_path(rel, path, sizeof path), channels, max_pixels, img, err);
}

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

/* Fuzz finding 1: 4294967295 x 4294967295 overflowed the int64 product in the guard (UBSan). */
START_TEST(header_sides_checked_before_multiplying)
{
    ferc_image img;
    ferc_error err;
    ck_assert_int_eq(load("cli/bad/png_header_overflow.png", 3, 0, &img, &err), FERC_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "image header says 4294967295x4294967295 pixels"), "%s", err.message);
    ck_assert_ptr_null(img.data);
}
END_TEST

/* Fuzz finding 2: a scan naming a Huffman table no DHT defines. Unguarded, stb decodes with
 * the unbuilt table and its STBI_ASSERT aborts the process (under the sanitizers the same
 * bad index may be reported first): the child must not come back normally. */
START_TEST(unguarded_stb_aborts_on_undefined_huffman_table)
{
    char path[512];
    size_t n;
    unsigned char *buf = read_file(test_path("cli/bad/jpeg_undefined_huffman.jpg", path, sizeof path), &n);
    ck_assert_ptr_nonnull(buf);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL);
        if (!freopen("/dev/null", "w", stderr)) _exit(4); /* the assertion's message is expected */
        int w, h, c;
        unsigned char *px = stbi_load_from_memory(buf, (int)n, &w, &h, &c, 1);
        _exit(px ? 0 : 3);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) ? WTERMSIG(status) == SIGABRT : WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3,
                  "unguarded stb: %s %d", WIFSIGNALED(status) ? "signal" : "exit",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    free(buf);
}
END_TEST

START_TEST(undefined_huffman_table_is_refused_by_name)
{
    ferc_image img;
    ferc_error err;
    for (int ch = 1; ch <= 3; ch += 2) {
        ck_assert_int_eq(load("cli/bad/jpeg_undefined_huffman.jpg", ch, 0, &img, &err), FERC_ERR_FORMAT);
        ck_assert_msg(strstr(err.message, "JPEG scan uses DC Huffman table 1, which no DHT segment defines"), "%s",
                      err.message);
        ck_assert_ptr_null(img.data);
    }
}
END_TEST

/* The scan check must let progressive JPEGs through (their DC scans name AC tables that are
 * defined later); progressive and baseline encodings of one picture carry the same
 * coefficients, so the same decoder gives the same pixels. */
START_TEST(progressive_decodes_like_its_baseline_twin)
{
    ferc_image p, b;
    ferc_error err;
    ck_assert_msg(load("data/jpeg_progressive.jpg", 3, 0, &p, &err) == FERC_OK, "%s", err.message);
    ck_assert_msg(load("data/jpeg_baseline.jpg", 3, 0, &b, &err) == FERC_OK, "%s", err.message);
    ck_assert_int_eq(p.width, 16);
    ck_assert_int_eq(p.height, 16);
    ck_assert_int_eq(b.width, 16);
    ck_assert_int_eq(memcmp(p.data, b.data, 16 * 16 * 3), 0);
    ferc_image_free(&p);
    ferc_image_free(&b);
}
END_TEST

/* The caller's limit: astronaut.jpg is 512x512. */
START_TEST(caller_pixel_limit)
{
    ferc_image img;
    ferc_error err;
    ck_assert_int_eq(load("data/astronaut.jpg", 3, 512 * 512 - 1, &img, &err), FERC_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "512x512 pixels, limit 262143 pixels"), "%s", err.message);
    ck_assert_ptr_null(img.data);
    ck_assert_msg(load("data/astronaut.jpg", 3, 512 * 512, &img, &err) == FERC_OK, "%s", err.message);
    ck_assert_int_eq(img.width * img.height, 512 * 512);
    ferc_image_free(&img);
    /* 0, and anything over the library's own limit, mean the library's limit */
    ck_assert_int_eq(load("cli/bad/png_header_overflow.png", 3, INT64_MAX, &img, &err), FERC_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "limit 67108864 pixels"), "%s", err.message);
}
END_TEST

/* Fuzz run of issue 20: a 39-byte TGA (after the harness's first byte) whose header
 * declares 15871x255: stb fills the missing pixels, so 4 M pixels come from 39 bytes (the
 * fuzzer timed out on it only because it was starved of CPU: 0.7 s under ASan). It decodes
 * to its declared size, and a caller's pixel limit refuses it before decoding. */
START_TEST(tiny_tga_with_large_header)
{
    char path[512];
    size_t n;
    unsigned char *buf = read_file(test_path("../fuzz/corpus/image/regress_tga_4mpixel_slow.tga", path, sizeof path), &n);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(n, 39);
    ferc_image img;
    ferc_error err;
    ck_assert_msg(ferc_image_load_memory(buf + 1, n - 1, 1, &img, &err) == FERC_OK, "%s", err.message);
    ck_assert_int_eq(img.width, 15871);
    ck_assert_int_eq(img.height, 255);
    ferc_image_free(&img);
    ck_assert_int_eq(ferc_image_load_memory_limit(buf + 1, n - 1, 1, 1000000, &img, &err), FERC_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "image header says 15871x255 pixels, limit 1000000 pixels"), "%s", err.message);
    free(buf);
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
    tcase_add_test(tc, header_sides_checked_before_multiplying);
    tcase_add_test(tc, unguarded_stb_aborts_on_undefined_huffman_table);
    tcase_add_test(tc, undefined_huffman_table_is_refused_by_name);
    tcase_add_test(tc, progressive_decodes_like_its_baseline_twin);
    tcase_add_test(tc, caller_pixel_limit);
    tcase_add_test(tc, tiny_tga_with_large_header);
    tcase_add_test(tc, encode_equals_save);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
