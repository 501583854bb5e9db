/* kernels.h - the compute kernels, one descriptor per op.
 *
 * Every kernel has a scalar reference (<op>_scalar.c), written for clarity and used as the
 * ground truth by the tests; SIMD variants (<op>_avx2.c, <op>_avx512.c) sit beside it and
 * must match it. ferc_kernels() returns the table for the ISA chosen at run time.
 *
 * Layout conventions (docs/ARCHITECTURE.md):
 *   activations  NHWC, C fastest
 *   conv weights [Cout][KH][KW][Cin/groups]  (PyTorch's OIHW with I moved last)
 *   dense        y[n][o] = b[o] + sum_i x[n][i] * w[o][i]   (PyTorch's Linear)
 */
#ifndef FERC_KERNELS_H
#define FERC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Activation fused into the op that precedes it. */
enum { FERC_ACT_NONE = 0, FERC_ACT_RELU = 1, FERC_ACT_RELU6 = 2, FERC_ACT_LEAKY = 3 };

static inline float ferc_act1(float v, int act, float alpha)
{
    switch (act) {
    case FERC_ACT_RELU: return v > 0.f ? v : 0.f;
    case FERC_ACT_RELU6: return v > 0.f ? (v < 6.f ? v : 6.f) : 0.f;
    case FERC_ACT_LEAKY: return v >= 0.f ? v : v * alpha;
    default: return v;
    }
}

/* conv2d: y[n][oy][ox][oc] = act(b[oc] + sum over ky, kx, ic of
 *     x[n][oy*sh - pt + ky*dh][ox*sw - pl + kx*dw][g*cig + ic] * w[oc][ky][kx][ic])
 * where g = oc / (oc_total/groups), cig = c/groups, and x outside the image is 0 (zero
 * padding: pt/pl top/left; the bottom/right padding only shows in oh/ow). */
typedef struct {
    int n, h, w, c;      /* input */
    int oh, ow, oc;      /* output */
    int kh, kw;
    int sh, sw;          /* stride */
    int pt, pl;          /* top / left padding */
    int dh, dw;          /* dilation */
    int groups;
    int act;
    float alpha;         /* LeakyReLU slope */
    int winograd;        /* weights packed for Winograd: conv2d_winograd's answer when they
                            were packed, kept for every run on them */
} ferc_conv2d_desc;

/* Pooling: max or average over a kh x kw window.
 * max: padding never wins (it acts as -inf), as PyTorch.
 * avg: as PyTorch's avg_pool2d: the window is clipped to the padded input
 *   [-pt, h + pb) x [-pl, w + pr); with count_include_pad the divisor is that clipped
 *   window's area, without it the number of real pixels inside. */
typedef struct {
    int n, h, w, c;
    int oh, ow;
    int kh, kw, sh, sw;
    int pt, pl, pb, pr;
    int count_include_pad;
} ferc_pool_desc;

/* The input rows [y0, y1) and columns [x0, x1) an average-pool output pixel reads, and its
 * divisor, with PyTorch's rules (see ferc_pool_desc). Shared by every avgpool kernel so the
 * SIMD paths cannot drift from the reference. */
static inline int ferc_avgpool_window(const ferc_pool_desc *d, int oy, int ox, int *y0, int *y1, int *x0, int *x1)
{
    *y0 = oy * d->sh - d->pt, *x0 = ox * d->sw - d->pl;
    *y1 = *y0 + d->kh, *x1 = *x0 + d->kw;
    if (*y1 > d->h + d->pb) *y1 = d->h + d->pb;
    if (*x1 > d->w + d->pr) *x1 = d->w + d->pr;
    const int padded_area = (*y1 - *y0) * (*x1 - *x0);
    if (*y0 < 0) *y0 = 0;
    if (*x0 < 0) *x0 = 0;
    if (*y1 > d->h) *y1 = d->h;
    if (*x1 > d->w) *x1 = d->w;
    return d->count_include_pad ? padded_area : (*y1 - *y0) * (*x1 - *x0);
}

