/* op_resize.c - resampling nodes the model importers need:
 *   resize          NHWC, ONNX Resize on H and W (kernels.h: ferc_resize_desc). Attributes
 *                   linear (0 nearest, 1 bilinear), coord (0 half_pixel, 1 asymmetric,
 *                   2 align_corners, 3 pytorch_half_pixel), nearest (0 round_prefer_floor,
 *                   1 round_prefer_ceil, 2 floor, 3 ceil), scale [sh, sw] (floats) and
 *                   optionally size [oh, ow]: without size the output is floor(in * scale),
 *                   so a graph exported with dynamic sizes runs at any input size.
 *   global_maxpool  [N,H,W,C] -> [N,1,1,C] */
#include "nn/model.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    ferc_resize_desc d; /* linear, coord, nearest, scales; the rest filled per run */
    int size[2];
} resize_state;

static void destroy(ferc_node *n) { free(n->state); }

static ferc_status prepare(ferc_model *m, ferc_node *n, ferc_error *err)
{
    (void)m;
    resize_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    int zeros[2] = {0, 0};
    ferc_status s;
    if ((s = ferc_attr_int(n, "linear", 0, &st->d.linear, err)) || (s = ferc_attr_int(n, "coord", 0, &st->d.coord, err)) ||
        (s = ferc_attr_int(n, "nearest", 0, &st->d.nearest, err)) || (s = ferc_attr_ints(n, "size", 2, zeros, st->size, err)))
        return s;
    const ferc_attr *sc = ferc_attr_get(n, "scale");
    if (!sc || sc->type != FERC_ATTR_FLOATS || sc->count != 2)
        return ferc_set_error(err, FERC_ERR_FORMAT, "attribute 'scale' must be two floats");
    st->d.scale_h = sc->floats[0], st->d.scale_w = sc->floats[1];
    if (st->d.linear < 0 || st->d.linear > 1 || st->d.coord < 0 || st->d.coord > 3 || st->d.nearest < 0 || st->d.nearest > 3)
        return ferc_set_error(err, FERC_ERR_FORMAT, "linear %d / coord %d / nearest %d out of range", st->d.linear,
                              st->d.coord, st->d.nearest);
    if (!(st->d.scale_h > 0.f && st->d.scale_h <= 1024.f && st->d.scale_w > 0.f && st->d.scale_w <= 1024.f))
        return ferc_set_error(err, FERC_ERR_FORMAT, "scale must be in (0, 1024]");
    if (st->size[0] < 0 || st->size[1] < 0 || st->size[0] > FERC_MAX_DIM || st->size[1] > FERC_MAX_DIM ||
        (st->size[0] == 0) != (st->size[1] == 0))
        return ferc_set_error(err, FERC_ERR_FORMAT, "size must be two dimensions 1..%d (or absent)", FERC_MAX_DIM);
    return FERC_OK;
}

static ferc_status infer(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const resize_state *st = n->state;
    if (in[0].ndim != 4) return ferc_set_error(err, FERC_ERR_FORMAT, "input must be NHWC");
    int64_t oh = st->size[0], ow = st->size[1];
    if (!oh) {
        oh = (int64_t)floor((double)in[0].d[1] * st->d.scale_h);
        ow = (int64_t)floor((double)in[0].d[2] * st->d.scale_w);
    }
    if (oh < 1 || ow < 1 || oh > FERC_MAX_DIM || ow > FERC_MAX_DIM)
        return ferc_set_error(err, FERC_ERR_FORMAT, "output %lldx%lld out of range", (long long)oh, (long long)ow);
    out[0] = ferc_shape4(in[0].d[0], oh, ow, in[0].d[3]);
    return FERC_OK;
}

static void run(const ferc_node *n, const ferc_op_args *a)
{
    const resize_state *st = n->state;
    ferc_resize_desc d = st->d;
    d.n = (int)a->in[0].dims[0], d.h = (int)a->in[0].dims[1], d.w = (int)a->in[0].dims[2], d.c = (int)a->in[0].dims[3];
    d.oh = (int)a->out[0].dims[1], d.ow = (int)a->out[0].dims[2];
    if (st->size[0]) d.scale_h = (float)d.oh / (float)d.h, d.scale_w = (float)d.ow / (float)d.w;
    a->k->resize(&d, a->in[0].data, a->out[0].data, a->threads);
}

const ferc_op ferc_op_resize = {"resize", 1, 1, 1, prepare, infer, NULL, run, destroy};

static ferc_status infer_global(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    (void)n;
    if (in[0].ndim != 4) return ferc_set_error(err, FERC_ERR_FORMAT, "input must be NHWC");
    out[0] = ferc_shape4(in[0].d[0], 1, 1, in[0].d[3]);
    return FERC_OK;
}

static void run_global(const ferc_node *n, const ferc_op_args *a)
{
    (void)n;
    const ferc_tensor *x = &a->in[0];
    a->k->global_maxpool((int)x->dims[0], (int)(x->dims[1] * x->dims[2]), (int)x->dims[3], x->data, a->out[0].data,
                         a->threads);
}

const ferc_op ferc_op_global_maxpool = {"global_maxpool", 1, 1, 1, NULL, infer_global, NULL, run_global, NULL};
