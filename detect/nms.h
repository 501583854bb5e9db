/* nms.h - ordering and greedy non-maximum suppression of face boxes, as OpenCV's
 * cv::dnn::NMSBoxes does them (detect/nms.c). */
#ifndef FERC_DETECT_NMS_H
#define FERC_DETECT_NMS_H

#include "ferc.h"

/* Sorts idx[0..n) by score[idx[i]], highest first, keeping the order of equal scores
 * (std::stable_sort, as NMSBoxes); tmp holds n ints. */
void ferc_sort_by_score(int *idx, const float *score, int n, int *tmp);

/* Walks boxes[0..n) (already best first) and keeps a box when its IoU (ferc_box_iou) with
 * every kept one is <= iou_max. Writes the kept indices to kept[] and returns their number. */
int ferc_nms(const ferc_box *boxes, int n, float iou_max, int *kept);

#endif
