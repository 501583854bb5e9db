/* resize.c - the one resizer: cv2.resize on 8-bit planes of 1 or 3 channels with OpenCV
 * 4.6's arithmetic, bit for bit. It serves the SSD input, the cascade pyramid
 * (INTER_LINEAR_EXACT, what CascadeClassifier uses), the face crops and ferc_image_resize /
 * ferc_resize_gray (tests/test_preprocess.c and tests/test_cascade.c compare with stored
 * cv2 outputs).
 *
 * Bilinear (INTER_LINEAR): source coordinate of destination pixel d is (d + 0.5) * scale -
 *   0.5 (scale = 1 / (dst / src) in double); the two weights are rounded to 11 bits. Across
 *   a row, positions outside the image take the edge pixel; down the columns the weights are
 *   kept and the row index is clipped (OpenCV's tables differ so). Rows are interpolated
 *   horizontally in integers (pixel * 2048), then vertically as OpenCV's SIMD loop does:
 *   ((b0 * (r0 >> 4)) >> 16) + ((b1 * (r1 >> 4)) >> 16), rounded by (v + 2) >> 2 (its scalar
 *   formula, (b0 r0 + b1 r1 + 2^21) >> 22, rounds differently, and x86 builds never use it).
 *   An exact 2x shrink is the 2x2 average (OpenCV switches to its area path there).
 * Area (INTER_AREA): when shrinking along both axes, each destination pixel is the average of
 *   the source pixels its footprint covers, partial pixels weighted by the covered fraction,
 *   in float, rounded to nearest even; integer factors use the exact block mean ((sum + n/2)
 *   / n for 2x2, else float mean rounded to nearest even). When an axis grows, OpenCV
 *   interpolates bilinearly with weights from pixel overlap: source sx = floor(d * scale),
 *   fraction f = (d + 1) - (sx + 1) / scale, 0 if <= 0 else its fractional part.
 * Exact (INTER_LINEAR_EXACT, gray only): coefficients in 8-bit fixed point from exact double
 *   arithmetic, rows filtered into 8.8 fixed point, combined vertically in 16.16 and rounded
 *   half up; positions before the first or after the last source pixel copy the edge pixel. */
#include "detect/image/image.h"
#include "nn/error.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    int w, h, stride, cn;
} src_plane;

typedef struct {
    uint8_t *p;
    int w, h, stride;
} dst_plane;

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

static void resize_bilinear(const src_plane *s, const dst_plane *d, int area_up, int *work)
{
    const int cn = s->cn, rowlen = d->w * cn;
    int *xofs = work, *yofs = xofs + d->w;
    int16_t *alpha = (int16_t *)(yofs + d->h), *beta = alpha + 2 * d->w;
    int *r0 = (int *)(beta + 2 * d->h + 2), *r1 = r0 + rowlen;
    linear_tab(s->w, d->w, area_up, 1, xofs, alpha);
    linear_tab(s->h, d->h, area_up, 0, yofs, beta);
    for (int dy = 0; dy < d->h; dy++) {
        int sy[2] = {yofs[dy], yofs[dy] + 1};
        for (int k = 0; k < 2; k++) sy[k] = sy[k] < 0 ? 0 : sy[k] >= s->h ? s->h - 1 : sy[k];
        int *rows[2] = {r0, r1};
        for (int k = 0; k < 2; k++) {
            const uint8_t *row = s->p + (size_t)sy[k] * s->stride;
            for (int dx = 0; dx < d->w; dx++) {
                const int x0 = xofs[dx], x1 = x0 + 1 < s->w ? x0 + 1 : s->w - 1;
                for (int c = 0; c < cn; c++)
                    rows[k][dx * cn + c] = row[x0 * cn + c] * alpha[2 * dx] + row[x1 * cn + c] * alpha[2 * dx + 1];
            }
        }
        const int b0 = beta[2 * dy], b1 = beta[2 * dy + 1];
        uint8_t *out = d->p + (size_t)dy * d->stride;
        for (int x = 0; x < rowlen; x++) {
            int v = ((b0 * (int16_t)(r0[x] >> 4)) >> 16) + ((b1 * (int16_t)(r1[x] >> 4)) >> 16);
            out[x] = ferc_sat_u8((v + 2) >> 2);
        }
    }
}

