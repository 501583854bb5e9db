/* crop.c - a box of an image as a gray face of the classifier's size, bilinear (used for
 * whole images and caller-given boxes; detected faces get the FER2013 framing of
 * detect/image/face_crop.c). */
#include "ferc.h"
#include "nn/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Gray value of pixel i: the pixel itself, or RGB2GRAY of it (the same formula as
 * ferc_image_to_gray, so cropping RGB equals converting first, without converting a whole
 * video frame to crop a face). */
static inline float gray_at(const uint8_t *p, size_t i, int rgb)
{
    if (!rgb) return p[i];
    p += 3 * i;
    return (float)((p[0] * 9798 + p[1] * 19235 + p[2] * 3735 + (1 << 14)) >> 15);
}

ferc_status ferc_face_crop(const ferc_image *img, const ferc_box *box, int out_w, int out_h, uint8_t *out,
                           ferc_error *err)
{
    if (!img || !img->data || (img->channels != 1 && img->channels != 3) || !box || !out || out_w < 1 || out_h < 1)
        return ferc_set_error(err, FERC_ERR_ARG, "crop needs a gray or RGB image, a box and an output buffer");
    if (!isfinite(box->x) || !isfinite(box->y) || !isfinite(box->w) || !isfinite(box->h))
        return ferc_set_error(err, FERC_ERR_ARG, "face box is not finite");
    /* Integer box as the article's gray[y:y+h, x:x+w], clipped to the image. */
    long x0 = lroundf(box->x), y0 = lroundf(box->y), x1 = lroundf(box->x + box->w), y1 = lroundf(box->y + box->h);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->width) x1 = img->width;
    if (y1 > img->height) y1 = img->height;
    if (x1 <= x0 || y1 <= y0)
        return ferc_set_error(err, FERC_ERR_ARG, "face box [%g, %g, %g, %g] lies outside the %dx%d image", box->x, box->y,
                              box->w, box->h, img->width, img->height);
    const int cw = (int)(x1 - x0), ch = (int)(y1 - y0), rgb = img->channels == 3;
    const size_t origin = (size_t)y0 * img->width + (size_t)x0;
    for (int y = 0; y < out_h; y++) {
        int r0, r1;
        float ty;
        linear_tap(y, ch, out_h, &r0, &r1, &ty);
        const size_t a = origin + (size_t)r0 * img->width, b = origin + (size_t)r1 * img->width;
        for (int x = 0; x < out_w; x++) {
            int c0, c1;
            float tx;
            linear_tap(x, cw, out_w, &c0, &c1, &tx);
            float a0 = gray_at(img->data, a + c0, rgb), a1 = gray_at(img->data, a + c1, rgb);
            float b0 = gray_at(img->data, b + c0, rgb), b1 = gray_at(img->data, b + c1, rgb);
            float top = a0 + tx * (a1 - a0), bot = b0 + tx * (b1 - b0);
            float v = top + ty * (bot - top);
            out[(size_t)y * out_w + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrintf(v));
        }
    }
    return FERC_OK;
}
