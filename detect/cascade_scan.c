/* cascade_scan.c - OpenCV's window evaluation (runAt) in plain C, the feature offset tables,
 * and the choice of implementation for this CPU.
 *
 * The arithmetic is OpenCV 4.6's, kept exactly: box sums in 32-bit wrapping integers, Haar
 * features in float (w0*s0 + w1*s1 [+ w2*s2], times the window's float 1/(area*stddev)),
 * stage sums in double, LBP codes from 3x3 block sums compared with the centre block. */
#include "detect/cascade_scan.h"
#include "nn/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int plane_ofs(int dx, int dy, int row_stride, int odd_plane)
{
    return odd_plane ? (dx & 1) * odd_plane + (dx >> 1) + dy * row_stride : dx + dy * row_stride;
}

static void rect_ofs(int o[4], int x, int y, int w, int h, int rs, int odd)
{
    o[0] = plane_ofs(x, y, rs, odd);
    o[1] = plane_ofs(x + w, y, rs, odd);
    o[2] = plane_ofs(x, y + h, rs, odd);
    o[3] = plane_ofs(x + w, y + h, rs, odd);
}

ferc_status ferc_scan_layout_init(ferc_scan_layout *l, const ferc_cascade *c, int rs, int odd, ferc_error *err)
{
    memset(l, 0, sizeof *l);
    if (c->type == FERC_CASCADE_HAAR) {
        l->haar = calloc((size_t)c->n_features, sizeof *l->haar);
        if (!l->haar) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        for (int i = 0; i < c->n_features; i++) {
            const ferc_haar_feature *f = &c->haar[i];
            ferc_haar_opt *o = &l->haar[i];
            o->tilted = f->tilted;
            for (int k = 0; k < f->nrects; k++) {
                const ferc_haar_rect *r = &f->r[k];
                o->weight[k] = r->weight;
                if (f->tilted) { /* corners (x,y) (x-h,y+h) (x+w,y+w) (x+w-h,y+w+h) */
                    o->ofs[k][0] = plane_ofs(r->x, r->y, rs, odd);
                    o->ofs[k][1] = plane_ofs(r->x - r->h, r->y + r->h, rs, odd);
                    o->ofs[k][2] = plane_ofs(r->x + r->w, r->y + r->w, rs, odd);
                    o->ofs[k][3] = plane_ofs(r->x + r->w - r->h, r->y + r->w + r->h, rs, odd);
                } else {
                    rect_ofs(o->ofs[k], r->x, r->y, r->w, r->h, rs, odd);
                }
            }
        }
        rect_ofs(l->nofs, 1, 1, c->win_w - 2, c->win_h - 2, rs, odd);
    } else {
        l->lbp = calloc((size_t)c->n_features, sizeof *l->lbp);
        if (!l->lbp) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        for (int i = 0; i < c->n_features; i++) {
            const ferc_lbp_feature *f = &c->lbp[i];
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 4; k++)
                    l->lbp[i].ofs[j * 4 + k] = plane_ofs(f->x + k * f->w, f->y + j * f->h, rs, odd);
        }
    }
    return FERC_OK;
}

void ferc_scan_layout_free(ferc_scan_layout *l)
{
    free(l->haar);
    free(l->lbp);
    memset(l, 0, sizeof *l);
}

static inline int32_t box(const int32_t *p, const int *o)
{
    return (int32_t)((uint32_t)p[o[0]] - (uint32_t)p[o[1]] - (uint32_t)p[o[2]] + (uint32_t)p[o[3]]);
}

static inline float haar_value(const ferc_haar_opt *f, const int32_t *p, const int32_t *t)
{
    const int32_t *b = f->tilted ? t : p;
    float r = f->weight[0] * (float)box(b, f->ofs[0]) + f->weight[1] * (float)box(b, f->ofs[1]);
    if (f->weight[2] != 0.0f) r += f->weight[2] * (float)box(b, f->ofs[2]);
    return r;
}

static inline int lbp_code(const ferc_lbp_opt *f, const int32_t *p)
{
    const int *o = f->ofs;
#define S(a, b, c, d) ((int32_t)((uint32_t)p[o[a]] - (uint32_t)p[o[b]] - (uint32_t)p[o[c]] + (uint32_t)p[o[d]]))
    int32_t cv = S(5, 6, 9, 10);
    return (S(0, 1, 4, 5) >= cv ? 128 : 0) | (S(1, 2, 5, 6) >= cv ? 64 : 0) | (S(2, 3, 6, 7) >= cv ? 32 : 0) |
           (S(6, 7, 10, 11) >= cv ? 16 : 0) | (S(10, 11, 14, 15) >= cv ? 8 : 0) | (S(9, 10, 13, 14) >= cv ? 4 : 0) |
           (S(8, 9, 12, 13) >= cv ? 2 : 0) | (S(4, 5, 8, 9) >= cv ? 1 : 0);
#undef S
}

