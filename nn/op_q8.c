/* op_q8.c - the int8 nodes (kernels/q8.h gives the arithmetic, docs/FORMAT.md the file side):
 *   quantize     x f32 -> y u8      scale, zero
 *   dequantize   x u8  -> y f32     scale, zero
 *   conv2d_q8    x u8, w i8 [Co][KH][KW][Ci/groups], b i32 [Co], m f32 [Co] -> y u8
 *                stride, pad [t,l,b,r], dilation, groups, x_zero, y_zero, clamp [lo, hi]
 *   dense_q8     x u8 [N,K], w i8 [M,K], b i32 [M], m f32 [M] -> y u8 [N,M]
 *                x_zero, y_zero, clamp
 * (maxpool2d_q8 shares op_pool.c's window rules.) Every dtype is checked here at load: the
 * graph gives other ops f32 activations only. */
#include "nn/model.h"
#include "kernels/q8.h"

#include <math.h>
#include <stdlib.h>

static ferc_status want_dtype(const ferc_model *m, int v, int dtype, const char *what, ferc_error *err)
{
    static const char *const names[] = {"f32", "f16", "q8", "i8", "i32", "u8"};
    if (m->values[v].dtype != dtype)
        return ferc_set_error(err, FERC_ERR_FORMAT, "%s '%s' must be %s, is %s", what, m->values[v].name,
                              names[dtype], names[m->values[v].dtype]);
    return FERC_OK;
}

/* ---- quantize / dequantize -------------------------------------------------------------- */

typedef struct {
    float scale;
    int zero;
    const ferc_q8_kernels *k;
} qparam;

static ferc_status prepare_qparam(ferc_model *m, ferc_node *n, int in_dtype, int out_dtype, ferc_error *err)
{
    qparam *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    ferc_status s;
    if ((s = want_dtype(m, n->in[0], in_dtype, "input", err)) || (s = want_dtype(m, n->out[0], out_dtype, "output", err)) ||
        (s = ferc_attr_float(n, "scale", 0.f, &st->scale, err)) || (s = ferc_attr_int(n, "zero", 0, &st->zero, err)))
        return s;
    if (!(st->scale > 1e-30f && st->scale < 1e30f) || st->zero < 0 || st->zero > 255)
        return ferc_set_error(err, FERC_ERR_FORMAT, "bad scale %g / zero point %d", (double)st->scale, st->zero);
    if (m->values[n->in[0]].kind == FERC_VAL_PARAM)
        return ferc_set_error(err, FERC_ERR_FORMAT, "input must be an activation");
    st->k = m->q8;
    return FERC_OK;
}

static ferc_status prepare_quantize(ferc_model *m, ferc_node *n, ferc_error *err)
{
    return prepare_qparam(m, n, FERC_DT_F32, FERC_DT_U8, err);
}

static ferc_status prepare_dequantize(ferc_model *m, ferc_node *n, ferc_error *err)
{
    return prepare_qparam(m, n, FERC_DT_U8, FERC_DT_F32, err);
}

static ferc_status infer_same(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    (void)n, (void)err;
    out[0] = in[0];
    return FERC_OK;
}

static size_t count(const ferc_tensor *t)
{
    size_t c = 1;
    for (int d = 0; d < t->ndim; d++) c *= (size_t)t->dims[d];
    return c;
}

static void run_quantize(const ferc_node *n, const ferc_op_args *a)
{
    const qparam *st = n->state;
    ferc_q8_quantize(st->k, count(&a->in[0]), a->in[0].data, st->scale, st->zero, (uint8_t *)a->out[0].data,
                     a->threads);
}

static void run_dequantize(const ferc_node *n, const ferc_op_args *a)
{
    const qparam *st = n->state;
    ferc_q8_dequantize(count(&a->in[0]), (const uint8_t *)a->in[0].data, st->scale, st->zero, a->out[0].data,
                       a->threads);
}

static void destroy(ferc_node *n) { free(n->state); }

static const char *path_quantize(const ferc_node *n, const ferc_kernel_table *k) { return "quantize"; }

const ferc_op ferc_op_quantize = {.name = "quantize", .min_in = 1, .max_in = 1, .n_out = 1, .prepare = prepare_quantize, .infer = infer_same, .run = run_quantize, .destroy = destroy, .path = path_quantize};
const ferc_op ferc_op_dequantize = {.name = "dequantize", .min_in = 1, .max_in = 1, .n_out = 1, .prepare = prepare_dequantize, .infer = infer_same, .run = run_dequantize, .destroy = destroy};

/* ---- conv2d_q8 / dense_q8 ----------------------------------------------------------------- */

typedef struct {
    ferc_q8_conv_desc d; /* n, h, w, oh, ow filled per run */
    int pb, pr, dense;
    const int8_t *w;     /* packed for k, or as stored (scalar) */
    const int32_t *b;
    const float *mult;
    int8_t *packed;
    int32_t *bias;
    const ferc_q8_kernels *k;
} qconv;

