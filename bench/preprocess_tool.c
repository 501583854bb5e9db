/* preprocess_tool - applies one of ferc's preprocessing calls to an image and writes the raw
 * 8-bit result (rows, channels interleaved). Used by bench/compare_preprocess.py.
 *
 *   preprocess_tool IMAGE CHANNELS gray|linear|area WIDTH HEIGHT OUT.raw */
#include "ferc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s IMAGE CHANNELS gray|linear|area WIDTH HEIGHT OUT.raw\n", argv[0]);
        return 2;
    }
    ferc_error err;
    ferc_image img, out;
    if (ferc_image_load(argv[1], atoi(argv[2]), &img, &err)) {
        fprintf(stderr, "preprocess_tool: %s\n", err.message);
        return 1;
    }
    ferc_status s;
    if (!strcmp(argv[3], "gray")) s = ferc_image_to_gray(&img, &out, &err);
    else
        s = ferc_image_resize(&img, atoi(argv[4]), atoi(argv[5]),
                              !strcmp(argv[3], "area") ? FERC_RESIZE_AREA : FERC_RESIZE_LINEAR, &out, &err);
    if (s) {
        fprintf(stderr, "preprocess_tool: %s\n", err.message);
        return 1;
    }
    FILE *f = fopen(argv[6], "wb");
    size_t n = (size_t)out.width * out.height * out.channels;
    if (!f || fwrite(out.data, 1, n, f) != n) {
        fprintf(stderr, "preprocess_tool: cannot write %s\n", argv[6]);
        return 1;
    }
    fclose(f);
    ferc_image_free(&out);
    ferc_image_free(&img);
    return 0;
}
