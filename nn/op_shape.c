/* op_shape.c - nodes that move data without arithmetic, and softmax:
 *   concat    inputs joined along attribute axis (default: last, i.e. channels in NHWC)
 *   flatten   [N, ...] -> [N, rest] in NHWC memory order
 *   reshape   [N, ...] -> [N, shape...] (attribute shape, one entry may be -1), memory order kept
 *   identity  copy (dropout at inference)
 *   softmax   over the last axis */
#include "nn/model.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int axis;
    int ndim;
    int shape[4];
} shape_state;

static size_t count(const ferc_tensor *t)
{
    size_t c = 1;
    for (int i = 0; i < t->ndim; i++) c *= (size_t)t->dims[i];
    return c;
}

static void run_copy(const ferc_node *n, const ferc_op_args *a)
{
    (void)n;
    memcpy(a->out[0].data, a->in[0].data, count(&a->in[0]) * sizeof(float));
}

static ferc_status same_shape(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    (void)n, (void)err;
    out[0] = in[0];
    return FERC_OK;
}

const ferc_op ferc_op_identity = {"identity", 1, 1, 1, NULL, same_shape, NULL, run_copy, NULL, NULL, NULL};

static ferc_status infer_flatten(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    (void)n, (void)err;
    out[0] = ferc_shape2(in[0].d[0], ferc_shape_numel(&in[0]) / in[0].d[0]);
    return FERC_OK;
}

const ferc_op ferc_op_flatten = {"flatten", 1, 1, 1, NULL, infer_flatten, NULL, run_copy, NULL, NULL, NULL};

static void destroy(ferc_node *n) { free(n->state); }

static ferc_status prepare_reshape(ferc_model *m, ferc_node *n, ferc_error *err)
{
    (void)m;
    shape_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    const ferc_attr *a = ferc_attr_get(n, "shape");
    if (!a || a->type != FERC_ATTR_INTS || a->count < 1 || a->count > 3)
        return ferc_set_error(err, FERC_ERR_FORMAT, "attribute 'shape' must be 1 to 3 integers (batch excluded)");
    int wild = 0;
    for (int i = 0; i < a->count; i++) {
        st->shape[i] = a->ints[i];
        if (a->ints[i] == -1) wild++;
        else if (a->ints[i] < 1 || a->ints[i] > FERC_MAX_DIM)
            return ferc_set_error(err, FERC_ERR_FORMAT, "reshape dimension %d out of range", a->ints[i]);
    }
    if (wild > 1) return ferc_set_error(err, FERC_ERR_FORMAT, "reshape has more than one -1");
    st->ndim = a->count + 1;
    return FERC_OK;
}

static ferc_status infer_reshape(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const shape_state *st = n->state;
    int64_t per = ferc_shape_numel(&in[0]) / in[0].d[0], known = 1;
    int wild = -1;
    out[0].ndim = st->ndim;
    out[0].d[0] = in[0].d[0];
    for (int i = 1; i < st->ndim; i++) {
        out[0].d[i] = st->shape[i - 1];
        if (st->shape[i - 1] < 0) wild = i;
        else known *= st->shape[i - 1];
    }
    if (wild >= 0 && known > 0 && per % known == 0) out[0].d[wild] = per / known;
    if (ferc_shape_numel(&out[0]) != ferc_shape_numel(&in[0]))
        return ferc_set_error(err, FERC_ERR_FORMAT, "reshape changes the element count");
    return FERC_OK;
}

const ferc_op ferc_op_reshape = {"reshape", 1, 1, 1, prepare_reshape, infer_reshape, NULL, run_copy, destroy, NULL, NULL};

static ferc_status prepare_concat(ferc_model *m, ferc_node *n, ferc_error *err)
{
    (void)m;
    shape_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    return ferc_attr_int(n, "axis", -1, &st->axis, err);
}

static int concat_axis(const shape_state *st, int ndim) { return st->axis < 0 ? ndim + st->axis : st->axis; }

static ferc_status infer_concat(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const shape_state *st = n->state;
    const int ax = concat_axis(st, in[0].ndim);
    if (ax < 1 || ax >= in[0].ndim)
        return ferc_set_error(err, FERC_ERR_FORMAT, "axis %d invalid for %d-D inputs (batch axis excluded)", st->axis, in[0].ndim);
    out[0] = in[0];
    for (int i = 1; i < n->n_in; i++) {
        if (in[i].ndim != in[0].ndim) return ferc_set_error(err, FERC_ERR_FORMAT, "inputs differ in rank");
        for (int d = 0; d < in[0].ndim; d++)
            if (d != ax && in[i].d[d] != in[0].d[d])
                return ferc_set_error(err, FERC_ERR_FORMAT, "input %d differs in dimension %d", i, d);
        out[0].d[ax] += in[i].d[ax];
    }
    if (out[0].d[ax] > FERC_MAX_NUMEL) return ferc_set_error(err, FERC_ERR_FORMAT, "concat too large");
    return FERC_OK;
}

static void run_concat(const ferc_node *n, const ferc_op_args *a)
{
    const shape_state *st = n->state;
    const ferc_tensor *o = &a->out[0];
    const int ax = concat_axis(st, o->ndim);
    size_t outer = 1, inner = 1;
    for (int d = 0; d < ax; d++) outer *= (size_t)o->dims[d];
    for (int d = ax + 1; d < o->ndim; d++) inner *= (size_t)o->dims[d];
    const size_t row = (size_t)o->dims[ax] * inner;
    size_t at = 0;
    for (int i = 0; i < n->n_in; i++) {
        const size_t chunk = (size_t)a->in[i].dims[ax] * inner;
        for (size_t r = 0; r < outer; r++) memcpy(o->data + r * row + at, a->in[i].data + r * chunk, chunk * sizeof(float));
        at += chunk;
    }
}

const ferc_op ferc_op_concat = {"concat", 1, 64, 1, prepare_concat, infer_concat, NULL, run_concat, destroy, NULL, NULL};

static void run_softmax(const ferc_node *n, const ferc_op_args *a)
{
    (void)n;
    const ferc_tensor *x = &a->in[0];
    const int cols = (int)x->dims[x->ndim - 1];
    a->k->softmax(count(x) / (size_t)cols, cols, x->data, a->out[0].data, a->threads);
}

const ferc_op ferc_op_softmax = {"softmax", 1, 1, 1, NULL, same_shape, NULL, run_softmax, NULL, NULL, NULL};
