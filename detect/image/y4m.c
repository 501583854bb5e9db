/* y4m.c - YUV4MPEG2 reader. The header is one line: "YUV4MPEG2" then space-separated
 * tagged fields (W width, H height, F rate num:den, I interlace, A aspect, C colour space,
 * X extension); each frame is a "FRAME[ params]\n" line then the Y, U and V planes.
 * Everything is untrusted: lines are bounded, numbers range-checked, sizes limited before
 * any allocation, and a short frame is reported as truncated, never padded. */
#include "detect/image/y4m.h"
#include "detect/image/image.h"
#include "nn/error.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 4096
#define MAX_SIDE 16384

/* Reads one '\n'-terminated line (without the '\n'). Returns its length, -1 at EOF before
 * any byte, -2 if longer than MAX_LINE or cut off by EOF (*len_read = bytes seen). */
static int read_line(FILE *f, char *line, size_t *len_read)
{
    size_t n = 0;
    int c;
    while ((c = getc(f)) != EOF) {
        if (c == '\n') {
            line[n] = 0;
            *len_read = n;
            return (int)n;
        }
        if (n == MAX_LINE) break;
        line[n++] = (char)c;
    }
    *len_read = n;
    return n == 0 && c == EOF ? -1 : -2;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

ferc_status ferc_y4m_open(FILE *f, ferc_y4m *y, ferc_error *err)
{
    memset(y, 0, sizeof *y);
    y->f = f;
    char line[MAX_LINE + 1];
    size_t n;
    int r = read_line(f, line, &n);
    if (r == -1) return ferc_set_error(err, FERC_ERR_FORMAT, "empty stream, expected a YUV4MPEG2 header");
    if (strncmp(line, "YUV4MPEG2", n < 9 ? n : 9) || n < 9)
        return ferc_set_error(err, FERC_ERR_FORMAT, "not a YUV4MPEG2 stream (convert with: ffmpeg -i IN -f yuv4mpegpipe -)");
    if (r == -2) return ferc_set_error(err, FERC_ERR_FORMAT, "YUV4MPEG2 header is not one line of at most %d bytes", MAX_LINE);
    if (line[9] != ' ' && line[9] != 0) return ferc_set_error(err, FERC_ERR_FORMAT, "not a YUV4MPEG2 stream");
    const char *cs = "420jpeg";
    char csbuf[32];
    for (char *save = NULL, *tok = strtok_r(line + 9, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        const char *v = tok + 1;
        switch (tok[0]) {
        case 'W':
            if (parse_int(v, 1, MAX_SIDE, &y->width))
                return ferc_set_error(err, FERC_ERR_FORMAT, "header width '%.20s' is not 1..%d", v, MAX_SIDE);
            break;
        case 'H':
            if (parse_int(v, 1, MAX_SIDE, &y->height))
                return ferc_set_error(err, FERC_ERR_FORMAT, "header height '%.20s' is not 1..%d", v, MAX_SIDE);
            break;
        case 'F': {
            char num[24];
            const char *colon = strchr(v, ':');
            size_t len = colon ? (size_t)(colon - v) : 0;
            if (!colon || len >= sizeof num) return ferc_set_error(err, FERC_ERR_FORMAT, "frame rate '%.20s' is not N:D", v);
            memcpy(num, v, len);
            num[len] = 0;
            if (parse_int(num, 0, INT_MAX, &y->fps_num) || parse_int(colon + 1, 0, INT_MAX, &y->fps_den))
                return ferc_set_error(err, FERC_ERR_FORMAT, "frame rate '%.20s' is not N:D", v);
            break;
        }
        case 'C':
            if (strlen(v) >= sizeof csbuf) return ferc_set_error(err, FERC_ERR_FORMAT, "colour space name too long");
            strcpy(csbuf, v);
            cs = csbuf;
            break;
        case 'X':
            if (!strcmp(v, "COLORRANGE=FULL")) y->full_range = 1;
            break;
        case 'I': case 'A': break;
        default:
            return ferc_set_error(err, FERC_ERR_FORMAT, "unknown header field '%.20s'", tok);
        }
    }
    if (!y->width || !y->height) return ferc_set_error(err, FERC_ERR_FORMAT, "header has no W (width) or H (height)");
    if ((int64_t)y->width * y->height > FERC_IMAGE_MAX_PIXELS)
        return ferc_set_error(err, FERC_ERR_FORMAT, "frames of %dx%d pixels are over the %lld-pixel limit", y->width,
                              y->height, (long long)FERC_IMAGE_MAX_PIXELS);
    if (!strncmp(cs, "420", 3) && (!cs[3] || !strcmp(cs + 3, "jpeg") || !strcmp(cs + 3, "paldv") || !strcmp(cs + 3, "mpeg2")))
        y->chroma = FERC_Y4M_420, y->cw = (y->width + 1) / 2, y->ch = (y->height + 1) / 2;
    else if (!strcmp(cs, "422"))
        y->chroma = FERC_Y4M_422, y->cw = (y->width + 1) / 2, y->ch = y->height;
    else if (!strcmp(cs, "444"))
        y->chroma = FERC_Y4M_444, y->cw = y->width, y->ch = y->height;
    else if (!strcmp(cs, "mono"))
        y->chroma = FERC_Y4M_MONO;
    else
        return ferc_set_error(err, FERC_ERR_UNSUPPORTED,
                              "colour space C%s is not supported (8-bit 420jpeg, 420paldv, 420mpeg2, 420, 422, 444, "
                              "mono; ffmpeg -pix_fmt yuv420p converts)", cs);
    y->frame_bytes = (size_t)y->width * y->height + 2 * (size_t)y->cw * y->ch;
    return FERC_OK;
}

ferc_status ferc_y4m_read(ferc_y4m *y, uint8_t *buf, int *eof, ferc_error *err)
{
    *eof = 0;
    char line[MAX_LINE + 1];
    size_t n;
    int r = read_line(y->f, line, &n);
    if (r == -1) {
        if (ferror(y->f)) return ferc_set_error(err, FERC_ERR_IO, "read error after frame %ld", y->frames);
        *eof = 1;
        return FERC_OK;
    }
    if (n < 5 || memcmp(line, "FRAME", 5) || (n > 5 && line[5] != ' ') || r == -2)
        return ferc_set_error(err, FERC_ERR_FORMAT, "frame %ld: expected a FRAME line (corrupt stream or wrong size?)",
                              y->frames + 1);
    size_t got = fread(buf, 1, y->frame_bytes, y->f);
    if (got != y->frame_bytes)
        return ferc_set_error(err, ferror(y->f) ? FERC_ERR_IO : FERC_ERR_FORMAT,
                              "frame %ld truncated: %zu of %zu bytes", y->frames + 1, got, y->frame_bytes);
    y->frames++;
    return FERC_OK;
}

int ferc_y4m_channels(const ferc_y4m *y) { return y->chroma == FERC_Y4M_MONO ? 1 : 3; }

void ferc_y4m_to_image(const ferc_y4m *y, const uint8_t *buf, ferc_image *img)
{
    const int w = y->width, h = y->height;
    img->width = w, img->height = h, img->channels = ferc_y4m_channels(y);
    /* BT.601 in 20-bit fixed point. Limited range uses OpenCV's constants (cvtColor
     * YUV2RGB_I420: luma (Y-16)*255/219, chroma scaled by 255/224), so frames match what
     * OpenCV decodes; full range (XCOLORRANGE=FULL) uses the JPEG equations. */
    const int full = y->full_range, y0 = full ? 0 : 16, half = 1 << 19;
    const int cy = full ? 1 << 20 : 1220542, cvr = full ? 1470104 : 1673527, cvg = full ? -748830 : -852492,
              cug = full ? -360857 : -409993, cub = full ? 1858077 : 2116026;
    if (img->channels == 1) {
        for (size_t i = 0; i < (size_t)w * h; i++) {
            int l = buf[i] - y0;
            img->data[i] = ferc_sat_u8(((l > 0 ? l : 0) * cy + half) >> 20);
        }
        return;
    }
    const uint8_t *U = buf + (size_t)w * h, *V = U + (size_t)y->cw * y->ch;
    const int sx = y->cw == w ? 0 : 1, sy = y->ch == h ? 0 : 1;
    for (int r = 0; r < h; r++) {
        const uint8_t *yr = buf + (size_t)r * w, *ur = U + (size_t)(r >> sy) * y->cw, *vr = V + (size_t)(r >> sy) * y->cw;
        uint8_t *o = img->data + (size_t)r * w * 3;
        for (int c = 0; c < w; c++, o += 3) {
            int l = yr[c] - y0, u = ur[c >> sx] - 128, v = vr[c >> sx] - 128;
            l = (l > 0 ? l : 0) * cy;
            o[0] = ferc_sat_u8((l + half + cvr * v) >> 20);
            o[1] = ferc_sat_u8((l + half + cvg * v + cug * u) >> 20);
            o[2] = ferc_sat_u8((l + half + cub * u) >> 20);
        }
    }
}
