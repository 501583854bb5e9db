/* tensor.c - shapes, aligned buffers, half floats. */
#include "nn/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t ferc_shape_numel(const ferc_shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= s->d[i];
    return n;
}

int ferc_shape_equal(const ferc_shape *a, const ferc_shape *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->d[i] != b->d[i]) return 0;
    return 1;
}

const char *ferc_shape_str(const ferc_shape *s, char *buf, size_t size)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < s->ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)s->d[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

ferc_shape ferc_shape4(int64_t n, int64_t h, int64_t w, int64_t c)
{
    ferc_shape s = {4, {n, h, w, c}};
    return s;
}

ferc_shape ferc_shape2(int64_t n, int64_t c)
{
    ferc_shape s = {2, {n, c, 0, 0}};
    return s;
}

void *ferc_alloc(size_t size)
{
    if (size == 0) size = FERC_ALIGN;
    return aligned_alloc(FERC_ALIGN, ferc_align_up(size));
}

void ferc_free(void *p) { free(p); }

float ferc_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: renormalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
