/* cascade_image.c - cv::integral (sum, squared sum, tilted sum) of each pyramid level of
 * OpenCV's cascade detector, bit-exact. The levels themselves come from the one resizer
 * (detect/image/resize.c, INTER_LINEAR_EXACT as CascadeClassifier uses). */
#include "detect/cascade.h"

#include <stdlib.h>
#include <string.h>

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
