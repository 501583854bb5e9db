/* y4m.h - a YUV4MPEG2 (Y4M) reader: the uncompressed stream `ffmpeg -f yuv4mpegpipe`
 * writes, so any video reaches ferc through a pipe. */
#ifndef FERC_DETECT_IMAGE_Y4M_H
#define FERC_DETECT_IMAGE_Y4M_H

#include "ferc.h"

#include <stdio.h>

enum { FERC_Y4M_MONO = 0, FERC_Y4M_420 = 1, FERC_Y4M_422 = 2, FERC_Y4M_444 = 3 };

typedef struct {
    FILE *f;
    int width, height;
    int chroma;             /* FERC_Y4M_* */
    int full_range;         /* XCOLORRANGE=FULL: luma 0-255 rather than 16-235 */
    int fps_num, fps_den;   /* 0/0 when the header gives no rate */
    int cw, ch;             /* chroma plane size (0 for mono) */
    size_t frame_bytes;     /* Y + U + V */
    long frames;            /* frames read so far */
} ferc_y4m;

/* Reads and checks the stream header. Sizes are limited to 16384 a side and
 * FERC_IMAGE_MAX_PIXELS in all, checked before anything is allocated. */
ferc_status ferc_y4m_open(FILE *f, ferc_y4m *y, ferc_error *err);
/* Reads the next frame's planes into buf (frame_bytes). *eof = 1 at a clean end of stream
 * (no partial frame); a truncated frame or a bad FRAME line is an error. */
ferc_status ferc_y4m_read(ferc_y4m *y, uint8_t *buf, int *eof, ferc_error *err);
/* A frame's planes as an image: gray (the luma, range-expanded) for mono streams, else RGB
 * by BT.601 with each chroma sample covering its block. img->data must hold w*h*channels;
 * channels is 1 for mono, 3 otherwise. */
void ferc_y4m_to_image(const ferc_y4m *y, const uint8_t *buf, ferc_image *img);
int ferc_y4m_channels(const ferc_y4m *y);

#endif
