/* fuzz_image.c - libFuzzer target for image decoding (ferc_image_load_memory: the size
 * checks, then stb_image), and, for images that decode, the gray conversion and a face
 * crop, which take whatever sizes the decoder returns. The first byte picks gray or RGB
 * output so both conversion paths are exercised. Headers claiming over 2^22 pixels are
 * only checked, not decoded: a 700-byte TGA can expand to the 2^26-pixel limit, which
 * takes over ten seconds under ASan and would stop the fuzzer on a timeout (ferc itself
 * decodes it in about a second; the pixel limit is tested in tests/test_cli.c). */
#include "ferc.h"
#include "detect/image/image.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 0x7fffffff) return 0;
    int w, h, c;
    if (ferc_stbi_info(data + 1, (int)(size - 1), &w, &h, &c) && (int64_t)w * h > ((int64_t)1 << 22)) return 0;
    ferc_image img, gray;
    ferc_error err;
    if (ferc_image_load_memory(data + 1, size - 1, data[0] & 1 ? 3 : 1, &img, &err) != FERC_OK) return 0;
    if (ferc_image_to_gray(&img, &gray, &err) == FERC_OK) {
        uint8_t face[48 * 48];
        ferc_box box = {.x = (float)img.width / 4, .y = (float)img.height / 4, .w = (float)img.width / 2 + 1,
                        .h = (float)img.height / 2 + 1, .score = 1};
        ferc_face_crop(&gray, &box, 48, 48, face, &err);
        free(gray.data);
    }
    ferc_image_free(&img);
    return 0;
}
