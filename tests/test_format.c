/* test_format.c - the loader against broken and hostile files.
 *
 * tests/data/bad/ (tests/gen/make_bad_models.py) holds one file per way a weight file can be
 * wrong, each with the status and a phrase its error message must contain. Beyond those:
 * every truncation of a valid file, and every single-byte corruption of its index with the
 * checksum recomputed, must load or fail cleanly (ASan/valgrind make "cleanly" strict). */
#include "testutil.h"
#include "nn/graph.h"

static ferc_status status_of(const char *s)
{
    if (!strcmp(s, "ok")) return FERC_OK;
    if (!strcmp(s, "format")) return FERC_ERR_FORMAT;
    if (!strcmp(s, "unsupported")) return FERC_ERR_UNSUPPORTED;
    if (!strcmp(s, "nomem")) return FERC_ERR_NOMEM;
    return FERC_ERR_ARG;
}

START_TEST(each_bad_file_gives_its_error)
{
    char path[512], line[512];
    FILE *f = fopen(test_path("data/bad/expected.txt", path, sizeof path), "r");
    ck_assert_msg(f != NULL, "missing %s", path);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *name = strtok(line, "\t\n"), *status = strtok(NULL, "\t\n"), *phrase = strtok(NULL, "\n");
        char rel[256], fpath[512];
        snprintf(rel, sizeof rel, "data/bad/%s.ferc", name);
        ferc_model *m = (ferc_model *)1;
        ferc_error err;
        ferc_status s = ferc_model_load(test_path(rel, fpath, sizeof fpath), &m, &err);
        ck_assert_msg(s == status_of(status), "%s: status %s (%s), expected %s", name, ferc_status_name(s),
                      s ? err.message : "", status);
        if (s) {
            ck_assert_ptr_null(m);
            ck_assert_msg(strstr(err.message, phrase) != NULL, "%s: message '%s' lacks '%s'", name, err.message, phrase);
            ck_assert_msg(strstr(err.message, fpath) != NULL, "%s: message '%s' does not name the file", name,
                          err.message);
        } else {
            ferc_model_free(m);
        }
        n++;
    }
    fclose(f);
    ck_assert_int_ge(n, 25);
}
END_TEST

START_TEST(missing_file_is_an_io_error)
{
    ferc_model *m;
    ferc_error err;
    ck_assert_int_eq(ferc_model_load("no/such/model.ferc", &m, &err), FERC_ERR_IO);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err.message, "no/such/model.ferc"));
    ck_assert_int_eq(ferc_model_load("tests", &m, &err), FERC_ERR_IO); /* a directory */
}
END_TEST

static unsigned char *valid_file(size_t *size)
{
    char path[512];
    unsigned char *buf = read_file(test_path("data/bad/valid.ferc", path, sizeof path), size);
    ck_assert_ptr_nonnull(buf);
    return buf;
}

START_TEST(every_truncation_is_refused)
{
    size_t size;
    unsigned char *buf = valid_file(&size);
    for (size_t n = 0; n < size; n++) {
        ferc_model *m;
        ferc_error err;
        ck_assert_msg(ferc_model_load_memory(buf, n, &m, &err) == FERC_ERR_FORMAT, "prefix of %zu bytes loaded", n);
    }
    ferc_model *m;
    ck_assert_int_eq(ferc_model_load_memory(buf, size, &m, NULL), FERC_OK);
    ferc_model_free(m);
    free(buf);
}
END_TEST

/* With the checksum fixed up, any byte of the index set to 0x00, 0xff or flipped must give
 * a loaded model or a clean error, never a crash or a leak. */