/* Ops the model importers need (tools/model/convert.py), kernels/pointwise_*.c and
 * kernels/resize_scalar.c.
 *
 * unary: y[i] = f(x[i]) with
 *   FERC_UN_SIGMOID       1 / (1 + expf(-x))
 *   FERC_UN_TANH          tanhf(x)
 *   FERC_UN_HARD_SIGMOID  t = p0 * x + p1, then t > 0 ? min(t, 1) : 0   (ONNX HardSigmoid alpha, beta)
 *   FERC_UN_HARD_SWISH    x * that with t = x * (1/6) + 0.5             (ONNX HardSwish)
 *   FERC_UN_CLIP          t = x < p0 ? p0 : x, then t > p1 ? p1 : t  (ONNX Clip; NaN stays NaN)
 * prelu: y[i] = x[i] >= 0 ? x[i] : x[i] * slope[i % c]. */
enum { FERC_UN_SIGMOID = 0, FERC_UN_TANH = 1, FERC_UN_HARD_SIGMOID = 2, FERC_UN_HARD_SWISH = 3, FERC_UN_CLIP = 4 };

/* binary: y = a (op) b with NumPy broadcasting over 4 dims (a dim of a or b is either the
 * output's or 1, and a dim of 1 repeats): y[n][h][w][c] = a[n'][h'][w'][c'] op b[..], where
 * each primed index is 0 on a size-1 dim. op: 0 add, 1 sub, 2 mul, 3 div (IEEE, per element). */
enum { FERC_BIN_ADD = 0, FERC_BIN_SUB = 1, FERC_BIN_MUL = 2, FERC_BIN_DIV = 3 };
typedef struct {
    int y[4], a[4], b[4]; /* dims of the output and of each operand */
    int op;
} ferc_binary_desc;

/* resize: NHWC [n][h][w][c] -> [n][oh][ow][c] as ONNX Resize (opset 11..19) for 4-D inputs
 * that keep N and C. For an output row oy the source coordinate is, by coord mode,
 *   0 half_pixel          (oy + 0.5) / scale - 0.5
 *   1 asymmetric          oy / scale
 *   2 align_corners       oh > 1 ? oy * (h - 1) / (oh - 1) : 0
 *   3 pytorch_half_pixel  oh > 1 ? (oy + 0.5) / scale - 0.5 : 0
 * in float, scale = scale_h (columns alike with scale_w, ow, w). Nearest (linear 0) takes
 * the row by nearest mode 0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3 ceil, then
 * clamps it to [0, h - 1]. Linear clamps the coordinate to [0, h - 1], takes y0 = floor,
 * y1 = min(y0 + 1, h - 1), l = coord - y0, and gives, as PyTorch's upsample_bilinear2d,
 *   (1-ly) * ((1-lx) x[y0][x0] + lx x[y0][x1]) + ly * ((1-lx) x[y1][x0] + lx x[y1][x1]). */
typedef struct {
    int n, h, w, c, oh, ow;
    int linear, coord, nearest;
    float scale_h, scale_w;
} ferc_resize_desc;

/* Stages of a fused chain: stage s is a 1x1 convolution pw[s] and a depthwise convolution dw[s]
 * on its output (descriptors with every field set; ferc_conv2d_pw_dw_shape), stage s + 1
 * reading stage s's output; with head, stage 0 reads the output of the convolution hd
 * (conv2d_chain_head_ok) rather than the chain's input; with pool, a max pooling pd of the
 * last stage's output (ferc_pw_dw_pool_shape), or of the head's when there are no stages (a
 * chain has stages, or a head and a pool). Weights as conv2d_pack left them. */
#define FERC_CHAIN_MAX 8
typedef struct {
    int stages, pool, head;
    ferc_conv2d_desc pw[FERC_CHAIN_MAX], dw[FERC_CHAIN_MAX], hd;
    const float *wp[FERC_CHAIN_MAX], *bp[FERC_CHAIN_MAX], *wd[FERC_CHAIN_MAX], *bd[FERC_CHAIN_MAX], *wh, *bh;
    ferc_pool_desc pd;
} ferc_pw_dw_chain;

