/* image.c - loading and saving 8-bit images with limits checked before decoding.
 * stb_image's own STBI_MAX_DIMENSIONS refuses single sides over 16384; the pixel-count
 * limit here also refuses e.g. 16000x16000 (768 MB of RGB) with a message that says so. */
#include "ferc.h"
#include "detect/image/image.h"
#include "nn/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES ((size_t)256 << 20)

/* Width and height from a PNG, GIF or JPEG header, without decoding; 0 if not found. stb
 * refuses sides over STBI_MAX_DIMENSIONS with a vague "unknown image type", so sizes are
 * read here first to say what is wrong with, say, a 100000x100000 header. */
static int header_size(const uint8_t *p, size_t n, long *w, long *h)
{
    if (n >= 24 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8) && !memcmp(p + 12, "IHDR", 4)) {
        *w = (long)p[16] << 24 | (long)p[17] << 16 | p[18] << 8 | p[19];
        *h = (long)p[20] << 24 | (long)p[21] << 16 | p[22] << 8 | p[23];
        return 1;
    }
    if (n >= 10 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6))) {
        *w = p[6] | p[7] << 8, *h = p[8] | p[9] << 8;
        return 1;
    }
    if (n >= 4 && p[0] == 0xff && p[1] == 0xd8) { /* JPEG: walk the segments to a SOFn */
        size_t i = 2;
        while (i + 9 < n && p[i] == 0xff) {
            const int m = p[i + 1];
            const size_t len = (size_t)p[i + 2] << 8 | p[i + 3];
            if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
                *h = p[i + 5] << 8 | p[i + 6], *w = p[i + 7] << 8 | p[i + 8];
                return 1;
            }
            i += 2 + len;
        }
    }
    return 0;
}

ferc_status ferc_image_load_memory(const void *data, size_t size, int channels, ferc_image *img, ferc_error *err)
{
    memset(img, 0, sizeof *img);
    if (channels != 1 && channels != 3) return ferc_set_error(err, FERC_ERR_ARG, "channels must be 1 or 3");
    if (size == 0) return ferc_set_error(err, FERC_ERR_FORMAT, "empty file");
    if (size > MAX_FILE_BYTES || size > 0x7fffffff)
        return ferc_set_error(err, FERC_ERR_NOMEM, "file of %zu bytes is larger than the %zu-byte limit", size,
                              MAX_FILE_BYTES);
    long hw, hh;
    if (header_size(data, size, &hw, &hh) && (hw < 1 || hh < 1 || (int64_t)hw * hh > FERC_IMAGE_MAX_PIXELS))
        return ferc_set_error(err, FERC_ERR_FORMAT, "image header says %ldx%ld pixels, limit %lld pixels", hw, hh,
                              (long long)FERC_IMAGE_MAX_PIXELS);
    int w, h, c;
    if (!ferc_stbi_info(data, (int)size, &w, &h, &c))
        return ferc_set_error(err, FERC_ERR_FORMAT, "not a supported image (JPEG, PNG, BMP, PNM, TGA, GIF): %s",
                              ferc_stbi_failure());
    if (w < 1 || h < 1 || (int64_t)w * h > FERC_IMAGE_MAX_PIXELS)
        return ferc_set_error(err, FERC_ERR_FORMAT, "image header says %dx%d pixels, limit %lld pixels", w, h,
                              (long long)FERC_IMAGE_MAX_PIXELS);
    img->data = ferc_stbi_load(data, (int)size, &img->width, &img->height, channels);
    if (!img->data) return ferc_set_error(err, FERC_ERR_FORMAT, "corrupt or truncated image: %s", ferc_stbi_failure());
    img->channels = channels;
    return FERC_OK;
}

ferc_status ferc_image_load(const char *path, int channels, ferc_image *img, ferc_error *err)
{
    memset(img, 0, sizeof *img);
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return ferc_set_error(err, FERC_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    ferc_status s = FERC_OK;
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= MAX_FILE_BYTES) { s = ferc_set_error(err, FERC_ERR_NOMEM, "%s: larger than %zu bytes", path, MAX_FILE_BYTES); break; }
        unsigned char *nb = realloc(buf, cap * 2);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    if (!s && !buf) s = ferc_set_error(err, FERC_ERR_NOMEM, "%s: out of memory", path);
    if (!s && ferror(f)) s = ferc_set_error(err, FERC_ERR_IO, "%s: read error", path);
    if (f != stdin) fclose(f);
    if (!s) {
        s = ferc_image_load_memory(buf, n, channels, img, err);
        if (s) ferc_error_prefix(err, path);
    }
    free(buf);
    return s;
}

void ferc_image_free(ferc_image *img)
{
    if (img && img->data) ferc_stbi_free(img->data);
    if (img) img->data = NULL;
}

/* Growing buffer for ferc_image_encode; a failed allocation is remembered, not retried. */
typedef struct {
    uint8_t *p;
    size_t n, cap;
    int failed;
} mem_out;

static void mem_write(void *ctx, void *data, int size)
{
    mem_out *m = ctx;
    if (m->failed || size <= 0) return;
    if (m->n + (size_t)size > m->cap) {
        size_t cap = m->cap ? m->cap : 1 << 16;
        while (cap < m->n + (size_t)size) cap *= 2;
        uint8_t *p = realloc(m->p, cap);
        if (!p) { m->failed = 1; return; }
        m->p = p, m->cap = cap;
    }
    memcpy(m->p + m->n, data, (size_t)size);
    m->n += (size_t)size;
}

ferc_status ferc_image_encode(const ferc_image *img, const char *name, uint8_t **out, size_t *size, ferc_error *err)
{
    *out = NULL, *size = 0;
    const char *dot = strrchr(name, '.');
    mem_out m = {0};
    int ok;
    if (dot && (!strcmp(dot, ".jpg") || !strcmp(dot, ".jpeg")))
        ok = ferc_stbi_write_jpg_func(mem_write, &m, img->width, img->height, img->channels, img->data, 90);
    else if (dot && !strcmp(dot, ".png"))
        ok = ferc_stbi_write_png_func(mem_write, &m, img->width, img->height, img->channels, img->data);
    else
        return ferc_set_error(err, FERC_ERR_ARG, "%s: encode as .png or .jpg", name);
    if (!ok || m.failed) {
        free(m.p);
        return ferc_set_error(err, FERC_ERR_NOMEM, "%s: cannot encode the image (out of memory)", name);
    }
    *out = m.p, *size = m.n;
    return FERC_OK;
}

ferc_status ferc_image_save(const char *path, const ferc_image *img, ferc_error *err)
{
    const char *dot = strrchr(path, '.');
    int ok;
    if (dot && (!strcmp(dot, ".jpg") || !strcmp(dot, ".jpeg")))
        ok = ferc_stbi_write_jpg(path, img->width, img->height, img->channels, img->data, 90);
    else if (dot && !strcmp(dot, ".png"))
        ok = ferc_stbi_write_png(path, img->width, img->height, img->channels, img->data);
    else
        return ferc_set_error(err, FERC_ERR_ARG, "%s: write .png or .jpg", path);
    return ok ? FERC_OK : ferc_set_error(err, FERC_ERR_IO, "%s: cannot write", path);
}
