/* q8.h - int8 kernels: quantised convolution (and dense as a 1x1 convolution), max pooling,
 * quantise and dequantise.
 *
 * Numbers (docs/FORMAT.md, "int8"):
 *   activations  uint8 codes q with a zero point z: real = s * (q - z), one s, z per tensor
 *   weights      int8, symmetric per output channel, limited to -64..64 so that AVX2's
 *                vpmaddubsw (u8 x s8 pairs summed into a saturating int16) never saturates:
 *                2 x 255 x 64 = 32640 < 32767; depthwise filters (groups = c = oc > 1), with
 *                only kh x kw weights per channel, may use -127..127, and AVX2 runs them
 *                with vpmaddwd on 16-bit codes instead. The loader refuses other values.
 *   bias         int32 in units of s_x * s_w[oc]
 *
 * conv2d_q8, per output:
 *   acc = b[oc] + sum over ky, kx, ic of (x[..] - zx) * w[oc][ky][kx][ic]   (x outside the
 *         image counts as zx, i.e. real zero), exact in int32 (wrapping modulo 2^32 only for
 *         hostile biases; K <= ferc_q8_max_k(d) keeps the sum itself in range)
 *   y   = clamp(rne((float)acc * m[oc]), lo - zy, hi - zy) + zy
 * where (float)acc rounds to nearest even, the product is one IEEE float multiply, the clamp
 * is applied to the float and rne rounds half to even. Every ISA does exactly these
 * operations, so every ISA and thread count gives the same bytes. ReLU and ReLU6 are the
 * clamp [lo, hi] in output codes.
 *
 * The SIMD paths compute sum x*w - zx*sum(w) (zx*sum(w) folded into the bias at pack time),
 * which is the same integer. */
#ifndef FERC_KERNELS_Q8_H
#define FERC_KERNELS_Q8_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define FERC_Q8_WMAX 64
#define FERC_Q8_WMAX_DW 127
/* 255 * 64 * 131072 < 2^31 (and 255 * 127 * 65536 for depthwise filters): the accumulation
 * cannot overflow. */
#define FERC_Q8_MAX_K 131072
#define FERC_Q8_MAX_K_DW 65536
/* Output channels per packed weight block (one AVX-512 register of int32, two AVX2). */
#define FERC_Q8_NR 16

typedef struct {
    int n, h, w, c;      /* input */
    int oh, ow, oc;      /* output */
    int kh, kw, sh, sw, pt, pl, dh, dw, groups;
    int zx, zy, lo, hi;  /* zero points, output clamp in codes */
} ferc_q8_conv_desc;

/* Round half to even of |f| <= 2^22: adding and subtracting 1.5 x 2^23 leaves the integer
 * float arithmetic rounds to (nearest even, the default mode, as cvtps2dq with the default
 * MXCSR). Inline, where lrintf is a libm call on baseline x86-64. */
static inline int ferc_q8_rne(float f) { return (int)((f + 12582912.f) - 12582912.f); }

/* The requantisation every path uses (see above). */
static inline uint8_t ferc_q8_requant(int32_t acc, float m, int zy, int lo, int hi)
{
    float f = (float)acc * m;
    const float flo = (float)(lo - zy), fhi = (float)(hi - zy);
    f = f < flo ? flo : f > fhi ? fhi : f;
    return (uint8_t)(ferc_q8_rne(f) + zy);
}

static inline int32_t ferc_q8_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/* A GEMM micro-kernel body: m rows of kp codes (kp a multiple of 4), the 4 codes of row r
 * for k = 4i..4i+3 at a[r] + koff[i], times the packed weights of all blocks, plus bias,
 * requantised into y (rows ldy apart, oc valid columns). Packed weights: per block of
 * FERC_Q8_NR channels, per 4 k's, NR x 4 bytes (the 4 weights of channel j for k..k+3
 * together), zero beyond K and oc. */
