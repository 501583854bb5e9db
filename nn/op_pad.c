/* op_pad.c - constant padding of an NHWC tensor's H and W axes.
 *   pad [4]     fixed top, left, bottom, right, or
 *   same [4]    kh, kw, sh, sw: TensorFlow's SAME padding for a following VALID window of
 *               kh x kw at stride sh x sw: out = ceil(in / s), total = max((out - 1) * s + k
 *               - in, 0), top = total / 2 (rounded down), bottom = the rest. The split
 *               depends on the input size, which is why it is a node and not fixed padding
 *               on the conv (OpenCV's importer does the same for SAME convs and pools).
 *   value       the padding value (default 0; -FLT_MAX for max pooling). */
#include "nn/model.h"

#include <stdlib.h>

typedef struct {
    int same, k[2], s[2], pad[4];
    float value;
} pad_state;

static void destroy(ferc_node *n) { free(n->state); }

static ferc_status prepare(ferc_model *m, ferc_node *n, ferc_error *err)
{
    (void)m;
    pad_state *st = calloc(1, sizeof *st);
    if (!st) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    n->state = st;
    ferc_status s;
    if ((s = ferc_attr_float(n, "value", 0.f, &st->value, err))) return s;
    if (!(st->value == st->value)) return ferc_set_error(err, FERC_ERR_FORMAT, "padding value is NaN");
    const ferc_attr *same = ferc_attr_get(n, "same");
    if (same) {
        int ks[4], zeros[4] = {0, 0, 0, 0};
        if ((s = ferc_attr_ints(n, "same", 4, zeros, ks, err))) return s;
        for (int i = 0; i < 4; i++)
            if (ks[i] < 1 || ks[i] > 4096) return ferc_set_error(err, FERC_ERR_FORMAT, "same-padding window %d out of range", ks[i]);
        st->same = 1;
        st->k[0] = ks[0], st->k[1] = ks[1], st->s[0] = ks[2], st->s[1] = ks[3];
        return FERC_OK;
    }
    int zeros[4] = {0, 0, 0, 0};
    if ((s = ferc_attr_ints(n, "pad", 4, zeros, st->pad, err))) return s;
    for (int i = 0; i < 4; i++)
        if (st->pad[i] < 0 || st->pad[i] > 4096) return ferc_set_error(err, FERC_ERR_FORMAT, "padding %d out of range", st->pad[i]);
    return FERC_OK;
}

/* top, left, bottom, right for an h x w input. */
static void pads_for(const pad_state *st, int64_t h, int64_t w, int64_t p[4])
{
    if (!st->same) {
        for (int i = 0; i < 4; i++) p[i] = st->pad[i];
        return;
    }
    const int64_t in[2] = {h, w};
    for (int a = 0; a < 2; a++) {
        int64_t out = (in[a] + st->s[a] - 1) / st->s[a];
        int64_t total = (out - 1) * st->s[a] + st->k[a] - in[a];
        if (total < 0) total = 0;
        p[a] = total / 2;
        p[a + 2] = total - total / 2;
    }
}

static ferc_status infer(const ferc_node *n, const ferc_shape *in, ferc_shape *out, ferc_error *err)
{
    const pad_state *st = n->state;
    if (in[0].ndim != 4) return ferc_set_error(err, FERC_ERR_FORMAT, "input must be NHWC");
    int64_t p[4];
    pads_for(st, in[0].d[1], in[0].d[2], p);
    out[0] = ferc_shape4(in[0].d[0], in[0].d[1] + p[0] + p[2], in[0].d[2] + p[1] + p[3], in[0].d[3]);
    if (out[0].d[1] > FERC_MAX_DIM || out[0].d[2] > FERC_MAX_DIM || ferc_shape_numel(&out[0]) > FERC_MAX_NUMEL)
        return ferc_set_error(err, FERC_ERR_FORMAT, "padded tensor too large");
    return FERC_OK;
}

static void run(const ferc_node *n, const ferc_op_args *a)
{
    const pad_state *st = n->state;
    const ferc_tensor *x = &a->in[0], *y = &a->out[0];
    const int64_t N = x->dims[0], h = x->dims[1], w = x->dims[2], c = x->dims[3], oh = y->dims[1], ow = y->dims[2];
    int64_t p[4];
    pads_for(st, h, w, p);
    for (int64_t b = 0; b < N; b++)
        for (int64_t oy = 0; oy < oh; oy++) {
            float *dst = y->data + ((b * oh + oy) * ow) * c;
            const int64_t iy = oy - p[0];
            for (int64_t ox = 0; ox < ow; ox++) {
                const int64_t ix = ox - p[1];
                const int inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                const float *src = inside ? x->data + ((b * h + iy) * w + ix) * c : NULL;
                for (int64_t k = 0; k < c; k++) dst[ox * c + k] = inside ? src[k] : st->value;
            }
        }
}

const ferc_op ferc_op_pad = {"pad", 1, 1, 1, prepare, infer, NULL, run, destroy, NULL, NULL};
