/* op_l2norm.c - L2 normalisation across channels with a learned per-channel scale (SSD's
 * conv4_3_norm; OpenCV's Normalize layer with p = 2, across_spatial = false, followed by its
 * Scale): inputs x [N, H, W, C] and scale [C]; attribute eps (default 1e-10).
 *   y[n][h][w][c] = x[n][h][w][c] / sqrt(eps + sum over k of x[n][h][w][k]^2) * scale[c]
 * The sum runs in float over the channels in order, as OpenCV's does. */
#include "nn/model.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    float eps;
    int c;
    const float *scale;
} l2_state;

static void destroy(ferc_node *n) { free(n->state); }

static ferc_status prepare(ferc_model *m, ferc_node *n, ferc_error *err)
{
    l2_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    const ferc_value *s = ferc_node_param(m, n, 1, 1, "scale", err);
    if (!s) return err ? err->code : FERC_ERR_FORMAT;
    st->c = (int)s->shape.d[0];
    st->scale = s->data;
    ferc_status e = ferc_attr_float(n, "eps", 1e-10f, &st->eps, err);
    if (e) return e;
    if (!(st->eps >= 0)) return ferc_set_error(err, FERC_ERR_FORMAT, "eps must be >= 0");
    return FERC_OK;
}

static ferc_status infer(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const l2_state *st = n->state;
    if (in[0].ndim < 2 || in[0].d[in[0].ndim - 1] != st->c)
        return ferc_set_error(err, FERC_ERR_FORMAT, "input's last axis must have %d channels", st->c);
    out[0] = in[0];
    return FERC_OK;
}

static void run(const ferc_node *n, const ferc_op_args *a)
{
    const l2_state *st = n->state;
    const ferc_tensor *x = &a->in[0];
    size_t rows = 1;
    for (int i = 0; i < x->ndim - 1; i++) rows *= (size_t)x->dims[i];
    const int c = st->c;
    for (size_t r = 0; r < rows; r++) {
        const float *xp = x->data + r * (size_t)c;
        float *yp = a->out[0].data + r * (size_t)c;
        float sum = 0.f;
        for (int k = 0; k < c; k++) sum += xp[k] * xp[k];
        const float inv = 1.f / sqrtf(sum + st->eps);
        for (int k = 0; k < c; k++) yp[k] = xp[k] * inv * st->scale[k];
    }
}

const ferc_op ferc_op_l2norm = {"l2norm", 2, 2, 1, prepare, infer, NULL, run, destroy, NULL, NULL};
