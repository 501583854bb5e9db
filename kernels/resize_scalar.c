/* resize_scalar.c - ONNX Resize (nearest and bilinear) on NHWC (semantics in kernels.h).
 * Whole channel runs are copied or blended per output pixel, so the loop over channels is
 * the inner, contiguous one; there is no SIMD variant. */
#include "kernels/kernels.h"
#include "kernels/threads.h"

#include <math.h>
#include <string.h>

static float source(int o, int out, int in, float scale, int coord)
{
    switch (coord) {
    case 1: return (float)o / scale;
    case 2: return out > 1 ? (float)o * (float)(in - 1) / (float)(out - 1) : 0.f;
    case 3: return out > 1 ? ((float)o + 0.5f) / scale - 0.5f : 0.f;
    default: return ((float)o + 0.5f) / scale - 0.5f;
    }
}

static int nearest(float s, int mode, int in)
{
    float f = floorf(s);
    int i;
    switch (mode) {
    case 1: i = (int)(s - f >= 0.5f ? f + 1.f : f); break;       /* round_prefer_ceil */
    case 2: i = (int)f; break;                                   /* floor */
    case 3: i = (int)ceilf(s); break;                            /* ceil */
    default: i = (int)(s - f > 0.5f ? f + 1.f : f); break;       /* round_prefer_floor */
    }
    return i < 0 ? 0 : (i > in - 1 ? in - 1 : i);
}

/* Source index pair and weight of the second for linear; clamped as ONNX Runtime does. */
static void linear(float s, int in, int *i0, int *i1, float *l)
{
    if (s < 0.f) s = 0.f;
    if (s > (float)(in - 1)) s = (float)(in - 1);
    *i0 = (int)s;
    *i1 = *i0 + 1 < in ? *i0 + 1 : *i0;
    *l = s - (float)*i0;
}

void ferc_resize_scalar(const ferc_resize_desc *d, const float *x, float *y, int threads)
{
    const size_t c = (size_t)d->c;
#pragma omp parallel for num_threads(threads > 0 ? threads : 1) collapse(2) schedule(static)
    for (int n = 0; n < d->n; n++)
        for (int oy = 0; oy < d->oh; oy++) {
            const float sy = source(oy, d->oh, d->h, d->scale_h, d->coord);
            const float *xn = x + (size_t)n * d->h * d->w * c;
            float *yr = y + ((size_t)n * d->oh + oy) * d->ow * c;
            for (int ox = 0; ox < d->ow; ox++) {
                const float sx = source(ox, d->ow, d->w, d->scale_w, d->coord);
                float *yp = yr + (size_t)ox * c;
                if (!d->linear) {
                    const int iy = nearest(sy, d->nearest, d->h), ix = nearest(sx, d->nearest, d->w);
                    memcpy(yp, xn + ((size_t)iy * d->w + ix) * c, c * sizeof(float));
                    continue;
                }
                int y0, y1, x0, x1;
                float ly, lx;
                linear(sy, d->h, &y0, &y1, &ly);
                linear(sx, d->w, &x0, &x1, &lx);
                const float *p00 = xn + ((size_t)y0 * d->w + x0) * c, *p01 = xn + ((size_t)y0 * d->w + x1) * c;
                const float *p10 = xn + ((size_t)y1 * d->w + x0) * c, *p11 = xn + ((size_t)y1 * d->w + x1) * c;
                for (size_t k = 0; k < c; k++)
                    yp[k] = (1.f - ly) * ((1.f - lx) * p00[k] + lx * p01[k]) + ly * ((1.f - lx) * p10[k] + lx * p11[k]);
            }
        }
}
