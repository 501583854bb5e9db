/* eltwise_simd.h - the body of the AVX2 and AVX-512 element-wise kernels (eltwise_avx2.c
 * and eltwise_avx512.c include it under their own flags). The same operations as the scalar
 * reference (a multiply, then an add: no FMA), so results are bitwise equal to it. */
#include "kernels/kernels.h"
#include "kernels/simd.h"

#include "kernels/threads.h"

/* Below this many elements a parallel region costs more than it saves. */
#define ELT_MIN_PARALLEL 32768

static inline int elt_threads(size_t count, int threads) { return count < ELT_MIN_PARALLEL || threads < 1 ? 1 : threads; }

/* count = pixels * c; threads take contiguous ranges of pixels, vectors run along c. */
void FERC_SIMD(ferc_affine)(size_t count, int c, const float *x, const float *scale, const float *shift, float *y,
                            int act, float alpha, int threads)
{
    const size_t pixels = count / (size_t)c;
#pragma omp parallel num_threads(elt_threads(count, threads))
    {
        const int tid = ferc_thread_id(), nth = ferc_thread_count();
        const vf al = vset1(alpha);
        for (size_t p = pixels * tid / nth; p < pixels * (tid + 1) / nth; p++) {
            const float *xp = x + p * c;
            float *yp = y + p * c;
            for (int c0 = 0; c0 < c; c0 += VL) {
                const int n = c - c0 < VL ? c - c0 : VL;
                vf v = n == VL ? vload(xp + c0) : vload_n(xp + c0, n);
                if (scale) v = vmul(v, n == VL ? vload(scale + c0) : vload_n(scale + c0, n));
                if (shift) v = vadd(v, n == VL ? vload(shift + c0) : vload_n(shift + c0, n));
                v = vact(v, act, al);
                if (n == VL) vstore(yp + c0, v);
                else vstore_n(yp + c0, v, n);
            }
        }
    }
}

void FERC_SIMD(ferc_add)(size_t count, const float *a, const float *b, float *y, int act, float alpha, int threads)
{
    const size_t blocks = (count + VL - 1) / VL;
#pragma omp parallel num_threads(elt_threads(count, threads))
    {
        const int tid = ferc_thread_id(), nth = ferc_thread_count();
        const vf al = vset1(alpha);
        for (size_t i = blocks * tid / nth * VL; i < blocks * (tid + 1) / nth * VL; i += VL) {
            const int n = count - i < VL ? (int)(count - i) : VL;
            if (n == VL) vstore(y + i, vact(vadd(vload(a + i), vload(b + i)), act, al));
            else vstore_n(y + i, vact(vadd(vload_n(a + i, n), vload_n(b + i, n)), act, al), n);
        }
    }
}