START_TEST(every_index_corruption_is_handled)
{
    size_t size;
    unsigned char *buf = valid_file(&size);
    const size_t index_end = (size_t)buf[32] | (size_t)buf[33] << 8; /* index size, < 64 KiB here */
    int loaded = 0, refused = 0;
    for (size_t i = 64; i < 64 + index_end; i++) {
        const unsigned char orig = buf[i];
        const unsigned char vals[3] = {0x00, 0xff, (unsigned char)(orig ^ 0x5a)};
        for (int k = 0; k < 3; k++) {
            if (vals[k] == orig) continue;
            buf[i] = vals[k];
            uint32_t crc = ferc_crc32(buf + 64, size - 64);
            memcpy(buf + 56, &crc, 4); /* little-endian host, as the format */
            ferc_model *m;
            ferc_error err;
            if (ferc_model_load_memory(buf, size, &m, &err) == FERC_OK) {
                loaded++;
                ferc_model_free(m);
            } else {
                ck_assert_msg(err.message[0] != 0, "byte %zu: error without a message", i);
                refused++;
            }
        }
        buf[i] = orig;
    }
    ck_assert_int_gt(refused, 100);
    ck_assert_int_gt(loaded, 0); /* e.g. a changed metadata character is still a valid file */
    free(buf);
}
END_TEST

START_TEST(metadata_and_tensors_are_readable)
{
    size_t size;
    unsigned char *buf = valid_file(&size);
    ferc_model *m;
    ferc_error err;
    ck_assert_int_eq(ferc_model_load_memory(buf, size, &m, &err), FERC_OK);
    ck_assert_str_eq(ferc_model_meta(m, "name"), "tiny");
    ck_assert_ptr_null(ferc_model_meta(m, "nope"));
    ck_assert_int_eq(ferc_model_num_nodes(m), 3);
    ck_assert_int_eq(ferc_model_param_count(m), 3 * 3 * 3 * 2 + 3 + 2 * 48);
    ferc_tensor t;
    ck_assert_int_eq(ferc_model_tensor(m, "c.w", &t), 0);
    ck_assert_int_eq(t.ndim, 4);
    ck_assert_int_eq((uintptr_t)t.data % 64, 0);
    ck_assert_int_eq(ferc_model_tensor(m, "c", &t), -1); /* activations are not stored tensors */
    /* ones everywhere: each conv output is 2 channels times the in-bounds taps */
    ferc_context *c;
    ck_assert_int_eq(ferc_context_create(m, NULL, &c, &err), FERC_OK);
    float x[32];
    for (int i = 0; i < 32; i++) x[i] = 1.f;
    const float *in[1] = {x};
    ck_assert_int_eq(ferc_run(c, in, 1, &err), FERC_OK);
    ferc_output(c, 0, &t);
    /* 4x4 image, 3x3 ones kernel, padding 1: tap counts 4 corners x4, 8 edges x6, 4 inner x9
     * = 100 per channel, x2 input channels x3 output channels, summed by the dense row. */
    ck_assert_float_eq(t.data[0], 600.f);
    ck_assert_float_eq(t.data[1], 600.f);
    ferc_context_free(c);
    ferc_model_free(m);
    free(buf);
}
END_TEST

START_TEST(half_floats_convert_exactly)
{
    ck_assert_float_eq(ferc_half_to_float(0x3c00), 1.0f);
    ck_assert_float_eq(ferc_half_to_float(0xc000), -2.0f);
    ck_assert_float_eq(ferc_half_to_float(0x7bff), 65504.0f);
    ck_assert_float_eq(ferc_half_to_float(0x0001), 5.9604644775390625e-08f); /* smallest subnormal */
    ck_assert_float_eq(ferc_half_to_float(0x03ff), 6.0975551605224609e-05f); /* largest subnormal */
    ck_assert(isinf(ferc_half_to_float(0x7c00)));
    ck_assert(isnan(ferc_half_to_float(0x7e00)));
    ck_assert(signbit(ferc_half_to_float(0x8000)));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("loader");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, each_bad_file_gives_its_error);
    tcase_add_test(tc, missing_file_is_an_io_error);
    tcase_add_test(tc, every_truncation_is_refused);
    tcase_add_test(tc, every_index_corruption_is_handled);
    tcase_add_test(tc, metadata_and_tensors_are_readable);
    tcase_add_test(tc, half_floats_convert_exactly);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
