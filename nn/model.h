/* model.h - the engine's internal structures: values (named tensors), nodes, models,
 * contexts, and the op table. Public callers see only include/ferc.h. */
#ifndef FERC_NN_MODEL_H
#define FERC_NN_MODEL_H

#include "ferc.h"
#include "nn/error.h"
#include "nn/tensor.h"
#include "kernels/kernels.h"

/* Format version 2 adds the integer dtypes: i8 and i32 parameters and u8 activations are used
 * as stored (int8 ops, kernels/q8.h); f16 and q8 parameters are dequantised to f32 at load. */
enum { FERC_DT_F32 = 0, FERC_DT_F16 = 1, FERC_DT_Q8 = 2, FERC_DT_I8 = 3, FERC_DT_I32 = 4, FERC_DT_U8 = 5 };
enum { FERC_VAL_INPUT = 0, FERC_VAL_PARAM = 1, FERC_VAL_ACT = 2 };
enum { FERC_ATTR_INTS = 0, FERC_ATTR_FLOATS = 1 };

typedef struct {
    char *name;
    int kind;          /* FERC_VAL_* */
    int dtype;         /* dtype in the file; parameters are dequantised to f32 at load */
    ferc_shape shape;  /* params: exact; inputs and activations: nominal, batch 1 */
    float *data;       /* params only: f32 data (i8/i32/u8: the stored integers), 64-byte aligned */
    int owned;         /* data was allocated (dequantised) rather than pointing into file */
    int producer;      /* index of the node writing this value, -1 for inputs/params */
} ferc_value;

typedef struct {
    char *key;
    int type;          /* FERC_ATTR_* */
    int count;
    int32_t *ints;
    float *floats;
} ferc_attr;

struct ferc_op;

typedef struct {
    const struct ferc_op *op;
    int n_in, n_out;
    int *in, *out;     /* value indices */
    int n_attr;
    ferc_attr *attrs;
    void *state;       /* op-private: parsed attributes, packed weights (built at load) */
} ferc_node;

struct ferc_model {
    uint8_t *file;     /* the whole file, 64-byte aligned (mmap'd or copied) */
    size_t file_size;
    int mapped;
    int n_meta;
    char **meta_key, **meta_val;
    int n_values;
    ferc_value *values;
    int n_nodes;
    ferc_node *nodes;
    int *order;        /* node indices in execution (topological) order */
    int n_inputs, n_outputs;
    int *inputs, *outputs;
    const struct ferc_kernel_table *kernels; /* chosen at load (FERC_ISA or cpuid) */
    const struct ferc_q8_kernels *q8;        /* the int8 path, chosen with them (kernels/q8.h) */
};

/* What an op sees when it runs: its input and output tensors (batch included). */
typedef struct {
    const ferc_tensor *in;
    ferc_tensor *out;
    void *scratch;     /* workspace bytes the op asked for, 64-byte aligned */
    int threads;
    const struct ferc_kernel_table *k; /* kernels for the ISA in use */
} ferc_op_args;

typedef struct ferc_op {
    const char *name;
    int min_in, max_in, n_out;
    /* Parse and check attributes and parameter tensors once at load; may build node->state
     * (e.g. packed weights). Shapes of graph inputs are not known here. */
    ferc_status (*prepare)(ferc_model *m, ferc_node *n, ferc_error *err);
    /* Output shapes from input shapes (batch dimension included). Rejects mismatches. */
    ferc_status (*infer)(const ferc_node *n, const ferc_shape *in, ferc_shape *out,
                         ferc_error *err);
    /* Scratch bytes for a run on these shapes (NULL: none). */
    size_t (*scratch)(const ferc_node *n, const ferc_shape *in, const ferc_shape *out);
    void (*run)(const ferc_node *n, const ferc_op_args *a);
    void (*destroy)(ferc_node *n);
    /* For inspect and profile. Multiply-accumulates of a run on these shapes (NULL: none
     * counted: pooling, element-wise and copies). */
    int64_t (*macs)(const ferc_node *n, const ferc_shape *in, const ferc_shape *out);
    /* The kernel variant the node runs on table k ("winograd", "gemm", ...); NULL: plain C
     * loops, the same on every ISA. The int8 ops name a variant of the model's int8 path
     * (m->q8) instead. */
    const char *(*path)(const ferc_node *n, const ferc_kernel_table *k);
} ferc_op;

