/* image.h - internals shared by the image code (detect/image/) and its users in detect/ and
 * api/: the one saturate, the one gray formula, the one resizer, and the glue to stb_image
 * (stb_impl.c). The public image API is in include/ferc.h (ferc_image_*). */
#ifndef FERC_DETECT_IMAGE_IMAGE_H
#define FERC_DETECT_IMAGE_IMAGE_H

#include "ferc.h"

#include <math.h>

/* cv::saturate_cast<uchar> of an int, and of a float (rounded to nearest even first). */
static inline uint8_t ferc_sat_u8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }
static inline uint8_t ferc_round_u8(float v) { return ferc_sat_u8((int)lrintf(v)); }

/* cv2.cvtColor RGB2GRAY on uint8: the BT.601 weights 0.299/0.587/0.114 in 15-bit fixed
 * point. */
static inline uint8_t ferc_gray_u8(const uint8_t *rgb)
{
    return (uint8_t)((rgb[0] * 9798 + rgb[1] * 19235 + rgb[2] * 3735 + (1 << 14)) >> 15);
}

/* cv2.resize of an 8-bit plane of `channels` (1 or 3) interleaved channels, rows `stride`
 * bytes apart: FERC_RESIZE_LINEAR, FERC_RESIZE_AREA, or FERC_RESIZE_LINEAR_EXACT (gray
 * only), bit-exact with OpenCV 4.6 (resize.c). src and dst must not overlap. */
ferc_status ferc_resize_plane(const uint8_t *src, int sw, int sh, int sstride, uint8_t *dst, int dw, int dh,
                              int dstride, int channels, int interpolation, ferc_error *err);

/* out (n x n) = the side x side square of a gray plane around (cx, cy) (pixel-centre
 * coordinates) turned by deg (image axes, y down: pixel (u, v) of the square samples the
 * plane at (cx, cy) + R(deg) (u - side/2 + 0.5, v - side/2 + 0.5)), resized to n x n
 * (align.c). Returns 0, or -1 out of memory. */
int ferc_rotate_crop(const uint8_t *src, int w, int h, int stride, double cx, double cy, double deg, int side,
                     uint8_t *out, int n);

int ferc_stbi_info(const unsigned char *buf, int len, int *w, int *h, int *c);
unsigned char *ferc_stbi_load(const unsigned char *buf, int len, int *w, int *h, int channels);
const char *ferc_stbi_failure(void);
void ferc_stbi_free(void *p);
/* PNG or JPEG encoding, handing the bytes to fn(ctx, bytes, n) as they are made (stb's own
 * file writers ignore fwrite and fclose failures); 0 if encoding failed. */
int ferc_stbi_write_png_func(void (*fn)(void *, void *, int), void *ctx, int w, int h, int c, const void *data);
int ferc_stbi_write_jpg_func(void (*fn)(void *, void *, int), void *ctx, int w, int h, int c, const void *data,
                             int quality);

#endif
