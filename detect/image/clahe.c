/* clahe.c - contrast-limited adaptive histogram equalisation, as cv::CLAHE (OpenCV 4.6).
 *
 * The image is split into tiles_x x tiles_y tiles (padded at the right and bottom by
 * BORDER_REFLECT_101 when a side is not a multiple); each tile's histogram is clipped at
 * clip_limit * tile_area / 256, the excess spread evenly (the remainder one count every
 * 256/remainder levels from level 0), and turned into a lookup table by its running sum.
 * Each output pixel blends the tables of the four nearest tile centres bilinearly, in float
 * like OpenCV, so results agree to the gray level. */
#include "detect/image/image.h"
#include "nn/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* BORDER_REFLECT_101 index for i in [0, n + n), n >= 2 */
static int reflect101(int i, int n)
{
    if (n == 1) return 0;
    while (i >= n || i < 0) i = i >= n ? 2 * n - 2 - i : -i;
    return i;
}

ferc_status ferc_clahe(const uint8_t *src, int width, int height, int src_stride, uint8_t *dst, int dst_stride,
                       double clip_limit, int tiles_x, int tiles_y, ferc_error *err)
{
    if (!src || !dst || width < 1 || height < 1 || src_stride < width || dst_stride < width)
        return ferc_set_error(err, FERC_ERR_ARG, "bad image for CLAHE (%dx%d)", width, height);
    if (tiles_x < 1 || tiles_y < 1 || tiles_x > width || tiles_y > height || tiles_x > 256 || tiles_y > 256)
        return ferc_set_error(err, FERC_ERR_ARG, "CLAHE tile grid %dx%d does not fit a %dx%d image (1..256 per side)",
                              tiles_x, tiles_y, width, height);
    if (!(clip_limit == clip_limit) || clip_limit > 1e6)
        return ferc_set_error(err, FERC_ERR_ARG, "CLAHE clip limit %g out of range", clip_limit);
    /* Tile size after padding. OpenCV pads both sides by tiles - size % tiles as soon as one
     * of them is not a multiple, so a side that was a multiple gains a whole tile. */
    const int pad = width % tiles_x || height % tiles_y;
    const int ew = pad ? width + tiles_x - width % tiles_x : width;
    const int eh = pad ? height + tiles_y - height % tiles_y : height;
    const int tw = ew / tiles_x, th = eh / tiles_y, area = tw * th;
    const float lut_scale = 255.f / (float)area;
    int clip = 0;
    if (clip_limit > 0.0) {
        clip = (int)(clip_limit * area / 256);
        if (clip < 1) clip = 1;
    }
    uint8_t *lut = malloc((size_t)tiles_x * tiles_y * 256);
    int *xi = malloc(sizeof(int) * 2 * (size_t)width);
    float *xa = malloc(sizeof(float) * (size_t)width);
    if (!lut || !xi || !xa) {
        free(lut), free(xi), free(xa);
        return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    }
    for (int t = 0; t < tiles_x * tiles_y; t++) {
        const int x0 = (t % tiles_x) * tw, y0 = (t / tiles_x) * th;
        int hist[256] = {0};
        for (int y = y0; y < y0 + th; y++) {
            const uint8_t *row = src + (size_t)reflect101(y, height) * src_stride;
            if (x0 + tw <= width) {
                for (int x = x0; x < x0 + tw; x++) hist[row[x]]++;
            } else {
                for (int x = x0; x < x0 + tw; x++) hist[row[reflect101(x, width)]]++;
            }
        }
        if (clip > 0) {
            int clipped = 0;
            for (int i = 0; i < 256; i++)
                if (hist[i] > clip) clipped += hist[i] - clip, hist[i] = clip;
            int batch = clipped / 256, residual = clipped - batch * 256;
            for (int i = 0; i < 256; i++) hist[i] += batch;
            if (residual) {
                int step = 256 / residual > 1 ? 256 / residual : 1;
                for (int i = 0; i < 256 && residual > 0; i += step, residual--) hist[i]++;
            }
        }
        uint8_t *l = lut + (size_t)t * 256;
        int sum = 0;
        for (int i = 0; i < 256; i++) {
            sum += hist[i];
            l[i] = ferc_round_u8((float)sum * lut_scale);
        }
    }
    const float inv_tw = 1.0f / (float)tw, inv_th = 1.0f / (float)th;
    for (int x = 0; x < width; x++) {
        float txf = (float)x * inv_tw - 0.5f;
        int tx1 = (int)floorf(txf), tx2 = tx1 + 1;
        xa[x] = txf - (float)tx1;
        xi[2 * x] = (tx1 > 0 ? tx1 : 0) * 256;
        xi[2 * x + 1] = (tx2 < tiles_x - 1 ? tx2 : tiles_x - 1) * 256;
    }
    for (int y = 0; y < height; y++) {
        float tyf = (float)y * inv_th - 0.5f;
        int ty1 = (int)floorf(tyf), ty2 = ty1 + 1;
        const float ya = tyf - (float)ty1, ya1 = 1.0f - ya;
        ty1 = ty1 > 0 ? ty1 : 0;
        ty2 = ty2 < tiles_y - 1 ? ty2 : tiles_y - 1;
        const uint8_t *l1 = lut + (size_t)ty1 * tiles_x * 256, *l2 = lut + (size_t)ty2 * tiles_x * 256;
        const uint8_t *s = src + (size_t)y * src_stride;
        uint8_t *d = dst + (size_t)y * dst_stride;
        for (int x = 0; x < width; x++) {
            const int v = s[x];
            const float a = xa[x], a1 = 1.0f - a;
            float res = ((float)l1[xi[2 * x] + v] * a1 + (float)l1[xi[2 * x + 1] + v] * a) * ya1 +
                        ((float)l2[xi[2 * x] + v] * a1 + (float)l2[xi[2 * x + 1] + v] * a) * ya;
            d[x] = ferc_round_u8(res);
        }
    }
    free(lut), free(xi), free(xa);
    return FERC_OK;
}
