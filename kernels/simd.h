/* simd.h - a thin vector layer so one kernel body serves AVX2+FMA (8 lanes) and AVX-512
 * (16 lanes). Included only by *_avx2.c and *_avx512.c, which the Makefile compiles with
 * their ISA's flags; the compiler's own macros pick the width. Partial vectors (tails of
 * a channel loop) use masked loads and stores, so no kernel reads or writes past a row. */
#ifndef FERC_KERNELS_SIMD_H
#define FERC_KERNELS_SIMD_H

#include <immintrin.h>

#if defined(__AVX512F__)
#define VL 16
typedef __m512 vf;
typedef __mmask16 vmask;
#define FERC_SIMD(name) name##_avx512
static inline vmask vmask_n(int n) { return (vmask)((1u << n) - 1u); }
static inline vf vload(const float *p) { return _mm512_loadu_ps(p); }
static inline vf vload_n(const float *p, int n) { return _mm512_maskz_loadu_ps(vmask_n(n), p); }
static inline void vstore(float *p, vf v) { _mm512_storeu_ps(p, v); }
static inline void vstore_n(float *p, vf v, int n) { _mm512_mask_storeu_ps(p, vmask_n(n), v); }
static inline vf vset1(float a) { return _mm512_set1_ps(a); }
static inline vf vzero(void) { return _mm512_setzero_ps(); }
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
/* max(a, b) = a > b ? a : b, as the x86 instruction: b when either is NaN */
static inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }
/* lanes of a that are NaN replace those of m */
static inline vf vtake_nan(vf m, vf a) { return _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a); }
/* a >= 0 ? a : a * s (lane-exact LeakyReLU) */
static inline vf vleaky(vf a, vf s)
{
    return _mm512_mask_mul_ps(a, _mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_NGE_UQ), a, s);
}
static inline float vsum(vf a) /* sum of the lanes */
{
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    const __m128 e = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(e, _mm_movehdup_ps(e)));
}
#elif defined(__AVX2__)
#define VL 8
typedef __m256 vf;
#define FERC_SIMD(name) name##_avx2
static inline __m256i vmask_n(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline vf vload(const float *p) { return _mm256_loadu_ps(p); }
static inline vf vload_n(const float *p, int n) { return _mm256_maskload_ps(p, vmask_n(n)); }
static inline void vstore(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline void vstore_n(float *p, vf v, int n) { _mm256_maskstore_ps(p, vmask_n(n), v); }
static inline vf vset1(float a) { return _mm256_set1_ps(a); }
static inline vf vzero(void) { return _mm256_setzero_ps(); }
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf vtake_nan(vf m, vf a) { return _mm256_blendv_ps(m, a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q)); }
static inline vf vleaky(vf a, vf s)
{
    return _mm256_blendv_ps(a, _mm256_mul_ps(a, s), _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_NGE_UQ));
}
static inline float vsum(vf a) /* sum of the lanes */
{
    const __m128 q = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 e = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(e, _mm_movehdup_ps(e)));
}
#else
#error "simd.h needs AVX2 or AVX-512 flags (see the Makefile)"
#endif

/* The fused activation on a vector, lane for lane the same as ferc_act1():
 * relu: v > 0 ? v : 0 (NaN -> 0), relu6: then min 6, leaky: v >= 0 ? v : v * alpha. */
static inline vf vact(vf v, int act, vf alpha)
{
    switch (act) {
    case 1: return vmax(v, vzero());
    case 2: return vmin(vmax(v, vzero()), vset1(6.f));
    case 3: return vleaky(v, alpha);
    default: return v;
    }
}

#endif
