/* preprocess.c - gray conversion, resizing and cropping of whole 8-bit images with OpenCV
 * 4.6's arithmetic (cv2.cvtColor RGB2GRAY, cv2.resize through resize.c), so that what the
 * classifier sees is what cv2 gives the Python code it was trained with
 * (tests/test_preprocess.c compares with stored cv2 outputs). */
#include "detect/image/image.h"
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
    for (size_t i = 0; i < n; i++) dst->data[i] = ferc_gray_u8(src->data + 3 * i);
    return FERC_OK;
}

ferc_status ferc_image_resize(const ferc_image *src, int width, int height, int interpolation, ferc_image *dst,
                              ferc_error *err)
{
    ferc_status s;
    if ((s = check_image(src, "resize", err))) return s;
    if (interpolation != FERC_RESIZE_LINEAR && interpolation != FERC_RESIZE_AREA &&
        !(interpolation == FERC_RESIZE_LINEAR_EXACT && src->channels == 1))
        return ferc_set_error(err, FERC_ERR_ARG, "resize: unknown interpolation %d", interpolation);
    if ((s = alloc_image(dst, width, height, src->channels, err))) return s;
    s = ferc_resize_plane(src->data, src->width, src->height, src->width * src->channels, dst->data, width, height,
                          width * src->channels, src->channels, interpolation, err);
    if (s) ferc_image_free(dst);
    return s;
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
