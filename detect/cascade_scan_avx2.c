/* cascade_scan_avx2.c - eight neighbouring windows of a row at once (AVX2).
 *
 * Same arithmetic as cascade_scan.c lane by lane (integer box sums, float features with
 * separate multiplies and adds - this file is built without FP contraction, as -std=c11
 * implies - and double stage sums in the same order), so the decisions are identical. The
 * first stage runs on all eight windows; OpenCV's rule that a first-stage rejection skips the
 * next window is then applied in order, and the later stages run while any visited window of
 * the group survives. */
#include "detect/cascade_scan.h"

#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>

static inline __m256i box8(const int32_t *p, const int *o)
{
    __m256i a = _mm256_loadu_si256((const __m256i *)(p + o[0])), b = _mm256_loadu_si256((const __m256i *)(p + o[1]));
    __m256i c = _mm256_loadu_si256((const __m256i *)(p + o[2])), d = _mm256_loadu_si256((const __m256i *)(p + o[3]));
    return _mm256_add_epi32(_mm256_sub_epi32(_mm256_sub_epi32(a, b), c), d);
}

static inline __attribute__((always_inline)) __m256 haar8(const ferc_haar_opt *f, const int32_t *p, const int32_t *t, __m256 vnf)
{
    const int32_t *b = f->tilted ? t : p;
    __m256 r = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(f->weight[0]), _mm256_cvtepi32_ps(box8(b, f->ofs[0]))),
                             _mm256_mul_ps(_mm256_set1_ps(f->weight[1]), _mm256_cvtepi32_ps(box8(b, f->ofs[1]))));
    if (f->weight[2] != 0.0f)
        r = _mm256_add_ps(r, _mm256_mul_ps(_mm256_set1_ps(f->weight[2]), _mm256_cvtepi32_ps(box8(b, f->ofs[2]))));
    return _mm256_mul_ps(r, vnf);
}

/* The LBP code of 8 windows, in the order in_subset8 takes: the word index (code bits 7-5)
 * in bits 2-0 and 31 minus the bit index (code bits 4-0, inverted) in bits 7-3. */
static inline __attribute__((always_inline)) __m256i lbp8(const ferc_lbp_opt *f, const int32_t *p)
{
    __m256i v[16], d[12];
#pragma GCC unroll 16
    for (int k = 0; k < 16; k++) v[k] = _mm256_loadu_si256((const __m256i *)(p + f->ofs[k]));
    /* column strips of the 3 block rows, then blocks as differences of neighbouring strips
     * (the same sums as corner by corner: integer arithmetic modulo 2^32) */
#pragma GCC unroll 12
    for (int k = 0; k < 12; k++) d[k] = _mm256_sub_epi32(v[k], v[k + 4]);
#define B(j, k) _mm256_sub_epi32(d[(j) * 4 + (k)], d[(j) * 4 + (k) + 1])
    const __m256i cv = B(1, 1);
    /* cmpgt(cv, block) is all ones where the code bit is clear */
#define SET(j, k, b) _mm256_andnot_si256(_mm256_cmpgt_epi32(cv, B(j, k)), _mm256_set1_epi32(b))
#define CLR(j, k, b) _mm256_and_si256(_mm256_cmpgt_epi32(cv, B(j, k)), _mm256_set1_epi32(b))
    __m256i code = _mm256_or_si256(SET(0, 0, 4), SET(0, 1, 2));               /* code bits 7, 6 */
    code = _mm256_or_si256(code, SET(0, 2, 1));                                /* 5 */
    code = _mm256_or_si256(code, CLR(1, 2, 128));                              /* 4 */
    code = _mm256_or_si256(code, CLR(2, 2, 64));                               /* 3 */
    code = _mm256_or_si256(code, CLR(2, 1, 32));                               /* 2 */
    code = _mm256_or_si256(code, CLR(2, 0, 16));                               /* 1 */
    code = _mm256_or_si256(code, CLR(1, 0, 8));                                /* 0 */
#undef SET
#undef CLR
#undef B
    return code;
}

