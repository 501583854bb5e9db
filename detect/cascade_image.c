/* cascade_image.c - the image pyramid steps of OpenCV's cascade detector, bit-exact:
 * cv::resize INTER_LINEAR_EXACT (what CascadeClassifier uses) and INTER_LINEAR for 8-bit
 * gray, and cv::integral (sum, squared sum, tilted sum).
 *
 * OpenCV 4.6's 8-bit INTER_LINEAR resize is fixed point: 11-bit coefficients, rows filtered
 * horizontally into ints (pixel * 2048 scale), then combined vertically. The vertical step
 * drops 4 bits of each row and keeps the high 16 bits of each product before a final
 * rounding shift by 2, rather than rounding the exact 22-bit sum. It is reproduced (public as
 * ferc_resize_gray) so that face crops can be resized exactly as cv2.resize does in Python. */
#include "detect/cascade.h"
#include "nn/error.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static short coef(float v) /* saturate_cast<short>(v * INTER_RESIZE_COEF_SCALE) */
{
    long r = lrintf(v * 2048.f);
    return (short)(r < -32768 ? -32768 : r > 32767 ? 32767 : r);
}

static uint8_t sat_u8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

static void vresize_row(const int *s0, const int *s1, int b0, int b1, uint8_t *dst, int width)
{
    /* OpenCV's reduced-precision vertical step (its SIMD and scalar code agree on it):
     * rows lose 4 bits, products keep their high 16 bits, then a rounding shift by 2. */
    for (int x = 0; x < width; x++) dst[x] = sat_u8((((b0 * (s0[x] >> 4)) >> 16) + ((b1 * (s1[x] >> 4)) >> 16) + 2) >> 2);
}

void ferc_resize_linear_u8(const uint8_t *src, int sw, int sh, int sstride, uint8_t *dst, int dw, int dh, int dstride)
{
    if (sw == dw && sh == dh) {
        for (int y = 0; y < dh; y++) memcpy(dst + (size_t)y * dstride, src + (size_t)y * sstride, (size_t)dw);
        return;
    }
    const double scale_x = 1. / ((double)dw / sw), scale_y = 1. / ((double)dh / sh);
    const int iscale_x = (int)lrint(scale_x), iscale_y = (int)lrint(scale_y);
    if (fabs(scale_x - iscale_x) < DBL_EPSILON && fabs(scale_y - iscale_y) < DBL_EPSILON && iscale_x == 2 &&
        iscale_y == 2) {
        /* OpenCV switches to its fast INTER_AREA path for an exact halving. */
        for (int y = 0; y < dh; y++) {
            const uint8_t *a = src + (size_t)(2 * y) * sstride, *b = a + sstride;
            for (int x = 0; x < dw; x++)
                dst[(size_t)y * dstride + x] = (uint8_t)((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) >> 2);
        }
        return;
    }
    int *xofs = malloc(sizeof(int) * (size_t)dw);
    short *alpha = malloc(sizeof(short) * 2 * (size_t)dw);
    int *rows = malloc(sizeof(int) * 2 * (size_t)dw);
    if (!xofs || !alpha || !rows) { /* tiny allocations; leave dst untouched if they fail */
        free(xofs), free(alpha), free(rows);
        return;
    }
    int xmax = dw;
    for (int dx = 0; dx < dw; dx++) {
        float fx = (float)((dx + 0.5) * scale_x - 0.5);
        int sx = (int)floorf(fx);
        fx -= (float)sx;
        if (sx < 0) fx = 0, sx = 0;
        if (sx + 1 >= sw) {
            if (dx < xmax) xmax = dx;
            if (sx >= sw - 1) fx = 0, sx = sw - 1;
        }
        xofs[dx] = sx;
        alpha[2 * dx] = coef(1.f - fx);
        alpha[2 * dx + 1] = coef(fx);
    }
    int cached[2] = {-1, -1};
    for (int dy = 0; dy < dh; dy++) {
        float fy = (float)((dy + 0.5) * scale_y - 0.5);
        int sy = (int)floorf(fy);
        fy -= (float)sy;
        short b0 = coef(1.f - fy), b1 = coef(fy);
        int *r[2] = {rows, rows + dw};
        for (int k = 0; k < 2; k++) {
            int yy = sy + k;
            yy = yy < 0 ? 0 : yy >= sh ? sh - 1 : yy;
            if (cached[k] == yy) continue;
            if (k == 0 && cached[1] == yy) { /* reuse the previous lower row as the upper one */
                memcpy(r[0], r[1], sizeof(int) * (size_t)dw);
                cached[0] = yy;
                continue;
            }
            const uint8_t *s = src + (size_t)yy * sstride;
            int *d = r[k];
            int dx = 0;
            for (; dx < xmax; dx++) d[dx] = s[xofs[dx]] * alpha[2 * dx] + s[xofs[dx] + 1] * alpha[2 * dx + 1];
            for (; dx < dw; dx++) d[dx] = s[xofs[dx]] * 2048;
            cached[k] = yy;
        }
        vresize_row(r[0], r[1], b0, b1, dst + (size_t)dy * dstride, dw);
    }
    free(xofs);
    free(alpha);
    free(rows);
}

