/* op_hog.c - hog node: [N, H, W, 1] gray image -> [N, D] histograms of oriented gradients
 * (kernels/hog.h; scikit-image's hog()), features of the LBP + linear SVM classifier beside
 * its lbp_histogram nodes.
 *   orientations  bins over 0..180 degrees (default 9)
 *   cell          [2] pixels per cell (default 8, 8)
 *   block         [2] cells per block (default 3, 3); blocks step one cell
 *   norm          block normalisation: 0 L1, 1 L1-sqrt, 2 L2, 3 L2-Hys (default)
 * D = blocks_y * blocks_x * block_h * block_w * orientations, skimage's feature_vector order. */
#include "nn/model.h"
#include "kernels/hog.h"

#include <stdlib.h>

static ferc_status prepare(ferc_model *m, ferc_node *n, ferc_error *err)
{
    (void)m;
    ferc_hog_desc *d = calloc(1, sizeof *d);
    if (!d) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = d;
    int cell[2], block[2], dflt_cell[2] = {8, 8}, dflt_block[2] = {3, 3};
    ferc_status e;
    if ((e = ferc_attr_int(n, "orientations", 9, &d->orientations, err)) ||
        (e = ferc_attr_ints(n, "cell", 2, dflt_cell, cell, err)) || (e = ferc_attr_ints(n, "block", 2, dflt_block, block, err)) ||
        (e = ferc_attr_int(n, "norm", FERC_HOG_NORM_L2HYS, &d->norm, err)))
        return e;
    if (d->orientations < 1 || d->orientations > FERC_HOG_MAX_ORIENTATIONS)
        return ferc_set_error(err, FERC_ERR_FORMAT, "orientations %d out of range 1..%d", d->orientations,
                              FERC_HOG_MAX_ORIENTATIONS);
    if (cell[0] < 1 || cell[1] < 1 || cell[0] > FERC_MAX_DIM || cell[1] > FERC_MAX_DIM)
        return ferc_set_error(err, FERC_ERR_FORMAT, "cell %dx%d out of range", cell[0], cell[1]);
    if (block[0] < 1 || block[1] < 1 || block[0] > 16 || block[1] > 16)
        return ferc_set_error(err, FERC_ERR_FORMAT, "block %dx%d out of range 1..16", block[0], block[1]);
    if (d->norm < FERC_HOG_NORM_L1 || d->norm > FERC_HOG_NORM_L2HYS)
        return ferc_set_error(err, FERC_ERR_FORMAT, "norm %d unknown (0 L1, 1 L1-sqrt, 2 L2, 3 L2-Hys)", d->norm);
    d->cell_h = cell[0], d->cell_w = cell[1], d->block_h = block[0], d->block_w = block[1];
    return FERC_OK;
}

static ferc_status infer(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const ferc_hog_desc *d = n->state;
    if (in[0].ndim != 4 || in[0].d[3] != 1) return ferc_set_error(err, FERC_ERR_FORMAT, "input must be NHWC with 1 channel");
    if (in[0].d[1] > FERC_MAX_DIM || in[0].d[2] > FERC_MAX_DIM)
        return ferc_set_error(err, FERC_ERR_FORMAT, "image %lldx%lld too large", (long long)in[0].d[1], (long long)in[0].d[2]);
    const size_t dim = ferc_hog_dim(d, (int)in[0].d[1], (int)in[0].d[2]);
    if (!dim)
        return ferc_set_error(err, FERC_ERR_FORMAT, "image %lldx%lld smaller than a block of %dx%d cells of %dx%d",
                              (long long)in[0].d[1], (long long)in[0].d[2], d->block_h, d->block_w, d->cell_h, d->cell_w);
    if (dim > (size_t)FERC_MAX_NUMEL / (size_t)in[0].d[0]) return ferc_set_error(err, FERC_ERR_FORMAT, "too many blocks");
    out[0] = ferc_shape2(in[0].d[0], (int64_t)dim);
    return FERC_OK;
}

static size_t scratch(const ferc_node *n, const ferc_shape *in, const ferc_shape *out)
{
    (void)out;
    return ferc_hog_scratch(n->state, (int)in[0].d[1], (int)in[0].d[2]);
}

static void run(const ferc_node *n, const ferc_op_args *a)
{
    const int batch = (int)a->in[0].dims[0], h = (int)a->in[0].dims[1], w = (int)a->in[0].dims[2];
    const size_t dim = (size_t)a->out[0].dims[1], hw = (size_t)h * (size_t)w;
    /* One thread, as lbp_histogram: a face costs a few microseconds. */
    for (int i = 0; i < batch; i++)
        ferc_hog_features(n->state, h, w, a->in[0].data + (size_t)i * hw, a->scratch, a->out[0].data + (size_t)i * dim);
}

static void destroy(ferc_node *n) { free(n->state); }

const ferc_op ferc_op_hog = {"hog", 1, 1, 1, prepare, infer, scratch, run, destroy, NULL, NULL};