static ferc_status prepare_conv_common(ferc_model *m, ferc_node *n, qconv *st, int wdim, ferc_error *err)
{
    ferc_status s;
    if ((s = want_dtype(m, n->in[0], FERC_DT_U8, "input", err)) || (s = want_dtype(m, n->out[0], FERC_DT_U8, "output", err)))
        return s;
    const ferc_value *w = ferc_node_param_typed(m, n, 1, wdim, FERC_DT_I8, "weight", err);
    const ferc_value *b = w ? ferc_node_param_typed(m, n, 2, 1, FERC_DT_I32, "bias", err) : NULL;
    const ferc_value *mu = b ? ferc_node_param_typed(m, n, 3, 1, FERC_DT_F32, "multiplier", err) : NULL;
    if (!mu) return err ? err->code : FERC_ERR_FORMAT;
    int clamp[2], dfl[2] = {0, 255};
    ferc_q8_conv_desc *d = &st->d;
    if ((s = ferc_attr_int(n, "x_zero", 0, &d->zx, err)) || (s = ferc_attr_int(n, "y_zero", 0, &d->zy, err)) ||
        (s = ferc_attr_ints(n, "clamp", 2, dfl, clamp, err)))
        return s;
    d->lo = clamp[0], d->hi = clamp[1];
    if (d->zx < 0 || d->zx > 255 || d->zy < 0 || d->zy > 255 || d->lo < 0 || d->lo > d->hi || d->hi > 255)
        return ferc_set_error(err, FERC_ERR_FORMAT, "zero points %d, %d and clamp [%d, %d] must lie in 0..255", d->zx,
                              d->zy, d->lo, d->hi);
    d->oc = (int)w->shape.d[0];
    if (b->shape.d[0] != d->oc || mu->shape.d[0] != d->oc)
        return ferc_set_error(err, FERC_ERR_FORMAT, "bias and multiplier need %d entries (have %lld and %lld)", d->oc,
                              (long long)b->shape.d[0], (long long)mu->shape.d[0]);
    const float *mv = mu->data;
    for (int i = 0; i < d->oc; i++)
        if (!(mv[i] > 0.f && mv[i] < 1e30f))
            return ferc_set_error(err, FERC_ERR_FORMAT, "multiplier %d is %g (must be positive and finite)", i, (double)mv[i]);
    st->w = (const int8_t *)(const void *)w->data;
    st->b = (const int32_t *)(const void *)b->data;
    st->mult = mv;
    return FERC_OK;
}

/* Checks the weights against d's limits (q8.h: depthwise filters may use -127..127), then
 * packs them for the SIMD body chosen at load (the scalar reference reads the stored layout). */
static ferc_status pack(const ferc_model *m, const ferc_node *n, qconv *st, ferc_error *err)
{
    const ferc_value *w = &m->values[n->in[1]];
    const int wmax = ferc_q8_wmax(&st->d);
    const int64_t nw = ferc_shape_numel(&w->shape), k = nw / st->d.oc;
    for (int64_t i = 0; i < nw; i++)
        if (st->w[i] < -wmax || st->w[i] > wmax)
            return ferc_set_error(err, FERC_ERR_FORMAT, "weight '%s' holds %d; int8 weights must lie in -%d..%d%s",
                                  w->name, st->w[i], wmax, wmax,
                                  ferc_q8_depthwise(&st->d) ? " (depthwise)" : " (-127..127 in depthwise filters only)");
    if (k > ferc_q8_max_k(&st->d))
        return ferc_set_error(err, FERC_ERR_FORMAT, "%lld products per output, limit %d", (long long)k,
                              ferc_q8_max_k(&st->d));
    st->k = m->q8;
    if (!st->k->gemm) return FERC_OK;
    st->packed = ferc_alloc(ferc_q8_packed_size(&st->d));
    st->bias = ferc_alloc(sizeof(int32_t) * (size_t)st->d.oc);
    if (!st->packed || !st->bias) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory packing weights");
    ferc_q8_pack(&st->d, st->w, st->b, st->packed, st->bias);
    st->w = st->packed, st->b = st->bias;
    return FERC_OK;
}

