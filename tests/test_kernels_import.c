/* test_kernels_import.c - the kernels the model importers added (kernels.h: unary, prelu,
 * binary, resize, global_maxpool), on seeded random inputs plus 0, +-inf, NaN and values
 * far outside any activation's range.
 *
 * The ISA in use (FERC_ISA; tests/run.sh runs each) against the scalar reference: hard
 * sigmoid, hard swish, clip, PReLU and the broadcasting binary ops bitwise equal; sigmoid
 * (a polynomial exp instead of expf) within 1e-6 relative, NaN kept; 1 and 2 threads bitwise
 * identical. Resize and global max pooling (scalar everywhere) against values worked out by
 * hand from ONNX's definitions. */
#include "testutil.h"

#include "kernels/kernels.h"
#include "nn/tensor.h"

#include <stdint.h>

static uint64_t rng_state;

static float frand(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / (1 << 23))) - 1.f;
}

/* n values spread over [-scale, scale), the first few special. */
static float *input(size_t n, float scale)
{
    static const float special[] = {0.f, -0.f, INFINITY, -INFINITY, NAN, 100.f, -100.f, 3.f, -3.f, 6.f};
    float *p = ferc_alloc(n * sizeof(float) + 64);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) p[i] = i < 10 ? special[i] : frand() * scale;
    return p;
}

static const ferc_kernel_table *simd(void) { return ferc_kernels(); }
static const ferc_kernel_table *ref(void) { return ferc_kernels_for("scalar"); }

static void check_bitwise(const char *what, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) && !(isnan(a[i]) && isnan(b[i])))
            ck_abort_msg("%s [%s]: element %zu is %.9g, scalar %.9g", what, simd()->isa, i, a[i], b[i]);
}

START_TEST(unary_matches_scalar)
{
    rng_state = 4242;
    static const size_t sizes[] = {1, 7, 17, 100, 40000};
    for (size_t si = 0; si < 5; si++)
        for (int fn = FERC_UN_SIGMOID; fn <= FERC_UN_CLIP; fn++) {
            const size_t n = sizes[si];
            float *x = input(n, 12.f), *want = ferc_alloc(n * 4 + 64), *g1 = ferc_alloc(n * 4 + 64),
                  *g2 = ferc_alloc(n * 4 + 64);
            const float p0 = fn == FERC_UN_CLIP ? -0.5f : 0.2f, p1 = fn == FERC_UN_CLIP ? 6.f : 0.5f;
            char what[64];
            snprintf(what, sizeof what, "unary fn %d, %zu values", fn, n);
            ref()->unary(n, fn, p0, p1, x, want, 1);
            simd()->unary(n, fn, p0, p1, x, g1, 1);
            simd()->unary(n, fn, p0, p1, x, g2, 2);
            check_bitwise(what, g2, g1, n);
            if (fn == FERC_UN_SIGMOID) {
                for (size_t i = 0; i < n; i++) {
                    if (isnan(want[i])) { ck_assert_msg(isnan(g1[i]), "%s: NaN lost at %zu", what, i); continue; }
                    const double d = fabs((double)g1[i] - want[i]);
                    ck_assert_msg(d <= 1e-6 * fabs(want[i]) + 1e-37, "%s [%s]: sigmoid(%.9g) = %.9g, scalar %.9g", what,
                                  simd()->isa, x[i], g1[i], want[i]);
                }
            } else {
                check_bitwise(what, g1, want, n);
            }
            ferc_free(x), ferc_free(want), ferc_free(g1), ferc_free(g2);
        }
    /* the definitions themselves, on a few points */
    float x[4] = {-4.f, 0.f, 1.5f, 9.f}, y[4];
    ref()->unary(4, FERC_UN_HARD_SWISH, 0, 0, x, y, 1);
    ck_assert(y[0] == 0.f && y[1] == 0.f && y[2] == 1.125f && y[3] == 9.f);
    ref()->unary(4, FERC_UN_CLIP, -1.f, 2.f, x, y, 1);
    ck_assert(y[0] == -1.f && y[1] == 0.f && y[2] == 1.5f && y[3] == 2.f);
    ref()->unary(4, FERC_UN_SIGMOID, 0, 0, x, y, 1);
    ck_assert(y[1] == 0.5f && fabsf(y[0] - 0.01798621f) < 1e-8f);
}
END_TEST

