/* preprocess.c - gray conversion, resizing and cropping of 8-bit images, with OpenCV 4.6's
 * arithmetic so that what the classifier sees is what cv2 gives the Python code it was
 * trained with (tests/test_preprocess.c compares with stored cv2 outputs).
 *
 * Gray (cv2.cvtColor RGB2GRAY on uint8): Y = (9798 R + 19235 G + 3735 B + 2^14) >> 15, the
 *   BT.601 weights 0.299/0.587/0.114 in 15-bit fixed point.
 * Bilinear (cv2.resize INTER_LINEAR on uint8): source coordinate of destination pixel d is
 *   (d + 0.5) * scale - 0.5 (scale = 1 / (dst / src) in double); the two weights are rounded
 *   to 11 bits. Across a row, positions outside the image take the edge pixel; down the
 *   columns the weights are kept and the row index is clipped (OpenCV's tables differ so).
 *   Rows are interpolated horizontally in integers, then vertically as OpenCV's SIMD loop
 *   does: ((b0 * (r0 >> 4)) >> 16) + ((b1 * (r1 >> 4)) >> 16), rounded by (v + 2) >> 2 (its
 *   scalar formula, (b0 r0 + b1 r1 + 2^21) >> 22, rounds differently, and x86 builds never
 *   use it). An exact 2x shrink is the 2x2 average (OpenCV switches to its area path there).
 * Area (cv2.resize INTER_AREA): when shrinking along both axes, each destination pixel is
 *   the average of the source pixels its footprint covers, partial pixels weighted by the
 *   covered fraction, in float, rounded to nearest even; integer factors use the exact
 *   block mean ((sum + n/2) / n for 2x2, else float mean rounded to nearest even). When an
 *   axis grows, OpenCV interpolates bilinearly with weights from pixel overlap: source
 *   sx = floor(d * scale), fraction f = (d + 1) - (sx + 1) / scale, 0 if <= 0 else its
 *   fractional part. */
#include "ferc.h"
#include "nn/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static ferc_status check_image(const ferc_image *img, const char *what, ferc_error *err)
{
    if (!img || !img->data || img->width < 1 || img->height < 1 || (img->channels != 1 && img->channels != 3) ||
        (int64_t)img->width * img->height > FERC_IMAGE_MAX_PIXELS)
        return ferc_set_error(err, FERC_ERR_ARG, "%s: not a valid 1- or 3-channel image", what);
    return FERC_OK;
}

static ferc_status alloc_image(ferc_image *dst, int w, int h, int c, ferc_error *err)
{
    dst->data = NULL;
    if (w < 1 || h < 1 || (int64_t)w * h > FERC_IMAGE_MAX_PIXELS)
        return ferc_set_error(err, FERC_ERR_ARG, "image size %dx%d out of range", w, h);
    dst->data = malloc((size_t)w * h * c);
    if (!dst->data) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for a %dx%d image", w, h);
    dst->width = w, dst->height = h, dst->channels = c;
    return FERC_OK;
}

ferc_status ferc_image_to_gray(const ferc_image *src, ferc_image *dst, ferc_error *err)
{
    ferc_status s;
    if ((s = check_image(src, "to_gray", err)) || (s = alloc_image(dst, src->width, src->height, 1, err))) return s;
    const size_t n = (size_t)src->width * src->height;
    if (src->channels == 1) {
        memcpy(dst->data, src->data, n);
        return FERC_OK;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = src->data + 3 * i;
        dst->data[i] = (uint8_t)((p[0] * 9798 + p[1] * 19235 + p[2] * 3735 + (1 << 14)) >> 15);
    }
    return FERC_OK;
}

static uint8_t sat_u8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }
static uint8_t round_u8(float v) { return sat_u8((int)lrintf(v)); }

/* Source index and 11-bit weights per destination index along one axis. area_up: the
 * INTER_AREA upscaling weights. clamp: positions before the first or past the last pixel
 * take that pixel with weight 1 (OpenCV does this across rows); otherwise the weights stay
 * and the row index is clipped when read (OpenCV does this down columns, which rounds the
 * edge rows of an enlargement differently). */
