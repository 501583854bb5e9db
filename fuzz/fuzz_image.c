/* fuzz_image.c - libFuzzer target for image decoding (ferc_image_load_memory: the size
 * checks, then stb_image), and, for images that decode, the gray conversion and a face
 * crop, which take whatever sizes the decoder returns. The first byte picks gray or RGB
 * output so both conversion paths are exercised. */
#include "ferc.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    ferc_image img, gray;
    ferc_error err;
    if (ferc_image_load_memory(data + 1, size - 1, data[0] & 1 ? 3 : 1, &img, &err) != FERC_OK) return 0;
    if (ferc_image_to_gray(&img, &gray, &err) == FERC_OK) {
        uint8_t face[48 * 48];
        ferc_box box = {(float)img.width / 4, (float)img.height / 4, (float)img.width / 2 + 1, (float)img.height / 2 + 1, 1};
        ferc_face_crop(&gray, &box, 48, 48, face, &err);
        free(gray.data);
    }
    ferc_image_free(&img);
    return 0;
}
