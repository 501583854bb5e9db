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
/* Zeroed allocations: whatever a corrupt file leaves unset in stb's decoder state reads as
 * zeros, the same on every run, rather than as the heap's previous contents. */
#define STBI_MALLOC(sz) calloc(1, sz)
#define STBI_REALLOC(p, sz) realloc(p, sz)
#define STBI_FREE(p) free(p)
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#include <stdlib.h>
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

#include "detect/image/image.h"

/* Guards for bugs of stb_image 2.27 (Debian 12) found by fuzz/fuzz_image.c, the first three
 * fixed upstream in 2.28: (1) a JPEG Huffman table (DHT) whose 16 symbol counts sum over 256
 * makes stbi__build_huffman write past its 257-entry size list; (2) a 16-bit PNM converted
 * to another channel count is converted as 8-bit and read past its buffer; (3) a PNM header
 * number of 10 or more digits overflows an int; (4) a JPEG scan (SOS) that names a Huffman
 * table no DHT has defined is decoded with an unbuilt table: stb's lookup then runs past
 * the table's arrays and fails the STBI_ASSERT in stbi__jpeg_huff_decode, which aborts the
 * process (asserts stay on in ferc: compiled out, the line after it indexes with the same
 * bad symbol). Inputs that would reach any of them are refused here, before stb parses
 * them. A fifth guard bounds allocation: stb grows its PNG data buffer to a chunk's
 * declared length before reading it, so a 2 KB file declaring a 1.5 GB chunk allocated
 * 1.5 GB; chunks must fit in the file. */
static const char *const undefined_table[2][4] = {
    {"JPEG scan uses DC Huffman table 0, which no DHT segment defines",
     "JPEG scan uses DC Huffman table 1, which no DHT segment defines",
     "JPEG scan uses DC Huffman table 2, which no DHT segment defines",
     "JPEG scan uses DC Huffman table 3, which no DHT segment defines"},
    {"JPEG scan uses AC Huffman table 0, which no DHT segment defines",
     "JPEG scan uses AC Huffman table 1, which no DHT segment defines",
     "JPEG scan uses AC Huffman table 2, which no DHT segment defines",
     "JPEG scan uses AC Huffman table 3, which no DHT segment defines"}};

/* NULL if the JPEG's Huffman tables are safe for stb, else what is wrong (a constant, as
 * stbi__err keeps the pointer). Segments are walked as stb walks them; scans only when
 * loading (stbi_info stops at the frame header, but builds the DHTs before it). */
static const char *jpeg_huffman_problem(const unsigned char *p, int len, int loading)
{
    int i = 0;
    while (i < len && p[i] == 0xFF) i++; /* stb takes FF...FF D8 as the start marker */
    if (i == 0 || i >= len || p[i] != 0xD8) return NULL;
#define AT(k) ((k) < len ? p[k] : 0) /* stb reads zeros past the end */
    int defined[2] = {0, 0}, progressive = 0; /* defined[class]: bit per table id */
    for (i++; i + 3 < len;) {
        if (p[i] != 0xFF || p[i + 1] == 0xFF) { i++; continue; } /* entropy-coded data, fill bytes */
        int m = p[i + 1];
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { i += 2; continue; } /* no length */
        if (m == 0xD9) break;
        int seglen = p[i + 2] << 8 | p[i + 3];
        if (m == 0xC2) progressive = 1;
        if (m == 0xC4) { /* mirror stb's loop: tables until the segment length is used up */
            long q = i + 4;
            for (int left = seglen - 2; left > 0;) {
                int n = 0, tc = AT(q) >> 4, th = AT(q) & 15;
                for (int k = 1; k <= 16; k++) n += AT(q + k);
                if (n > 256) return "corrupt JPEG Huffman table";
                if (tc <= 1 && th <= 3) defined[tc] |= 1 << th; /* stb refuses the rest */
                q += 17 + n;
                left -= 17 + n;
            }
        }
        if (m == 0xDA && loading) { /* SOS: Ns, then (component, DC table << 4 | AC table) each */
            const int ns = AT(i + 4), ss = AT(i + 5 + 2 * ns), ah = AT(i + 7 + 2 * ns) >> 4;
            /* Which tables stb decodes with: baseline both; a progressive DC scan (Ss = 0)
             * the DC table on its first pass only; a progressive AC scan the AC table. */
            const int use_dc = !progressive || (ss == 0 && ah == 0), use_ac = !progressive || ss != 0;
            for (int k = 0; k < ns; k++) {
                const int td = AT(i + 6 + 2 * k) >> 4, ta = AT(i + 6 + 2 * k) & 15;
                if (use_dc && td <= 3 && !(defined[0] >> td & 1)) return undefined_table[0][td];
                if (use_ac && ta <= 3 && !(defined[1] >> ta & 1)) return undefined_table[1][ta];
            }
        }
        i += 2 + seglen;
    }
#undef AT
    return NULL;
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
    const char *jpeg = jpeg_huffman_problem(buf, len, loading);
    if (jpeg) return stbi__err(jpeg, "Corrupt JPEG");
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

int ferc_stbi_write_png_func(void (*fn)(void *, void *, int), void *ctx, int w, int h, int c, const void *data)
{
    return stbi_write_png_to_func(fn, ctx, w, h, c, data, w * c);
}

int ferc_stbi_write_jpg_func(void (*fn)(void *, void *, int), void *ctx, int w, int h, int c, const void *data,
                             int quality)
{
    return stbi_write_jpg_to_func(fn, ctx, w, h, c, data, quality);
}
