/* box.c - the one face box type's geometry (ferc_box in include/ferc.h). */
#include "ferc.h"

float ferc_box_iou(const ferc_box *a, const ferc_box *b)
{
    float x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
    float x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
    float y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
    if (x1 <= x0 || y1 <= y0 || a->w <= 0 || a->h <= 0 || b->w <= 0 || b->h <= 0) return 0;
    float inter = (x1 - x0) * (y1 - y0);
    return inter / (a->w * a->h + b->w * b->h - inter);
}