typedef struct ferc_kernel_table {
    /* conv2d reads its weights in the layout this ISA wants: conv2d_pack (NULL: none, the
     * stored layout is used) rearranges them once at load into conv2d_packed_size(d) floats;
     * only d's oc, kh, kw, c, groups, strides and dilations matter there (not the batch or
     * image size). conv2d_scratch (NULL: none) gives the workspace bytes a run on d (all
     * fields set) needs, passed as scratch; the size for a batch serves every smaller one.
     * conv2d_winograd (NULL: never) says whether d should run as Winograd F(2x2, 3x3) rather
     * than as a direct convolution, from its kernel and channels and, when set (non-zero),
     * its output size; the caller stores the answer in d->winograd before packing, and pack,
     * scratch and conv2d follow d->winograd (benches report such layers' speed as effective
     * FLOPs). */
    size_t (*conv2d_packed_size)(const ferc_conv2d_desc *d);
    void (*conv2d_pack)(const ferc_conv2d_desc *d, const float *w, float *packed);
    size_t (*conv2d_scratch)(const ferc_conv2d_desc *d);
    void (*conv2d)(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b, float *y,
                   void *scratch, int threads);
    int (*conv2d_winograd)(const ferc_conv2d_desc *d);
    /* dense: the same, weights packed once by dense_pack (NULL: stored layout). */
    size_t (*dense_packed_size)(int in, int out);
    void (*dense_pack)(int in, int out, const float *w, float *packed);
    void (*dense)(int n, int in, int out, const float *x, const float *w, const float *b, float *y, int act,
                  float alpha, int threads);
    void (*maxpool)(const ferc_pool_desc *d, const float *x, float *y, int threads);
    void (*avgpool)(const ferc_pool_desc *d, const float *x, float *y, int threads);
    /* y[n][c] = mean over h, w of x[n][h][w][c] */
    void (*global_avgpool)(int n, int hw, int c, const float *x, float *y, int threads);
    /* y[i] = act(x[i] * scale[i % c] + shift[i % c]); scale NULL means 1, shift NULL 0 */
    void (*affine)(size_t count, int c, const float *x, const float *scale, const float *shift, float *y,
                   int act, float alpha, int threads);
    /* y[i] = act(a[i] + b[i]) */
    void (*add)(size_t count, const float *a, const float *b, float *y, int act, float alpha, int threads);
    /* softmax over the last axis: rows x cols */
    void (*softmax)(size_t rows, int cols, const float *x, float *y, int threads);
    /* importer ops (above); resize and global max pooling are scalar everywhere */
    void (*unary)(size_t count, int fn, float p0, float p1, const float *x, float *y, int threads);
    void (*prelu)(size_t count, int c, const float *x, const float *slope, float *y, int threads);
    void (*binary)(const ferc_binary_desc *d, const float *a, const float *b, float *y, int threads);
    void (*resize)(const ferc_resize_desc *d, const float *x, float *y, int threads);
    /* y[n][c] = max over h, w of x[n][h][w][c] (NaN wins) */
    void (*global_maxpool)(int n, int hw, int c, const float *x, float *y, int threads);
    /* A chain of 1x1 + depthwise convolution pairs, optionally after another convolution and
     * ended by a 2x2 max pooling (ferc_pw_dw_chain), or just a convolution and its pooling,
     * run as one (nn/graph.c fuses such chains): each step exactly as conv2d and maxpool compute it alone, the intermediates
     * never stored whole. conv2d_pw_dw_ok (NULL: never fused) says whether a pair can be a
     * stage, conv2d_chain_head_ok whether a convolution can come before the first stage (or
     * before the pooling), from
     * kernels and channels only; conv2d_pw_dw_scratch gives the workspace bytes. */
    int (*conv2d_pw_dw_ok)(const ferc_conv2d_desc *pw, const ferc_conv2d_desc *dw);
    int (*conv2d_chain_head_ok)(const ferc_conv2d_desc *d);
    size_t (*conv2d_pw_dw_scratch)(const ferc_pw_dw_chain *ch);
    void (*conv2d_pw_dw)(const ferc_pw_dw_chain *ch, const float *x, float *y, void *scratch, int threads);
    const char *isa;
    /* The path conv2d takes for d (packed as d->winograd says), for inspect and profile:
     * "winograd", "depthwise", "dot", "gemm", "gemm-1x1"; NULL: "direct" (plain loops). */
    const char *(*conv2d_path)(const ferc_conv2d_desc *d);
} ferc_kernel_table;

