/* op_pool.c - pooling nodes, semantics as PyTorch:
 *   maxpool2d / avgpool2d: kernel[2], stride[2] (default: kernel), pad[4] top/left/bottom/right,
 *     ceil_mode; avgpool2d also count_include_pad (default 1, as PyTorch).
 *   global_avgpool: [N,H,W,C] -> [N,1,1,C]. */
#include "nn/model.h"
#include "kernels/q8.h"

#include <stdlib.h>

typedef struct {
    ferc_pool_desc d; /* n, h, w, c, oh, ow filled per run */
    int ceil_mode;
} pool_state;

static ferc_status prepare(ferc_model *m, ferc_node *n, ferc_error *err)
{
    (void)m;
    pool_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    int k[2], s[2], p[4], zeros[4] = {0, 0, 0, 0};
    ferc_status e;
    if ((e = ferc_attr_ints(n, "kernel", 2, zeros, k, err))) return e;
    if ((e = ferc_attr_ints(n, "stride", 2, k, s, err)) || (e = ferc_attr_ints(n, "pad", 4, zeros, p, err)) ||
        (e = ferc_attr_int(n, "ceil_mode", 0, &st->ceil_mode, err)) ||
        (e = ferc_attr_int(n, "count_include_pad", 1, &st->d.count_include_pad, err)))
        return e;
    if (k[0] < 1 || k[1] < 1 || k[0] > 4096 || k[1] > 4096 || s[0] < 1 || s[1] < 1 || s[0] > 4096 || s[1] > 4096)
        return ferc_set_error(err, FERC_ERR_FORMAT, "kernel %dx%d / stride %dx%d out of range", k[0], k[1], s[0], s[1]);
    /* As PyTorch: padding beyond half the window would make windows of padding only. */
    if (p[0] < 0 || p[1] < 0 || p[2] < 0 || p[3] < 0 || 2 * p[0] > k[0] || 2 * p[2] > k[0] || 2 * p[1] > k[1] ||
        2 * p[3] > k[1])
        return ferc_set_error(err, FERC_ERR_FORMAT, "padding must be between 0 and half the kernel");
    st->d.kh = k[0], st->d.kw = k[1], st->d.sh = s[0], st->d.sw = s[1];
    st->d.pt = p[0], st->d.pl = p[1], st->d.pb = p[2], st->d.pr = p[3];
    return FERC_OK;
}

/* PyTorch's pooling_output_shape, with the padding split into before/after. */
static int64_t out_size(int64_t in, int k, int s, int before, int after, int ceil_mode)
{
    int64_t span = in + before + after - k;
    int64_t o = (span + (ceil_mode ? s - 1 : 0)) / s + 1;
    if (ceil_mode && (o - 1) * s >= in + before) o--; /* last window would start in padding */
    return o;
}

static ferc_status infer(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const pool_state *st = n->state;
    if (in[0].ndim != 4) return ferc_set_error(err, FERC_ERR_FORMAT, "input must be NHWC");
    if (in[0].d[1] + st->d.pt + st->d.pb < st->d.kh || in[0].d[2] + st->d.pl + st->d.pr < st->d.kw)
        return ferc_set_error(err, FERC_ERR_FORMAT, "window larger than padded input");
    out[0] = ferc_shape4(in[0].d[0], out_size(in[0].d[1], st->d.kh, st->d.sh, st->d.pt, st->d.pb, st->ceil_mode),
                         out_size(in[0].d[2], st->d.kw, st->d.sw, st->d.pl, st->d.pr, st->ceil_mode), in[0].d[3]);
    return FERC_OK;
}

static ferc_pool_desc desc(const ferc_node *n, const ferc_op_args *a)
{
    const pool_state *st = n->state;
    ferc_pool_desc d = st->d;
    d.n = (int)a->in[0].dims[0], d.h = (int)a->in[0].dims[1], d.w = (int)a->in[0].dims[2], d.c = (int)a->in[0].dims[3];
    d.oh = (int)a->out[0].dims[1], d.ow = (int)a->out[0].dims[2];
    return d;
}

static void run_max(const ferc_node *n, const ferc_op_args *a)
{
    ferc_pool_desc d = desc(n, a);
    a->k->maxpool(&d, a->in[0].data, a->out[0].data, a->threads);
}

static void run_avg(const ferc_node *n, const ferc_op_args *a)
{
    ferc_pool_desc d = desc(n, a);
    a->k->avgpool(&d, a->in[0].data, a->out[0].data, a->threads);
}

static void destroy(ferc_node *n) { free(n->state); }

static const char *path_pool(const ferc_node *n, const ferc_kernel_table *k) { return "pool"; }

const ferc_op ferc_op_maxpool2d;

int ferc_maxpool_fusable(const ferc_node *n, const ferc_shape *in, const ferc_shape *out, ferc_pool_desc *d)
{
    if (n->op != &ferc_op_maxpool2d) return 0;
    *d = ((const pool_state *)n->state)->d;
    d->n = (int)in->d[0], d->h = (int)in->d[1], d->w = (int)in->d[2], d->c = (int)in->d[3];
    d->oh = (int)out->d[1], d->ow = (int)out->d[2];
    return ferc_pw_dw_pool_shape(d);
}

const ferc_op ferc_op_maxpool2d = {"maxpool2d", 1, 1, 1, prepare, infer, NULL, run_max, destroy, NULL, path_pool};
const ferc_op ferc_op_avgpool2d = {"avgpool2d", 1, 1, 1, prepare, infer, NULL, run_avg, destroy, NULL, path_pool};

/* Max pooling on uint8 codes (kernels/q8.h): same attributes and window rules. */
static ferc_status prepare_q8(ferc_model *m, ferc_node *n, ferc_error *err)
{
    ferc_status s = prepare(m, n, err);
    if (s) return s;
    if (m->values[n->in[0]].dtype != FERC_DT_U8 || m->values[n->out[0]].dtype != FERC_DT_U8)
        return ferc_set_error(err, FERC_ERR_FORMAT, "input and output must be u8 activations");
    return FERC_OK;
}

static void run_max_q8(const ferc_node *n, const ferc_op_args *a)
{
    ferc_pool_desc d = desc(n, a);
    ferc_q8_maxpool(d.n, d.h, d.w, d.c, d.oh, d.ow, d.kh, d.kw, d.sh, d.sw, d.pt, d.pl, (const uint8_t *)a->in[0].data,
                    (uint8_t *)a->out[0].data, a->threads);
}

const ferc_op ferc_op_maxpool2d_q8 = {.name = "maxpool2d_q8", .min_in = 1, .max_in = 1, .n_out = 1, .prepare = prepare_q8, .infer = infer, .run = run_max_q8, .destroy = destroy};

static ferc_status infer_global(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    (void)n;
    if (in[0].ndim != 4) return ferc_set_error(err, FERC_ERR_FORMAT, "input must be NHWC");
    out[0] = ferc_shape4(in[0].d[0], 1, 1, in[0].d[3]);
    return FERC_OK;
}

static void run_global(const ferc_node *n, const ferc_op_args *a)
{
    (void)n;
    const ferc_tensor *x = &a->in[0];
    a->k->global_avgpool((int)x->dims[0], (int)(x->dims[1] * x->dims[2]), (int)x->dims[3], x->data, a->out[0].data,
                         a->threads);
}

const ferc_op ferc_op_global_avgpool = {"global_avgpool", 1, 1, 1, NULL, infer_global, NULL, run_global, NULL,
                                         NULL, path_pool};
