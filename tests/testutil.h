/* testutil.h - helpers shared by the Check tests: where fixtures live, reading files,
 * comparing tensors with a stated tolerance. */
#ifndef FERC_TESTUTIL_H
#define FERC_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferc.h"

/* Fixtures are found relative to the repository root (the Makefile runs tests there);
 * FERC_TEST_DIR overrides. */
static inline const char *test_path(const char *rel, char *buf, size_t size)
{
    const char *dir = getenv("FERC_TEST_DIR");
    snprintf(buf, size, "%s/%s", dir && *dir ? dir : "tests", rel);
    return buf;
}

static inline unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* Largest violation of |got - want| <= atol + rtol * |want|, as a ratio to the allowed error
 * (<= 1 passes), plus the largest absolute difference. Any NaN mismatch fails. */
typedef struct {
    double worst_ratio, max_abs;
    size_t worst_index;
} tensor_cmp;

static inline tensor_cmp compare_floats(const float *got, const float *want, size_t n, double atol, double rtol)
{
    tensor_cmp c = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i], d = fabs(g - w);
        if (isnan(g) != isnan(w)) d = INFINITY;
        else if (isnan(g)) d = 0;
        double r = d / (atol + rtol * fabs(w));
        if (d > c.max_abs) c.max_abs = d;
        if (r > c.worst_ratio) { c.worst_ratio = r; c.worst_index = i; }
    }
    return c;
}

static inline size_t tensor_count(const ferc_tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->dims[i];
    return n;
}

static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
