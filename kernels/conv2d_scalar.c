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

/* Two buffers of the largest intermediate: pw writes one from the other, dw the other back
 * (the head convolution writes the second first). */
static size_t chain_largest(const ferc_pw_dw_chain *ch)
{
    size_t most = ch->head ? (size_t)ch->hd.n * ch->hd.oh * ch->hd.ow * ch->hd.oc : 0;
    for (int s = 0; s < ch->stages; s++) {
        const size_t p = (size_t)ch->pw[s].n * ch->pw[s].oh * ch->pw[s].ow * ch->pw[s].oc;
        const size_t d = (size_t)ch->dw[s].n * ch->dw[s].oh * ch->dw[s].ow * ch->dw[s].oc;
        if (p > most) most = p;
        if (d > most) most = d;
    }
    return most;
}

/* A head and its pooling alone run image by image: one image's convolution output. */
size_t ferc_conv2d_pw_dw_scratch_scalar(const ferc_pw_dw_chain *ch)
{
    if (!ch->stages) return (size_t)ch->hd.oh * ch->hd.ow * ch->hd.oc * sizeof(float);
    return 2 * chain_largest(ch) * sizeof(float);
}

void ferc_conv2d_pw_dw_scalar(const ferc_pw_dw_chain *ch, const float *x, float *y, void *scratch, int threads)
{
    if (!ch->stages) {
        ferc_conv2d_desc d = ch->hd;
        ferc_pool_desc p = ch->pd;
        d.n = p.n = 1;
        for (int n = 0; n < ch->hd.n; n++) {
            ferc_conv2d_scalar(&d, x + (size_t)n * d.h * d.w * d.c, ch->wh, ch->bh, scratch, threads);
            ferc_maxpool_scalar(&p, scratch, y + (size_t)n * p.oh * p.ow * p.c, threads);
        }
        return;
    }
    float *mid = scratch, *out = mid + chain_largest(ch);
    if (ch->head) ferc_conv2d_scalar(&ch->hd, x, ch->wh, ch->bh, out, threads);
    for (int s = 0; s < ch->stages; s++) {
        ferc_conv2d_scalar(&ch->pw[s], s || ch->head ? out : x, ch->wp[s], ch->bp[s], mid, threads);
        ferc_conv2d_scalar(&ch->dw[s], mid, ch->wd[s], ch->bd[s], s == ch->stages - 1 && !ch->pool ? y : out, threads);
    }
    if (ch->pool) ferc_maxpool_scalar(&ch->pd, out, y, threads);
}
