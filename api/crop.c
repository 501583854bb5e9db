/* crop.c - gray conversion and face cropping for the classifier.
 * Kept in one place so the FER-style crop and OpenCV-exact resize (detect/) can replace
 * the bilinear resize here without touching the analyzer. */
#include "ferc.h"
#include "nn/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ferc_status ferc_image_to_gray(const ferc_image *img, ferc_image *gray, ferc_error *err)
{
    memset(gray, 0, sizeof *gray);
    if (!img || !img->data || img->width < 1 || img->height < 1 || (img->channels != 1 && img->channels != 3))
        return ferc_set_error(err, FERC_ERR_ARG, "image must be gray or RGB with pixels");
    size_t n = (size_t)img->width * img->height;
    gray->data = malloc(n);
    if (!gray->data) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for a %dx%d image", img->width, img->height);
    gray->width = img->width, gray->height = img->height, gray->channels = 1;
    if (img->channels == 1) {
        memcpy(gray->data, img->data, n);
        return FERC_OK;
    }
    /* OpenCV's fixed-point RGB2GRAY: 0.299, 0.587, 0.114 in 14 bits, rounded. */
    const uint8_t *s = img->data;
    for (size_t i = 0; i < n; i++, s += 3) gray->data[i] = (uint8_t)((s[0] * 4899 + s[1] * 9617 + s[2] * 1868 + 8192) >> 14);
    return FERC_OK;
}

/* Source position and weight of output sample d for a resize of n_in -> n_out over
 * [start, start + n_in): pixel centres aligned as OpenCV's INTER_LINEAR, edges clamped. */
static void linear_tap(int d, int n_in, int n_out, int *i0, int *i1, float *frac)
{
    float f = ((float)d + 0.5f) * (float)n_in / (float)n_out - 0.5f;
    int i = (int)floorf(f);
    float t = f - (float)i;
    if (i < 0) i = 0, t = 0;
    if (i >= n_in - 1) i = n_in - 1, t = 0;
    *i0 = i;
    *i1 = i + 1 < n_in ? i + 1 : i;
    *frac = t;
}

ferc_status ferc_face_crop(const ferc_image *gray, const ferc_box *box, int out_w, int out_h, uint8_t *out,
                           ferc_error *err)
{
    if (!gray || !gray->data || gray->channels != 1 || !box || !out || out_w < 1 || out_h < 1)
        return ferc_set_error(err, FERC_ERR_ARG, "crop needs a gray image, a box and an output buffer");
    if (!isfinite(box->x) || !isfinite(box->y) || !isfinite(box->w) || !isfinite(box->h))
        return ferc_set_error(err, FERC_ERR_ARG, "face box is not finite");
    /* Integer box as the article's gray[y:y+h, x:x+w], clipped to the image. */
    int x0 = (int)lroundf(box->x), y0 = (int)lroundf(box->y);
    int x1 = (int)lroundf(box->x + box->w), y1 = (int)lroundf(box->y + box->h);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > gray->width) x1 = gray->width;
    if (y1 > gray->height) y1 = gray->height;
    if (x1 <= x0 || y1 <= y0)
        return ferc_set_error(err, FERC_ERR_ARG, "face box [%g, %g, %g, %g] lies outside the %dx%d image", box->x, box->y,
                              box->w, box->h, gray->width, gray->height);
    int cw = x1 - x0, ch = y1 - y0;
    const uint8_t *src = gray->data + (size_t)y0 * gray->width + x0;
    for (int y = 0; y < out_h; y++) {
        int r0, r1;
        float ty;
        linear_tap(y, ch, out_h, &r0, &r1, &ty);
        const uint8_t *a = src + (size_t)r0 * gray->width, *b = src + (size_t)r1 * gray->width;
        for (int x = 0; x < out_w; x++) {
            int c0, c1;
            float tx;
            linear_tap(x, cw, out_w, &c0, &c1, &tx);
            float top = a[c0] + tx * (a[c1] - a[c0]), bot = b[c0] + tx * (b[c1] - b[c0]);
            float v = top + ty * (bot - top);
            out[(size_t)y * out_w + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrintf(v));
        }
    }
    return FERC_OK;
}
