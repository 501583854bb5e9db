/* op_conv_transpose.c - transposed 2-D convolution (ONNX ConvTranspose, PyTorch's
 * ConvTranspose2d): inputs x (NHWC), w [Cout][KH][KW][Cin/groups] (the converter moves ONNX's
 * [Cin][Cout/groups][KH][KW] there), optional bias [Cout]; attributes stride[2], pad[4] =
 * top, left, bottom, right (cropped from the full output), output_padding[2] (added at the
 * bottom / right), dilation[2], groups, act, alpha. Kernel: kernels.h. */
#include "nn/op_act.h"

#include <stdlib.h>

typedef struct {
    ferc_conv2d_desc d; /* n, h, w, oh, ow filled per run */
    int pb, pr, op[2];
    const float *w, *b;
} deconv_state;

static ferc_status prepare(ferc_model *m, ferc_node *n, ferc_error *err)
{
    deconv_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    const ferc_value *w = ferc_node_param(m, n, 1, 4, "weight", err), *b = NULL;
    if (!w) return err ? err->code : FERC_ERR_FORMAT;
    if (n->n_in > 2 && !(b = ferc_node_param(m, n, 2, 1, "bias", err))) return err ? err->code : FERC_ERR_FORMAT;
    int stride[2], pad[4], dil[2], ones[2] = {1, 1}, zeros[4] = {0, 0, 0, 0};
    ferc_status s;
    ferc_conv2d_desc *d = &st->d;
    if ((s = ferc_attr_ints(n, "stride", 2, ones, stride, err)) || (s = ferc_attr_ints(n, "pad", 4, zeros, pad, err)) ||
        (s = ferc_attr_ints(n, "dilation", 2, ones, dil, err)) || (s = ferc_attr_int(n, "groups", 1, &d->groups, err)) ||
        (s = ferc_attr_ints(n, "output_padding", 2, zeros, st->op, err)) || (s = ferc_parse_act(n, &d->act, &d->alpha, err)))
        return s;
    d->oc = (int)w->shape.d[0], d->kh = (int)w->shape.d[1], d->kw = (int)w->shape.d[2];
    d->sh = stride[0], d->sw = stride[1], d->dh = dil[0], d->dw = dil[1];
    d->pt = pad[0], d->pl = pad[1], st->pb = pad[2], st->pr = pad[3];
    if (d->groups < 1 || d->groups > 65536 || d->oc % d->groups)
        return ferc_set_error(err, FERC_ERR_FORMAT, "%d groups do not divide %d output channels", d->groups, d->oc);
    d->c = (int)w->shape.d[3] * d->groups;
    for (int i = 0; i < 4; i++)
        if (pad[i] < 0 || pad[i] > 4096) return ferc_set_error(err, FERC_ERR_FORMAT, "padding %d out of range", pad[i]);
    if (d->sh < 1 || d->sw < 1 || d->sh > 4096 || d->sw > 4096 || d->dh < 1 || d->dw < 1 || d->dh > 4096 || d->dw > 4096)
        return ferc_set_error(err, FERC_ERR_FORMAT, "stride %dx%d / dilation %dx%d out of range", d->sh, d->sw, d->dh, d->dw);
    /* As ONNX: the extra output rows must stay below the stride (or the dilation). */
    if (st->op[0] < 0 || st->op[1] < 0 || (st->op[0] >= d->sh && st->op[0] >= d->dh) || (st->op[1] >= d->sw && st->op[1] >= d->dw))
        return ferc_set_error(err, FERC_ERR_FORMAT, "output_padding %dx%d must be below the stride or dilation", st->op[0], st->op[1]);
    if (b && b->shape.d[0] != d->oc)
        return ferc_set_error(err, FERC_ERR_FORMAT, "bias has %lld entries for %d output channels", (long long)b->shape.d[0], d->oc);
    st->w = w->data;
    st->b = b ? b->data : NULL;
    return FERC_OK;
}

static ferc_status infer(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const deconv_state *st = n->state;
    const ferc_conv2d_desc *d = &st->d;
    if (in[0].ndim != 4 || in[0].d[3] != d->c)
        return ferc_set_error(err, FERC_ERR_FORMAT, "input must be NHWC with %d channels", d->c);
    const int64_t oh = (int64_t)d->sh * (in[0].d[1] - 1) + (int64_t)d->dh * (d->kh - 1) + 1 - d->pt - st->pb + st->op[0];
    const int64_t ow = (int64_t)d->sw * (in[0].d[2] - 1) + (int64_t)d->dw * (d->kw - 1) + 1 - d->pl - st->pr + st->op[1];
    if (oh < 1 || ow < 1 || oh > FERC_MAX_DIM || ow > FERC_MAX_DIM)
        return ferc_set_error(err, FERC_ERR_FORMAT, "output %lldx%lld out of range", (long long)oh, (long long)ow);
    out[0] = ferc_shape4(in[0].d[0], oh, ow, d->oc);
    return FERC_OK;
}

static void run(const ferc_node *n, const ferc_op_args *a)
{
    const deconv_state *st = n->state;
    ferc_conv2d_desc d = st->d;
    d.n = (int)a->in[0].dims[0], d.h = (int)a->in[0].dims[1], d.w = (int)a->in[0].dims[2];
    d.oh = (int)a->out[0].dims[1], d.ow = (int)a->out[0].dims[2];
    ferc_conv_transpose2d_scalar(&d, a->in[0].data, st->w, st->b, a->out[0].data, a->threads);
}

static void destroy(ferc_node *n) { free(n->state); }

const ferc_op ferc_op_conv_transpose2d = {"conv_transpose2d", 2, 3, 1, prepare, infer, NULL, run, destroy};