#define FERC_Q8_GEMM_ARGS                                                                                    \
    int m, int kp, const uint8_t *const *a, const int32_t *koff, const int8_t *wp, int oc, const int32_t *bias, \
        const float *mult, int zy, int lo, int hi, uint8_t *y, size_t ldy
typedef void (*ferc_q8_gemm_fn)(FERC_Q8_GEMM_ARGS);

/* Depthwise convolutions (groups = c = oc > 1) run through their own bodies. For each output
 * row a body lays out the row's windows (kernels/q8_dw.h) in its scratch: nq = ceil(kh/4)
 * planes, each wp padded input columns of cp = c rounded up to 16 channels x 4 bytes, the codes
 * of kernel rows 4q..4q+3 of one channel together (zx outside the image and beyond kh), so that
 * one 4-byte dot product (vpdpbusd) per channel takes 4 kernel rows at once (the AVX-512
 * body builds the 64-channel blocks of 3-column, stride-1 filters the same way in registers,
 * column by column, instead of in the scratch). Within a column,
 * channels come in blocks of 64, then of 16: in a block of 16 channel c sits at slot c; in a
 * block of 64 at slot 16i + 4L + r for c = 16L + 4i + r, the order in which 128-bit unpacks
 * of 16-channel runs leave them and from which 128-bit packs put them back in order.
 * ferc_q8_dw_slot gives that slot; packed weights [nq][kw][cp slots][4] follow it (zero beyond
 * kh and oc), and the bodies read bias and mult in slot order too (the driver reorders them).
 * A body computes one output row: rows[4q + j] is the input row of kernel row 4q + j (a row
 * of zx when that is outside the image or beyond kh), wp the padded width, v its window
 * scratch (ferc_q8_dw_plane(d, wp) x nq bytes), y the output row (pixels oc apart). */
static inline int ferc_q8_dw_cp(const ferc_q8_conv_desc *d) { return (d->c + 15) & ~15; }
static inline int ferc_q8_dw_nq(const ferc_q8_conv_desc *d) { return (d->kh + 3) / 4; }
static inline size_t ferc_q8_dw_plane(const ferc_q8_conv_desc *d, int wp) { return (size_t)wp * ferc_q8_dw_cp(d) * 4; }
static inline int ferc_q8_dw_slot(const ferc_q8_conv_desc *d, int c)
{
    if (c >= (d->c & ~63)) return c;
    const int cc = c & 63;
    return (c & ~63) + (cc & 15) / 4 * 16 + cc / 16 * 4 + (cc & 3);
}
#define FERC_Q8_DW_ARGS                                                                                    \
    const ferc_q8_conv_desc *d, int wp, const uint8_t *const *rows, uint8_t *v, const int8_t *w,             \
        const int32_t *bias, const float *mult, uint8_t *y
typedef void (*ferc_q8_dw_fn)(FERC_Q8_DW_ARGS);

/* quantize on [i0, i1) of x, as ferc_q8_quantize defines it. */
typedef void (*ferc_q8_quantize_fn)(size_t i0, size_t i1, const float *x, float s, int z, uint8_t *q);

typedef struct ferc_q8_kernels {
    const char *isa;
    ferc_q8_gemm_fn gemm;         /* NULL: the scalar reference convolution */
    ferc_q8_quantize_fn quantize; /* NULL: the scalar loop */
    ferc_q8_dw_fn dw;             /* depthwise convolutions; with gemm, never NULL */
} ferc_q8_kernels;

/* The int8 path for this CPU: avx512vnni, avxvnni, avx2 or scalar, best first; FERC_ISA
 * forces one (avx512 means avx512vnni where the CPU has it, else avx2; a path the CPU lacks
 * falls back to the best it has). */
const ferc_q8_kernels *ferc_q8_kernels_get(void);
/* One path by name, NULL if unknown or not supported by this CPU (tests, benches). */
const ferc_q8_kernels *ferc_q8_kernels_for(const char *isa);

/* Packing for the SIMD paths: K = kh*kw*(c/groups) rounded up to 4 is kp; per group, the
 * blocks of that group's output channels; depthwise convolutions (groups = c = oc > 1) as
 * the depthwise bodies read them. Sizes in bytes / entries. */