static void linear_tab(int ssize, int dsize, int area_up, int clamp, int *ofs, int16_t *coef)
{
    const double inv = (double)dsize / ssize, scale = 1.0 / inv;
    for (int d = 0; d < dsize; d++) {
        float f;
        int s;
        if (area_up) {
            s = (int)floor(d * scale);
            f = (float)((d + 1) - (s + 1) * inv);
            f = f <= 0 ? 0.f : f - floorf(f);
        } else {
            f = (float)((d + 0.5) * scale - 0.5);
            s = (int)floorf(f);
            f -= (float)s;
        }
        if (clamp && s < 0) f = 0, s = 0;
        if (clamp && s >= ssize - 1) f = 0, s = ssize - 1;
        ofs[d] = s;
        coef[2 * d] = (int16_t)lrintf((1.f - f) * 2048.f);
        coef[2 * d + 1] = (int16_t)lrintf(f * 2048.f);
    }
}

static void resize_bilinear(const ferc_image *src, ferc_image *dst, int area_up, int *work)
{
    const int cn = src->channels, sw = src->width, sh = src->height, dw = dst->width, dh = dst->height;
    const int rowlen = dw * cn;
    int *xofs = work, *yofs = xofs + dw;
    int16_t *alpha = (int16_t *)(yofs + dh), *beta = alpha + 2 * dw;
    int *r0 = (int *)(beta + 2 * dh + 2), *r1 = r0 + rowlen;
    linear_tab(sw, dw, area_up, 1, xofs, alpha);
    linear_tab(sh, dh, area_up, 0, yofs, beta);
    for (int dy = 0; dy < dh; dy++) {
        int sy[2] = {yofs[dy], yofs[dy] + 1};
        for (int k = 0; k < 2; k++) sy[k] = sy[k] < 0 ? 0 : sy[k] >= sh ? sh - 1 : sy[k];
        int *rows[2] = {r0, r1};
        for (int k = 0; k < 2; k++) {
            const uint8_t *s = src->data + (size_t)sy[k] * sw * cn;
            for (int dx = 0; dx < dw; dx++) {
                const int x0 = xofs[dx], x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
                for (int c = 0; c < cn; c++)
                    rows[k][dx * cn + c] = s[x0 * cn + c] * alpha[2 * dx] + s[x1 * cn + c] * alpha[2 * dx + 1];
            }
        }
        const int b0 = beta[2 * dy], b1 = beta[2 * dy + 1];
        uint8_t *d = dst->data + (size_t)dy * rowlen;
        for (int x = 0; x < rowlen; x++) {
            int v = ((b0 * (int16_t)(r0[x] >> 4)) >> 16) + ((b1 * (int16_t)(r1[x] >> 4)) >> 16);
            d[x] = sat_u8((v + 2) >> 2);
        }
    }
}

/* Integer-factor shrink: block means. */
static void resize_area_fast(const ferc_image *src, ferc_image *dst, int fx, int fy)
{
    const int cn = src->channels, sw = src->width, dw = dst->width, dh = dst->height;
    const int area = fx * fy;
    const float inv = 1.f / (float)area;
    for (int dy = 0; dy < dh; dy++)
        for (int dx = 0; dx < dw; dx++)
            for (int c = 0; c < cn; c++) {
                int sum = 0;
                for (int y = 0; y < fy; y++)
                    for (int x = 0; x < fx; x++) sum += src->data[((size_t)(dy * fy + y) * sw + dx * fx + x) * cn + c];
                dst->data[((size_t)dy * dw + dx) * cn + c] =
                    area == 4 ? (uint8_t)((sum + 2) >> 2) : round_u8((float)sum * inv);
            }
}

/* Footprint weights along one axis: entries (dst index, src index, weight), returns count. */
static int area_tab(int ssize, int dsize, int *di, int *si, float *w)
{
    const double scale = 1.0 / ((double)dsize / ssize);
    int k = 0;
    for (int d = 0; d < dsize; d++) {
        const double f1 = d * scale, f2 = f1 + scale;
        const double cell = scale < ssize - f1 ? scale : ssize - f1;
        int s1 = (int)ceil(f1), s2 = (int)floor(f2);
        if (s2 > ssize - 1) s2 = ssize - 1;
        if (s1 > s2) s1 = s2;
        if (s1 - f1 > 1e-3) di[k] = d, si[k] = s1 - 1, w[k++] = (float)((s1 - f1) / cell);
        for (int s = s1; s < s2; s++) di[k] = d, si[k] = s, w[k++] = (float)(1.0 / cell);
        if (f2 - s2 > 1e-3) {
            double part = f2 - s2 < 1. ? f2 - s2 : 1.;
            di[k] = d, si[k] = s2, w[k++] = (float)((part < cell ? part : cell) / cell);
        }
    }
    return k;
}