/* The table for the ISA in use: the best this CPU supports, or FERC_ISA=scalar|avx2|avx512
 * (a request the CPU cannot honour falls back to the best it can, with a warning). */
const ferc_kernel_table *ferc_kernels(void);

/* The im2col + OpenBLAS sgemm comparison backend (conv2d_openblas.c), compiled in with
 * FERC_WITH_OPENBLAS: the library's FERC_ISA=openblas table (make OPENBLAS=1) and
 * bench/bench_kernels use this one implementation. */
size_t ferc_conv2d_scratch_openblas(const ferc_conv2d_desc *d);
void ferc_conv2d_openblas(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b, float *y,
                          void *scratch, int threads);
void ferc_dense_openblas(int n, int in, int out, const float *x, const float *w, const float *b, float *y, int act,
                         float alpha, int threads);
/* The table for one ISA by name, or NULL if unknown or unsupported here (tests, benches). */
const ferc_kernel_table *ferc_kernels_for(const char *isa);

/* The pairs every ISA may fuse (conv2d_pw_dw): pw a 1x1 convolution, stride 1, no padding,
 * one group; dw depthwise (groups = channels = pw's outputs), stride 1, dilation 1, at most
 * 16 kernel rows, padding smaller than the kernel. */
static inline int ferc_conv2d_pw_dw_shape(const ferc_conv2d_desc *pw, const ferc_conv2d_desc *dw)
{
    return pw->kh == 1 && pw->kw == 1 && pw->sh == 1 && pw->sw == 1 && pw->pt == 0 && pw->pl == 0 &&
           pw->groups == 1 && dw->groups == dw->c && dw->oc == dw->c && dw->c == pw->oc && dw->sh == 1 &&
           dw->sw == 1 && dw->dh == 1 && dw->dw == 1 && dw->kh <= 16 && dw->pt < dw->kh && dw->pl < dw->kw;
}

/* The convolutions every ISA may put before a chain's first stage: one group. */
static inline int ferc_conv2d_chain_head_shape(const ferc_conv2d_desc *d) { return d->groups == 1; }

/* The max poolings a fused pw + dw may end in: 2x2, stride 2, no padding, every window inside
 * dw's output (p's h, w, oh, ow set). */
static inline int ferc_pw_dw_pool_shape(const ferc_pool_desc *p)
{
    return p->kh == 2 && p->kw == 2 && p->sh == 2 && p->sw == 2 && p->pt == 0 && p->pl == 0 && 2 * p->oh <= p->h &&
           2 * p->ow <= p->w;
}

/* Scalar references. */
void ferc_conv2d_scalar(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b, float *y,
                        int threads);
/* A chain step by step with ferc_conv2d_scalar and ferc_maxpool_scalar, the intermediates in
 * scratch (a head and its pooling alone: image by image). */
size_t ferc_conv2d_pw_dw_scratch_scalar(const ferc_pw_dw_chain *ch);
void ferc_conv2d_pw_dw_scalar(const ferc_pw_dw_chain *ch, const float *x, float *y, void *scratch, int threads);
void ferc_dense_scalar(int n, int in, int out, const float *x, const float *w, const float *b, float *y,
                       int act, float alpha, int threads);
void ferc_maxpool_scalar(const ferc_pool_desc *d, const float *x, float *y, int threads);
void ferc_avgpool_scalar(const ferc_pool_desc *d, const float *x, float *y, int threads);
void ferc_global_avgpool_scalar(int n, int hw, int c, const float *x, float *y, int threads);
void ferc_affine_scalar(size_t count, int c, const float *x, const float *scale, const float *shift, float *y,
                        int act, float alpha, int threads);
void ferc_add_scalar(size_t count, const float *a, const float *b, float *y, int act, float alpha,
                     int threads);
void ferc_softmax_scalar(size_t rows, int cols, const float *x, float *y, int threads);
/* conv_transpose2d (ONNX ConvTranspose, PyTorch's ConvTranspose2d), on a ferc_conv2d_desc
 * whose pt/pl are the ONNX begin pads and w is [Cout][KH][KW][Cin/groups]:
 *   y[n][oy][ox][oc] = act(b[oc] + sum over ky, kx, ic of x[n][iy][ix][g*cig + ic] * w[oc][ky][kx][ic])
 * over the taps with iy = (oy + pt - ky*dh) / sh and ix = (ox + pl - kx*dw) / sw exact
 * (no remainder) and inside the input; g = oc / (oc_total/groups), cig = c/groups.
 * The output size (sh*(h-1) + dh*(kh-1) + 1 - pads + output_padding) is the caller's.
 * Rare in the models ferc imports: one scalar kernel for every ISA, outside the table. */
