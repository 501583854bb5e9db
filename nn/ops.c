/* ops.c - the op table and attribute helpers. An op is added by writing nn/op_<name>.c and
 * listing it here. */
#include "nn/model.h"

#include <string.h>

extern const ferc_op ferc_op_conv2d, ferc_op_dense, ferc_op_maxpool2d, ferc_op_avgpool2d,
    ferc_op_global_avgpool, ferc_op_batchnorm, ferc_op_relu, ferc_op_relu6, ferc_op_leaky_relu,
    ferc_op_add, ferc_op_concat, ferc_op_flatten, ferc_op_reshape, ferc_op_softmax, ferc_op_identity;
/* face detection (res10 SSD) */
extern const ferc_op ferc_op_pad, ferc_op_l2norm;
/* LBP + SVM classifier */
extern const ferc_op ferc_op_lbp_histogram, ferc_op_hog;
/* imported models (tools/model/convert.py) */
extern const ferc_op ferc_op_sigmoid, ferc_op_tanh, ferc_op_hard_sigmoid, ferc_op_hard_swish, ferc_op_clip,
    ferc_op_prelu, ferc_op_binary, ferc_op_resize, ferc_op_global_maxpool, ferc_op_conv_transpose2d;
/* int8 (op_q8.c, op_pool.c) */
extern const ferc_op ferc_op_quantize, ferc_op_dequantize, ferc_op_conv2d_q8, ferc_op_dense_q8, ferc_op_maxpool2d_q8;

static const ferc_op *const all_ops[] = {
    &ferc_op_conv2d,  &ferc_op_dense,   &ferc_op_maxpool2d, &ferc_op_avgpool2d, &ferc_op_global_avgpool,
    &ferc_op_batchnorm, &ferc_op_relu,  &ferc_op_relu6,     &ferc_op_leaky_relu, &ferc_op_add,
    &ferc_op_concat,  &ferc_op_flatten, &ferc_op_reshape,   &ferc_op_softmax,   &ferc_op_identity,
    &ferc_op_pad,     &ferc_op_l2norm,    &ferc_op_lbp_histogram, &ferc_op_hog,
    &ferc_op_sigmoid, &ferc_op_tanh, &ferc_op_hard_sigmoid, &ferc_op_hard_swish, &ferc_op_clip,
    &ferc_op_prelu, &ferc_op_binary, &ferc_op_resize, &ferc_op_global_maxpool, &ferc_op_conv_transpose2d,
    &ferc_op_quantize, &ferc_op_dequantize, &ferc_op_conv2d_q8, &ferc_op_dense_q8, &ferc_op_maxpool2d_q8,
};

static const ferc_op *const int8_ops[] = {
    &ferc_op_quantize, &ferc_op_dequantize, &ferc_op_conv2d_q8, &ferc_op_dense_q8, &ferc_op_maxpool2d_q8,
};

int ferc_op_is_int8(const ferc_op *op)
{
    for (size_t i = 0; i < sizeof int8_ops / sizeof *int8_ops; i++)
        if (op == int8_ops[i]) return 1;
    return 0;
}

const ferc_op *ferc_find_op(const char *name)
{
    for (size_t i = 0; i < sizeof all_ops / sizeof *all_ops; i++)
        if (!strcmp(all_ops[i]->name, name)) return all_ops[i];
    return NULL;
}

const ferc_attr *ferc_attr_get(const ferc_node *n, const char *key)
{
    for (int i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attrs[i].key, key)) return &n->attrs[i];
    return NULL;
}

ferc_status ferc_attr_ints(const ferc_node *n, const char *key, int count, const int *dflt, int *out,
                           ferc_error *err)
{
    const ferc_attr *a = ferc_attr_get(n, key);
    if (!a) {
        for (int i = 0; i < count; i++) out[i] = dflt[i];
        return FERC_OK;
    }
    if (a->type != FERC_ATTR_INTS || a->count != count)
        return ferc_set_error(err, FERC_ERR_FORMAT, "attribute '%s' must be %d integer(s)", key, count);
    for (int i = 0; i < count; i++) out[i] = a->ints[i];
    return FERC_OK;
}

ferc_status ferc_attr_int(const ferc_node *n, const char *key, int dflt, int *out, ferc_error *err)
{
    return ferc_attr_ints(n, key, 1, &dflt, out, err);
}

ferc_status ferc_attr_float(const ferc_node *n, const char *key, float dflt, float *out, ferc_error *err)
{
    const ferc_attr *a = ferc_attr_get(n, key);
    if (!a) { *out = dflt; return FERC_OK; }
    if (a->type != FERC_ATTR_FLOATS || a->count != 1)
        return ferc_set_error(err, FERC_ERR_FORMAT, "attribute '%s' must be one float", key);
    *out = a->floats[0];
    return FERC_OK;
}

const ferc_value *ferc_node_param(const ferc_model *m, const ferc_node *n, int i, int ndim, const char *what,
                                  ferc_error *err)
{
    if (i >= n->n_in) { ferc_set_error(err, FERC_ERR_FORMAT, "missing %s", what); return NULL; }
    const ferc_value *v = &m->values[n->in[i]];
    if (v->kind != FERC_VAL_PARAM) {
        ferc_set_error(err, FERC_ERR_FORMAT, "%s '%s' must be a parameter tensor", what, v->name);
        return NULL;
    }
    if (ndim && v->shape.ndim != ndim) {
        ferc_set_error(err, FERC_ERR_FORMAT, "%s '%s' must be %d-D, is %d-D", what, v->name, ndim, v->shape.ndim);
        return NULL;
    }
    if (v->dtype > FERC_DT_Q8) {
        ferc_set_error(err, FERC_ERR_FORMAT, "%s '%s' must be a float tensor (f32, f16 or q8)", what, v->name);
        return NULL;
    }
    return v;
}

const ferc_value *ferc_node_param_typed(const ferc_model *m, const ferc_node *n, int i, int ndim, int dtype,
                                        const char *what, ferc_error *err)
{
    static const char *const names[] = {"f32", "f16", "q8", "i8", "i32", "u8"};
    if (i >= n->n_in) { ferc_set_error(err, FERC_ERR_FORMAT, "missing %s", what); return NULL; }
    const ferc_value *v = &m->values[n->in[i]];
    if (v->kind != FERC_VAL_PARAM || v->dtype != dtype || (ndim && v->shape.ndim != ndim)) {
        ferc_set_error(err, FERC_ERR_FORMAT, "%s '%s' must be a %d-D %s parameter tensor", what, v->name, ndim,
                       names[dtype]);
        return NULL;
    }
    return v;
}
