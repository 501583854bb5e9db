/* op_conv2d.c - 2-D convolution node: inputs x (NHWC), w [Cout][KH][KW][Cin/groups], optional
 * bias [Cout]; attributes stride[2], pad[4] = top, left, bottom, right, dilation[2], groups,
 * act, alpha. Batch norm is folded into w and b by the exporter. */
#include "nn/op_act.h"

#include <stdlib.h>

typedef struct {
    ferc_conv2d_desc d; /* n, h, w, oh, ow filled per run */
    int pb, pr;
    const float *w, *b; /* w: packed for the model's kernels, or as stored */
    float *packed;      /* owned, NULL when the kernels read the stored layout */
    const ferc_kernel_table *k;
} conv_state;

static ferc_status prepare(ferc_model *m, ferc_node *n, ferc_error *err)
{
    conv_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    const ferc_value *w = ferc_node_param(m, n, 1, 4, "weight", err), *b = NULL;
    if (!w) return err ? err->code : FERC_ERR_FORMAT;
    if (n->n_in > 2 && !(b = ferc_node_param(m, n, 2, 1, "bias", err))) return err ? err->code : FERC_ERR_FORMAT;
    int stride[2], pad[4], dil[2], ones[2] = {1, 1}, zeros[4] = {0, 0, 0, 0};
    ferc_status s;
    if ((s = ferc_attr_ints(n, "stride", 2, ones, stride, err)) || (s = ferc_attr_ints(n, "pad", 4, zeros, pad, err)) ||
        (s = ferc_attr_ints(n, "dilation", 2, ones, dil, err)) || (s = ferc_attr_int(n, "groups", 1, &st->d.groups, err)) ||
        (s = ferc_parse_act(n, &st->d.act, &st->d.alpha, err)))
        return s;
    ferc_conv2d_desc *d = &st->d;
    d->oc = (int)w->shape.d[0];
    d->kh = (int)w->shape.d[1];
    d->kw = (int)w->shape.d[2];
    d->c = (int)w->shape.d[3] * d->groups; /* checked against x in infer */
    d->sh = stride[0], d->sw = stride[1], d->dh = dil[0], d->dw = dil[1];
    d->pt = pad[0], d->pl = pad[1], st->pb = pad[2], st->pr = pad[3];
    if ((s = ferc_conv_check_attrs(pad, stride, dil, d->groups, d->oc, err))) return s;
    if (b && b->shape.d[0] != d->oc)
        return ferc_set_error(err, FERC_ERR_FORMAT, "bias has %lld entries for %d output channels",
                              (long long)b->shape.d[0], d->oc);
    st->w = w->data;
    st->b = b ? b->data : NULL;
    /* Weights are rearranged for the kernels once here, never in a run; the layout may depend
     * on the model's nominal output size (a context may run other sizes on it). */
    st->k = m->kernels;
    const ferc_shape *os = &m->values[n->out[0]].shape;
    if (os->ndim == 4) d->oh = (int)os->d[1], d->ow = (int)os->d[2];
    d->winograd = st->k->conv2d_winograd && st->k->conv2d_winograd(d);
    d->oh = d->ow = 0;
    if (st->k->conv2d_pack) {
        st->packed = ferc_alloc(st->k->conv2d_packed_size(d) * sizeof(float));
        if (!st->packed) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory packing weights");
        st->k->conv2d_pack(d, w->data, st->packed);
        st->w = st->packed;
    }
    return FERC_OK;
}

ferc_status ferc_conv_check_attrs(const int pad[4], const int stride[2], const int dil[2], int groups, int oc,
                                  ferc_error *err)
{
    for (int i = 0; i < 4; i++)
        if (pad[i] < 0 || pad[i] > 4096) return ferc_set_error(err, FERC_ERR_FORMAT, "padding %d out of range", pad[i]);
    if (stride[0] < 1 || stride[1] < 1 || stride[0] > 4096 || stride[1] > 4096 || dil[0] < 1 || dil[1] < 1 ||
        dil[0] > 4096 || dil[1] > 4096)
        return ferc_set_error(err, FERC_ERR_FORMAT, "stride %dx%d / dilation %dx%d out of range", stride[0], stride[1],
                              dil[0], dil[1]);
    if (groups < 1 || oc % groups)
        return ferc_set_error(err, FERC_ERR_FORMAT, "%d groups do not divide %d output channels", groups, oc);
    return FERC_OK;
}

ferc_status ferc_conv_out_shape(const ferc_shape *x, int c, int kh, int kw, int sh, int sw, int dh, int dw, int pt,
                                int pl, int pb, int pr, int oc, ferc_shape *out, ferc_error *err)
{
    if (x->ndim != 4 || x->d[3] != c)
        return ferc_set_error(err, FERC_ERR_FORMAT, "input must be NHWC with %d channels", c);
    int64_t eh = (int64_t)dh * (kh - 1) + 1, ew = (int64_t)dw * (kw - 1) + 1;
    int64_t ph = x->d[1] + pt + pb, pw = x->d[2] + pl + pr;
    if (ph < eh || pw < ew)
        return ferc_set_error(err, FERC_ERR_FORMAT, "kernel %lldx%lld larger than padded input %lldx%lld",
                              (long long)eh, (long long)ew, (long long)ph, (long long)pw);
    out[0] = ferc_shape4(x->d[0], (ph - eh) / sh + 1, (pw - ew) / sw + 1, oc);
    return FERC_OK;
}