void ferc_conv_transpose2d_scalar(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b,
                                  float *y, int threads);

/* One element of unary / binary (the scalar definition, also used for SIMD tails). */
float ferc_unary1(float v, int fn, float p0, float p1);
float ferc_binary1(float a, float b, int op);
void ferc_unary_scalar(size_t count, int fn, float p0, float p1, const float *x, float *y, int threads);
void ferc_prelu_scalar(size_t count, int c, const float *x, const float *slope, float *y, int threads);
void ferc_binary_scalar(const ferc_binary_desc *d, const float *a, const float *b, float *y, int threads);
void ferc_resize_scalar(const ferc_resize_desc *d, const float *x, float *y, int threads);
void ferc_global_maxpool_scalar(int n, int hw, int c, const float *x, float *y, int threads);

/* SIMD variants (conv2d_<isa>.c, dense_<isa>.c, pool_<isa>.c, eltwise_<isa>.c), declared for
 * dispatch.c. Pooling, global average pooling, affine and add give bitwise the scalar
 * results (same operations in the same order); conv2d and dense differ by rounding only.
 * Softmax stays scalar (a handful of classes, and expf must match). */
#define FERC_DECLARE_SIMD(isa)                                                                          \
    size_t ferc_conv2d_packed_size_##isa(const ferc_conv2d_desc *d);                                   \
    void ferc_conv2d_pack_##isa(const ferc_conv2d_desc *d, const float *w, float *packed);             \
    size_t ferc_conv2d_scratch_##isa(const ferc_conv2d_desc *d);                                       \
    void ferc_conv2d_##isa(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b,  \
                           float *y, void *scratch, int threads);                                      \
    int ferc_conv2d_winograd_##isa(const ferc_conv2d_desc *d);                                         \
    const char *ferc_conv2d_path_##isa(const ferc_conv2d_desc *d);                                     \
    int ferc_conv2d_pw_dw_ok_##isa(const ferc_conv2d_desc *pw, const ferc_conv2d_desc *dw);            \
    int ferc_conv2d_chain_head_ok_##isa(const ferc_conv2d_desc *d);                                    \
    size_t ferc_conv2d_pw_dw_scratch_##isa(const ferc_pw_dw_chain *ch);                                \
    void ferc_conv2d_pw_dw_##isa(const ferc_pw_dw_chain *ch, const float *x, float *y, void *scratch,  \
                                 int threads);                                                          \
    size_t ferc_dense_packed_size_##isa(int in, int out);                                              \
    void ferc_dense_pack_##isa(int in, int out, const float *w, float *packed);                        \
    void ferc_dense_##isa(int n, int in, int out, const float *x, const float *w, const float *b,      \
                          float *y, int act, float alpha, int threads);                                \
    void ferc_maxpool_##isa(const ferc_pool_desc *d, const float *x, float *y, int threads);           \
    void ferc_avgpool_##isa(const ferc_pool_desc *d, const float *x, float *y, int threads);           \
    void ferc_global_avgpool_##isa(int n, int hw, int c, const float *x, float *y, int threads);       \
    void ferc_affine_##isa(size_t count, int c, const float *x, const float *scale, const float *shift, \
                           float *y, int act, float alpha, int threads);                               \
    void ferc_add_##isa(size_t count, const float *a, const float *b, float *y, int act, float alpha,  \
                        int threads);                                                              \
    void ferc_unary_##isa(size_t count, int fn, float p0, float p1, const float *x, float *y,          \
                          int threads);                                                                \
    void ferc_prelu_##isa(size_t count, int c, const float *x, const float *slope, float *y,           \
                          int threads);                                                                \
    void ferc_binary_##isa(const ferc_binary_desc *d, const float *a, const float *b, float *y,        \
                           int threads);
FERC_DECLARE_SIMD(avx2)
FERC_DECLARE_SIMD(avx512)

#endif
