/* op_pointwise.c - element-wise nodes the model importers need (kernels.h has the exact
 * arithmetic):
 *   sigmoid, tanh, hard_swish
 *   hard_sigmoid  attributes alpha (0.2), beta (0.5)
 *   clip          attributes min, max (default: no bound)
 *   prelu         inputs x, slope [C] (a parameter): x >= 0 ? x : x * slope[c]
 *   binary        inputs a, b, attribute operation (0 add, 1 sub, 2 mul, 3 div): NumPy broadcasting
 *                 over up to 4 dims, shorter shapes padded with 1s in front (per-channel
 *                 scales of squeeze-excitation blocks, attention gates). */
#include "nn/model.h"

#include <float.h>
#include <stdlib.h>

typedef struct {
    int fn, op;
    float p0, p1;
} pw_state;

static void destroy(ferc_node *n) { free(n->state); }

static ferc_status new_state(ferc_node *n, int fn, pw_state **st, ferc_error *err)
{
    *st = calloc(1, sizeof **st);
    if (!*st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = *st;
    (*st)->fn = fn;
    return FERC_OK;
}

static ferc_status same_shape(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    (void)n, (void)err;
    out[0] = in[0];
    return FERC_OK;
}

static size_t count(const ferc_tensor *t)
{
    size_t c = 1;
    for (int i = 0; i < t->ndim; i++) c *= (size_t)t->dims[i];
    return c;
}

static void run_unary(const ferc_node *n, const ferc_op_args *a)
{
    const pw_state *st = n->state;
    a->k->unary(count(&a->in[0]), st->fn, st->p0, st->p1, a->in[0].data, a->out[0].data, a->threads);
}

static ferc_status prepare_sigmoid(ferc_model *m, ferc_node *n, ferc_error *err)
{
    pw_state *st;
    (void)m;
    return new_state(n, FERC_UN_SIGMOID, &st, err);
}

static ferc_status prepare_tanh(ferc_model *m, ferc_node *n, ferc_error *err)
{
    pw_state *st;
    (void)m;
    return new_state(n, FERC_UN_TANH, &st, err);
}

static ferc_status prepare_hard_swish(ferc_model *m, ferc_node *n, ferc_error *err)
{
    pw_state *st;
    (void)m;
    return new_state(n, FERC_UN_HARD_SWISH, &st, err);
}

static ferc_status prepare_hard_sigmoid(ferc_model *m, ferc_node *n, ferc_error *err)
{
    pw_state *st;
    ferc_status s;
    (void)m;
    if ((s = new_state(n, FERC_UN_HARD_SIGMOID, &st, err)) || (s = ferc_attr_float(n, "alpha", 0.2f, &st->p0, err)) ||
        (s = ferc_attr_float(n, "beta", 0.5f, &st->p1, err)))
        return s;
    if (st->p0 != st->p0 || st->p1 != st->p1) return ferc_set_error(err, FERC_ERR_FORMAT, "alpha or beta is NaN");
    return FERC_OK;
}

static ferc_status prepare_clip(ferc_model *m, ferc_node *n, ferc_error *err)
{
    pw_state *st;
    ferc_status s;
    (void)m;
    if ((s = new_state(n, FERC_UN_CLIP, &st, err)) || (s = ferc_attr_float(n, "min", -FLT_MAX, &st->p0, err)) ||
        (s = ferc_attr_float(n, "max", FLT_MAX, &st->p1, err)))
        return s;
    if (st->p0 != st->p0 || st->p1 != st->p1) return ferc_set_error(err, FERC_ERR_FORMAT, "min or max is NaN");
    return FERC_OK;
}

const ferc_op ferc_op_sigmoid = {"sigmoid", 1, 1, 1, prepare_sigmoid, same_shape, NULL, run_unary, destroy};
const ferc_op ferc_op_tanh = {"tanh", 1, 1, 1, prepare_tanh, same_shape, NULL, run_unary, destroy};
const ferc_op ferc_op_hard_sigmoid = {"hard_sigmoid", 1, 1, 1, prepare_hard_sigmoid, same_shape, NULL, run_unary, destroy};
const ferc_op ferc_op_hard_swish = {"hard_swish", 1, 1, 1, prepare_hard_swish, same_shape, NULL, run_unary, destroy};
const ferc_op ferc_op_clip = {"clip", 1, 1, 1, prepare_clip, same_shape, NULL, run_unary, destroy};

static ferc_status prepare_prelu(ferc_model *m, ferc_node *n, ferc_error *err)
{
    pw_state *st;
    ferc_status s;
    if ((s = new_state(n, 0, &st, err))) return s;
    const ferc_value *slope = ferc_node_param(m, n, 1, 1, "slope", err);
    if (!slope) return err ? err->code : FERC_ERR_FORMAT;
    st->op = (int)slope->shape.d[0]; /* channels */
    return FERC_OK;
}

static ferc_status infer_prelu(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const pw_state *st = n->state;
    if (in[0].ndim < 2 || in[0].d[in[0].ndim - 1] != st->op)
        return ferc_set_error(err, FERC_ERR_FORMAT, "input's last axis must have %d channels (the slope's)", st->op);
    out[0] = in[0];
    return FERC_OK;
}

static void run_prelu(const ferc_node *n, const ferc_op_args *a)
{
    const pw_state *st = n->state;
    a->k->prelu(count(&a->in[0]), st->op, a->in[0].data, a->in[1].data, a->out[0].data, a->threads);
}

const ferc_op ferc_op_prelu = {"prelu", 2, 2, 1, prepare_prelu, infer_prelu, NULL, run_prelu, destroy};

static ferc_status prepare_binary(ferc_model *m, ferc_node *n, ferc_error *err)
{
    pw_state *st;
    ferc_status s;
    (void)m;
    if ((s = new_state(n, 0, &st, err)) || (s = ferc_attr_int(n, "operation", FERC_BIN_ADD, &st->op, err))) return s;
    if (st->op < FERC_BIN_ADD || st->op > FERC_BIN_DIV) return ferc_set_error(err, FERC_ERR_FORMAT, "unknown op %d", st->op);
    return FERC_OK;
}

/* The shape padded to 4 dims with leading 1s. */
static void pad4(const int64_t *d, int ndim, int64_t *o)
{
    for (int i = 0; i < 4; i++) o[i] = i < 4 - ndim ? 1 : d[i - (4 - ndim)];
}

static ferc_status infer_binary(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    (void)n;
    int64_t a[4], b[4];
    pad4(in[0].d, in[0].ndim, a);
    pad4(in[1].d, in[1].ndim, b);
    out[0].ndim = in[0].ndim > in[1].ndim ? in[0].ndim : in[1].ndim;
    for (int i = 0; i < 4; i++) {
        if (a[i] != b[i] && a[i] != 1 && b[i] != 1) {
            char sa[96], sb[96];
            return ferc_set_error(err, FERC_ERR_FORMAT, "cannot broadcast %s with %s", ferc_shape_str(&in[0], sa, sizeof sa),
                                  ferc_shape_str(&in[1], sb, sizeof sb));
        }
        if (i >= 4 - out[0].ndim) out[0].d[i - (4 - out[0].ndim)] = a[i] > b[i] ? a[i] : b[i];
    }
    return FERC_OK;
}

static void run_binary(const ferc_node *n, const ferc_op_args *a)
{
    const pw_state *st = n->state;
    ferc_binary_desc d;
    int64_t s[3][4];
    pad4(a->out[0].dims, a->out[0].ndim, s[0]);
    pad4(a->in[0].dims, a->in[0].ndim, s[1]);
    pad4(a->in[1].dims, a->in[1].ndim, s[2]);
    for (int i = 0; i < 4; i++) d.y[i] = (int)s[0][i], d.a[i] = (int)s[1][i], d.b[i] = (int)s[2][i];
    d.op = st->op;
    a->k->binary(&d, a->in[0].data, a->in[1].data, a->out[0].data, a->threads);
}

const ferc_op ferc_op_binary = {"binary", 2, 2, 1, prepare_binary, infer_binary, NULL, run_binary, destroy};