/* INTER_LINEAR_EXACT (what the cascade detector uses): coefficients in 8-bit fixed point
 * from exact double arithmetic, rows filtered into 8.8 fixed point, combined vertically in
 * 16.16 and rounded half up. Destination pixels whose source position falls before the
 * first or after the last source pixel copy the edge pixel (rounded from 8.8). */
typedef struct {
    int *ofs;      /* first source index, or -1 (left edge) / -2 (right edge) */
    uint16_t *c;   /* two coefficients per destination index, summing to 256 */
} exact_axis;

static int exact_axis_init(exact_axis *a, int ssize, int dsize)
{
    a->ofs = malloc(sizeof(int) * (size_t)dsize);
    a->c = malloc(sizeof(uint16_t) * 2 * (size_t)dsize);
    if (!a->ofs || !a->c) return -1;
    const double scale = 1. / ((double)dsize / ssize);
    for (int d = 0; d < dsize; d++) {
        double f = scale * ((double)d + 0.5) - 0.5;
        int i = (int)floor(f);
        a->c[2 * d] = 256, a->c[2 * d + 1] = 0;
        if (i >= 0 && ssize > 1) {
            if (i < ssize - 1) {
                a->ofs[d] = i;
                a->c[2 * d + 1] = (uint16_t)lrint((f - i) * 256.);
                a->c[2 * d] = (uint16_t)(256 - a->c[2 * d + 1]);
            } else {
                a->ofs[d] = -2;
            }
        } else {
            a->ofs[d] = -1;
        }
    }
    return 0;
}

static void exact_hline(const uint8_t *s, int sw, const exact_axis *ax, int dw, uint16_t *out)
{
    for (int d = 0; d < dw; d++) {
        int o = ax->ofs[d];
        out[d] = o >= 0 ? (uint16_t)(ax->c[2 * d] * s[o] + ax->c[2 * d + 1] * s[o + 1])
                        : (uint16_t)((o == -1 ? s[0] : s[sw - 1]) << 8);
    }
}

void ferc_resize_linear_exact_u8(const uint8_t *src, int sw, int sh, int sstride, uint8_t *dst, int dw, int dh,
                                 int dstride)
{
    if (sw == dw && sh == dh) {
        for (int y = 0; y < dh; y++) memcpy(dst + (size_t)y * dstride, src + (size_t)y * sstride, (size_t)dw);
        return;
    }
    exact_axis ax = {0}, ay = {0};
    uint16_t *rows = malloc(sizeof(uint16_t) * 2 * (size_t)dw);
    if (!rows || exact_axis_init(&ax, sw, dw) || exact_axis_init(&ay, sh, dh)) goto done;
    int cached[2] = {-1, -1};
    uint16_t *r0 = rows, *r1 = rows + dw;
    for (int dy = 0; dy < dh; dy++) {
        uint8_t *out = dst + (size_t)dy * dstride;
        int o = ay.ofs[dy];
        if (o < 0) { /* edge rows: one source row, rounded from 8.8 */
            int y = o == -1 ? 0 : sh - 1;
            if (cached[0] != y) exact_hline(src + (size_t)y * sstride, sw, &ax, dw, r0), cached[0] = y, cached[1] = -1;
            for (int x = 0; x < dw; x++) out[x] = (uint8_t)((r0[x] + 128) >> 8);
            continue;
        }
        if (cached[0] != o) {
            if (cached[1] == o) {
                uint16_t *t = r0;
                r0 = r1, r1 = t, cached[0] = o, cached[1] = -1;
            } else {
                exact_hline(src + (size_t)o * sstride, sw, &ax, dw, r0), cached[0] = o;
            }
        }
        if (cached[1] != o + 1) exact_hline(src + (size_t)(o + 1) * sstride, sw, &ax, dw, r1), cached[1] = o + 1;
        const uint32_t c0 = ay.c[2 * dy], c1 = ay.c[2 * dy + 1];
        for (int x = 0; x < dw; x++) out[x] = (uint8_t)((r0[x] * c0 + r1[x] * c1 + 32768) >> 16);
    }
done:
    free(rows);
    free(ax.ofs), free(ax.c), free(ay.ofs), free(ay.c);
}