/* all-ones sign bit in the lanes whose code is in the node's 256-bit subset: the word is
 * picked by a lane permute (which reads index bits 2-0), and the bit shifted to the top. */
static inline __m256i in_subset8(const int32_t *subset, __m256i code)
{
    __m256i word = _mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)subset), code);
    return _mm256_sllv_epi32(word, _mm256_srli_epi32(code, 3));
}

/* double accumulators for 8 lanes */
typedef struct {
    __m256d lo, hi;
} acc8;

static inline void acc_add(acc8 *a, __m256 v)
{
    a->lo = _mm256_add_pd(a->lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    a->hi = _mm256_add_pd(a->hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

static inline int acc_pass(const acc8 *a, float threshold)
{
    __m256d t = _mm256_set1_pd((double)threshold);
    return _mm256_movemask_pd(_mm256_cmp_pd(a->lo, t, _CMP_NLT_UQ)) |
           (_mm256_movemask_pd(_mm256_cmp_pd(a->hi, t, _CMP_NLT_UQ)) << 4);
}

/* Lanes (bit mask) that pass stage si. */
static int stage8(const ferc_scan_row *r, int si, const int32_t *p, const int32_t *t, __m256 vnf)
{
    const ferc_cascade *c = r->c;
    const ferc_scan_layout *l = r->layout;
    const ferc_cascade_stage *st = &c->stages[si];
    acc8 a = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    if (c->max_nodes_per_tree == 1) {
        const int first = c->trees[st->first_tree].first_node;
        const ferc_cascade_stump *sp = c->stumps + first;
        if (c->type == FERC_CASCADE_HAAR) {
            for (int i = 0; i < st->n_trees; i++, sp++) {
                __m256 lt = _mm256_cmp_ps(haar8(&l->haar[sp->feature], p, t, vnf), _mm256_set1_ps(sp->threshold),
                                          _CMP_LT_OQ);
                acc_add(&a, _mm256_blendv_ps(_mm256_set1_ps(sp->right), _mm256_set1_ps(sp->left), lt));
            }
        } else {
            const int32_t *subset = c->subsets + (size_t)first * c->subset_size;
            for (int i = 0; i < st->n_trees; i++, sp++, subset += c->subset_size) {
                __m256i in = in_subset8(subset, lbp8(&l->lbp[sp->feature], p));
                acc_add(&a, _mm256_blendv_ps(_mm256_set1_ps(sp->right), _mm256_set1_ps(sp->left), _mm256_castsi256_ps(in)));
            }
        }
        return acc_pass(&a, st->threshold);
    }
    for (int w = 0; w < st->n_trees; w++) {
        const ferc_cascade_tree *tr = &c->trees[st->first_tree + w];
        /* Children always come after their parent (checked at load), so visiting the nodes in
         * order moves every lane from the root down to its leaf. */
        __m256i idx = _mm256_setzero_si256();
        for (int k = 0; k < tr->n_nodes; k++) {
            __m256i at = _mm256_cmpeq_epi32(idx, _mm256_set1_epi32(k));
            if (_mm256_testz_si256(at, at)) continue;
            const ferc_cascade_node *nd = &c->nodes[tr->first_node + k];
            __m256 go_left; /* sign bit set: left */
            if (c->type == FERC_CASCADE_HAAR)
                go_left = _mm256_cmp_ps(haar8(&l->haar[nd->feature], p, t, vnf), _mm256_set1_ps(nd->threshold), _CMP_LT_OQ);
            else
                go_left = _mm256_castsi256_ps(in_subset8(c->subsets + (size_t)(tr->first_node + k) * c->subset_size,
                                                         lbp8(&l->lbp[nd->feature], p)));
            __m256i next = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(_mm256_set1_epi32(nd->right)),
                                                                _mm256_castsi256_ps(_mm256_set1_epi32(nd->left)), go_left));
            idx = _mm256_blendv_epi8(idx, next, at);
        }
        const __m256i li = _mm256_sub_epi32(_mm256_setzero_si256(), idx);
        __m256 leaf = tr->n_nodes < 8 ? _mm256_permutevar8x32_ps(_mm256_loadu_ps(c->leaves + tr->first_leaf), li)
                                      : _mm256_i32gather_ps(c->leaves + tr->first_leaf, li, 4);
        acc_add(&a, leaf);
    }
    return acc_pass(&a, st->threshold);
}

/* Haar: 1/(area * stddev) per window as float, and the lanes with usable variance. */
static int variance8(const ferc_scan_row *r, const int32_t *p, const uint32_t *q, __m256 *vnf)
{
    const int *o = r->layout->nofs;
    __m256i s = box8(p, o), sq = box8((const int32_t *)q, o);
    const __m256d area = _mm256_set1_pd(r->norm_area), two31 = _mm256_set1_pd(2147483648.0);
    const __m256i flip = _mm256_set1_epi32((int)0x80000000u);
    __m256i sqf = _mm256_xor_si256(sq, flip); /* unsigned -> double via the signed conversion */
    __m256d s_lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(s)), s_hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(s, 1));
    __m256d q_lo = _mm256_add_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(sqf)), two31);
    __m256d q_hi = _mm256_add_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(sqf, 1)), two31);
    __m256d nf_lo = _mm256_sub_pd(_mm256_mul_pd(area, q_lo), _mm256_mul_pd(s_lo, s_lo));
    __m256d nf_hi = _mm256_sub_pd(_mm256_mul_pd(area, q_hi), _mm256_mul_pd(s_hi, s_hi));
    const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
    __m128 v_lo = _mm256_cvtpd_ps(_mm256_div_pd(one, _mm256_sqrt_pd(nf_lo)));
    __m128 v_hi = _mm256_cvtpd_ps(_mm256_div_pd(one, _mm256_sqrt_pd(nf_hi)));
    *vnf = _mm256_set_m128(v_hi, v_lo);
    const __m256d tenth = _mm256_set1_pd(1e-1);
    __m256d ok_lo = _mm256_and_pd(_mm256_cmp_pd(nf_lo, zero, _CMP_GT_OQ),
                                  _mm256_cmp_pd(_mm256_mul_pd(area, _mm256_cvtps_pd(v_lo)), tenth, _CMP_LT_OQ));
    __m256d ok_hi = _mm256_and_pd(_mm256_cmp_pd(nf_hi, zero, _CMP_GT_OQ),
                                  _mm256_cmp_pd(_mm256_mul_pd(area, _mm256_cvtps_pd(v_hi)), tenth, _CMP_LT_OQ));
    return _mm256_movemask_pd(ok_lo) | (_mm256_movemask_pd(ok_hi) << 4);
}

