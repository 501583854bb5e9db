/* equalize.c - cv::equalizeHist for 8-bit gray: lut[v] = round(255 * (cdf(v) - cdf(first)) /
 * (N - cdf(first))) in float, as OpenCV computes it; a one-level image maps to itself. */
#include "detect/image/image.h"
#include "nn/error.h"

#include <math.h>
#include <string.h>

ferc_status ferc_equalize_hist(const uint8_t *src, int width, int height, int src_stride, uint8_t *dst,
                               int dst_stride, ferc_error *err)
{
    if (!src || !dst || width < 1 || height < 1 || src_stride < width || dst_stride < width)
        return ferc_set_error(err, FERC_ERR_ARG, "bad image for equalize_hist (%dx%d)", width, height);
    int hist[256] = {0};
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) hist[src[(size_t)y * src_stride + x]]++;
    int i = 0;
    while (!hist[i]) ++i;
    const int total = width * height;
    uint8_t lut[256];
    if (hist[i] == total) {
        for (int v = 0; v < 256; v++) lut[v] = (uint8_t)v;
    } else {
        float scale = (255.f) / (float)(total - hist[i]);
        int sum = 0;
        for (lut[i++] = 0; i < 256; ++i) {
            sum += hist[i];
            lut[i] = ferc_round_u8((float)sum * scale);
        }
    }
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) dst[(size_t)y * dst_stride + x] = lut[src[(size_t)y * src_stride + x]];
    return FERC_OK;
}