static ferc_status prepare_conv(ferc_model *m, ferc_node *n, ferc_error *err)
{
    qconv *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    ferc_status s;
    if ((s = prepare_conv_common(m, n, st, 4, err))) return s;
    const ferc_value *w = &m->values[n->in[1]];
    int stride[2], pad[4], dil[2], ones[2] = {1, 1}, zeros[4] = {0, 0, 0, 0};
    ferc_q8_conv_desc *d = &st->d;
    if ((s = ferc_attr_ints(n, "stride", 2, ones, stride, err)) || (s = ferc_attr_ints(n, "pad", 4, zeros, pad, err)) ||
        (s = ferc_attr_ints(n, "dilation", 2, ones, dil, err)) || (s = ferc_attr_int(n, "groups", 1, &d->groups, err)))
        return s;
    d->kh = (int)w->shape.d[1], d->kw = (int)w->shape.d[2];
    d->sh = stride[0], d->sw = stride[1], d->dh = dil[0], d->dw = dil[1];
    d->pt = pad[0], d->pl = pad[1], st->pb = pad[2], st->pr = pad[3];
    if ((s = ferc_conv_check_attrs(pad, stride, dil, d->groups, d->oc, err))) return s;
    d->c = (int)w->shape.d[3] * d->groups;
    return pack(m, n, st, err);
}

static ferc_status prepare_dense(ferc_model *m, ferc_node *n, ferc_error *err)
{
    qconv *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    ferc_status s;
    if ((s = prepare_conv_common(m, n, st, 2, err))) return s;
    ferc_q8_conv_desc *d = &st->d;
    st->dense = 1;
    d->c = (int)m->values[n->in[1]].shape.d[1];
    d->kh = d->kw = d->sh = d->sw = d->dh = d->dw = d->groups = 1;
    return pack(m, n, st, err);
}

static ferc_status infer_conv(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const qconv *st = n->state;
    const ferc_q8_conv_desc *d = &st->d;
    if (st->dense) {
        if (in[0].ndim != 2 || in[0].d[1] != d->c)
            return ferc_set_error(err, FERC_ERR_FORMAT, "input must be [N, %d]", d->c);
        out[0] = ferc_shape2(in[0].d[0], d->oc);
        return FERC_OK;
    }
    return ferc_conv_out_shape(&in[0], d->c, d->kh, d->kw, d->sh, d->sw, d->dh, d->dw, d->pt, d->pl, st->pb, st->pr,
                               d->oc, out, err);
}

static ferc_q8_conv_desc run_desc(const qconv *st, const ferc_tensor *x, const ferc_tensor *y)
{
    ferc_q8_conv_desc d = st->d;
    if (st->dense) {
        d.n = (int)x->dims[0], d.h = d.w = d.oh = d.ow = 1;
    } else {
        d.n = (int)x->dims[0], d.h = (int)x->dims[1], d.w = (int)x->dims[2];
        d.oh = (int)y->dims[1], d.ow = (int)y->dims[2];
    }
    return d;
}

static size_t scratch_conv(const ferc_node *n, const ferc_shape *in, const ferc_shape *out)
{
    const qconv *st = n->state;
    if (!st->k->gemm) return 0;
    ferc_tensor x = {in[0].ndim, {in[0].d[0], in[0].d[1], in[0].d[2], in[0].d[3]}, NULL};
    ferc_tensor y = {out[0].ndim, {out[0].d[0], out[0].d[1], out[0].d[2], out[0].d[3]}, NULL};
    ferc_q8_conv_desc d = run_desc(st, &x, &y);
    /* room for the most threads the driver uses, whatever a context is later given */
    return ferc_q8_conv_scratch(&d, 1 << 30);
}

static void run_conv(const ferc_node *n, const ferc_op_args *a)
{
    const qconv *st = n->state;
    ferc_q8_conv_desc d = run_desc(st, &a->in[0], &a->out[0]);
    ferc_q8_conv2d(st->k, &d, (const uint8_t *)a->in[0].data, st->w, st->b, st->mult, (uint8_t *)a->out[0].data,
                   a->scratch, a->threads);
}

static void destroy_conv(ferc_node *n)
{
    qconv *st = n->state;
    if (st) ferc_free(st->packed), ferc_free(st->bias);
    free(st);
}

/* Counted as the float ops count them: one per weight tap of every output. */
static int64_t macs_conv(const ferc_node *n, const ferc_shape *in, const ferc_shape *out)
{
    const ferc_q8_conv_desc *d = &((const qconv *)n->state)->d;
    return ferc_shape_numel(&out[0]) * d->kh * d->kw * (d->c / d->groups);
}

static const char *path_conv(const ferc_node *n, const ferc_kernel_table *k)
{
    const qconv *st = n->state;
    return ferc_q8_conv_path(st->k, &st->d);
}

const ferc_op ferc_op_conv2d_q8 = {.name = "conv2d_q8", .min_in = 4, .max_in = 4, .n_out = 1, .prepare = prepare_conv, .infer = infer_conv, .scratch = scratch_conv, .run = run_conv, .destroy = destroy_conv, .macs = macs_conv, .path = path_conv};
const ferc_op ferc_op_dense_q8 = {.name = "dense_q8", .min_in = 4, .max_in = 4, .n_out = 1, .prepare = prepare_dense, .infer = infer_conv, .scratch = scratch_conv, .run = run_conv, .destroy = destroy_conv, .macs = macs_conv, .path = path_conv};