int ferc_q8_depthwise(const ferc_q8_conv_desc *d);
/* The weight range and the most products per output d may have (FERC_Q8_WMAX(_DW),
 * FERC_Q8_MAX_K(_DW)). */
static inline int ferc_q8_wmax(const ferc_q8_conv_desc *d)
{
    return ferc_q8_depthwise(d) ? FERC_Q8_WMAX_DW : FERC_Q8_WMAX;
}
static inline int ferc_q8_max_k(const ferc_q8_conv_desc *d)
{
    return ferc_q8_depthwise(d) ? FERC_Q8_MAX_K_DW : FERC_Q8_MAX_K;
}
int ferc_q8_kp(const ferc_q8_conv_desc *d);
size_t ferc_q8_packed_size(const ferc_q8_conv_desc *d);
/* w as stored ([oc][kh][kw][c/groups]); bias (NULL: 0) becomes bias - zx * sum(w) in bias_out[oc]. */
void ferc_q8_pack(const ferc_q8_conv_desc *d, const int8_t *w, const int32_t *bias, int8_t *packed,
                  int32_t *bias_out);
/* Scratch bytes conv2d_q8 needs for d (all fields set; a smaller batch fits too) at this many
 * threads: offsets, and the padded input or the im2col panels. */
size_t ferc_q8_conv_scratch(const ferc_q8_conv_desc *d, int threads);

/* The variant ferc_q8_conv2d runs d on with k: "direct" (the scalar reference), "depthwise",
 * "gemm" (input read in place), "im2col" (gathered panels). */
const char *ferc_q8_conv_path(const ferc_q8_kernels *k, const ferc_q8_conv_desc *d);

/* The convolution: the scalar reference (k->gemm NULL: w, bias as stored), or with w, bias
 * packed by ferc_q8_pack the depthwise body k->dw or im2col panels through k->gemm. */
void ferc_q8_conv2d(const ferc_q8_kernels *k, const ferc_q8_conv_desc *d, const uint8_t *x, const int8_t *w,
                    const int32_t *bias, const float *mult, uint8_t *y, void *scratch, int threads);
void ferc_q8_conv2d_scalar(const ferc_q8_conv_desc *d, const uint8_t *x, const int8_t *w, const int32_t *bias,
                           const float *mult, uint8_t *y, int threads);

/* q = clamp(rne(x / s) + z, 0, 255) (NaN gives z); y = s * (q - z). k NULL: scalar. */
void ferc_q8_quantize(const ferc_q8_kernels *k, size_t count, const float *x, float s, int z, uint8_t *q,
                      int threads);
void ferc_q8_dequantize(size_t count, const uint8_t *q, float s, int z, float *y, int threads);

/* Max pooling on codes (monotone in the real value), padding never wins; window as
 * ferc_pool_desc (kernels.h). */
void ferc_q8_maxpool(int n, int h, int w, int c, int oh, int ow, int kh, int kw, int sh, int sw, int pt, int pl,
                     const uint8_t *x, uint8_t *y, int threads);

/* The bodies, one per ISA file. */
void ferc_q8_gemm_avx2(FERC_Q8_GEMM_ARGS);
void ferc_q8_gemm_avxvnni(FERC_Q8_GEMM_ARGS);
void ferc_q8_gemm_avx512vnni(FERC_Q8_GEMM_ARGS);
void ferc_q8_dw_avx2(FERC_Q8_DW_ARGS);
void ferc_q8_dw_avxvnni(FERC_Q8_DW_ARGS);
void ferc_q8_dw_avx512vnni(FERC_Q8_DW_ARGS);
void ferc_q8_quantize_avx2(size_t i0, size_t i1, const float *x, float s, int z, uint8_t *q);
void ferc_q8_quantize_avx512vnni(size_t i0, size_t i1, const float *x, float s, int z, uint8_t *q);

#endif
