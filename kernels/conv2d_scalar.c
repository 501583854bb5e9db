/* conv2d_scalar.c - reference 2-D convolution, NHWC, any kernel/stride/padding/dilation/groups.
 * Semantics in kernels.h. Written as the definition, not for speed: the fast paths are
 * tested against it. */
#include "kernels/kernels.h"

void ferc_conv2d_scalar(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b, float *y,
                        int threads)
{
    (void)threads;
    const int cig = d->c / d->groups, cog = d->oc / d->groups;
    for (int n = 0; n < d->n; n++)
        for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++)
                for (int oc = 0; oc < d->oc; oc++) {
                    const int g = oc / cog;
                    float acc = b ? b[oc] : 0.f;
                    for (int ky = 0; ky < d->kh; ky++) {
                        const int iy = oy * d->sh - d->pt + ky * d->dh;
                        if (iy < 0 || iy >= d->h) continue;
                        for (int kx = 0; kx < d->kw; kx++) {
                            const int ix = ox * d->sw - d->pl + kx * d->dw;
                            if (ix < 0 || ix >= d->w) continue;
                            const float *xp = x + (((size_t)n * d->h + iy) * d->w + ix) * d->c + (size_t)g * cig;
                            const float *wp = w + (((size_t)oc * d->kh + ky) * d->kw + kx) * cig;
                            for (int ic = 0; ic < cig; ic++) acc += xp[ic] * wp[ic];
                        }
                    }
                    y[(((size_t)n * d->oh + oy) * d->ow + ox) * d->oc + oc] = ferc_act1(acc, d->act, d->alpha);
                }
}

size_t ferc_conv2d_pw_dw_scratch_scalar(const ferc_conv2d_desc *pw, const ferc_conv2d_desc *dw,
                                        const ferc_pool_desc *pool)
{
    const size_t mid = (size_t)pw->n * pw->oh * pw->ow * pw->oc;
    return (mid + (pool ? (size_t)dw->n * dw->oh * dw->ow * dw->oc : 0)) * sizeof(float);
}

void ferc_conv2d_pw_dw_scalar(const ferc_conv2d_desc *pw, const ferc_conv2d_desc *dw, const ferc_pool_desc *pool,
                              const float *x, const float *wp, const float *bp, const float *wd, const float *bd,
                              float *y, void *scratch, int threads)
{
    float *mid = scratch, *dwout = mid + (size_t)pw->n * pw->oh * pw->ow * pw->oc;
    ferc_conv2d_scalar(pw, x, wp, bp, mid, threads);
    ferc_conv2d_scalar(dw, mid, wd, bd, pool ? dwout : y, threads);
    if (pool) ferc_maxpool_scalar(pool, dwout, y, threads);
}
