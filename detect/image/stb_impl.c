/* stb_impl.c - the one translation unit that compiles stb_image and stb_image_write
 * (Debian libstb-dev headers). Compiled here rather than linked from libstb so that the
 * decoder's limits are ours: STBI_MAX_DIMENSIONS refuses absurd headers before any pixel
 * allocation, and only the formats ferc documents are built in. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#define STBI_MAX_DIMENSIONS 16384
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_ONLY_TGA
#define STBI_ONLY_GIF
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

#include "detect/image/image.h"

/* Guards for two bugs of stb_image 2.27 (Debian 12) found by fuzz/fuzz_image.c, both fixed
 * upstream in 2.28: (1) a JPEG Huffman table (DHT) whose 16 symbol counts sum over 256
 * makes stbi__build_huffman write past its 257-entry size list; (2) a 16-bit PNM converted
 * to another channel count is converted as 8-bit and read past its buffer; (3) a PNM header
 * number of 10 or more digits overflows an int. Inputs that would reach any of them are
 * refused here, before stb parses them. A fourth guard bounds allocation: stb grows its
 * PNG data buffer to a chunk's declared length before reading it, so a 2 KB file declaring
 * a 1.5 GB chunk allocated 1.5 GB; chunks must fit in the file. */
static int jpeg_huffman_ok(const unsigned char *p, int len)
{
    int i = 0;
    while (i < len && p[i] == 0xFF) i++; /* stb takes FF...FF D8 as the start marker */
    if (i == 0 || i >= len || p[i] != 0xD8) return 1;
#define AT(k) ((k) < len ? p[k] : 0) /* stb reads zeros past the end */
    for (i++; i + 3 < len;) {
        if (p[i] != 0xFF || p[i + 1] == 0xFF) { i++; continue; } /* entropy-coded data, fill bytes */
        int m = p[i + 1];
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { i += 2; continue; } /* no length */
        if (m == 0xD9) break;
        int seglen = p[i + 2] << 8 | p[i + 3];
        if (m == 0xC4) { /* mirror stb's loop: tables until the segment length is used up */
            long q = i + 4;
            for (int left = seglen - 2; left > 0;) {
                int n = 0;
                for (int k = 1; k <= 16; k++) n += AT(q + k);
                if (n > 256) return 0;
                q += 17 + n;
                left -= 17 + n;
            }
        }
        i += 2 + seglen;
    }
#undef AT
    return 1;
}

static int png_chunks_ok(const unsigned char *p, int len)
{
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (len < 8 || memcmp(p, sig, 8)) return 1;
    for (long i = 8; i + 8 <= len;) {
        uint32_t n = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 | p[i + 3];
        if (n > (uint32_t)(len - i - 8)) return 0;
        i += 12 + (long)n; /* length, type, data, CRC */
    }
    return 1;
}

/* Reads the PNM header's three numbers the way stbi__pnm_info does, counting digits. */
static int pnm_numbers_ok(const unsigned char *buf, int len)
{
    stbi__context s;
    stbi__start_mem(&s, buf, len);
    stbi__get8(&s), stbi__get8(&s); /* "P5" or "P6", checked by stbi__pnm_test */
    char c = (char)stbi__get8(&s);
    for (int k = 0; k < 3; k++) {
        stbi__pnm_skip_whitespace(&s, &c);
        for (int digits = 0; !stbi__at_eof(&s) && stbi__pnm_isdigit(c); c = (char)stbi__get8(&s))
            if (++digits > 9) return 0;
    }
    return 1;
}

/* loading: 0 for stbi_info (which reads PNG headers only), 1 for stbi_load. */
static int guarded(const unsigned char *buf, int len, int loading)
{
    if (!jpeg_huffman_ok(buf, len)) return stbi__err("corrupt JPEG Huffman table", "Corrupt JPEG");
    if (loading && !png_chunks_ok(buf, len)) return stbi__err("PNG chunk runs past the end of the file", "Corrupt PNG");
    stbi__context s;
    stbi__start_mem(&s, buf, len);
    if (stbi__pnm_test(&s)) {
        if (!pnm_numbers_ok(buf, len)) return stbi__err("PNM header number too long", "Corrupt PNM");
        stbi__start_mem(&s, buf, len);
        if (stbi__pnm_is16(&s)) return stbi__err("16-bit PNM is not supported", "16-bit PNM");
    }
    return 1;
}

int ferc_stbi_info(const unsigned char *buf, int len, int *w, int *h, int *c)
{
    return guarded(buf, len, 0) && stbi_info_from_memory(buf, len, w, h, c);
}

unsigned char *ferc_stbi_load(const unsigned char *buf, int len, int *w, int *h, int channels)
{
    int c;
    return guarded(buf, len, 1) ? stbi_load_from_memory(buf, len, w, h, &c, channels) : NULL;
}

const char *ferc_stbi_failure(void) { return stbi_failure_reason(); }

void ferc_stbi_free(void *p) { stbi_image_free(p); }

int ferc_stbi_write_png(const char *path, int w, int h, int c, const void *data)
{
    return stbi_write_png(path, w, h, c, data, w * c);
}

int ferc_stbi_write_jpg(const char *path, int w, int h, int c, const void *data, int quality)
{
    return stbi_write_jpg(path, w, h, c, data, quality);
}

int ferc_stbi_write_png_func(void (*fn)(void *, void *, int), void *ctx, int w, int h, int c, const void *data)
{
    return stbi_write_png_to_func(fn, ctx, w, h, c, data, w * c);
}

int ferc_stbi_write_jpg_func(void (*fn)(void *, void *, int), void *ctx, int w, int h, int c, const void *data,
                             int quality)
{
    return stbi_write_jpg_to_func(fn, ctx, w, h, c, data, quality);
}
