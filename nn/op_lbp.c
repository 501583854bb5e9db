/* op_lbp.c - lbp_histogram node: [N, H, W, 1] gray image -> [N, D] LBP cell histograms
 * (kernels/lbp.h), the feature extractor of the LBP + linear SVM classifier.
 *   points     P, neighbours on the circle (default 8)
 *   radius     R, one float (default 1.0)
 *   cell       [2] cell height, width in pixels (default 6, 6)
 *   stride     [2] step between cells (default: cell, i.e. no overlap)
 *   norm       0 raw counts, 1 per cell L1 then square root (default), 2 per cell L2
 * D = cells_y * cells_x * (P*(P-1) + 3), cells laid out row-major, bins fastest. Several
 * radii or grids are several nodes joined by concat. The input holds raw 0..255 values:
 * models using this op declare mean 0, std 1 in their metadata. */
#include "nn/model.h"
#include "kernels/lbp.h"

#include <stdlib.h>

static ferc_status prepare(ferc_model *m, ferc_node *n, ferc_error *err)
{
    (void)m;
    ferc_lbp_desc *d = calloc(1, sizeof *d);
    if (!d) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = d;
    int cell[2], stride[2], dflt_cell[2] = {6, 6};
    ferc_status e;
    if ((e = ferc_attr_int(n, "points", 8, &d->p, err)) || (e = ferc_attr_float(n, "radius", 1.f, &d->radius, err)) ||
        (e = ferc_attr_ints(n, "cell", 2, dflt_cell, cell, err)) || (e = ferc_attr_ints(n, "stride", 2, cell, stride, err)) ||
        (e = ferc_attr_int(n, "norm", FERC_LBP_NORM_L1SQRT, &d->norm, err)))
        return e;
    if (d->p < FERC_LBP_MIN_P || d->p > FERC_LBP_MAX_P)
        return ferc_set_error(err, FERC_ERR_FORMAT, "points %d out of range %d..%d", d->p, FERC_LBP_MIN_P, FERC_LBP_MAX_P);
    if (!(d->radius > 0.f && d->radius <= 64.f))
        return ferc_set_error(err, FERC_ERR_FORMAT, "radius %g out of range (0, 64]", (double)d->radius);
    if (cell[0] < 1 || cell[1] < 1 || cell[0] > FERC_MAX_DIM || cell[1] > FERC_MAX_DIM || stride[0] < 1 || stride[1] < 1 ||
        stride[0] > FERC_MAX_DIM || stride[1] > FERC_MAX_DIM)
        return ferc_set_error(err, FERC_ERR_FORMAT, "cell %dx%d / stride %dx%d out of range", cell[0], cell[1], stride[0],
                              stride[1]);
    if (d->norm < FERC_LBP_NORM_NONE || d->norm > FERC_LBP_NORM_L2)
        return ferc_set_error(err, FERC_ERR_FORMAT, "norm %d unknown (0 none, 1 l1sqrt, 2 l2)", d->norm);
    d->cell_h = cell[0], d->cell_w = cell[1], d->stride_h = stride[0], d->stride_w = stride[1];
    return FERC_OK;
}

static ferc_status infer(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const ferc_lbp_desc *d = n->state;
    if (in[0].ndim != 4 || in[0].d[3] != 1) return ferc_set_error(err, FERC_ERR_FORMAT, "input must be NHWC with 1 channel");
    if (in[0].d[1] < d->cell_h || in[0].d[2] < d->cell_w)
        return ferc_set_error(err, FERC_ERR_FORMAT, "image %lldx%lld smaller than a %dx%d cell", (long long)in[0].d[1],
                              (long long)in[0].d[2], d->cell_h, d->cell_w);
    const size_t dim = ferc_lbp_dim(d, (int)in[0].d[1], (int)in[0].d[2]);
    if (dim > (size_t)FERC_MAX_NUMEL / (size_t)in[0].d[0]) return ferc_set_error(err, FERC_ERR_FORMAT, "too many cells");
    out[0] = ferc_shape2(in[0].d[0], (int64_t)dim);
    return FERC_OK;
}

/* One code byte per pixel of one image. */
static size_t scratch(const ferc_node *n, const ferc_shape *in, const ferc_shape *out)
{
    (void)n, (void)out;
    return (size_t)(in[0].d[1] * in[0].d[2]);
}

static void run(const ferc_node *n, const ferc_op_args *a)
{
    const ferc_lbp_desc *d = n->state;
    const int batch = (int)a->in[0].dims[0], h = (int)a->in[0].dims[1], w = (int)a->in[0].dims[2];
    const size_t dim = (size_t)a->out[0].dims[1], hw = (size_t)h * (size_t)w;
    /* One thread: a face costs well under a millisecond, and the fallback is meant for
     * small cores; callers wanting more throughput run one context per thread. */
    for (int i = 0; i < batch; i++)
        ferc_lbp_features(d, h, w, a->in[0].data + (size_t)i * hw, a->scratch, a->out[0].data + (size_t)i * dim);
}

static void destroy(ferc_node *n) { free(n->state); }

const ferc_op ferc_op_lbp_histogram = {"lbp_histogram", 1, 1, 1, prepare, infer, scratch, run, destroy, NULL, NULL};
