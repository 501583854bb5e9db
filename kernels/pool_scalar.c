/* pool_scalar.c - reference max, average and global average pooling, NHWC (kernels.h). */
#include "kernels/kernels.h"

#include <math.h>

void ferc_maxpool_scalar(const ferc_pool_desc *d, const float *x, float *y, int threads)
{
    (void)threads;
    for (int n = 0; n < d->n; n++)
        for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++)
                for (int c = 0; c < d->c; c++) {
                    float m = -INFINITY;
                    for (int ky = 0; ky < d->kh; ky++) {
                        const int iy = oy * d->sh - d->pt + ky;
                        if (iy < 0 || iy >= d->h) continue;
                        for (int kx = 0; kx < d->kw; kx++) {
                            const int ix = ox * d->sw - d->pl + kx;
                            if (ix < 0 || ix >= d->w) continue;
                            const float v = x[(((size_t)n * d->h + iy) * d->w + ix) * d->c + c];
                            if (v > m || isnan(v)) m = v; /* NaN propagates, as PyTorch */
                        }
                    }
                    y[(((size_t)n * d->oh + oy) * d->ow + ox) * d->c + c] = m;
                }
}

void ferc_avgpool_scalar(const ferc_pool_desc *d, const float *x, float *y, int threads)
{
    (void)threads;
    for (int n = 0; n < d->n; n++)
        for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++) {
                int y0, y1, x0, x1;
                const int area = ferc_avgpool_window(d, oy, ox, &y0, &y1, &x0, &x1);
                for (int c = 0; c < d->c; c++) {
                    float s = 0.f;
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++) s += x[(((size_t)n * d->h + iy) * d->w + ix) * d->c + c];
                    y[(((size_t)n * d->oh + oy) * d->ow + ox) * d->c + c] = area > 0 ? s / (float)area : 0.f;
                }
            }
}

void ferc_global_avgpool_scalar(int n, int hw, int c, const float *x, float *y, int threads)
{
    (void)threads;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++) {
            float s = 0.f;
            for (int p = 0; p < hw; p++) s += x[((size_t)i * hw + p) * c + k];
            y[(size_t)i * c + k] = s / (float)hw;
        }
}

void ferc_global_maxpool_scalar(int n, int hw, int c, const float *x, float *y, int threads)
{
    (void)threads;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++) {
            float m = -INFINITY;
            for (int p = 0; p < hw; p++) {
                const float v = x[((size_t)i * hw + p) * c + k];
                if (v > m || isnan(v)) m = v;
            }
            y[(size_t)i * c + k] = m;
        }
}
