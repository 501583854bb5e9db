/* crop.c - a box of an image as a gray face of the classifier's size, as it is (used for
 * whole images and FERC_FRAMING_BOX boxes; framed detections get detect/image/face_crop.c):
 * the box clipped to the image, gray as cv2.cvtColor, resized by cv2.resize INTER_LINEAR
 * (detect/image/resize.c). Only the box's pixels are converted, never a whole frame. */
#include "detect/image/image.h"
#include "nn/error.h"

#include <math.h>
#include <stdlib.h>

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
    const int cw = (int)(x1 - x0), ch = (int)(y1 - y0);
    const uint8_t *origin = img->data + ((size_t)y0 * img->width + (size_t)x0) * img->channels;
    if (img->channels == 1)
        return ferc_resize_plane(origin, cw, ch, img->width, out, out_w, out_h, out_w, 1, FERC_RESIZE_LINEAR, err);
    uint8_t *gray = malloc((size_t)cw * ch);
    if (!gray) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for a %dx%d crop", cw, ch);
    for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++) gray[(size_t)y * cw + x] = ferc_gray_u8(origin + ((size_t)y * img->width + x) * 3);
    ferc_status s = ferc_resize_plane(gray, cw, ch, cw, out, out_w, out_h, out_w, 1, FERC_RESIZE_LINEAR, err);
    free(gray);
    return s;
}
