/* hog_scalar.c - histograms of oriented gradients (semantics: kernels/hog.h).
 *
 * Matching scikit-image needs its precision at each step: float gradients, double magnitude
 * and angle, a float running sum per cell bin (its Cython accumulator is a C float), double
 * block normalisation with numpy's pairwise summation. This file is compiled without FMA so
 * no product-sum is fused. */
#include "kernels/hog.h"

#include <math.h>

static int cells_along(int size, int cell) { return size / cell; }

static int blocks_along(int size, int cell, int block)
{
    const int cells = cells_along(size, cell);
    return cells < block ? 0 : cells - block + 1;
}

size_t ferc_hog_dim(const ferc_hog_desc *d, int h, int w)
{
    return (size_t)blocks_along(h, d->cell_h, d->block_h) * (size_t)blocks_along(w, d->cell_w, d->block_w) *
           (size_t)d->block_h * (size_t)d->block_w * (size_t)d->orientations;
}

/* Two doubles per block value (the block and its squares), then the cell histograms. */
size_t ferc_hog_scratch(const ferc_hog_desc *d, int h, int w)
{
    return 2 * (size_t)d->block_h * (size_t)d->block_w * (size_t)d->orientations * sizeof(double) +
           (size_t)cells_along(h, d->cell_h) * (size_t)cells_along(w, d->cell_w) * (size_t)d->orientations * sizeof(float);
}

/* numpy's pairwise sum of n doubles (numpy/core/src/umath/loops_utils.h.src): eight running
 * sums up to 128 values, halves (multiples of 8) above. */
static double pairwise_sum(const double *a, int n)
{
    if (n < 8) {
        double s = 0.;
        for (int i = 0; i < n; i++) s += a[i];
        return s;
    }
    if (n <= 128) {
        double r[8];
        int i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - n % 8; i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) s += a[i];
        return s;
    }
    int half = n / 2;
    half -= half % 8;
    return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
}

/* skimage's _hog_normalize_block on v[n], in place. */
static void normalize_block(double *v, double *tmp, int n, int norm)
{
    const double eps = 1e-5, eps2 = eps * eps;
    if (norm == FERC_HOG_NORM_L1 || norm == FERC_HOG_NORM_L1SQRT) {
        for (int i = 0; i < n; i++) tmp[i] = fabs(v[i]);
        const double l1 = pairwise_sum(tmp, n) + eps;
        for (int i = 0; i < n; i++) v[i] = norm == FERC_HOG_NORM_L1 ? v[i] / l1 : sqrt(v[i] / l1);
        return;
    }
    for (int i = 0; i < n; i++) tmp[i] = v[i] * v[i];
    double l2 = sqrt(pairwise_sum(tmp, n) + eps2);
    for (int i = 0; i < n; i++) v[i] /= l2;
    if (norm != FERC_HOG_NORM_L2HYS) return;
    for (int i = 0; i < n; i++) {
        v[i] = v[i] < 0.2 ? v[i] : 0.2; /* np.minimum(out, 0.2) */
        tmp[i] = v[i] * v[i];
    }
    l2 = sqrt(pairwise_sum(tmp, n) + eps2);
    for (int i = 0; i < n; i++) v[i] /= l2;
}

/* The bin of an orientation in [0, 180]: edges are per180 * i exactly as skimage computes
 * them; -1 for none (an angle that rounds to 180.0 falls in no bin, as in skimage). */
static int orientation_bin(double ori, double per180, int bins)
{
    int b = (int)(ori / per180);
    if (b > bins) b = bins;
    while (b > 0 && ori < per180 * (double)b) b--;
    while (b < bins && ori >= per180 * (double)(b + 1)) b++;
    return b < bins ? b : -1;
}

void ferc_hog_features(const ferc_hog_desc *d, int h, int w, const float *img, void *scratch, float *out)
{
    const int nb = d->orientations, ncy = cells_along(h, d->cell_h), ncx = cells_along(w, d->cell_w);
    const int bh = d->block_h, bw = d->block_w, n = bh * bw * nb;
    const double per180 = 180. / (double)nb, to_deg = 180.0 / 3.141592653589793;
    double *v = scratch, *tmp = v + n;
    float *hist = (float *)(tmp + n); /* [ncy][ncx][nb] */
    for (int cy = 0; cy < ncy; cy++)
        for (int cx = 0; cx < ncx; cx++) {
            float *cell = hist + ((size_t)cy * (size_t)ncx + (size_t)cx) * (size_t)nb;
            for (int b = 0; b < nb; b++) cell[b] = 0.f;
            for (int y = cy * d->cell_h; y < (cy + 1) * d->cell_h; y++)
                for (int x = cx * d->cell_w; x < (cx + 1) * d->cell_w; x++) {
                    const float *p = img + (size_t)y * (size_t)w + (size_t)x;
                    const float gr = y > 0 && y < h - 1 ? p[w] - p[-w] : 0.f;
                    const float gc = x > 0 && x < w - 1 ? p[1] - p[-1] : 0.f;
                    const double mag = hypot((double)gc, (double)gr);
                    /* numpy's remainder: fmod, then the divisor's sign; a zero is +0 */
                    double ori = fmod(atan2((double)gr, (double)gc) * to_deg, 180.);
                    if (ori < 0) ori += 180.;
                    const int b = orientation_bin(ori, per180, nb);
                    if (b >= 0) cell[b] = (float)((double)cell[b] + mag);
                }
            const float area = (float)(d->cell_h * d->cell_w);
            for (int b = 0; b < nb; b++) cell[b] /= area;
        }
    const int nby = blocks_along(h, d->cell_h, bh), nbx = blocks_along(w, d->cell_w, bw);
    for (int by = 0; by < nby; by++)
        for (int bx = 0; bx < nbx; bx++) {
            int k = 0;
            for (int cy = by; cy < by + bh; cy++)
                for (int cx = bx; cx < bx + bw; cx++)
                    for (int b = 0; b < nb; b++) v[k++] = hist[((size_t)cy * (size_t)ncx + (size_t)cx) * (size_t)nb + (size_t)b];
            normalize_block(v, tmp, n, d->norm);
            float *o = out + ((size_t)by * (size_t)nbx + (size_t)bx) * (size_t)n;
            for (int i = 0; i < n; i++) o[i] = (float)v[i];
        }
}
