/* conv_transpose_scalar.c - transposed 2-D convolution, NHWC, as a gather over the taps that
 * reach each output pixel (semantics in kernels.h). Rows are split between threads. */
#include "kernels/kernels.h"
#include "kernels/threads.h"

void ferc_conv_transpose2d_scalar(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b,
                                  float *y, int threads)
{
    const int cig = d->c / d->groups, cog = d->oc / d->groups;
#pragma omp parallel for num_threads(threads > 0 ? threads : 1) collapse(2) schedule(static)
    for (int n = 0; n < d->n; n++)
        for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++)
                for (int oc = 0; oc < d->oc; oc++) {
                    const int g = oc / cog;
                    float s = b ? b[oc] : 0.f;
                    for (int ky = 0; ky < d->kh; ky++) {
                        const int ty = oy + d->pt - ky * d->dh;
                        if (ty < 0 || ty % d->sh || ty / d->sh >= d->h) continue;
                        for (int kx = 0; kx < d->kw; kx++) {
                            const int tx = ox + d->pl - kx * d->dw;
                            if (tx < 0 || tx % d->sw || tx / d->sw >= d->w) continue;
                            const float *xp = x + (((size_t)n * d->h + ty / d->sh) * d->w + tx / d->sw) * d->c + (size_t)g * cig;
                            const float *wp = w + (((size_t)oc * d->kh + ky) * d->kw + kx) * cig;
                            for (int ic = 0; ic < cig; ic++) s += xp[ic] * wp[ic];
                        }
                    }
                    y[(((size_t)n * d->oh + oy) * d->ow + ox) * d->oc + oc] = ferc_act1(s, d->act, d->alpha);
                }
}
