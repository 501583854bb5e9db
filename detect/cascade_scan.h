/* cascade_scan.h - one row of cascade windows, evaluated as OpenCV's runAt would, with a
 * scalar implementation (cascade_scan.c) and an AVX2 one that runs 8 windows at once
 * (cascade_scan_avx2.c), selected by ferc_cascade_scan_pick.
 *
 * Window j of a row sits at plane offset row * row_stride + j in every integral plane. For
 * the step-1 scales the planes are the integral images themselves; for the step-2 scales
 * (window x = 2j) each plane is split into its even columns followed by its odd columns, so
 * that neighbouring windows are adjacent in memory and a feature corner (dx, dy) is one
 * offset, (dx odd ? odd_plane : 0) + dy * row_stride + dx / 2, for all of them. */
#ifndef FERC_DETECT_CASCADE_SCAN_H
#define FERC_DETECT_CASCADE_SCAN_H

#include "detect/cascade.h"

typedef struct {
    int ofs[3][4];
    float weight[3];
    int tilted;
} ferc_haar_opt;

typedef struct {
    int ofs[16];
} ferc_lbp_opt;

/* Feature offsets for one plane layout. */
typedef struct {
    ferc_haar_opt *haar;
    ferc_lbp_opt *lbp;
    int nofs[4]; /* Haar variance rectangle (the window less a 1-pixel border) */
} ferc_scan_layout;

typedef struct {
    const ferc_cascade *c;
    const ferc_scan_layout *layout;
    const int32_t *sum;     /* planes, already offset to the row being scanned */
    const uint32_t *sqsum;  /* Haar only */
    const int32_t *tilted;  /* Haar with tilted features only */
    double norm_area;       /* area of the variance rectangle */
} ferc_scan_row;

/* Evaluates windows j = 0 .. n-1 of one row with OpenCV's visiting rule (a window rejected
 * by the first stage makes the scan skip the next one) and sets hit[j] = 1 for accepted
 * windows, 0 otherwise. Planes must be readable 16 ints past the last window's corners. */
typedef void (*ferc_scan_row_fn)(const ferc_scan_row *r, int n, uint8_t *hit);

void ferc_scan_row_scalar(const ferc_scan_row *r, int n, uint8_t *hit);
void ferc_scan_row_avx2(const ferc_scan_row *r, int n, uint8_t *hit);

/* The implementation for this CPU, or the one FERC_ISA=scalar|avx2 names (avx512 CPUs run
 * the AVX2 code). */
ferc_scan_row_fn ferc_cascade_scan_pick(void);

/* Offsets for a layout: row_stride ints per row, odd columns odd_plane ints after the even
 * ones (0: unsplit layout). */
ferc_status ferc_scan_layout_init(ferc_scan_layout *l, const ferc_cascade *c, int row_stride, int odd_plane,
                                  ferc_error *err);
void ferc_scan_layout_free(ferc_scan_layout *l);

#endif