static inline int in_subset(const int32_t *subset, int code)
{
    return ((uint32_t)subset[code >> 5] >> (code & 31)) & 1u;
}

/* runAt: 1 accepted, -k rejected at stage k (0 for the first stage), -1 also for a Haar
 * window without variance. */
static int run_at(const ferc_scan_row *r, int j)
{
    const ferc_cascade *c = r->c;
    const ferc_scan_layout *l = r->layout;
    const int32_t *p = r->sum + j;
    if (c->type == FERC_CASCADE_HAAR) {
        const int32_t *t = r->tilted ? r->tilted + j : NULL;
        const uint32_t *q = r->sqsum + j;
        int32_t valsum = box(p, l->nofs);
        uint32_t valsq = q[l->nofs[0]] - q[l->nofs[1]] - q[l->nofs[2]] + q[l->nofs[3]];
        double nf = r->norm_area * valsq - (double)valsum * valsum;
        if (!(nf > 0.)) return -1;
        float vnf = (float)(1. / sqrt(nf));
        if (!(r->norm_area * vnf < 1e-1)) return -1;
        if (c->max_nodes_per_tree == 1) {
            const ferc_cascade_stump *sp = c->stumps;
            for (int si = 0; si < c->n_stages; si++) {
                const ferc_cascade_stage *st = &c->stages[si];
                double tmp = 0;
                for (int i = 0; i < st->n_trees; i++, sp++) {
                    float v = haar_value(&l->haar[sp->feature], p, t) * vnf;
                    tmp += v < sp->threshold ? sp->left : sp->right;
                }
                if (tmp < st->threshold) return -si;
            }
            return 1;
        }
        for (int si = 0; si < c->n_stages; si++) {
            const ferc_cascade_stage *st = &c->stages[si];
            double sum = 0;
            for (int w = 0; w < st->n_trees; w++) {
                const ferc_cascade_tree *tr = &c->trees[st->first_tree + w];
                const ferc_cascade_node *nodes = c->nodes + tr->first_node;
                int idx = 0;
                do {
                    const ferc_cascade_node *nd = &nodes[idx];
                    float v = haar_value(&l->haar[nd->feature], p, t) * vnf;
                    idx = v < nd->threshold ? nd->left : nd->right;
                } while (idx > 0);
                sum += c->leaves[tr->first_leaf - idx];
            }
            if (sum < st->threshold) return -si;
        }
        return 1;
    }
    const int ss = c->subset_size;
    if (c->max_nodes_per_tree == 1) {
        const ferc_cascade_stump *sp = c->stumps;
        const int32_t *subset = c->subsets;
        for (int si = 0; si < c->n_stages; si++) {
            const ferc_cascade_stage *st = &c->stages[si];
            double tmp = 0;
            for (int i = 0; i < st->n_trees; i++, sp++, subset += ss)
                tmp += in_subset(subset, lbp_code(&l->lbp[sp->feature], p)) ? sp->left : sp->right;
            if (tmp < st->threshold) return -si;
        }
        return 1;
    }
    for (int si = 0; si < c->n_stages; si++) {
        const ferc_cascade_stage *st = &c->stages[si];
        double sum = 0;
        for (int w = 0; w < st->n_trees; w++) {
            const ferc_cascade_tree *tr = &c->trees[st->first_tree + w];
            int idx = 0;
            do {
                const int node = tr->first_node + idx;
                int code = lbp_code(&l->lbp[c->nodes[node].feature], p);
                idx = in_subset(c->subsets + (size_t)node * ss, code) ? c->nodes[node].left : c->nodes[node].right;
            } while (idx > 0);
            sum += c->leaves[tr->first_leaf - idx];
        }
        if (sum < st->threshold) return -si;
    }
    return 1;
}

void ferc_scan_row_scalar(const ferc_scan_row *r, int n, uint8_t *hit)
{
    memset(hit, 0, (size_t)n);
    for (int j = 0; j < n; j++) {
        int res = run_at(r, j);
        if (res > 0) hit[j] = 1;
        if (res == 0) j++; /* OpenCV skips the next window after a first-stage rejection */
    }
}

ferc_scan_row_fn ferc_cascade_scan_pick(void)
{
#if defined(__x86_64__) || defined(__i386__)
    const char *want = getenv("FERC_ISA");
    if (want && !strcmp(want, "scalar")) return ferc_scan_row_scalar;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ferc_scan_row_avx2;
#endif
    return ferc_scan_row_scalar;
}
