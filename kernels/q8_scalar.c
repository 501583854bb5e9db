/* q8_scalar.c - the int8 reference kernels, written as the definitions in q8.h. */
#include "kernels/q8.h"
#include "kernels/threads.h"

#include <string.h>

void ferc_q8_conv2d_scalar(const ferc_q8_conv_desc *d, const uint8_t *x, const int8_t *w, const int32_t *bias,
                           const float *mult, uint8_t *y, int threads)
{
    const int cig = d->c / d->groups, cog = d->oc / d->groups;
    const int64_t rows = (int64_t)d->n * d->oh;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int b = (int)(r / d->oh), oy = (int)(r % d->oh);
        for (int ox = 0; ox < d->ow; ox++) {
            uint8_t *yp = y + ((size_t)r * d->ow + ox) * d->oc;
            for (int oc = 0; oc < d->oc; oc++) {
                const int g = oc / cog;
                const int8_t *wp = w + (size_t)oc * d->kh * d->kw * cig;
                int32_t acc = bias ? bias[oc] : 0;
                for (int ky = 0; ky < d->kh; ky++) {
                    const int iy = oy * d->sh - d->pt + ky * d->dh;
                    for (int kx = 0; kx < d->kw; kx++) {
                        const int ix = ox * d->sw - d->pl + kx * d->dw;
                        const int8_t *wk = wp + ((size_t)ky * d->kw + kx) * cig;
                        if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) continue; /* (zx - zx) * w */
                        const uint8_t *xp = x + (((size_t)b * d->h + iy) * d->w + ix) * d->c + (size_t)g * cig;
                        for (int ic = 0; ic < cig; ic++)
                            acc = ferc_q8_wrap_add(acc, ((int32_t)xp[ic] - d->zx) * wk[ic]);
                    }
                }
                yp[oc] = ferc_q8_requant(acc, mult[oc], d->zy, d->lo, d->hi);
            }
        }
    }
}

static void quantize_scalar(size_t i0, size_t i1, const float *x, float s, int z, uint8_t *q)
{
    const float flo = (float)-z, fhi = (float)(255 - z);
    for (size_t i = i0; i < i1; i++) {
        float f = x[i] / s;
        f = f == f ? f : 0.f; /* NaN -> z */
        f = f < flo ? flo : f;
        f = f > fhi ? fhi : f;
        q[i] = (uint8_t)(ferc_q8_rne(f) + z);
    }
}

void ferc_q8_quantize(const ferc_q8_kernels *k, size_t count, const float *x, float s, int z, uint8_t *q,
                      int threads)
{
    const ferc_q8_quantize_fn fn = k && k->quantize ? k->quantize : quantize_scalar;
    if (count < 65536) threads = 1;
#pragma omp parallel num_threads(threads)
    {
        const size_t t = (size_t)ferc_thread_id(), nt = (size_t)ferc_thread_count();
        fn(count * t / nt, count * (t + 1) / nt, x, s, z, q);
    }
}

void ferc_q8_dequantize(size_t count, const uint8_t *q, float s, int z, float *y, int threads)
{
#pragma omp parallel for simd num_threads(threads) schedule(static) if (count > 65536)
    for (size_t i = 0; i < count; i++) y[i] = s * (float)((int)q[i] - z);
}

void ferc_q8_maxpool(int n, int h, int w, int c, int oh, int ow, int kh, int kw, int sh, int sw, int pt, int pl,
                     const uint8_t *x, uint8_t *y, int threads)
{
    const int64_t rows = (int64_t)n * oh;
    if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && !pt && !pl && 2 * oh <= h && 2 * ow <= w) {
        /* the common 2x2 / 2 window inside the image: one pass per output pixel (the general
         * loop below spent more on its bookkeeping than on the maxima for short channel runs) */
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            const int b = (int)(r / oh), oy = (int)(r % oh);
            const uint8_t *x0 = x + ((size_t)b * h + 2 * oy) * w * c, *x1 = x0 + (size_t)w * c;
            uint8_t *yp = y + (size_t)r * ow * c;
            for (int ox = 0; ox < ow; ox++, x0 += 2 * c, x1 += 2 * c, yp += c)
#pragma omp simd
                for (int ch = 0; ch < c; ch++) {
                    const uint8_t a = x0[ch] > x0[c + ch] ? x0[ch] : x0[c + ch];
                    const uint8_t e = x1[ch] > x1[c + ch] ? x1[ch] : x1[c + ch];
                    yp[ch] = a > e ? a : e;
                }
        }
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int b = (int)(r / oh), oy = (int)(r % oh);
        int y0 = oy * sh - pt, y1 = y0 + kh;
        if (y0 < 0) y0 = 0;
        if (y1 > h) y1 = h;
        for (int ox = 0; ox < ow; ox++) {
            int x0 = ox * sw - pl, x1 = x0 + kw;
            if (x0 < 0) x0 = 0;
            if (x1 > w) x1 = w;
            uint8_t *yp = y + ((size_t)r * ow + ox) * c;
            memset(yp, 0, (size_t)c);
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    const uint8_t *xp = x + (((size_t)b * h + iy) * w + ix) * c;
#pragma omp simd
                    for (int ch = 0; ch < c; ch++) yp[ch] = xp[ch] > yp[ch] ? xp[ch] : yp[ch];
                }
        }
    }
}
