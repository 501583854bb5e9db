/* fuzz_cascade_xml.c - libFuzzer target for the cascade XML reader and loader
 * (detect/cascade_xml.c, detect/cascade_load.c): any input must either load or fail with a
 * message, without crashing, hanging or reading out of bounds. A cascade that loads is also
 * run on a small synthetic image, so that everything the loader accepted is safe for the
 * detector to index. Built and run by `make fuzz` (fuzz/run.sh) against a clang
 * ASan/UBSan build of libferc, seeded from fuzz/corpus/cascade_xml/. */
#include "ferc.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ferc_cascade *c = NULL;
    ferc_error err;
    if (ferc_cascade_load_memory(data, size, &c, &err) != FERC_OK) {
        if (!memchr(err.message, '\0', sizeof err.message) || !err.message[0]) __builtin_trap();
        return 0;
    }
    int w, h;
    ferc_cascade_window(c, &w, &h);
    if (w <= 64 && h <= 64) {
        static uint8_t img[80 * 72];
        for (size_t i = 0; i < sizeof img; i++) img[i] = (uint8_t)(i * 7 + (i / 80) * 13);
        ferc_detect_params p;
        ferc_detect_params_default(&p);
        p.threads = 1;
        p.min_neighbors = 0;
        ferc_box boxes[16];
        int n;
        ferc_cascade_detect(c, img, 80, 72, 80, &p, boxes, 16, &n, &err);
    }
    ferc_cascade_free(c);
    return 0;
}
