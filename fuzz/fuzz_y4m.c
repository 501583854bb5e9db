/* fuzz_y4m.c - libFuzzer target for the YUV4MPEG2 reader: header parsing, FRAME lines,
 * truncation, and the YUV to RGB/gray conversion of every frame that reads whole. */
#include "ferc.h"
#include "detect/image/y4m.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) return 0;
    ferc_y4m y;
    ferc_error err;
    /* Frames the header allows can be 100 MB; a truncated stream fails on the first read
     * anyway, so buffers are capped at the input's size plus a little. */
    if (ferc_y4m_open(f, &y, &err) == FERC_OK && y.frame_bytes <= size + 4096) {
        uint8_t *buf = malloc(y.frame_bytes);
        ferc_image img = {0, 0, 0, malloc((size_t)y.width * y.height * 3)};
        int eof = 0;
        while (buf && img.data && ferc_y4m_read(&y, buf, &eof, &err) == FERC_OK && !eof)
            ferc_y4m_to_image(&y, buf, &img);
        free(buf);
        free(img.data);
    }
    fclose(f);
    return 0;
}
