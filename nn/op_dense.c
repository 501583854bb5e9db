/* op_dense.c - fully connected node: x [N, in], w [out, in], optional bias [out]; act, alpha.
 * A dense layer after flatten sees NHWC order: the exporter permutes PyTorch's weights. */
#include "nn/op_act.h"

#include <stdlib.h>

typedef struct {
    int in, out, act;
    float alpha;
    const float *w, *b; /* w: packed for the model's kernels, or as stored */
    float *packed;      /* owned, NULL when the kernels read the stored layout */
} dense_state;

static ferc_status prepare(ferc_model *m, ferc_node *n, ferc_error *err)
{
    dense_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    const ferc_value *w = ferc_node_param(m, n, 1, 2, "weight", err), *b = NULL;
    if (!w) return err ? err->code : FERC_ERR_FORMAT;
    if (n->n_in > 2 && !(b = ferc_node_param(m, n, 2, 1, "bias", err))) return err ? err->code : FERC_ERR_FORMAT;
    st->out = (int)w->shape.d[0];
    st->in = (int)w->shape.d[1];
    if (b && b->shape.d[0] != st->out)
        return ferc_set_error(err, FERC_ERR_FORMAT, "bias has %lld entries for %d outputs", (long long)b->shape.d[0], st->out);
    st->w = w->data;
    st->b = b ? b->data : NULL;
    /* Weights are rearranged for the kernels once here, never in a run. */
    if (m->kernels->dense_pack) {
        st->packed = ferc_alloc(m->kernels->dense_packed_size(st->in, st->out) * sizeof(float));
        if (!st->packed) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory packing weights");
        m->kernels->dense_pack(st->in, st->out, w->data, st->packed);
        st->w = st->packed;
    }
    return ferc_parse_act(n, &st->act, &st->alpha, err);
}

static ferc_status infer(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const dense_state *st = n->state;
    if (in[0].ndim != 2 || in[0].d[1] != st->in)
        return ferc_set_error(err, FERC_ERR_FORMAT, "input must be [N, %d]", st->in);
    out[0] = ferc_shape2(in[0].d[0], st->out);
    return FERC_OK;
}

static void run(const ferc_node *n, const ferc_op_args *a)
{
    const dense_state *st = n->state;
    a->k->dense((int)a->in[0].dims[0], st->in, st->out, a->in[0].data, st->w, st->b, a->out[0].data, st->act,
                st->alpha, a->threads);
}

static void destroy(ferc_node *n)
{
    dense_state *st = n->state;
    if (st) ferc_free(st->packed);
    free(st);
}

static int64_t macs(const ferc_node *n, const ferc_shape *in, const ferc_shape *out)
{
    const dense_state *st = n->state;
    return in[0].d[0] * (int64_t)st->in * st->out;
}

static const char *path(const ferc_node *n, const ferc_kernel_table *k) { return "gemm"; }

const ferc_op ferc_op_dense = {"dense", 2, 3, 1, prepare, infer, NULL, run, destroy, macs, path};