/* Integer-factor shrink: block means. */
static void resize_area_fast(const src_plane *s, const dst_plane *d, int fx, int fy)
{
    const int cn = s->cn, area = fx * fy;
    const float inv = 1.f / (float)area;
    for (int dy = 0; dy < d->h; dy++)
        for (int dx = 0; dx < d->w; dx++)
            for (int c = 0; c < cn; c++) {
                int sum = 0;
                for (int y = 0; y < fy; y++)
                    for (int x = 0; x < fx; x++) sum += s->p[(size_t)(dy * fy + y) * s->stride + (dx * fx + x) * cn + c];
                d->p[(size_t)dy * d->stride + dx * cn + c] =
                    area == 4 ? (uint8_t)((sum + 2) >> 2) : ferc_round_u8((float)sum * inv);
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

static void resize_area(const src_plane *s, const dst_plane *d, int *work)
{
    const int cn = s->cn, sw = s->w, sh = s->h, dw = d->w;
    int *xdi = work, *xsi = xdi + 2 * sw + 2, *ydi = xsi + 2 * sw + 2, *ysi = ydi + 2 * sh + 2;
    float *xw = (float *)(ysi + 2 * sh + 2), *yw = xw + 2 * sw + 2, *row = yw + 2 * sh + 2, *acc = row + dw * cn;
    const int nx = area_tab(sw, dw, xdi, xsi, xw), ny = area_tab(sh, d->h, ydi, ysi, yw);
    int k = 0;
    for (int dy = 0; dy < d->h; dy++) {
        memset(acc, 0, sizeof(float) * (size_t)dw * cn);
        for (; k < ny && ydi[k] == dy; k++) {
            const uint8_t *src = s->p + (size_t)ysi[k] * s->stride;
            memset(row, 0, sizeof(float) * (size_t)dw * cn);
            for (int j = 0; j < nx; j++)
                for (int c = 0; c < cn; c++) row[xdi[j] * cn + c] += xw[j] * src[xsi[j] * cn + c];
            for (int x = 0; x < dw * cn; x++) acc[x] += yw[k] * row[x];
        }
        for (int x = 0; x < dw * cn; x++) d->p[(size_t)dy * d->stride + x] = ferc_round_u8(acc[x]);
    }
}

/* INTER_LINEAR_EXACT's table along one axis: first source index, or -1 (left edge) / -2
 * (right edge), and two coefficients per destination index summing to 256. */
typedef struct {
    int *ofs;
    uint16_t *c;
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

static int resize_exact(const src_plane *s, const dst_plane *d)
{
    const int dw = d->w;
    exact_axis ax = {0}, ay = {0};
    uint16_t *rows = malloc(sizeof(uint16_t) * 2 * (size_t)dw);
    int rc = -1;
    if (!rows || exact_axis_init(&ax, s->w, dw) || exact_axis_init(&ay, s->h, d->h)) goto done;
    int cached[2] = {-1, -1};
    uint16_t *r0 = rows, *r1 = rows + dw;
    for (int dy = 0; dy < d->h; dy++) {
        uint8_t *out = d->p + (size_t)dy * d->stride;
        int o = ay.ofs[dy];
        if (o < 0) { /* edge rows: one source row, rounded from 8.8 */
            int y = o == -1 ? 0 : s->h - 1;
            if (cached[0] != y) exact_hline(s->p + (size_t)y * s->stride, s->w, &ax, dw, r0), cached[0] = y, cached[1] = -1;
            for (int x = 0; x < dw; x++) out[x] = (uint8_t)((r0[x] + 128) >> 8);
            continue;
        }
        if (cached[0] != o) {
            if (cached[1] == o) {
                uint16_t *t = r0;
                r0 = r1, r1 = t, cached[0] = o, cached[1] = -1;
            } else {
                exact_hline(s->p + (size_t)o * s->stride, s->w, &ax, dw, r0), cached[0] = o;
            }
        }
        if (cached[1] != o + 1) exact_hline(s->p + (size_t)(o + 1) * s->stride, s->w, &ax, dw, r1), cached[1] = o + 1;
        const uint32_t c0 = ay.c[2 * dy], c1 = ay.c[2 * dy + 1];
        for (int x = 0; x < dw; x++) out[x] = (uint8_t)((r0[x] * c0 + r1[x] * c1 + 32768) >> 16);
    }
    rc = 0;
done:
    free(rows);
    free(ax.ofs), free(ax.c), free(ay.ofs), free(ay.c);
    return rc;
}

/* True if ssize / dsize is an integer (OpenCV's test, with its DBL_EPSILON). */
static int integer_factor(int ssize, int dsize, int *f)
{
    const double scale = 1.0 / ((double)dsize / ssize);
    *f = (int)lrint(scale);
    return fabs(scale - *f) < DBL_EPSILON;
}

ferc_status ferc_resize_plane(const uint8_t *src, int sw, int sh, int sstride, uint8_t *dst, int dw, int dh,
                              int dstride, int channels, int interpolation, ferc_error *err)
{
    const int cn = channels;
    if (!src || !dst || (cn != 1 && cn != 3) || sw < 1 || sh < 1 || dw < 1 || dh < 1 ||
        sstride < sw * cn || dstride < dw * cn || (int64_t)dw * dh > FERC_IMAGE_MAX_PIXELS ||
        (int64_t)sw * sh > FERC_IMAGE_MAX_PIXELS)
        return ferc_set_error(err, FERC_ERR_ARG, "resize %dx%d (stride %d) to %dx%d (stride %d): bad sizes", sw, sh,
                              sstride, dw, dh, dstride);
    if (interpolation != FERC_RESIZE_LINEAR && interpolation != FERC_RESIZE_AREA &&
        !(interpolation == FERC_RESIZE_LINEAR_EXACT && cn == 1))
        return ferc_set_error(err, FERC_ERR_ARG, "resize: interpolation %d not available for %d channel(s)",
                              interpolation, cn);
    const src_plane s = {src, sw, sh, sstride, cn};
    const dst_plane d = {dst, dw, dh, dstride};
    if (sw == dw && sh == dh) {
        for (int y = 0; y < dh; y++) memcpy(dst + (size_t)y * dstride, src + (size_t)y * sstride, (size_t)dw * cn);
        return FERC_OK;
    }
    if (interpolation == FERC_RESIZE_LINEAR_EXACT)
        return resize_exact(&s, &d) ? ferc_set_error(err, FERC_ERR_NOMEM, "resize: out of memory") : FERC_OK;
    int fx, fy;
    const int fast = integer_factor(sw, dw, &fx) && integer_factor(sh, dh, &fy);
    const int shrink = sw >= dw && sh >= dh;
    if (fast && shrink && (interpolation == FERC_RESIZE_AREA || (fx == 2 && fy == 2))) {
        resize_area_fast(&s, &d, fx, fy);
        return FERC_OK;
    }
    /* Work space for either path's tables and row buffers. */
    size_t words = 12 * ((size_t)sw + sh + dw + dh + 8) + 4 * (size_t)dw * cn;
    int *work = malloc(words * sizeof(int));
    if (!work) return ferc_set_error(err, FERC_ERR_NOMEM, "resize: out of memory");
    if (interpolation == FERC_RESIZE_AREA && shrink) resize_area(&s, &d, work);
    else resize_bilinear(&s, &d, interpolation == FERC_RESIZE_AREA, work);
    free(work);
    return FERC_OK;
}

ferc_status ferc_resize_gray(const uint8_t *src, int width, int height, int src_stride, uint8_t *dst, int dst_width,
                             int dst_height, int dst_stride, int exact, ferc_error *err)
{
    return ferc_resize_plane(src, width, height, src_stride, dst, dst_width, dst_height, dst_stride, 1,
                             exact ? FERC_RESIZE_LINEAR_EXACT : FERC_RESIZE_LINEAR, err);
}
