/* cascade_group.c - cv::groupRectangles: cluster similar boxes, average each cluster, drop
 * clusters with too few members and small ones inside bigger, better-supported ones.
 * Clusters are the connected components of the similarity relation (what cv::partition
 * computes), so the result does not depend on the order of the candidates; the arithmetic
 * (float averages, cvRound) is OpenCV's. */
#include "detect/cascade.h"

#include <math.h>
#include <stdlib.h>

static int similar(const ferc_cascade_rect *a, const ferc_cascade_rect *b, double eps)
{
    double delta = eps * ((a->width < b->width ? a->width : b->width) + (a->height < b->height ? a->height : b->height)) * 0.5;
    return abs(a->x - b->x) <= delta && abs(a->y - b->y) <= delta &&
           abs(a->x + a->width - b->x - b->width) <= delta && abs(a->y + a->height - b->y - b->height) <= delta;
}

static int find_root(int *parent, int i)
{
    int r = i;
    while (parent[r] != r) r = parent[r];
    while (parent[i] != r) {
        int next = parent[i];
        parent[i] = r;
        i = next;
    }
    return r;
}

int ferc_group_rects(ferc_cascade_rect *rects, int n, int group_threshold, double eps)
{
    if (group_threshold <= 0 || n == 0) return n;
    int *parent = malloc(sizeof(int) * (size_t)n), *label = malloc(sizeof(int) * (size_t)n);
    int64_t *acc = calloc((size_t)n * 5, sizeof(int64_t)); /* x, y, w, h sums and count per class */
    ferc_cascade_rect *avg = malloc(sizeof(ferc_cascade_rect) * (size_t)n);
    if (!parent || !label || !acc || !avg) {
        free(parent), free(label), free(acc), free(avg);
        return -1;
    }
    for (int i = 0; i < n; i++) parent[i] = i;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (similar(&rects[i], &rects[j], eps)) {
                int a = find_root(parent, i), b = find_root(parent, j);
                if (a != b) parent[a < b ? b : a] = a < b ? a : b;
            }
    int nclasses = 0;
    for (int i = 0; i < n; i++) label[i] = -1;
    for (int i = 0; i < n; i++) {
        int r = find_root(parent, i);
        if (label[r] < 0) label[r] = nclasses++;
        int c = label[r];
        acc[c * 5 + 0] += rects[i].x;
        acc[c * 5 + 1] += rects[i].y;
        acc[c * 5 + 2] += rects[i].width;
        acc[c * 5 + 3] += rects[i].height;
        acc[c * 5 + 4]++;
    }
    for (int c = 0; c < nclasses; c++) {
        /* OpenCV: int sums times float 1/count, rounded half to even. */
        float s = 1.f / (float)acc[c * 5 + 4];
        avg[c].x = (int)lrintf((float)(int)acc[c * 5 + 0] * s);
        avg[c].y = (int)lrintf((float)(int)acc[c * 5 + 1] * s);
        avg[c].width = (int)lrintf((float)(int)acc[c * 5 + 2] * s);
        avg[c].height = (int)lrintf((float)(int)acc[c * 5 + 3] * s);
    }
    int out = 0;
    for (int i = 0; i < nclasses; i++) {
        const ferc_cascade_rect r1 = avg[i];
        int n1 = (int)acc[i * 5 + 4], j;
        if (n1 <= group_threshold) continue;
        for (j = 0; j < nclasses; j++) {
            int n2 = (int)acc[j * 5 + 4];
            if (j == i || n2 <= group_threshold) continue;
            const ferc_cascade_rect r2 = avg[j];
            int dx = (int)lrint(r2.width * eps), dy = (int)lrint(r2.height * eps);
            if (r1.x >= r2.x - dx && r1.y >= r2.y - dy && r1.x + r1.width <= r2.x + r2.width + dx &&
                r1.y + r1.height <= r2.y + r2.height + dy && (n2 > (n1 > 3 ? n1 : 3) || n1 < 3))
                break;
        }
        if (j == nclasses) rects[out++] = r1;
    }
    free(parent), free(label), free(acc), free(avg);
    return out;
}
