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

#include "detect/image.h"

int ferc_stbi_info(const unsigned char *buf, int len, int *w, int *h, int *c)
{
    return stbi_info_from_memory(buf, len, w, h, c);
}

unsigned char *ferc_stbi_load(const unsigned char *buf, int len, int *w, int *h, int channels)
{
    int c;
    return stbi_load_from_memory(buf, len, w, h, &c, channels);
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