void ferc_scan_row_avx2(const ferc_scan_row *r, int n, uint8_t *hit)
{
    memset(hit, 0, (size_t)n);
    const int haar = r->c->type == FERC_CASCADE_HAAR;
    int next = 0; /* first window the scan will visit */
    for (int j0 = 0; j0 < n; j0 += 8) {
        const int32_t *p = r->sum + j0, *t = r->tilted ? r->tilted + j0 : NULL;
        const int valid = n - j0 >= 8 ? 0xff : (1 << (n - j0)) - 1;
        __m256 vnf = _mm256_setzero_ps();
        int ok = haar ? variance8(r, p, r->sqsum + j0, &vnf) & valid : valid;
        int pass = ok ? stage8(r, 0, p, t, vnf) & ok : 0;
        int alive = 0;
        for (int k = 0; k < 8 && (valid >> k & 1); k++) {
            if (j0 + k < next) continue;
            if (ok >> k & 1) {
                if (pass >> k & 1) alive |= 1 << k;
                next = j0 + k + ((pass >> k & 1) ? 1 : 2);
            } else {
                next = j0 + k + 1;
            }
        }
        for (int si = 1; alive && si < r->c->n_stages; si++) alive &= stage8(r, si, p, t, vnf);
        for (int k = 0; alive; k++, alive >>= 1)
            if (alive & 1) hit[j0 + k] = 1;
    }
}

#else
void ferc_scan_row_avx2(const ferc_scan_row *r, int n, uint8_t *hit) { ferc_scan_row_scalar(r, n, hit); }
#endif
