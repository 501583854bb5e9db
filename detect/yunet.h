/* yunet.h - internals of the YuNet face detector (detect/yunet.c), exposed for the tests that
 * check the decoder against bench/yunet_ref.py on cv2.dnn's raw outputs. */
#ifndef FERC_DETECT_YUNET_H
#define FERC_DETECT_YUNET_H

#include "ferc.h"

#define FERC_YUNET_STRIDES 3
/* The twelve raw outputs in this order: cls_8 cls_16 cls_32 obj_8 .. obj_32 bbox_8 ..
 * bbox_32 kps_8 .. kps_32 (N x 1, N x 1, N x 4, N x 10 per stride). */
#define FERC_YUNET_OUTPUTS (4 * FERC_YUNET_STRIDES)
extern const char *const ferc_yunet_output_names[FERC_YUNET_OUTPUTS];

/* Cells of a width x height network input over all strides. */
int ferc_yunet_cells(int width, int height);

/* Bytes of the work buffer ferc_yunet_decode needs for a width x height input. */
size_t ferc_yunet_work_size(int width, int height);

/* Decodes raw outputs of a width x height input (multiples of 32) into faces in input
 * pixels and runs NMS (scores > threshold, stable sort, the first top_k, kept when IoU <=
 * nms with every kept face). Writes at most max faces, best first; returns how many NMS
 * kept (may exceed max). */
int ferc_yunet_decode(const float *const outs[FERC_YUNET_OUTPUTS], int width, int height, float threshold,
                      float nms, int top_k, void *work, ferc_box *out, int max);

#endif