static ferc_status infer(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const conv_state *st = n->state;
    const ferc_conv2d_desc *d = &st->d;
    return ferc_conv_out_shape(&in[0], d->c, d->kh, d->kw, d->sh, d->sw, d->dh, d->dw, d->pt, d->pl, st->pb, st->pr,
                               d->oc, out, err);
}

static size_t scratch(const ferc_node *n, const ferc_shape *in, const ferc_shape *out)
{
    const conv_state *st = n->state;
    if (!st->k->conv2d_scratch) return 0;
    ferc_conv2d_desc d = st->d;
    d.n = (int)in[0].d[0], d.h = (int)in[0].d[1], d.w = (int)in[0].d[2];
    d.oh = (int)out[0].d[1], d.ow = (int)out[0].d[2];
    return st->k->conv2d_scratch(&d);
}

static void run(const ferc_node *n, const ferc_op_args *a)
{
    const conv_state *st = n->state;
    ferc_conv2d_desc d = st->d;
    d.n = (int)a->in[0].dims[0], d.h = (int)a->in[0].dims[1], d.w = (int)a->in[0].dims[2];
    d.oh = (int)a->out[0].dims[1], d.ow = (int)a->out[0].dims[2];
    a->k->conv2d(&d, a->in[0].data, st->w, st->b, a->out[0].data, a->scratch, a->threads);
}

static void destroy(ferc_node *n)
{
    conv_state *st = n->state;
    if (st) ferc_free(st->packed);
    free(st);
}

static int64_t macs(const ferc_node *n, const ferc_shape *in, const ferc_shape *out)
{
    const ferc_conv2d_desc *d = &((const conv_state *)n->state)->d;
    return ferc_shape_numel(&out[0]) * d->kh * d->kw * (d->c / d->groups);
}

static const char *path(const ferc_node *n, const ferc_kernel_table *k)
{
    return k->conv2d_path ? k->conv2d_path(&((const conv_state *)n->state)->d) : "direct";
}

/* ---- a 1x1 convolution and the depthwise convolution reading its output, as one run ---- */

extern const ferc_op ferc_op_conv2d;

int ferc_conv2d_pw_dw_fusable(const ferc_node *pw, const ferc_node *dw, const ferc_kernel_table *k)
{
    if (pw->op != &ferc_op_conv2d || dw->op != &ferc_op_conv2d || !k->conv2d_pw_dw_ok) return 0;
    const conv_state *sp = pw->state, *sd = dw->state;
    return sp->pb == 0 && sp->pr == 0 && k->conv2d_pw_dw_ok(&sp->d, &sd->d);
}

int ferc_conv2d_head_fusable(const ferc_node *n, const ferc_kernel_table *k)
{
    return n->op == &ferc_op_conv2d && k->conv2d_chain_head_ok &&
           k->conv2d_chain_head_ok(&((const conv_state *)n->state)->d);
}

void ferc_conv2d_chain(ferc_pw_dw_chain *ch, const ferc_node *head, const ferc_node *const *pw,
                       const ferc_node *const *dw, int stages, const ferc_pool_desc *pool, const int64_t *x)
{
    int n = (int)x[0], h = (int)x[1], w = (int)x[2];
    ch->stages = stages;
    ch->head = head != NULL;
    if (head) {
        const conv_state *sh = head->state;
        ferc_conv2d_desc *d = &ch->hd;
        *d = sh->d;
        d->n = n, d->h = h, d->w = w;
        d->oh = h = (h + d->pt + sh->pb - d->dh * (d->kh - 1) - 1) / d->sh + 1;
        d->ow = w = (w + d->pl + sh->pr - d->dw * (d->kw - 1) - 1) / d->sw + 1;
        ch->wh = sh->w, ch->bh = sh->b;
    }
    for (int s = 0; s < stages; s++) {
        const conv_state *sp = pw[s]->state, *sd = dw[s]->state;
        ferc_conv2d_desc *dp = &ch->pw[s], *dd = &ch->dw[s];
        *dp = sp->d, *dd = sd->d;
        dp->n = dd->n = n;
        dp->h = dp->oh = dd->h = h;
        dp->w = dp->ow = dd->w = w;
        dd->oh = h = dd->h + dd->pt + sd->pb - dd->kh + 1; /* stride 1, dilation 1 */
        dd->ow = w = dd->w + dd->pl + sd->pr - dd->kw + 1;
        ch->wp[s] = sp->w, ch->bp[s] = sp->b, ch->wd[s] = sd->w, ch->bd[s] = sd->b;
    }
    ch->pool = pool != NULL;
    if (pool) ch->pd = *pool, ch->pd.n = n; /* the batch of this run */
}

const ferc_op ferc_op_conv2d = {"conv2d", 2, 3, 1, prepare, infer, scratch, run, destroy, macs, path};
