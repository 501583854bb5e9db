/* yunet_tiles.c - YuNet on a photo in tiles, for small faces: the whole image as
 * ferc_yunet_detect runs it, plus G x G overlapping tiles each at K times its own size, all
 * faces merged by one NMS. bench/yunet_ref.py's detect_tiled() is the same in Python (the
 * test's reference); docs/detection.md has the recall it buys.
 *
 * Geometry (as detect_tiled()): tile side = image side / (G - (G - 1) * OVERLAP), truncated;
 * tile (gx, gy) starts at gx * side * (1 - OVERLAP), truncated, but the last one is flush
 * with the image's edge (truncation would leave a pixel or two out); each is detected at a
 * long side of round-half-even(K * its long side), at most 2048. A face within EDGE pixels of an inner tile edge is cut by it and dropped: the
 * neighbouring tile, or the whole image, holds it whole. */
#include "detect/nms.h"
#include "nn/error.h"

#include <math.h>
#include <stdlib.h>

#define OVERLAP 0.25 /* of a tile, shared with each neighbour */
#define EDGE 2       /* pixels: a face this close to an inner tile edge is cut by it */
#define MAX_SIDE 2048
#define MIN_TILE 32  /* smaller: an image under 56 pixels, which one pass sees at 11x or more */

/* Room for `more` boxes after the first n of *all. */
static int reserve(ferc_box **all, int *cap, int n, int more)
{
    if (n + more <= *cap) return 0;
    ferc_box *p = realloc(*all, sizeof *p * (size_t)(n + more));
    if (!p) return -1;
    *all = p, *cap = n + more;
    return 0;
}

/* The faces of all passes, best first (equal scores in the order found: the whole image,
 * then the tiles row by row), through one greedy NMS into out. */
static ferc_status merge(const ferc_box *all, int n, float iou, ferc_box *out, int max_faces, int *n_faces,
                         ferc_error *err)
{
    ferc_box *sorted = malloc(sizeof *sorted * (size_t)(n ? n : 1));
    float *score = malloc(sizeof *score * (size_t)(n ? n : 1));
    int *idx = malloc(sizeof *idx * (size_t)(n ? 2 * n : 1));
    ferc_status st = FERC_OK;
    if (!sorted || !score || !idx) st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    else {
        for (int i = 0; i < n; i++) idx[i] = i, score[i] = all[i].score;
        ferc_sort_by_score(idx, score, n, idx + n);
        for (int i = 0; i < n; i++) sorted[i] = all[idx[i]];
        const int kept = ferc_nms(sorted, n, iou, idx);
        for (int i = 0; i < kept && i < max_faces; i++) out[i] = sorted[idx[i]];
        *n_faces = kept;
    }
    free(sorted), free(score), free(idx);
    return st;
}

ferc_status ferc_yunet_detect_tiled(const ferc_yunet *d, ferc_yunet_state *s, const ferc_image *img,
                                    const ferc_yunet_options *opt, int tiles, double tile_scale, ferc_box *out,
                                    int max_faces, int *n_faces, ferc_error *err)
{
    if (tiles < 0 || tiles > FERC_YUNET_MAX_TILES || !(tile_scale >= 0 && tile_scale <= FERC_YUNET_MAX_TILE_SCALE)) {
        if (n_faces) *n_faces = 0;
        return ferc_set_error(err, FERC_ERR_ARG, "detect: %d tiles per side (0..%d) at scale %g (0..%d)", tiles,
                              FERC_YUNET_MAX_TILES, tile_scale, FERC_YUNET_MAX_TILE_SCALE);
    }
    const int G = tiles;
    const double k = tile_scale > 0 ? tile_scale : FERC_YUNET_DEFAULT_TILE_SCALE;
    const int W = img ? img->width : 0, H = img ? img->height : 0;
    const int tw = G > 1 ? (int)(W / (G - (G - 1) * OVERLAP)) : 0, th = G > 1 ? (int)(H / (G - (G - 1) * OVERLAP)) : 0;
    const int size = (int)fmin(MAX_SIDE, nearbyint(k * (tw > th ? tw : th)));
    int rw = 0, rh = 0;
    if (img && W > 0 && H > 0) ferc_yunet_input_size(W, H, opt ? opt->input_size : 0, &rw, &rh);
    /* One pass: no tiles, tiles seen at no larger scale than the whole image (they add time,
     * not faces), or bad arguments (ferc_yunet_detect reports them). */
    if (G <= 1 || tw < MIN_TILE || th < MIN_TILE || (double)size / (tw > th ? tw : th) <= (double)rw / W || !n_faces ||
        max_faces < 0 || (max_faces > 0 && !out))
        return ferc_yunet_detect(d, s, img, opt, out, max_faces, n_faces, err);

    ferc_yunet_options o = {0, FERC_YUNET_DEFAULT_THRESHOLD, FERC_YUNET_DEFAULT_NMS, 0};
    if (opt) o = *opt;
    if (o.nms == 0) o.nms = FERC_YUNET_DEFAULT_NMS;
    ferc_box *all = NULL;
    int n = 0, cap = 0, found;
    /* The whole image, then the tiles; a pass keeps at most FERC_YUNET_TOP_K faces (NMS keeps
     * some of the top k). */
    ferc_status st = reserve(&all, &cap, 0, FERC_YUNET_TOP_K) ? ferc_set_error(err, FERC_ERR_NOMEM, "out of memory")
                                                               : ferc_yunet_detect(d, s, img, &o, all, cap, &n, err);
    for (int gy = 0; gy < G && !st; gy++)
        for (int gx = 0; gx < G && !st; gx++) {
            const int x0 = gx == G - 1 ? W - tw : (int)(gx * tw * (1 - OVERLAP));
            const int y0 = gy == G - 1 ? H - th : (int)(gy * th * (1 - OVERLAP));
            ferc_yunet_options to = o;
            to.input_size = size;
            ferc_image tile;
            if (reserve(&all, &cap, n, FERC_YUNET_TOP_K)) {
                st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
                break;
            }
            if ((st = ferc_image_crop(img, x0, y0, tw, th, &tile, err))) break;
            st = ferc_yunet_detect(d, s, &tile, &to, all + n, FERC_YUNET_TOP_K, &found, err);
            ferc_image_free(&tile);
            for (int i = 0, from = n; !st && i < found; i++) { /* kept faces move down over dropped ones */
                ferc_box b = all[from + i];
                if ((x0 > 0 && b.x < EDGE) || (y0 > 0 && b.y < EDGE) ||
                    (x0 + tw < W && (double)b.x + b.w > tw - EDGE) || (y0 + th < H && (double)b.y + b.h > th - EDGE))
                    continue;
                b.x += (float)x0, b.y += (float)y0;
                for (int j = 0; j < b.n_landmarks; j++) b.landmarks[j][0] += (float)x0, b.landmarks[j][1] += (float)y0;
                all[n++] = b;
            }
        }
    if (!st) st = merge(all, n, o.nms, out, max_faces, n_faces, err);
    else *n_faces = 0;
    free(all);
    return st;
}