const ferc_op *ferc_find_op(const char *name);
/* The attribute ranges a convolution (float or int8) accepts: padding 0..4096, stride and
 * dilation 1..4096, groups dividing oc; a named FERC_ERR_FORMAT otherwise. */
ferc_status ferc_conv_check_attrs(const int pad[4], const int stride[2], const int dil[2], int groups, int oc,
                                  ferc_error *err);
/* Output shape of a convolution (float or int8) on NHWC input x: c input channels, kernel
 * kh x kw, stride, dilation, padding top/left/bottom/right, oc output channels. Refuses other
 * channel counts and kernels larger than the padded input. */
ferc_status ferc_conv_out_shape(const ferc_shape *x, int c, int kh, int kw, int sh, int sw, int dh, int dw, int pt,
                                int pl, int pb, int pr, int oc, ferc_shape *out, ferc_error *err);
/* Chains of conv2d pairs, a 1x1 pw and the depthwise dw that alone reads its output, each
 * pair alone reading the previous one's output, optionally after a convolution whose output
 * only the first pair reads and ended by a 2x2 max pooling, run as one (kernel table's
 * conv2d_pw_dw; nn/graph.c decides per context). pw_dw_fusable: whether k runs pw and dw as a
 * stage; head_fusable: whether k runs n before the first stage; chain: the kernel's
 * description of a run on input shape x (head's, or pw[0]'s), head and pool NULL or present
 * (the pooling at its planned shape). ferc_maxpool_fusable: whether n is a max pooling that
 * can end a chain on input in and output out (the context's shapes), filling *d. */
int ferc_conv2d_pw_dw_fusable(const ferc_node *pw, const ferc_node *dw, const ferc_kernel_table *k);
int ferc_conv2d_head_fusable(const ferc_node *n, const ferc_kernel_table *k);
void ferc_conv2d_chain(ferc_pw_dw_chain *ch, const ferc_node *head, const ferc_node *const *pw,
                       const ferc_node *const *dw, int stages, const ferc_pool_desc *pool, const int64_t *x);
int ferc_maxpool_fusable(const ferc_node *n, const ferc_shape *in, const ferc_shape *out, ferc_pool_desc *d);
/* 1 for the int8 ops, which check their own dtypes; every other op reads and writes floats
 * only (the graph checks that). */
int ferc_op_is_int8(const ferc_op *op);

/* Attribute helpers for prepare(): fetch with a default, reporting malformed values. */
const ferc_attr *ferc_attr_get(const ferc_node *n, const char *key);
ferc_status ferc_attr_ints(const ferc_node *n, const char *key, int count, const int *dflt,
                           int *out, ferc_error *err);
ferc_status ferc_attr_int(const ferc_node *n, const char *key, int dflt, int *out,
                          ferc_error *err);
ferc_status ferc_attr_float(const ferc_node *n, const char *key, float dflt, float *out,
                            ferc_error *err);

/* The parameter tensor on input slot i of n, checked to exist and be a parameter with
 * the given rank (0: any). NULL (with err set) otherwise. */
const ferc_value *ferc_node_param(const ferc_model *m, const ferc_node *n, int i, int ndim,
                                  const char *what, ferc_error *err);
/* The same for a parameter of exactly this dtype (ferc_node_param accepts only parameters
 * held as f32: f32, f16 or q8 in the file). */
const ferc_value *ferc_node_param_typed(const ferc_model *m, const ferc_node *n, int i, int ndim, int dtype,
                                        const char *what, ferc_error *err);

/* Name of a node for messages: its first output's name. */
const char *ferc_node_name(const ferc_model *m, const ferc_node *n);

#endif
