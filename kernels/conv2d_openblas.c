/* conv2d_openblas.c - optional comparison backend: conv2d and dense through im2col and
 * OpenBLAS sgemm. Built only with `make OPENBLAS=1` (FERC_WITH_OPENBLAS) and chosen only by
 * FERC_ISA=openblas; ferc never needs it. The im2col matrix lives in the context's scratch,
 * so nothing is allocated in a run. OpenBLAS picks its own summation order per thread
 * count, so unlike ferc's kernels this backend is not bitwise stable across threads. */
#ifdef FERC_WITH_OPENBLAS
#include "kernels/kernels.h"

#include <cblas.h>
#include <string.h>

void openblas_set_num_threads(int);

static int needs_copy(const ferc_conv2d_desc *d)
{
    return d->kh * d->kw > 1 || d->sh > 1 || d->sw > 1 || d->groups > 1 || d->pt > 0 || d->pl > 0;
}

size_t ferc_conv2d_scratch_openblas(const ferc_conv2d_desc *d)
{
    if (!needs_copy(d)) return 0;
    return (size_t)d->n * d->oh * d->ow * d->kh * d->kw * (d->c / d->groups) * sizeof(float);
}

/* Bias and activation over y [m][oc], after the product. */
static void bias_act(size_t m, int oc, const float *b, float *y, int act, float alpha)
{
    for (size_t i = 0; i < m; i++)
        for (int o = 0; o < oc; o++) y[i * oc + o] = ferc_act1(y[i * oc + o] + (b ? b[o] : 0.f), act, alpha);
}

void ferc_conv2d_openblas(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b, float *y,
                          void *scratch, int threads)
{
    openblas_set_num_threads(threads < 1 ? 1 : threads);
    const int cig = d->c / d->groups, cog = d->oc / d->groups;
    const int m = d->n * d->oh * d->ow, k = d->kh * d->kw * cig;
    for (int g = 0; g < d->groups; g++) {
        const float *a = x + (size_t)g * cig;
        int lda = d->c;
        if (needs_copy(d)) { /* rows: output pixels; columns: (ky, kx, ic) as the weights */
            float *col = scratch;
            for (int n = 0; n < d->n; n++)
                for (int oy = 0; oy < d->oh; oy++)
                    for (int ox = 0; ox < d->ow; ox++)
                        for (int ky = 0; ky < d->kh; ky++) {
                            const int iy = oy * d->sh - d->pt + ky * d->dh;
                            for (int kx = 0; kx < d->kw; kx++, col += cig) {
                                const int ix = ox * d->sw - d->pl + kx * d->dw;
                                if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) memset(col, 0, sizeof(float) * cig);
                                else memcpy(col, x + (((size_t)n * d->h + iy) * d->w + ix) * d->c + (size_t)g * cig,
                                            sizeof(float) * cig);
                            }
                        }
            a = scratch, lda = k;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, cog, k, 1.f, a, lda, w + (size_t)g * cog * k, k, 0.f,
                    y + (size_t)g * cog, d->oc);
    }
    bias_act((size_t)m, d->oc, b, y, d->act, d->alpha);
}

void ferc_dense_openblas(int n, int in, int out, const float *x, const float *w, const float *b, float *y, int act,
                         float alpha, int threads)
{
    openblas_set_num_threads(threads < 1 ? 1 : threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.f, x, in, w, in, 0.f, y, out);
    bias_act((size_t)n, out, b, y, act, alpha);
}
#else
typedef int ferc_openblas_not_built; /* ISO C wants a declaration in every file */
#endif
