/* face_crop.c - the crop handed to the emotion classifier: a square around a detected face,
 * framed as FER2013's 48x48 faces are, in gray, resized to the classifier's input.
 *
 * FER2013's crops are tight and centred. bench/fer_framing.py runs the detector on the
 * 3,589 FER2013 val images (enlarged 3x on a plain canvas; a face is found in 98.2%) and
 * measures where the detector's box sits inside the crop, in crop units: median width 0.787,
 * height 0.971, centre (0.502, 0.509) (quartiles in docs/detection.md). So from a box of
 * w x h centred at (bx, by):
 *   side = (w / 0.787 + h / 0.971) / 2,  centre = (bx - 0.002 side, by - 0.009 side),
 * rounded to whole pixels. Pixels of the square outside the image repeat the nearest edge
 * pixel (cv2.BORDER_REPLICATE). The square is converted to gray as cv2.cvtColor does, then
 * resized as cv2.resize does: INTER_AREA when shrinking (what an anti-aliased FER2013
 * downscale looks like), INTER_LINEAR when enlarging. */
#include "ferc.h"
#include "nn/error.h"

#include <math.h>
#include <stdlib.h>

#define FER_BOX_W 0.787f
#define FER_BOX_H 0.971f
#define FER_BOX_CX 0.502f
#define FER_BOX_CY 0.509f
#define MAX_SIDE 8192

void ferc_face_crop_fer_rect(const ferc_box *face, int *x, int *y, int *side)
{
    /* Through the corners, in the arithmetic the framing was measured with. */
    const float x0 = face->x, y0 = face->y, x1 = face->x + face->w, y1 = face->y + face->h;
    const float w = x1 - x0, h = y1 - y0;
    const float s = (w / FER_BOX_W + h / FER_BOX_H) * 0.5f;
    const float cx = (x0 + x1) * 0.5f - (FER_BOX_CX - 0.5f) * s;
    const float cy = (y0 + y1) * 0.5f - (FER_BOX_CY - 0.5f) * s;
    int n = (int)lrintf(s);
    *side = n < 1 ? 1 : n;
    *x = (int)lrintf(cx - 0.5f * (float)*side);
    *y = (int)lrintf(cy - 0.5f * (float)*side);
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

ferc_status ferc_face_crop_fer(const ferc_image *img, const ferc_box *face, int size, ferc_image *out,
                           ferc_error *err)
{
    if (out) out->data = NULL;
    if (!img || !img->data || !face || !out || img->width < 1 || img->height < 1 ||
        (img->channels != 1 && img->channels != 3))
        return ferc_set_error(err, FERC_ERR_ARG, "face_crop: missing or invalid image, box or output");
    if (size < 1 || size > 4096) return ferc_set_error(err, FERC_ERR_ARG, "face_crop: size %d out of range", size);
    if (!(face->w > 0 && face->h > 0) || !isfinite(face->x) || !isfinite(face->y) || !isfinite(face->w) ||
        !isfinite(face->h))
        return ferc_set_error(err, FERC_ERR_ARG, "face_crop: empty or invalid box");
    if (face->w > MAX_SIDE || face->h > MAX_SIDE || fabsf(face->x) > 1e6f || fabsf(face->y) > 1e6f)
        return ferc_set_error(err, FERC_ERR_ARG, "face_crop: box larger than %d pixels or far outside the image",
                              MAX_SIDE);
    int x, y, side;
    ferc_face_crop_fer_rect(face, &x, &y, &side);
    if (side > MAX_SIDE) return ferc_set_error(err, FERC_ERR_ARG, "face_crop: crop of %d pixels too large", side);
    ferc_image sq = {side, side, img->channels, malloc((size_t)side * side * img->channels)};
    if (!sq.data) return ferc_set_error(err, FERC_ERR_NOMEM, "face_crop: out of memory");
    const int cn = img->channels;
    for (int r = 0; r < side; r++) {
        const uint8_t *row = img->data + (size_t)clampi(y + r, 0, img->height - 1) * img->width * cn;
        for (int c = 0; c < side; c++) {
            const uint8_t *p = row + (size_t)clampi(x + c, 0, img->width - 1) * cn;
            for (int k = 0; k < cn; k++) sq.data[((size_t)r * side + c) * cn + k] = p[k];
        }
    }
    ferc_image gray;
    ferc_status s = ferc_image_to_gray(&sq, &gray, err);
    ferc_image_free(&sq);
    if (s) return s;
    if (side == size) {
        *out = gray;
        return FERC_OK;
    }
    s = ferc_image_resize(&gray, size, size, side > size ? FERC_RESIZE_AREA : FERC_RESIZE_LINEAR, out, err);
    ferc_image_free(&gray);
    return s;
}