/* Stores one integral row, prev + v (prev NULL: v alone), unsplit or as even/odd halves. */
static inline void store_row(int32_t *out, const int32_t *prev, const int32_t *v, int n, size_t odd)
{
    if (!odd) {
        for (int x = 0; x < n; x++) out[x] = (int32_t)((prev ? (uint32_t)prev[x] : 0u) + (uint32_t)v[x]);
        return;
    }
    int32_t *oo = out + odd;
    int k = 0;
    for (; 2 * k + 1 < n; k++) {
        out[k] = (int32_t)((prev ? (uint32_t)prev[k] : 0u) + (uint32_t)v[2 * k]);
        oo[k] = (int32_t)((prev ? (uint32_t)prev[k + odd] : 0u) + (uint32_t)v[2 * k + 1]);
    }
    if (n & 1) out[k] = (int32_t)((prev ? (uint32_t)prev[k] : 0u) + (uint32_t)v[2 * k]);
}

void ferc_integral_u8(const uint8_t *img, int w, int h, int istride, int32_t *sum, uint32_t *sqsum, int32_t *tilted,
                      int stride, size_t odd_plane)
{
    const int n = w + 1;
    int32_t *row = malloc(sizeof(int32_t) * 2 * (size_t)(n + 1)), *rowq = row + n + 1;
    if (!row) return;
    memset(row, 0, sizeof(int32_t) * 2 * (size_t)(n + 1));
    store_row(sum, NULL, row, n, odd_plane); /* row 0: zeros */
    if (sqsum) store_row((int32_t *)sqsum, NULL, row, n, odd_plane);
    for (int y = 0; y < h; y++) {
        const uint8_t *s = img + (size_t)y * istride;
        uint32_t rs = 0, rq = 0; /* OpenCV's int sums, in unsigned to wrap without overflow */
        for (int x = 0; x < w; x++) {
            rs += s[x];
            row[x + 1] = (int32_t)rs;
        }
        store_row(sum + (size_t)(y + 1) * stride, sum + (size_t)y * stride, row, n, odd_plane);
        if (sqsum) {
            for (int x = 0; x < w; x++) {
                rq += (uint32_t)s[x] * s[x];
                rowq[x + 1] = (int32_t)rq;
            }
            rowq[0] = 0;
            store_row((int32_t *)sqsum + (size_t)(y + 1) * stride, (const int32_t *)sqsum + (size_t)y * stride, rowq, n,
                      odd_plane);
        }
    }
    if (tilted) {
        /* tilted(X, Y) = sum of img(x, y) over y < Y, |x - X + 1| <= Y - y - 1, by the recurrence
         * T(X,Y) = T(X-1,Y-1) + T(X+1,Y-1) - T(X,Y-2) + I(X-1,Y-1) + I(X-1,Y-2) on rows padded
         * wide enough (h + 2 each side) that entries beyond them are zero. */
        const int pad = h + 2, ew = w + 1 + 2 * pad;
        uint32_t *buf = calloc((size_t)ew * 3, sizeof(uint32_t));
        if (buf) {
            uint32_t *t2 = buf, *t1 = buf + ew, *t0 = buf + 2 * ew; /* rows Y-2, Y-1, Y */
            memset(row, 0, sizeof(int32_t) * (size_t)n);
            store_row(tilted, NULL, row, n, odd_plane);
            for (int Y = 1; Y <= h; Y++) {
                const uint8_t *r1 = img + (size_t)(Y - 1) * istride;
                const uint8_t *r2 = Y >= 2 ? img + (size_t)(Y - 2) * istride : NULL;
                for (int e = 0; e < ew; e++) {
                    int X = e - pad;
                    uint32_t v = (e > 0 ? t1[e - 1] : 0) + (e + 1 < ew ? t1[e + 1] : 0) - t2[e];
                    if (X >= 1 && X <= w) v += r1[X - 1] + (r2 ? r2[X - 1] : 0);
                    t0[e] = v;
                }
                store_row(tilted + (size_t)Y * stride, NULL, (const int32_t *)t0 + pad, n, odd_plane);
                uint32_t *t = t2;
                t2 = t1, t1 = t0, t0 = t;
            }
            free(buf);
        }
    }
    free(row);
}

ferc_status ferc_resize_gray(const uint8_t *src, int width, int height, int src_stride, uint8_t *dst, int dst_width,
                             int dst_height, int dst_stride, int exact, ferc_error *err)
{
    if (!src || !dst || width < 1 || height < 1 || dst_width < 1 || dst_height < 1 || src_stride < width ||
        dst_stride < dst_width || (int64_t)dst_width * dst_height > FERC_IMAGE_MAX_PIXELS)
        return ferc_set_error(err, FERC_ERR_ARG, "resize %dx%d (stride %d) to %dx%d (stride %d): bad sizes", width,
                              height, src_stride, dst_width, dst_height, dst_stride);
    if (exact) ferc_resize_linear_exact_u8(src, width, height, src_stride, dst, dst_width, dst_height, dst_stride);
    else ferc_resize_linear_u8(src, width, height, src_stride, dst, dst_width, dst_height, dst_stride);
    return FERC_OK;
}
