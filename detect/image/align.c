/* align.c - roll correction of a detected face from its eyes, then a square crop.
 *
 * Eyes come from an eye cascade (haarcascade_eye.xml) run on the face box. A Haar eye
 * detector only fires on roughly upright eyes, so the box is resampled at a few trial rolls
 * (0, +-18, +-36 degrees) and searched in each; the pair that most trials agree on wins
 * (a wrong pair such as the eyebrows rarely repeats across rolls).
 * The pair is chosen among the detections in the upper 60% of the box by geometry: one eye
 * on each side, a plausible distance apart, similar sizes, nearly level. */
#include "detect/image/image.h"
#include "nn/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* One bilinear sample at (x, y), clamped to the image (edge pixels repeat). */
static double bilinear(const uint8_t *src, int w, int h, int stride, double x, double y)
{
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x > w - 1) x = w - 1;
    if (y > h - 1) y = h - 1;
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    double fx = x - x0, fy = y - y0;
    const uint8_t *r0 = src + (size_t)y0 * stride, *r1 = src + (size_t)y1 * stride;
    return (r0[x0] * (1 - fx) + r0[x1] * fx) * (1 - fy) + (r1[x0] * (1 - fx) + r1[x1] * fx) * fy;
}

/* First turned at its own resolution, one bilinear sample per pixel with the border
 * replicated (what cv2.warpAffine does), then resized by the one resizer as every face crop
 * is (INTER_AREA to shrink, INTER_LINEAR to enlarge), so a large face is averaged rather
 * than aliased. Unturned and at whole-pixel positions, the first step is a copy. */
int ferc_rotate_crop(const uint8_t *src, int w, int h, int stride, double cx, double cy, double deg, int side,
                       uint8_t *out, int n)
{
    uint8_t *sq = malloc((size_t)side * side);
    if (!sq) return -1;
    const double c = cos(deg * PI / 180), s = sin(deg * PI / 180), o = side * 0.5 - 0.5;
    for (int v = 0; v < side; v++)
        for (int u = 0; u < side; u++) {
            const double du = u - o, dv = v - o;
            sq[(size_t)v * side + u] = (uint8_t)(bilinear(src, w, h, stride, cx + c * du - s * dv, cy + s * du + c * dv) + 0.5);
        }
    ferc_status st = ferc_resize_plane(sq, side, side, side, out, n, n, n, 1,
                                       side > n ? FERC_RESIZE_AREA : FERC_RESIZE_LINEAR, NULL);
    free(sq);
    return st ? -1 : 0;
}

typedef struct {
    double lx, ly, rx, ry; /* eye centres in the crop */
    double score;          /* lower is better */
} eye_pair;

/* Best pair among eye boxes in a crop of size n x n, or score = INFINITY. */
static eye_pair best_pair(const ferc_box *e, int ne, int n)
{
    eye_pair best = {0, 0, 0, 0, INFINITY};
    for (int i = 0; i < ne; i++)
        for (int j = 0; j < ne; j++) {
            if (i == j) continue;
            double ax = e[i].x + e[i].w * 0.5, ay = e[i].y + e[i].h * 0.5;
            double bx = e[j].x + e[j].w * 0.5, by = e[j].y + e[j].h * 0.5;
            double dx = bx - ax, dy = by - ay;
            if (dx < 0.2 * n || dx > 0.7 * n) continue;       /* i on the left, j on the right */
            if (fabs(dy) > 0.36 * dx) continue;                 /* within ~20 degrees of level */
            if (ay > 0.6 * n || by > 0.6 * n) continue;         /* eyes are in the upper part */
            if (ax > 0.55 * n || bx < 0.45 * n) continue;       /* one eye on each side */
            double ratio = (double)e[j].w / e[i].w;
            if (ratio < 0.6 || ratio > 1.67) continue;
            double score = fabs(dy) / dx + fabs(log(ratio)) + fabs((ax + bx) * 0.5 - 0.5 * n) / n;
            if (score < best.score) best = (eye_pair){ax, ay, bx, by, score};
        }
    return best;
}

/* A face box in whole pixels: the corner truncated, the size rounded. */
typedef struct {
    int x, y, width, height;
} pixel_box;

static int to_pixels(const ferc_box *b, pixel_box *p)
{
    if (!b || !(fabsf(b->x) < 1e6f && fabsf(b->y) < 1e6f && fabsf(b->w) < 1e6f && fabsf(b->h) < 1e6f)) return -1;
    *p = (pixel_box){(int)b->x, (int)b->y, (int)(b->w + 0.5f), (int)(b->h + 0.5f)};
    return 0;
}

