/* pointwise_simd.h - the body of the AVX2 and AVX-512 unary, PReLU and broadcasting binary
 * kernels (pointwise_avx2.c and pointwise_avx512.c include it under their own flags).
 * Hard sigmoid, hard swish, clip, PReLU and binary do the scalar reference's operations in
 * its order (no FMA), so they give its bits; sigmoid uses a polynomial exp and agrees with
 * the reference's expf within a few ulp (1e-6 relative, tests/test_kernels_import.c); tanh
 * runs the reference. */
#include "kernels/kernels.h"
#include "kernels/simd.h"

#include "kernels/threads.h"

#if defined(__AVX512F__)
static inline vf vround(vf x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* p * 2^n for integral n in [-126, 127] */
static inline vf vscale2(vf p, vf n)
{
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}
#else
static inline vf vround(vf x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vf vscale2(vf p, vf n)
{
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}
#endif

#define PW_MIN_PARALLEL 32768

static inline int pw_threads(size_t count, int threads) { return count < PW_MIN_PARALLEL || threads < 1 ? 1 : threads; }

/* e^x for x in [-87.3, 88] (clamped there, so 2^n stays a normal float) (clamped there): x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6
 * polynomial (Cephes expf's coefficients), times 2^n built in the exponent bits. */
static inline vf vexp(vf x)
{
    x = vmin(vmax(x, vset1(-87.3f)), vset1(88.f));
    const vf n = vround(vmul(x, vset1(1.44269504088896341f)));
    vf r = vsub(x, vmul(n, vset1(0.693359375f)));
    r = vsub(r, vmul(n, vset1(-2.12194440e-4f)));
    vf p = vset1(1.9875691500e-4f);
    p = vfma(p, r, vset1(1.3981999507e-3f));
    p = vfma(p, r, vset1(8.3334519073e-3f));
    p = vfma(p, r, vset1(4.1665795894e-2f));
    p = vfma(p, r, vset1(1.6666665459e-1f));
    p = vfma(p, r, vset1(5.0000001201e-1f));
    p = vfma(vmul(p, r), r, vadd(r, vset1(1.f)));
    return vscale2(p, n);
}

static inline vf unary_v(vf v, int fn, vf p0, vf p1)
{
    const vf zero = vzero(), one = vset1(1.f);
    switch (fn) {
    case FERC_UN_SIGMOID: return vtake_nan(vdiv(one, vadd(one, vexp(vsub(zero, v)))), v);
    /* max(t, 0) is 0 for NaN as the reference's t > 0 test */
    case FERC_UN_HARD_SIGMOID: return vmin(vmax(vadd(vmul(p0, v), p1), zero), one);
    case FERC_UN_HARD_SWISH: return vmul(v, vmin(vmax(vadd(vmul(v, vset1(1.f / 6.f)), vset1(0.5f)), zero), one));
    default: return vtake_nan(vmin(vmax(v, p0), p1), v); /* FERC_UN_CLIP */
    }
}

void FERC_SIMD(ferc_unary)(size_t count, int fn, float p0, float p1, const float *x, float *y, int threads)
{
    if (fn == FERC_UN_TANH) {
        ferc_unary_scalar(count, fn, p0, p1, x, y, threads);
        return;
    }
    const size_t blocks = (count + VL - 1) / VL;
#pragma omp parallel num_threads(pw_threads(count, threads))
    {
        const int tid = ferc_thread_id(), nth = ferc_thread_count();
        const vf a = vset1(p0), b = vset1(p1);
        for (size_t i = blocks * tid / nth * VL; i < blocks * (tid + 1) / nth * VL; i += VL) {
            const int n = count - i < VL ? (int)(count - i) : VL;
            if (n == VL) vstore(y + i, unary_v(vload(x + i), fn, a, b));
            else vstore_n(y + i, unary_v(vload_n(x + i, n), fn, a, b), n);
        }
    }
}

void FERC_SIMD(ferc_prelu)(size_t count, int c, const float *x, const float *slope, float *y, int threads)
{
    const size_t pixels = count / (size_t)c;
#pragma omp parallel num_threads(pw_threads(count, threads))
    {
        const int tid = ferc_thread_id(), nth = ferc_thread_count();
        for (size_t p = pixels * tid / nth; p < pixels * (tid + 1) / nth; p++)
            for (int c0 = 0; c0 < c; c0 += VL) {
                const int n = c - c0 < VL ? c - c0 : VL;
                const vf v = n == VL ? vload(x + p * c + c0) : vload_n(x + p * c + c0, n);
                const vf s = n == VL ? vload(slope + c0) : vload_n(slope + c0, n);
                const vf r = vleaky(v, s);
                if (n == VL) vstore(y + p * c + c0, r);
                else vstore_n(y + p * c + c0, r, n);
            }
    }
}

static inline vf binary_v(vf a, vf b, int op)
{
    switch (op) {
    case FERC_BIN_SUB: return vsub(a, b);
    case FERC_BIN_MUL: return vmul(a, b);
    case FERC_BIN_DIV: return vdiv(a, b);
    default: return vadd(a, b);
    }
}

/* One output row of the last dim: a and b either run along it (step 1) or repeat one value
 * (step 0). */
static inline void binary_row(int len, const float *a, int sa, const float *b, int sb, float *y, int op)
{
    int i = 0;
    const vf ab = vset1(a[0]), bb = vset1(b[0]);
    for (; i + VL <= len; i += VL)
        vstore(y + i, binary_v(sa ? vload(a + i) : ab, sb ? vload(b + i) : bb, op));
    if (i < len) {
        const int n = len - i;
        vstore_n(y + i, binary_v(sa ? vload_n(a + i, n) : ab, sb ? vload_n(b + i, n) : bb, op), n);
    }
}

void FERC_SIMD(ferc_binary)(const ferc_binary_desc *d, const float *a, const float *b, float *y, int threads)
{
    const int rows = d->y[0] * d->y[1] * d->y[2], len = d->y[3];
    const int sa = d->a[3] > 1 || len == 1, sb = d->b[3] > 1 || len == 1;
#pragma omp parallel num_threads(pw_threads((size_t)rows * len, threads))
    {
        const int tid = ferc_thread_id(), nth = ferc_thread_count();
        for (int r = (int)((long)rows * tid / nth); r < (int)((long)rows * (tid + 1) / nth); r++) {
            const int w = r % d->y[2], h = r / d->y[2] % d->y[1], n = r / (d->y[2] * d->y[1]);
#define ROW(D) ((((size_t)(D[0] > 1 ? n : 0) * D[1] + (D[1] > 1 ? h : 0)) * D[2] + (D[2] > 1 ? w : 0)) * D[3])
            binary_row(len, a + ROW(d->a), sa, b + ROW(d->b), sb, y + (size_t)r * len, d->op);
#undef ROW
        }
    }
}
