/* nms.c - OpenCV's NMSBoxes order and suppression on ferc_box (x, y, w, h in pixels). */
#include "detect/nms.h"

#include <string.h>

/* Bottom-up merge sort: stable, unlike qsort. */
void ferc_sort_by_score(int *idx, const float *score, int n, int *tmp)
{
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = score[idx[j]] > score[idx[i]] ? idx[j++] : idx[i++];
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, sizeof(int) * (size_t)n);
    }
}

int ferc_nms(const ferc_box *boxes, int n, float iou_max, int *kept)
{
    int nk = 0;
    for (int i = 0; i < n; i++) {
        int keep = 1;
        for (int k = 0; k < nk && keep; k++) keep = ferc_box_iou(&boxes[i], &boxes[kept[k]]) <= iou_max;
        if (keep) kept[nk++] = i;
    }
    return nk;
}
