/* dense_scalar.c - reference fully connected layer (PyTorch's Linear): y = act(x W^T + b). */
#include "kernels/kernels.h"

void ferc_dense_scalar(int n, int in, int out, const float *x, const float *w, const float *b, float *y,
                       int act, float alpha, int threads)
{
    (void)threads;
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            float acc = b ? b[o] : 0.f;
            for (int k = 0; k < in; k++) acc += x[(size_t)i * in + k] * w[(size_t)o * in + k];
            y[(size_t)i * out + o] = ferc_act1(acc, act, alpha);
        }
}
