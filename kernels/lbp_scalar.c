/* lbp_scalar.c - LBP codes and cell histograms (semantics: kernels/lbp.h).
 *
 * Bit-exactness with scikit-image needs the same double arithmetic in the same order: the
 * neighbour offsets are rounded as numpy's round(x, 5), the sample position is
 * (double)row + offset, and the bilinear blend is top/bottom along columns first, then rows.
 * This file is compiled without FMA so no product-sum is fused. */
#include "kernels/lbp.h"

#include <math.h>
#include <string.h>

size_t ferc_lbp_dim(const ferc_lbp_desc *d, int h, int w)
{
    return (size_t)ferc_lbp_cells(h, d->cell_h, d->stride_h) * (size_t)ferc_lbp_cells(w, d->cell_w, d->stride_w) *
           (size_t)ferc_lbp_bins(d->p);
}

int ferc_lbp_code(unsigned bits, int p)
{
    const unsigned all = (1u << p) - 1;
    bits &= all;
    /* changes between neighbours i and i+1, i = 0..p-2 (not around the circle) */
    const int changes = __builtin_popcount((bits ^ (bits >> 1)) & (all >> 1));
    if (changes > 2) return p * (p - 1) + 2;
    const int ones = __builtin_popcount(bits);
    if (ones == 0) return 0;
    if (ones == p) return p * (p - 1) + 1;
    const int first_one = __builtin_ctz(bits), first_zero = __builtin_ctz(~bits);
    const int rot = first_one == 0 ? ones - first_zero : p - first_one;
    return 1 + (ones - 1) * p + rot;
}

/* numpy's round(x, 5): scale, round half to even, unscale. */
static double round5(double x) { return nearbyint(x * 100000.0) / 100000.0; }

static double pixel(const float *img, int h, int w, long r, long c)
{
    return r < 0 || r >= h || c < 0 || c >= w ? 0.0 : (double)img[(size_t)r * (size_t)w + (size_t)c];
}

void ferc_lbp_codes_scalar(int h, int w, const float *img, int p, float radius, uint8_t *codes)
{
    double off_r[FERC_LBP_MAX_P], off_c[FERC_LBP_MAX_P];
    int fl_r[FERC_LBP_MAX_P], ce_r[FERC_LBP_MAX_P], fl_c[FERC_LBP_MAX_P], ce_c[FERC_LBP_MAX_P];
    int on_grid[FERC_LBP_MAX_P];
    int reach = 0; /* pixels the circle reaches beyond the centre, any direction */
    const double pi = 3.141592653589793, rad = (double)radius;
    for (int i = 0; i < p; i++) {
        const double angle = 2 * pi * (double)i / (double)p;
        off_r[i] = round5(-rad * sin(angle));
        off_c[i] = round5(rad * cos(angle));
        /* Offsets are 0 or at least 1e-5 from an integer, so floor(y + off) is y + floor(off)
         * for any image size; only the fraction needs the per-pixel double sum. */
        fl_r[i] = (int)floor(off_r[i]), ce_r[i] = (int)ceil(off_r[i]);
        fl_c[i] = (int)floor(off_c[i]), ce_c[i] = (int)ceil(off_c[i]);
        on_grid[i] = fl_r[i] == ce_r[i] && fl_c[i] == ce_c[i];
        const int far = -fl_r[i] > ce_r[i] ? -fl_r[i] : ce_r[i], farc = -fl_c[i] > ce_c[i] ? -fl_c[i] : ce_c[i];
        if (far > reach) reach = far;
        if (farc > reach) reach = farc;
    }
    for (int y = 0; y < h; y++) {
        double fr[FERC_LBP_MAX_P];
        for (int i = 0; i < p; i++) fr[i] = ((double)y + off_r[i]) - (double)(y + fl_r[i]);
        const int row_inside = y >= reach && y < h - reach;
        for (int x = 0; x < w; x++) {
            const double centre = img[(size_t)y * (size_t)w + (size_t)x];
            const int inside = row_inside && x >= reach && x < w - reach;
            unsigned bits = 0;
            for (int i = 0; i < p; i++) {
                const int r0 = y + fl_r[i], r1 = y + ce_r[i], c0 = x + fl_c[i], c1 = x + ce_c[i];
                if (on_grid[i]) { /* fractions 0: the blend (1-0)*p + 0*q is p itself (finite pixels) */
                    if ((inside ? (double)img[(size_t)r0 * (size_t)w + (size_t)c0] : pixel(img, h, w, r0, c0)) - centre >= 0)
                        bits |= 1u << i;
                    continue;
                }
                const double fc = ((double)x + off_c[i]) - (double)c0;
                double tl, tr, bl, br;
                if (inside) {
                    const float *a = img + (size_t)r0 * (size_t)w, *b = img + (size_t)r1 * (size_t)w;
                    tl = a[c0], tr = a[c1], bl = b[c0], br = b[c1];
                } else {
                    tl = pixel(img, h, w, r0, c0), tr = pixel(img, h, w, r0, c1);
                    bl = pixel(img, h, w, r1, c0), br = pixel(img, h, w, r1, c1);
                }
                const double top = (1 - fc) * tl + fc * tr, bottom = (1 - fc) * bl + fc * br;
                const double v = (1 - fr[i]) * top + fr[i] * bottom;
                if (v - centre >= 0) bits |= 1u << i;
            }
            codes[(size_t)y * (size_t)w + (size_t)x] = (uint8_t)ferc_lbp_code(bits, p);
        }
    }
}

void ferc_lbp_features(const ferc_lbp_desc *d, int h, int w, const float *img, uint8_t *codes, float *out)
{
    const int bins = ferc_lbp_bins(d->p);
    const int ny = ferc_lbp_cells(h, d->cell_h, d->stride_h), nx = ferc_lbp_cells(w, d->cell_w, d->stride_w);
    ferc_lbp_codes_scalar(h, w, img, d->p, d->radius, codes);
    const float area = (float)d->cell_h * (float)d->cell_w;
    for (int cy = 0; cy < ny; cy++)
        for (int cx = 0; cx < nx; cx++) {
            float *hist = out + ((size_t)cy * (size_t)nx + (size_t)cx) * (size_t)bins;
            unsigned counts[FERC_LBP_MAX_P * (FERC_LBP_MAX_P - 1) + 3];
            memset(counts, 0, sizeof counts);
            for (int y = cy * d->stride_h; y < cy * d->stride_h + d->cell_h; y++) {
                const uint8_t *row = codes + (size_t)y * (size_t)w + (size_t)cx * (size_t)d->stride_w;
                for (int x = 0; x < d->cell_w; x++) counts[row[x]]++;
            }
            double sq = 0;
            for (int b = 0; b < bins; b++) sq += (double)counts[b] * counts[b];
            const float inv_l2 = (float)(1.0 / sqrt(sq)); /* sq >= 1: every cell has a pixel */
            for (int b = 0; b < bins; b++) {
                const float c = (float)counts[b];
                hist[b] = d->norm == FERC_LBP_NORM_L1SQRT ? sqrtf(c / area)
                        : d->norm == FERC_LBP_NORM_L2     ? c * inv_l2
                                                          : c;
            }
        }
}
