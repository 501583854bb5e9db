/* hog.h - histograms of oriented gradients (HOG), features of the LBP + linear SVM fallback
 * classifier beside the LBP histograms (nn/op_hog.c, tools/model/train_svm.c).
 *
 * The arithmetic of scikit-image 0.19.3's hog(image, orientations, pixels_per_cell,
 * cells_per_block, block_norm) on a float32 image, step by step: central differences in float
 * (0 on the border rows / columns), magnitude hypot(gc, gr) and orientation
 * rad2deg(atan2(gr, gc)) mod 180 in double; each pixel adds its magnitude to the one bin
 * [180 i / O, 180 (i + 1) / O) holding its orientation (no interpolation) of its cell, summed
 * in float in row-major order and divided by the cell's pixel count; blocks of
 * block_h x block_w cells every cell are normalised in double (eps 1e-5, sums as numpy's
 * pairwise sum) and stored as float. Only whole cells are used. */
#ifndef FERC_KERNELS_HOG_H
#define FERC_KERNELS_HOG_H

#include <stddef.h>

#define FERC_HOG_MAX_ORIENTATIONS 64

/* Block normalisations, skimage's block_norm names */
enum { FERC_HOG_NORM_L1 = 0, FERC_HOG_NORM_L1SQRT = 1, FERC_HOG_NORM_L2 = 2, FERC_HOG_NORM_L2HYS = 3 };

typedef struct {
    int orientations;     /* bins over 0..180 degrees, 1..FERC_HOG_MAX_ORIENTATIONS */
    int cell_h, cell_w;   /* pixels per cell */
    int block_h, block_w; /* cells per block; blocks step one cell */
    int norm;             /* FERC_HOG_NORM_* */
} ferc_hog_desc;

/* Feature length for an h x w image, laid out [block y][block x][cell y][cell x][bin]
 * (skimage's feature_vector order); 0 when no block fits. */
size_t ferc_hog_dim(const ferc_hog_desc *d, int h, int w);
/* Workspace bytes ferc_hog_features needs (one block in double, the cell histograms). */
size_t ferc_hog_scratch(const ferc_hog_desc *d, int h, int w);

/* HOG of an h x w gray image (row-major floats) into out[ferc_hog_dim(d, h, w)]; scratch is
 * ferc_hog_scratch(d, h, w) bytes, 8-byte aligned. */
void ferc_hog_features(const ferc_hog_desc *d, int h, int w, const float *img, void *scratch, float *out);

#endif