ferc_status ferc_find_eyes(const ferc_cascade *eye_cascade, const uint8_t *gray, int width, int height, int stride,
                           const ferc_box *box, ferc_eyes *eyes, ferc_error *err)
{
    pixel_box face;
    if (!eye_cascade || !gray || !eyes || width < 1 || height < 1 || stride < width || to_pixels(box, &face))
        return ferc_set_error(err, FERC_ERR_ARG, "find_eyes: bad arguments");
    memset(eyes, 0, sizeof *eyes);
    if (face.width < 8 || face.height < 8 || face.width > 4096 || face.x + face.width <= 0 ||
        face.y + face.height <= 0 || face.x >= width || face.y >= height)
        return ferc_set_error(err, FERC_ERR_ARG, "face box %d %d %d %d is not inside the %dx%d image", face.x, face.y,
                              face.width, face.height, width, height);
    /* search at a fixed crop size so eye sizes are predictable: 160 px for the box */
    const int n = 160, side = face.width > face.height ? face.width : face.height;
    const double scale = (double)side / n;
    const double cx = face.x + face.width * 0.5 - 0.5, cy = face.y + face.height * 0.5 - 0.5;
    uint8_t *crop = malloc((size_t)n * n);
    if (!crop) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    static const double trials[] = {0, 18, -18, 36, -36};
    enum { NT = sizeof trials / sizeof *trials };
    ferc_detect_params p;
    ferc_detect_params_default(&p);
    p.min_neighbors = 3;
    p.min_width = p.min_height = n / 10;
    p.max_width = p.max_height = n / 3;
    p.threads = 1;
    ferc_eyes cand[NT];
    double score[NT];
    for (int t = 0; t < NT; t++) {
        ferc_box e[64];
        int ne = 0;
        ferc_status st = ferc_rotate_crop(gray, width, height, stride, cx, cy, trials[t], side, crop, n)
                             ? ferc_set_error(err, FERC_ERR_NOMEM, "out of memory")
                             : ferc_cascade_detect(eye_cascade, crop, n, n, n, &p, e, 64, &ne, err);
        if (st) {
            free(crop);
            return st;
        }
        eye_pair pr = best_pair(e, ne < 64 ? ne : 64, n);
        memset(&cand[t], 0, sizeof cand[t]);
        if (!(pr.score < INFINITY)) continue;
        const double th = trials[t] * PI / 180, c = cos(th) * scale, s = sin(th) * scale, o = n * 0.5 - 0.5;
        /* back to image coordinates through the same mapping ferc_rotate_crop used */
        ferc_eyes *ce = &cand[t];
        ce->left_eye_x = cx + c * (pr.lx - o) - s * (pr.ly - o);
        ce->left_eye_y = cy + s * (pr.lx - o) + c * (pr.ly - o);
        ce->right_eye_x = cx + c * (pr.rx - o) - s * (pr.ry - o);
        ce->right_eye_y = cy + s * (pr.rx - o) + c * (pr.ry - o);
        ce->roll_deg = atan2(ce->right_eye_y - ce->left_eye_y, ce->right_eye_x - ce->left_eye_x) * 180 / PI;
        ce->found = fabs(ce->roll_deg) <= 45; /* the search covers about +-45 degrees */
        score[t] = fabs(ce->roll_deg - trials[t]);
    }
    /* A wrong pair (brows, nostrils) rarely repeats across trial rolls while the true eyes
     * do: take the pair most other trials agree with (within 6 degrees), then the one found
     * nearest to level in its own trial (the eye detector is best on upright eyes). */
    int best = -1, best_support = -1;
    for (int t = 0; t < NT; t++) {
        if (!cand[t].found) continue;
        int support = 0;
        for (int u = 0; u < NT; u++) support += cand[u].found && fabs(cand[u].roll_deg - cand[t].roll_deg) < 6;
        if (support > best_support || (support == best_support && score[t] < score[best])) best = t, best_support = support;
    }
    if (best >= 0) *eyes = cand[best];
    free(crop);
    return FERC_OK;
}

ferc_status ferc_align_crop(const uint8_t *gray, int width, int height, int stride, const ferc_box *box,
                            const ferc_eyes *eyes, uint8_t *out, int out_size, ferc_error *err)
{
    pixel_box face;
    if (to_pixels(box, &face)) return ferc_set_error(err, FERC_ERR_ARG, "align_crop: no face box or not finite");
    if (!gray || !out || width < 1 || height < 1 || stride < width || out_size < 1 || out_size > 4096)
        return ferc_set_error(err, FERC_ERR_ARG, "align_crop: bad arguments (out_size %d)", out_size);
    if (face.width < 1 || face.height < 1 || face.width > 8192 || face.height > 8192)
        return ferc_set_error(err, FERC_ERR_ARG, "align_crop: face box %dx%d empty or over 8192 pixels", face.width,
                              face.height);
    const double cx = face.x + face.width * 0.5 - 0.5, cy = face.y + face.height * 0.5 - 0.5;
    const double roll = eyes && eyes->found ? eyes->roll_deg : 0;
    const int side = face.width > face.height ? face.width : face.height;
    if (ferc_rotate_crop(gray, width, height, stride, cx, cy, roll, side, out, out_size))
        return ferc_set_error(err, FERC_ERR_NOMEM, "align_crop: out of memory");
    return FERC_OK;
}

/* Landmark 0 is the person's right eye, on the image's left; landmark 1 the other. */
int ferc_eyes_from_landmarks(const ferc_box *face, ferc_eyes *eyes)
{
    memset(eyes, 0, sizeof *eyes);
    if (!face || face->n_landmarks < 2) return 0;
    eyes->left_eye_x = face->landmarks[0][0], eyes->left_eye_y = face->landmarks[0][1];
    eyes->right_eye_x = face->landmarks[1][0], eyes->right_eye_y = face->landmarks[1][1];
    const double dx = eyes->right_eye_x - eyes->left_eye_x, dy = eyes->right_eye_y - eyes->left_eye_y;
    if (!(dx > 0) || !isfinite(dy)) return 0; /* eyes in the wrong order: a profile or a bad fit */
    eyes->roll_deg = atan2(dy, dx) * 180 / PI;
    eyes->found = fabs(eyes->roll_deg) <= 60;
    return eyes->found;
}

ferc_status ferc_align_face(const ferc_cascade *eye_cascade, const uint8_t *gray, int width, int height, int stride,
                            const ferc_box *face, uint8_t *out, int out_size, ferc_eyes *eyes, ferc_error *err)
{
    ferc_eyes local;
    if (!eyes) eyes = &local;
    ferc_status st = ferc_find_eyes(eye_cascade, gray, width, height, stride, face, eyes, err);
    return st ? st : ferc_align_crop(gray, width, height, stride, face, eyes, out, out_size, err);
}