START_TEST(prelu_and_binary_bitwise)
{
    rng_state = 777;
    static const int chans[] = {1, 3, 8, 17, 64};
    for (int ci = 0; ci < 5; ci++) {
        const int c = chans[ci];
        const size_t n = (size_t)300 * c;
        float *x = input(n, 4.f), *sl = input((size_t)c, 1.f), *want = ferc_alloc(n * 4), *g1 = ferc_alloc(n * 4),
              *g2 = ferc_alloc(n * 4);
        sl[0] = 0.25f; /* not a special value: a slope */
        ref()->prelu(n, c, x, sl, want, 1);
        simd()->prelu(n, c, x, sl, g1, 1);
        simd()->prelu(n, c, x, sl, g2, 2);
        check_bitwise("prelu", g1, want, n);
        check_bitwise("prelu", g2, want, n);
        ferc_free(x), ferc_free(sl), ferc_free(want), ferc_free(g1), ferc_free(g2);
    }
    /* output [2, 5, 6, C]; each operand either has a dim or 1 there */
    static const int shapes[][2][4] = {
        {{2, 5, 6, 0}, {2, 5, 6, 0}}, {{2, 5, 6, 0}, {2, 1, 1, 0}}, {{2, 1, 1, 0}, {2, 5, 6, 0}},
        {{2, 5, 6, 0}, {1, 1, 1, 1}}, {{1, 1, 1, 1}, {2, 5, 6, 0}}, {{2, 5, 1, 0}, {1, 1, 6, 1}},
        {{2, 5, 6, 1}, {1, 1, 1, 0}},
    };
    for (int ci = 0; ci < 5; ci++)
        for (int si = 0; si < 7; si++)
            for (int op = FERC_BIN_ADD; op <= FERC_BIN_DIV; op++) {
                ferc_binary_desc d = {{2, 5, 6, chans[ci]}, {0}, {0}, op};
                size_t na = 1, nb = 1;
                for (int k = 0; k < 4; k++) {
                    d.a[k] = shapes[si][0][k] ? shapes[si][0][k] : chans[ci];
                    d.b[k] = shapes[si][1][k] ? shapes[si][1][k] : chans[ci];
                    na *= (size_t)d.a[k], nb *= (size_t)d.b[k];
                }
                const size_t n = (size_t)60 * chans[ci];
                float *a = input(na, 3.f), *b = input(nb, 3.f), *want = ferc_alloc(n * 4), *g1 = ferc_alloc(n * 4),
                      *g2 = ferc_alloc(n * 4);
                char what[64];
                snprintf(what, sizeof what, "binary op %d, shapes %d, C %d", op, si, chans[ci]);
                ref()->binary(&d, a, b, want, 1);
                simd()->binary(&d, a, b, g1, 1);
                simd()->binary(&d, a, b, g2, 2);
                check_bitwise(what, g1, want, n);
                check_bitwise(what, g2, want, n);
                ferc_free(a), ferc_free(b), ferc_free(want), ferc_free(g1), ferc_free(g2);
            }
    /* broadcasting itself: [1,1,2,2] * [1,1,1,2] */
    float a[4] = {1, 2, 3, 4}, b[2] = {10, 100}, y[4];
    ferc_binary_desc d = {{1, 1, 2, 2}, {1, 1, 2, 2}, {1, 1, 1, 2}, FERC_BIN_MUL};
    ref()->binary(&d, a, b, y, 1);
    ck_assert(y[0] == 10 && y[1] == 200 && y[2] == 30 && y[3] == 400);
}
END_TEST

/* ONNX Resize on a 1 x 2 x 3 x 1 map [[0, 1, 2], [3, 4, 5]]. */
START_TEST(resize_follows_onnx)
{
    const float x[6] = {0, 1, 2, 3, 4, 5};
    float y[4 * 6];
    /* nearest, asymmetric, floor, x2: every pixel repeated */
    ferc_resize_desc d = {1, 2, 3, 1, 4, 6, 0, 1, 2, 2.f, 2.f};
    ref()->resize(&d, x, y, 1);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 6; c++) ck_assert(y[r * 6 + c] == x[(r / 2) * 3 + c / 2]);
    /* bilinear, align_corners, 2x3 -> 3x5: corners kept, steps of a half */
    d = (ferc_resize_desc){1, 2, 3, 1, 3, 5, 1, 2, 0, 1.5f, 5.f / 3.f};
    ref()->resize(&d, x, y, 1);
    const float ac[15] = {0, 0.5f, 1, 1.5f, 2, 1.5f, 2, 2.5f, 3, 3.5f, 3, 3.5f, 4, 4.5f, 5};
    for (int i = 0; i < 15; i++) ck_assert_msg(fabsf(y[i] - ac[i]) < 1e-6f, "align_corners %d: %g, want %g", i, y[i], ac[i]);
    /* bilinear, half_pixel, x2 along W on the first row: source (ox + 0.5) / 2 - 0.5 clamped
     * to [0, 2]: -0.25 -> 0, 0.25, 0.75, 1.25, 1.75, 2.25 -> 2 */
    d = (ferc_resize_desc){1, 1, 3, 1, 1, 6, 1, 0, 0, 1.f, 2.f};
    ref()->resize(&d, x, y, 1);
    const float hp[6] = {0, 0.25f, 0.75f, 1.25f, 1.75f, 2};
    for (int i = 0; i < 6; i++) ck_assert_msg(fabsf(y[i] - hp[i]) < 1e-6f, "half_pixel %d: %g, want %g", i, y[i], hp[i]);
    /* nearest, half_pixel, round_prefer_floor, 3 -> 2 (scale 2/3): sources 0.25 and 1.75 -> 0, 2 */
    d = (ferc_resize_desc){1, 1, 3, 1, 1, 2, 0, 0, 0, 1.f, 2.f / 3.f};
    ref()->resize(&d, x, y, 1);
    ck_assert(y[0] == 0 && y[1] == 2);
}
END_TEST

START_TEST(global_maxpool_takes_max_and_nan)
{
    const float x[2 * 3 * 2] = {1, -5, 7, -2, 3, NAN, /* sample 2 */ -1, -1, -3, -0.5f, -2, -9};
    float y[4];
    ref()->global_maxpool(2, 3, 2, x, y, 1);
    ck_assert(y[0] == 7 && isnan(y[1]) && y[2] == -1 && y[3] == -0.5f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels_import");
    TCase *tc = tcase_create("simd");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, unary_matches_scalar);
    tcase_add_test(tc, prelu_and_binary_bitwise);
    tcase_add_test(tc, resize_follows_onnx);
    tcase_add_test(tc, global_maxpool_takes_max_and_nan);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
