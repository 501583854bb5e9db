/* pool_simd.h - the body of the AVX2 and AVX-512 pooling kernels (pool_avx2.c and
 * pool_avx512.c include it under their own flags). Vectors run along the channels of one
 * pixel (NHWC); each output takes the same operations in the same order as the scalar
 * reference, so results are bitwise equal to it: max keeps the first of equal values and
 * propagates NaN, sums run over the window in row order, then one division. Threads take
 * contiguous ranges of output rows. */
#include "kernels/kernels.h"
#include "kernels/simd.h"

#include <math.h>
#include "kernels/threads.h"

/* Below this many outputs a parallel region costs more than it saves. */
#define POOL_MIN_PARALLEL 16384

static inline int pool_threads(size_t outputs, int threads)
{
    return outputs < POOL_MIN_PARALLEL || threads < 1 ? 1 : threads;
}

static void maxpool_rows(const ferc_pool_desc *d, const float *x, float *y, long r0, long r1)
{
    const size_t c = (size_t)d->c;
    for (long row = r0; row < r1; row++) {
        const int n = (int)(row / d->oh), oy = (int)(row % d->oh);
        int y0 = oy * d->sh - d->pt, y1 = y0 + d->kh;
        if (y0 < 0) y0 = 0;
        if (y1 > d->h) y1 = d->h;
        for (int ox = 0; ox < d->ow; ox++) {
            int x0 = ox * d->sw - d->pl, x1 = x0 + d->kw;
            if (x0 < 0) x0 = 0;
            if (x1 > d->w) x1 = d->w;
            float *yp = y + (((size_t)n * d->oh + oy) * d->ow + ox) * c;
            for (int c0 = 0; c0 < d->c; c0 += VL) {
                const int nc = d->c - c0 < VL ? d->c - c0 : VL;
                vf m = vset1(-INFINITY);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        const float *xp = x + (((size_t)n * d->h + iy) * d->w + ix) * c + c0;
                        const vf v = nc == VL ? vload(xp) : vload_n(xp, nc);
                        m = vtake_nan(vmax(v, m), v);
                    }
                if (nc == VL) vstore(yp + c0, m);
                else vstore_n(yp + c0, m, nc);
            }
        }
    }
}

void FERC_SIMD(ferc_maxpool)(const ferc_pool_desc *d, const float *x, float *y, int threads)
{
    const long rows = (long)d->n * d->oh;
#pragma omp parallel num_threads(pool_threads((size_t)rows * d->ow * d->c, threads))
    {
        const int tid = ferc_thread_id(), nth = ferc_thread_count();
        maxpool_rows(d, x, y, rows * tid / nth, rows * (tid + 1) / nth);
    }
}

static void avgpool_rows(const ferc_pool_desc *d, const float *x, float *y, long r0, long r1)
{
    const size_t c = (size_t)d->c;
    for (long row = r0; row < r1; row++) {
        const int n = (int)(row / d->oh), oy = (int)(row % d->oh);
        for (int ox = 0; ox < d->ow; ox++) {
            int y0, y1, x0, x1;
            const int area = ferc_avgpool_window(d, oy, ox, &y0, &y1, &x0, &x1);
            const vf div = vset1((float)area);
            float *yp = y + (((size_t)n * d->oh + oy) * d->ow + ox) * c;
            for (int c0 = 0; c0 < d->c; c0 += VL) {
                const int nc = d->c - c0 < VL ? d->c - c0 : VL;
                vf s = vzero();
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        const float *xp = x + (((size_t)n * d->h + iy) * d->w + ix) * c + c0;
                        s = vadd(s, nc == VL ? vload(xp) : vload_n(xp, nc));
                    }
                const vf o = area > 0 ? vdiv(s, div) : vzero();
                if (nc == VL) vstore(yp + c0, o);
                else vstore_n(yp + c0, o, nc);
            }
        }
    }
}

void FERC_SIMD(ferc_avgpool)(const ferc_pool_desc *d, const float *x, float *y, int threads)
{
    const long rows = (long)d->n * d->oh;
#pragma omp parallel num_threads(pool_threads((size_t)rows * d->ow * d->c, threads))
    {
        const int tid = ferc_thread_id(), nth = ferc_thread_count();
        avgpool_rows(d, x, y, rows * tid / nth, rows * (tid + 1) / nth);
    }
}

/* Threads split the (image, channel vector) pairs. */
void FERC_SIMD(ferc_global_avgpool)(int n, int hw, int c, const float *x, float *y, int threads)
{
    const int cv = (c + VL - 1) / VL;
    const long jobs = (long)n * cv;
#pragma omp parallel num_threads(pool_threads((size_t)n * hw * c, threads))
    {
        const int tid = ferc_thread_id(), nth = ferc_thread_count();
        const vf div = vset1((float)hw);
        for (long j = jobs * tid / nth; j < jobs * (tid + 1) / nth; j++) {
            const int i = (int)(j / cv), c0 = (int)(j % cv) * VL, nc = c - c0 < VL ? c - c0 : VL;
            const float *xp = x + (size_t)i * hw * c + c0;
            vf s = vzero();
            for (int p = 0; p < hw; p++, xp += c) s = vadd(s, nc == VL ? vload(xp) : vload_n(xp, nc));
            s = vdiv(s, div);
            if (nc == VL) vstore(y + (size_t)i * c + c0, s);
            else vstore_n(y + (size_t)i * c + c0, s, nc);
        }
    }
}
