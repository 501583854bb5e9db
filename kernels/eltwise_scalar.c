/* eltwise_scalar.c - reference element-wise ops: per-channel affine (batch norm, scale) with
 * an activation, residual add, and softmax. */
#include "kernels/kernels.h"

#include <math.h>

void ferc_affine_scalar(size_t count, int c, const float *x, const float *scale, const float *shift, float *y,
                        int act, float alpha, int threads)
{
    (void)threads;
    for (size_t i = 0; i < count; i++) {
        const int k = (int)(i % (size_t)c);
        float v = x[i];
        if (scale) v *= scale[k];
        if (shift) v += shift[k];
        y[i] = ferc_act1(v, act, alpha);
    }
}

void ferc_add_scalar(size_t count, const float *a, const float *b, float *y, int act, float alpha, int threads)
{
    (void)threads;
    for (size_t i = 0; i < count; i++) y[i] = ferc_act1(a[i] + b[i], act, alpha);
}

/* Subtracting the row maximum keeps exp() from overflowing; the result is unchanged. */
void ferc_softmax_scalar(size_t rows, int cols, const float *x, float *y, int threads)
{
    (void)threads;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * (size_t)cols;
        float *yr = y + r * (size_t)cols;
        float m = xr[0], s = 0.f;
        for (int i = 1; i < cols; i++) m = xr[i] > m ? xr[i] : m;
        for (int i = 0; i < cols; i++) s += (yr[i] = expf(xr[i] - m));
        for (int i = 0; i < cols; i++) yr[i] /= s;
    }
}
