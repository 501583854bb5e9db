/* q8_dw.h - the windows of the int8 depthwise bodies (layout in q8.h, "Depthwise"), included
 * by the ISA files, which are built with AVX2 at least. */
#ifndef FERC_KERNELS_Q8_DW_H
#define FERC_KERNELS_Q8_DW_H

#include "kernels/q8.h"

#include <immintrin.h>
#include <string.h>

/* Codes of 16 channels (or two runs of 16 in the 256-bit form) from 4 kernel rows,
 * interleaved channel by channel: slot group i (channels 4i..4i+3, 16 bytes) is stored
 * `stride` bytes after group i - 1. */
static inline void dw_interleave128(__m128i r0, __m128i r1, __m128i r2, __m128i r3, uint8_t *dst, size_t stride)
{
    const __m128i lo01 = _mm_unpacklo_epi8(r0, r1), hi01 = _mm_unpackhi_epi8(r0, r1);
    const __m128i lo23 = _mm_unpacklo_epi8(r2, r3), hi23 = _mm_unpackhi_epi8(r2, r3);
    _mm_storeu_si128((__m128i *)(void *)dst, _mm_unpacklo_epi16(lo01, lo23));
    _mm_storeu_si128((__m128i *)(void *)(dst + stride), _mm_unpackhi_epi16(lo01, lo23));
    _mm_storeu_si128((__m128i *)(void *)(dst + 2 * stride), _mm_unpacklo_epi16(hi01, hi23));
    _mm_storeu_si128((__m128i *)(void *)(dst + 3 * stride), _mm_unpackhi_epi16(hi01, hi23));
}

static inline void dw_interleave256(__m256i r0, __m256i r1, __m256i r2, __m256i r3, uint8_t *dst)
{
    const __m256i lo01 = _mm256_unpacklo_epi8(r0, r1), hi01 = _mm256_unpackhi_epi8(r0, r1);
    const __m256i lo23 = _mm256_unpacklo_epi8(r2, r3), hi23 = _mm256_unpackhi_epi8(r2, r3);
    _mm256_storeu_si256((__m256i *)(void *)dst, _mm256_unpacklo_epi16(lo01, lo23));
    _mm256_storeu_si256((__m256i *)(void *)(dst + 64), _mm256_unpackhi_epi16(lo01, lo23));
    _mm256_storeu_si256((__m256i *)(void *)(dst + 128), _mm256_unpacklo_epi16(hi01, hi23));
    _mm256_storeu_si256((__m256i *)(void *)(dst + 192), _mm256_unpackhi_epi16(hi01, hi23));
}

/* The windows of one output row (q8.h): rows[] as the body gets them, but never NULL (the
 * driver points rows outside the image at a row of zx). Blocks of 64 channels two 32-channel
 * runs at a time (each 128-bit lane one 16-channel run, which is what puts channel
 * 16L + 4i + r at slot 16i + 4L + r), then blocks of 16; with exactly 16 channels, two
 * columns at a time (their pixels are adjacent). */
static inline void dw_windows(const ferc_q8_conv_desc *d, int wp, const uint8_t *const *rows, uint8_t *v)
{
    const int c = d->c, cp = ferc_q8_dw_cp(d), c64 = c & ~63, c16 = c & ~15, nq = ferc_q8_dw_nq(d);
    const size_t plane = ferc_q8_dw_plane(d, wp), col = (size_t)cp * 4;
    const int x0 = d->pl < wp ? d->pl : wp, x1 = d->pl + d->w < wp ? d->pl + d->w : wp; /* image columns */
    for (int q = 0; q < nq; q++) {
        const uint8_t *r0 = rows[4 * q], *r1 = rows[4 * q + 1], *r2 = rows[4 * q + 2], *r3 = rows[4 * q + 3];
        uint8_t *vq = v + q * plane;
        memset(vq, d->zx, (size_t)x0 * col);
        memset(vq + (size_t)x1 * col, d->zx, (size_t)(wp - x1) * col);
        int xp = x0;
#define LD256(r, o) _mm256_loadu_si256((const __m256i *)(const void *)((r) + (o)))
#define LD128(r, o) _mm_loadu_si128((const __m128i *)(const void *)((r) + (o)))
        if (c == 16)
            for (; xp + 2 <= x1; xp += 2) {
                const size_t o = (size_t)(xp - d->pl) * 16;
                uint8_t *dst = vq + (size_t)xp * col;
                const __m256i a = LD256(r0, o), b = LD256(r1, o), e = LD256(r2, o), f = LD256(r3, o);
                const __m256i lo01 = _mm256_unpacklo_epi8(a, b), hi01 = _mm256_unpackhi_epi8(a, b);
                const __m256i lo23 = _mm256_unpacklo_epi8(e, f), hi23 = _mm256_unpackhi_epi8(e, f);
                const __m256i g[4] = {_mm256_unpacklo_epi16(lo01, lo23), _mm256_unpackhi_epi16(lo01, lo23),
                                      _mm256_unpacklo_epi16(hi01, hi23), _mm256_unpackhi_epi16(hi01, hi23)};
                for (int i = 0; i < 4; i++) {
                    _mm_storeu_si128((__m128i *)(void *)(dst + 16 * i), _mm256_castsi256_si128(g[i]));
                    _mm_storeu_si128((__m128i *)(void *)(dst + 64 + 16 * i), _mm256_extracti128_si256(g[i], 1));
                }
            }
        for (; xp < x1; xp++) {
            const size_t o = (size_t)(xp - d->pl) * c;
            uint8_t *dst = vq + (size_t)xp * col;
            for (int c0 = 0; c0 < c64; c0 += 64)
                for (int h = 0; h < 64; h += 32)
                    dw_interleave256(LD256(r0, o + c0 + h), LD256(r1, o + c0 + h), LD256(r2, o + c0 + h),
                                     LD256(r3, o + c0 + h), dst + (size_t)c0 * 4 + h);
            for (int c0 = c64; c0 < c16; c0 += 16)
                dw_interleave128(LD128(r0, o + c0), LD128(r1, o + c0), LD128(r2, o + c0), LD128(r3, o + c0),
                                 dst + (size_t)c0 * 4, 16);
            if (c16 < c) { /* the last channels: no reading past the pixel at the tensor's end */
                uint8_t t[4][16];
                const uint8_t *const r[4] = {r0, r1, r2, r3};
                for (int j = 0; j < 4; j++) memset(t[j], d->zx, 16), memcpy(t[j], r[j] + o + c16, (size_t)(c - c16));
                dw_interleave128(LD128(t[0], 0), LD128(t[1], 0), LD128(t[2], 0), LD128(t[3], 0), dst + (size_t)c16 * 4, 16);
            }
        }
#undef LD256
#undef LD128
    }
}

#endif
