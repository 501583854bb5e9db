/* dispatch.c - picks the kernel table for this CPU at run time (cpuid), or the one named by
 * FERC_ISA=scalar|avx2|avx512 (or openblas, in a build made with OPENBLAS=1; avxvnni and
 * avx512vnni name int8 paths, kernels/q8.h, and take avx2 and avx512 here). The choice is
 * made once per call site and is cheap: the environment and cpuid are read each time, which
 * keeps this free of global state. */
#include "kernels/kernels.h"
#include "ferc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The scalar conv reads the stored weights and needs no workspace. */
static void conv2d_scalar(const ferc_conv2d_desc *d, const float *x, const float *w, const float *b, float *y,
                          void *scratch, int threads)
{
    (void)scratch;
    ferc_conv2d_scalar(d, x, w, b, y, threads);
}

/* Entries left out are NULL: no packing, no workspace, no Winograd. */
static const ferc_kernel_table scalar_table = {
    .conv2d = conv2d_scalar,
    .conv2d_pw_dw_ok = ferc_conv2d_pw_dw_shape,
    .conv2d_chain_head_ok = ferc_conv2d_chain_head_shape,
    .conv2d_pw_dw_scratch = ferc_conv2d_pw_dw_scratch_scalar,
    .conv2d_pw_dw = ferc_conv2d_pw_dw_scalar,
    .dense = ferc_dense_scalar,
    .maxpool = ferc_maxpool_scalar,
    .avgpool = ferc_avgpool_scalar,
    .global_avgpool = ferc_global_avgpool_scalar,
    .affine = ferc_affine_scalar,
    .add = ferc_add_scalar,
    .softmax = ferc_softmax_scalar,
    .unary = ferc_unary_scalar,
    .prelu = ferc_prelu_scalar,
    .binary = ferc_binary_scalar,
    .resize = ferc_resize_scalar,
    .global_maxpool = ferc_global_maxpool_scalar,
    .isa = "scalar",
};

#define SIMD_TABLE(X)                                       \
    {                                                       \
        .conv2d_packed_size = ferc_conv2d_packed_size_##X,  \
        .conv2d_pack = ferc_conv2d_pack_##X,                \
        .conv2d_scratch = ferc_conv2d_scratch_##X,          \
        .conv2d = ferc_conv2d_##X,                          \
        .conv2d_winograd = ferc_conv2d_winograd_##X,        \
        .conv2d_pw_dw_ok = ferc_conv2d_pw_dw_ok_##X,        \
        .conv2d_chain_head_ok = ferc_conv2d_chain_head_ok_##X, \
        .conv2d_pw_dw_scratch = ferc_conv2d_pw_dw_scratch_##X, \
        .conv2d_pw_dw = ferc_conv2d_pw_dw_##X,              \
        .dense_packed_size = ferc_dense_packed_size_##X,    \
        .dense_pack = ferc_dense_pack_##X,                  \
        .dense = ferc_dense_##X,                            \
        .maxpool = ferc_maxpool_##X,                        \
        .avgpool = ferc_avgpool_##X,                        \
        .global_avgpool = ferc_global_avgpool_##X,          \
        .affine = ferc_affine_##X,                          \
        .add = ferc_add_##X,                                \
        .softmax = ferc_softmax_scalar,                     \
        .unary = ferc_unary_##X,                            \
        .prelu = ferc_prelu_##X,                            \
        .binary = ferc_binary_##X,                          \
        .resize = ferc_resize_scalar,                       \
        .global_maxpool = ferc_global_maxpool_scalar,       \
        .isa = #X,                                          \
        .conv2d_path = ferc_conv2d_path_##X,                \
    }

#ifdef FERC_WITH_OPENBLAS
static const char *im2col_path(const ferc_conv2d_desc *d) { (void)d; return "im2col-sgemm"; }
/* Comparison backend (make OPENBLAS=1): convolutions and dense layers by im2col + sgemm, the
 * rest from the AVX2 kernels. */
static const ferc_kernel_table openblas_table = {
    .conv2d_scratch = ferc_conv2d_scratch_openblas,
    .conv2d = ferc_conv2d_openblas,
    .dense = ferc_dense_openblas,
    .maxpool = ferc_maxpool_avx2,
    .avgpool = ferc_avgpool_avx2,
    .global_avgpool = ferc_global_avgpool_avx2,
    .affine = ferc_affine_avx2,
    .add = ferc_add_avx2,
    .softmax = ferc_softmax_scalar,
    .unary = ferc_unary_avx2,
    .prelu = ferc_prelu_avx2,
    .binary = ferc_binary_avx2,
    .resize = ferc_resize_scalar,
    .global_maxpool = ferc_global_maxpool_scalar,
    .isa = "openblas",
    .conv2d_path = im2col_path,
};
#endif

#if defined(__x86_64__) || defined(__i386__)
static const ferc_kernel_table avx2_table = SIMD_TABLE(avx2);
static const ferc_kernel_table avx512_table = SIMD_TABLE(avx512);

/* __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV). */
static int has_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
static int has_avx512(void)
{
    return has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
#endif

const ferc_kernel_table *ferc_kernels_for(const char *isa)
{
    if (!strcmp(isa, "scalar")) return &scalar_table;
#if defined(__x86_64__) || defined(__i386__)
    if (!strcmp(isa, "avx2") && has_avx2()) return &avx2_table;
    if (!strcmp(isa, "avx512") && has_avx512()) return &avx512_table;
#ifdef FERC_WITH_OPENBLAS
    if (!strcmp(isa, "openblas") && has_avx2()) return &openblas_table;
#endif
#endif
    return NULL;
}

const ferc_kernel_table *ferc_kernels(void)
{
    const char *want = getenv("FERC_ISA");
    /* The int8 paths' names (kernels/q8.h) choose the float kernels of the same width. */
    if (want && !strcmp(want, "avxvnni")) want = "avx2";
    if (want && !strcmp(want, "avx512vnni")) want = "avx512";
    if (want && *want) {
        const ferc_kernel_table *t = ferc_kernels_for(want);
        if (t) return t;
        fprintf(stderr, "ferc: FERC_ISA=%s is unknown or not supported by this CPU; using the best it has\n", want);
    }
    static const char *const best_first[] = {"avx512", "avx2", "scalar"};
    for (size_t i = 0; i < sizeof best_first / sizeof *best_first; i++) {
        const ferc_kernel_table *t = ferc_kernels_for(best_first[i]);
        if (t) return t;
    }
    return &scalar_table;
}

const char *ferc_isa_name(void) { return ferc_kernels()->isa; }
