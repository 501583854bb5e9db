/* lbp.h - local binary patterns (LBP) and their cell histograms, the features of the
 * LBP + linear SVM fallback classifier (nn/op_lbp.c, tools/model/train_svm.c).
 *
 * Codes are those of scikit-image's local_binary_pattern(image, P, R, method="nri_uniform"),
 * bit for bit: P neighbours on a circle of radius R, at offsets rounded to 5 decimals,
 * sampled by bilinear interpolation in double precision with pixels outside the image
 * read as 0; neighbour i is set when (neighbour - centre) >= 0. A pattern with at most two
 * 0/1 changes along i = 0..P-1 gets its own code (P*(P-1) + 2 of them, ordered by the number
 * of ones, then rotation); every other pattern shares the last code. P*(P-1) + 3 codes in
 * all: 59 for P = 8. */
#ifndef FERC_KERNELS_LBP_H
#define FERC_KERNELS_LBP_H

#include <stddef.h>
#include <stdint.h>

#define FERC_LBP_MIN_P 3
#define FERC_LBP_MAX_P 16

enum { FERC_LBP_NORM_NONE = 0, FERC_LBP_NORM_L1SQRT = 1, FERC_LBP_NORM_L2 = 2 };

typedef struct {
    int p;                 /* neighbours, FERC_LBP_MIN_P..FERC_LBP_MAX_P */
    float radius;          /* > 0 (single precision, as skimage's argument) */
    int cell_h, cell_w;    /* histogram cell size in pixels */
    int stride_h, stride_w;/* cell step: smaller than the cell for overlapping cells */
    int norm;              /* FERC_LBP_NORM_*, applied to each cell's histogram */
} ferc_lbp_desc;

static inline int ferc_lbp_bins(int p) { return p * (p - 1) + 3; }
/* Cells along a side of `size` pixels (0 if the cell does not fit). */
static inline int ferc_lbp_cells(int size, int cell, int stride)
{
    return size < cell ? 0 : (size - cell) / stride + 1;
}
/* Feature length for an h x w image: cells_y * cells_x * bins, laid out [cy][cx][bin]. */
size_t ferc_lbp_dim(const ferc_lbp_desc *d, int h, int w);

/* The nri_uniform code of a pattern whose bit i is neighbour i's comparison. */
int ferc_lbp_code(unsigned bits, int p);

/* LBP codes of an h x w gray image (row-major floats) into codes[h * w]. */
void ferc_lbp_codes_scalar(int h, int w, const float *img, int p, float radius, uint8_t *codes);

/* Codes, then per-cell histograms normalised by d->norm, into out[ferc_lbp_dim(d, h, w)].
 * codes is h * w bytes of workspace. */
void ferc_lbp_features(const ferc_lbp_desc *d, int h, int w, const float *img, uint8_t *codes, float *out);

#endif