static void resize_area(const ferc_image *src, ferc_image *dst, int *work)
{
    const int cn = src->channels, sw = src->width, sh = src->height, dw = dst->width, dh = dst->height;
    int *xdi = work, *xsi = xdi + 2 * sw + 2, *ydi = xsi + 2 * sw + 2, *ysi = ydi + 2 * sh + 2;
    float *xw = (float *)(ysi + 2 * sh + 2), *yw = xw + 2 * sw + 2, *row = yw + 2 * sh + 2, *acc = row + dw * cn;
    const int nx = area_tab(sw, dw, xdi, xsi, xw), ny = area_tab(sh, dh, ydi, ysi, yw);
    int k = 0;
    for (int dy = 0; dy < dh; dy++) {
        memset(acc, 0, sizeof(float) * (size_t)dw * cn);
        for (; k < ny && ydi[k] == dy; k++) {
            const uint8_t *s = src->data + (size_t)ysi[k] * sw * cn;
            memset(row, 0, sizeof(float) * (size_t)dw * cn);
            for (int j = 0; j < nx; j++)
                for (int c = 0; c < cn; c++) row[xdi[j] * cn + c] += xw[j] * s[xsi[j] * cn + c];
            for (int x = 0; x < dw * cn; x++) acc[x] += yw[k] * row[x];
        }
        for (int x = 0; x < dw * cn; x++) dst->data[(size_t)dy * dw * cn + x] = round_u8(acc[x]);
    }
}

/* True if ssize / dsize is an integer (OpenCV's test, with its DBL_EPSILON). */
static int integer_factor(int ssize, int dsize, int *f)
{
    const double scale = 1.0 / ((double)dsize / ssize);
    *f = (int)lrint(scale);
    return fabs(scale - *f) < 2.220446049250313e-16;
}

ferc_status ferc_image_resize(const ferc_image *src, int width, int height, int interpolation, ferc_image *dst,
                              ferc_error *err)
{
    ferc_status s;
    if ((s = check_image(src, "resize", err))) return s;
    if (interpolation != FERC_RESIZE_LINEAR && interpolation != FERC_RESIZE_AREA)
        return ferc_set_error(err, FERC_ERR_ARG, "resize: unknown interpolation %d", interpolation);
    if ((s = alloc_image(dst, width, height, src->channels, err))) return s;
    const int cn = src->channels;
    int fx, fy;
    const int fast = integer_factor(src->width, width, &fx) && integer_factor(src->height, height, &fy);
    const int shrink = src->width >= width && src->height >= height;
    if (fast && shrink && (interpolation == FERC_RESIZE_AREA || (fx == 2 && fy == 2))) {
        resize_area_fast(src, dst, fx, fy);
        return FERC_OK;
    }
    /* Work space for either path's tables and row buffers. */
    size_t words = 12 * ((size_t)src->width + src->height + width + height + 8) + 4 * (size_t)width * cn;
    int *work = malloc(words * sizeof(int));
    if (!work) {
        ferc_image_free(dst);
        return ferc_set_error(err, FERC_ERR_NOMEM, "resize: out of memory");
    }
    if (interpolation == FERC_RESIZE_AREA && shrink) resize_area(src, dst, work);
    else resize_bilinear(src, dst, interpolation == FERC_RESIZE_AREA, work);
    free(work);
    return FERC_OK;
}

ferc_status ferc_image_crop(const ferc_image *src, int x, int y, int width, int height, ferc_image *dst,
                            ferc_error *err)
{
    ferc_status s;
    if ((s = check_image(src, "crop", err))) return s;
    if (width < 1 || height < 1 || x < 0 || y < 0 || x > src->width - width || y > src->height - height)
        return ferc_set_error(err, FERC_ERR_ARG, "crop %dx%d at (%d, %d) is not inside the %dx%d image", width, height,
                              x, y, src->width, src->height);
    if ((s = alloc_image(dst, width, height, src->channels, err))) return s;
    const size_t row = (size_t)width * src->channels;
    for (int r = 0; r < height; r++)
        memcpy(dst->data + r * row, src->data + ((size_t)(y + r) * src->width + x) * src->channels, row);
    return FERC_OK;
}
