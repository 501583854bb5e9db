/* op_eltwise.c - element-wise nodes:
 *   batchnorm  inputs x, gamma, beta, running mean, running var (all [C]); attribute eps;
 *              y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis, then act.
 *              Kept for graphs where it cannot be folded into a preceding conv.
 *   relu, relu6, leaky_relu (attribute alpha, default 0.01)
 *   add        y = act(a + b), a and b of the same shape (residual connections) */
#include "nn/op_act.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    int act;
    float alpha;
    int c;
    float *scale, *shift; /* batchnorm only, owned */
} elt_state;

static ferc_status same_shape(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    (void)n;
    out[0] = in[0];
    return FERC_OK;
}

static void destroy(ferc_node *n)
{
    elt_state *st = n->state;
    ferc_free(st->scale);
    ferc_free(st->shift);
    free(st);
}

static ferc_status prepare_bn(ferc_model *m, ferc_node *n, ferc_error *err)
{
    elt_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    const ferc_value *p[4];
    static const char *const what[4] = {"gamma", "beta", "running mean", "running var"};
    for (int i = 0; i < 4; i++)
        if (!(p[i] = ferc_node_param(m, n, i + 1, 1, what[i], err))) return err ? err->code : FERC_ERR_FORMAT;
    st->c = (int)p[0]->shape.d[0];
    for (int i = 1; i < 4; i++)
        if (p[i]->shape.d[0] != st->c)
            return ferc_set_error(err, FERC_ERR_FORMAT, "%s has %lld entries, gamma %d", what[i], (long long)p[i]->shape.d[0], st->c);
    float eps;
    ferc_status s;
    if ((s = ferc_attr_float(n, "eps", 1e-5f, &eps, err)) || (s = ferc_parse_act(n, &st->act, &st->alpha, err))) return s;
    if (!(eps >= 0)) return ferc_set_error(err, FERC_ERR_FORMAT, "eps must be >= 0");
    st->scale = ferc_alloc(sizeof(float) * (size_t)st->c);
    st->shift = ferc_alloc(sizeof(float) * (size_t)st->c);
    if (!st->scale || !st->shift) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < st->c; i++) {
        /* The same arithmetic as PyTorch's inference batch norm: invstd in float. */
        float invstd = 1.0f / sqrtf(p[3]->data[i] + eps);
        st->scale[i] = p[0]->data[i] * invstd;
        st->shift[i] = p[1]->data[i] - p[2]->data[i] * st->scale[i];
    }
    return FERC_OK;
}

static ferc_status infer_bn(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const elt_state *st = n->state;
    if (in[0].ndim < 2 || in[0].d[in[0].ndim - 1] != st->c)
        return ferc_set_error(err, FERC_ERR_FORMAT, "input's last axis must have %d channels", st->c);
    out[0] = in[0];
    return FERC_OK;
}

static size_t count(const ferc_tensor *t)
{
    size_t c = 1;
    for (int i = 0; i < t->ndim; i++) c *= (size_t)t->dims[i];
    return c;
}

static void run_affine(const ferc_node *n, const ferc_op_args *a)
{
    const elt_state *st = n->state;
    const ferc_tensor *x = &a->in[0];
    a->k->affine(count(x), (int)x->dims[x->ndim - 1], x->data, st->scale, st->shift, a->out[0].data, st->act,
                 st->alpha, a->threads);
}

static const char *path_affine(const ferc_node *n, const ferc_kernel_table *k) { return "affine"; }
static const char *path_add(const ferc_node *n, const ferc_kernel_table *k) { return "add"; }

const ferc_op ferc_op_batchnorm = {"batchnorm", 5, 5, 1, prepare_bn, infer_bn, NULL, run_affine, destroy,
                                  NULL, path_affine};

static ferc_status prepare_act(ferc_node *n, int act, ferc_error *err)
{
    elt_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    st->act = act;
    return ferc_attr_float(n, "alpha", 0.01f, &st->alpha, err);
}

static ferc_status prepare_relu(ferc_model *m, ferc_node *n, ferc_error *err) { (void)m; return prepare_act(n, FERC_ACT_RELU, err); }
static ferc_status prepare_relu6(ferc_model *m, ferc_node *n, ferc_error *err) { (void)m; return prepare_act(n, FERC_ACT_RELU6, err); }
static ferc_status prepare_leaky(ferc_model *m, ferc_node *n, ferc_error *err) { (void)m; return prepare_act(n, FERC_ACT_LEAKY, err); }

const ferc_op ferc_op_relu = {"relu", 1, 1, 1, prepare_relu, same_shape, NULL, run_affine, destroy,
                                  NULL, path_affine};
const ferc_op ferc_op_relu6 = {"relu6", 1, 1, 1, prepare_relu6, same_shape, NULL, run_affine, destroy,
                                  NULL, path_affine};
const ferc_op ferc_op_leaky_relu = {"leaky_relu", 1, 1, 1, prepare_leaky, same_shape, NULL, run_affine, destroy,
                                  NULL, path_affine};

static ferc_status prepare_add(ferc_model *m, ferc_node *n, ferc_error *err)
{
    (void)m;
    elt_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    return ferc_parse_act(n, &st->act, &st->alpha, err);
}

static ferc_status infer_add(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    (void)n;
    if (!ferc_shape_equal(&in[0], &in[1])) {
        char a[96], b[96];
        return ferc_set_error(err, FERC_ERR_FORMAT, "cannot add %s and %s", ferc_shape_str(&in[0], a, sizeof a),
                              ferc_shape_str(&in[1], b, sizeof b));
    }
    out[0] = in[0];
    return FERC_OK;
}

static void run_add(const ferc_node *n, const ferc_op_args *a)
{
    const elt_state *st = n->state;
    a->k->add(count(&a->in[0]), a->in[0].data, a->in[1].data, a->out[0].data, st->act, st->alpha, a->threads);
}

const ferc_op ferc_op_add = {"add", 2, 2, 1, prepare_add, infer_add, NULL, run_add, destroy, NULL, path_add};
