/* fuzz_model.c - libFuzzer target for the weight-file loader (make fuzz).
 * Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION so the CRC check does not stop the
 * fuzzer at the door; everything behind it (index parsing, graph checks, op prepare, shape
 * inference) is exercised. A model that loads is also planned and run once at batch 1, so
 * the planner and kernels see whatever shapes the fuzzer invents. */
#include "ferc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ferc_model *m;
    ferc_error err;
    if (ferc_model_load_memory(data, size, &m, &err) != FERC_OK) return 0;
    ferc_context *c;
    ferc_context_options opt = {.max_batch = 1, .threads = 1};
    /* Skip runs whose arena would be large: the fuzzer is after bugs, not RAM. */
    if (ferc_model_num_inputs(m) > 0 && ferc_context_create(m, &opt, &c, &err) == FERC_OK) {
        if (ferc_context_memory(c) < ((size_t)64 << 20)) {
            const float *in[64];
            float *bufs[64] = {0};
            int n = ferc_model_num_inputs(m), ok = n <= 64;
            for (int i = 0; ok && i < n; i++) {
                int nd;
                int64_t dims[4], count = 1;
                ferc_model_input_shape(m, i, &nd, dims);
                for (int d = 0; d < nd; d++) count *= dims[d];
                bufs[i] = calloc((size_t)count, sizeof(float));
                in[i] = bufs[i];
                ok = bufs[i] != NULL;
            }
            if (ok) ferc_run(c, in, 1, &err);
            for (int i = 0; i < n && i < 64; i++) free(bufs[i]);
        }
        ferc_context_free(c);
    }
    ferc_model_free(m);
    return 0;
}
