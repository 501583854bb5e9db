/* cascade.h - internals of the OpenCV-compatible cascade detector (docs/cascades.md).
 *
 * The loaded cascade mirrors what OpenCV 4.6's CascadeClassifier builds from the XML:
 * stages with float thresholds (minus OpenCV's 1e-5), trees of nodes or, when every tree
 * is a single node, a flat stump array; Haar features of up to three weighted rectangles
 * (upright or 45-degree tilted) or LBP features (a 3x3 grid of equal blocks). */
#ifndef FERC_DETECT_CASCADE_H
#define FERC_DETECT_CASCADE_H

#include "ferc.h"

#include <stddef.h>
#include <stdint.h>

enum { FERC_CASCADE_HAAR = 0, FERC_CASCADE_LBP = 1 };

typedef struct {
    int x, y, w, h;
    float weight;
} ferc_haar_rect;

/* A candidate or grouped detection in whole pixels (ferc_box once returned). */
typedef struct {
    int x, y, width, height;
} ferc_cascade_rect;

typedef struct {
    int tilted, nrects;
    ferc_haar_rect r[3];
} ferc_haar_feature;

typedef struct {
    int x, y, w, h; /* one block of the 3x3 grid */
} ferc_lbp_feature;

typedef struct {
    int left, right, feature; /* children: > 0 node index within the tree, <= 0 minus a leaf index */
    float threshold;
} ferc_cascade_node;

typedef struct {
    int first_node, n_nodes, first_leaf;
} ferc_cascade_tree;

typedef struct {
    int first_tree, n_trees;
    float threshold;
} ferc_cascade_stage;

typedef struct {
    int feature;
    float threshold, left, right;
} ferc_cascade_stump;

struct ferc_cascade {
    int type; /* FERC_CASCADE_HAAR / LBP */
    int win_w, win_h;
    int n_stages, n_trees, n_nodes, n_leaves, n_features;
    int max_nodes_per_tree; /* 1: the stump arrays are used */
    int subset_size;        /* 32-bit words per LBP node (ncategories / 32), 0 for Haar */
    int has_tilted;
    ferc_cascade_stage *stages;
    ferc_cascade_tree *trees;
    ferc_cascade_node *nodes;
    float *leaves;          /* n_leaves, then 8 zeros */
    int32_t *subsets;       /* n_nodes * subset_size */
    ferc_cascade_stump *stumps; /* n_nodes when max_nodes_per_tree == 1 */
    ferc_haar_feature *haar;
    ferc_lbp_feature *lbp;
};

/* Integral images as cv::integral(img, sum, sqsum, tilted, CV_32S, CV_32S): (w+1)x(h+1),
 * row stride `stride` ints. sqsum and tilted may be NULL. Squares wrap modulo 2^32 like
 * OpenCV's 32-bit squared sums; only differences of nearby entries are used. With
 * odd_plane > 0 each row is stored split: even columns X at X/2, odd ones odd_plane ints
 * further (the layout the step-2 window scan reads). */
void ferc_integral_u8(const uint8_t *img, int w, int h, int istride, int32_t *sum, uint32_t *sqsum,
                      int32_t *tilted, int stride, size_t odd_plane);

/* cv::groupRectangles(rects, group_threshold, eps) in place; returns the new count. */
int ferc_group_rects(ferc_cascade_rect *rects, int n, int group_threshold, double eps);

#endif
