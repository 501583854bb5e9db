/* dense_simd.h - the body of the AVX2 and AVX-512 dense layers (dense_avx2.c and
 * dense_avx512.c include it under their own flags). A dense layer is a 1x1 convolution over
 * a batch of 1x1 images, so it shares the convolution's weight packing and micro-kernel. */
#include "kernels/kernels.h"
#include "kernels/simd.h"

static ferc_conv2d_desc dense_desc(int n, int in, int out, int act, float alpha)
{
    ferc_conv2d_desc d = {n, 1, 1, in, 1, 1, out, 1, 1, 1, 1, 0, 0, 1, 1, 1, act, alpha, 0};
    return d;
}

size_t FERC_SIMD(ferc_dense_packed_size)(int in, int out)
{
    ferc_conv2d_desc d = dense_desc(1, in, out, 0, 0.f);
    return FERC_SIMD(ferc_conv2d_packed_size)(&d);
}

void FERC_SIMD(ferc_dense_pack)(int in, int out, const float *w, float *packed)
{
    ferc_conv2d_desc d = dense_desc(1, in, out, 0, 0.f);
    FERC_SIMD(ferc_conv2d_pack)(&d, w, packed);
}

void FERC_SIMD(ferc_dense)(int n, int in, int out, const float *x, const float *w, const float *b, float *y, int act,
                           float alpha, int threads)
{
    ferc_conv2d_desc d = dense_desc(n, in, out, act, alpha);
    FERC_SIMD(ferc_conv2d)(&d, x, w, b, y, NULL, threads);
}
