/* pointwise_scalar.c - reference unary maps (sigmoid, tanh, hard sigmoid, hard swish, clip),
 * PReLU and broadcasting binary ops, NHWC (semantics in kernels.h). */
#include "kernels/kernels.h"

#include <math.h>

float ferc_unary1(float v, int fn, float p0, float p1)
{
    switch (fn) {
    case FERC_UN_SIGMOID: return 1.f / (1.f + expf(-v));
    case FERC_UN_TANH: return tanhf(v);
    case FERC_UN_HARD_SIGMOID: {
        const float t = p0 * v + p1;
        return t > 0.f ? (t < 1.f ? t : 1.f) : 0.f;
    }
    case FERC_UN_HARD_SWISH: {
        const float t = v * (1.f / 6.f) + 0.5f;
        return v * (t > 0.f ? (t < 1.f ? t : 1.f) : 0.f);
    }
    case FERC_UN_CLIP: {
        const float t = v < p0 ? p0 : v;
        return t > p1 ? p1 : t;
    }
    default: return v;
    }
}

void ferc_unary_scalar(size_t count, int fn, float p0, float p1, const float *x, float *y, int threads)
{
    (void)threads;
    for (size_t i = 0; i < count; i++) y[i] = ferc_unary1(x[i], fn, p0, p1);
}

void ferc_prelu_scalar(size_t count, int c, const float *x, const float *slope, float *y, int threads)
{
    (void)threads;
    for (size_t i = 0; i < count; i++) y[i] = x[i] >= 0.f ? x[i] : x[i] * slope[i % (size_t)c];
}

float ferc_binary1(float a, float b, int op)
{
    switch (op) {
    case FERC_BIN_SUB: return a - b;
    case FERC_BIN_MUL: return a * b;
    case FERC_BIN_DIV: return a / b;
    default: return a + b;
    }
}

void ferc_binary_scalar(const ferc_binary_desc *d, const float *a, const float *b, float *y, int threads)
{
    (void)threads;
    size_t i = 0;
    for (int n = 0; n < d->y[0]; n++)
        for (int h = 0; h < d->y[1]; h++)
            for (int w = 0; w < d->y[2]; w++)
                for (int c = 0; c < d->y[3]; c++) {
#define AT(t, D) (((((size_t)(D[0] > 1 ? n : 0) * D[1] + (D[1] > 1 ? h : 0)) * D[2] + (D[2] > 1 ? w : 0)) * D[3]) + \
                  (D[3] > 1 ? c : 0))
                    y[i++] = ferc_binary1(a[AT(a, d->a)], b[AT(b, d->b)], d->op);
#undef AT
                }
}
