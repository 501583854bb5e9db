/* tensor.h - shapes and 64-byte aligned buffers.
 *
 * A shape is up to 4 dimensions. Images are NHWC: dims = {N, H, W, C}, C fastest. Flattened
 * activations are {N, features}. 64-byte alignment matches a cache line and an AVX-512
 * register, so any buffer can feed aligned vector loads. */
#ifndef FERC_NN_TENSOR_H
#define FERC_NN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define FERC_ALIGN 64
#define FERC_MAX_DIMS 4
/* Any single dimension, and any tensor, is refused beyond these: a hostile file must not
 * make the engine allocate without bound. 2^28 floats = 1 GiB. */
#define FERC_MAX_DIM 65536
#define FERC_MAX_NUMEL ((int64_t)1 << 28)

typedef struct {
    int ndim;
    int64_t d[FERC_MAX_DIMS];
} ferc_shape;

int64_t ferc_shape_numel(const ferc_shape *s);
int ferc_shape_equal(const ferc_shape *a, const ferc_shape *b);
/* "[1, 48, 48, 64]" into buf; returns buf. */
const char *ferc_shape_str(const ferc_shape *s, char *buf, size_t size);
ferc_shape ferc_shape4(int64_t n, int64_t h, int64_t w, int64_t c);
ferc_shape ferc_shape2(int64_t n, int64_t c);

/* Aligned allocation (size rounded up to a multiple of FERC_ALIGN). NULL on failure. */
void *ferc_alloc(size_t size);
void ferc_free(void *p);
static inline size_t ferc_align_up(size_t n) { return (n + FERC_ALIGN - 1) & ~(size_t)(FERC_ALIGN - 1); }

/* IEEE 754 half to float, exact for all 65536 inputs (subnormals, inf, NaN). */
float ferc_half_to_float(uint16_t h);

#endif
