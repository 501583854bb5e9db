/* cascade_load.c - OpenCV cascade XML (new "opencv-cascade-classifier" format and the old
 * "opencv-haar-classifier" format) into struct ferc_cascade.
 *
 * Values are converted the way OpenCV's FileStorage and CascadeClassifier::Data::read do
 * (numbers read as double, then cast to float; stage thresholds minus 1e-5f), so that the
 * detector's decisions are the same. Everything the detector will index is checked here:
 * feature indices, tree links (children only point forward, so evaluation ends), leaf
 * counts, and that every rectangle lies inside the window. */
#include "detect/cascade.h"
#include "detect/cascade_xml.h"
#include "nn/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WINDOW 1024
#define MAX_FILE_BYTES ((size_t)64 << 20)

typedef struct {
    const ferc_xml_doc *doc;
    ferc_cascade *c;
    int cap_stages, cap_trees, cap_nodes, cap_leaves, cap_features;
    ferc_error *err;
} loader;

static ferc_status grow(void **p, int *cap, int need, size_t elem, ferc_error *err)
{
    if (need <= *cap) return FERC_OK;
    int nc = *cap ? *cap : 64;
    while (nc < need) {
        if (nc > (1 << 27)) return ferc_set_error(err, FERC_ERR_NOMEM, "cascade too large");
        nc *= 2;
    }
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    *p = q;
    *cap = nc;
    return FERC_OK;
}

/* ---- reading numbers from element text --------------------------------------------- */

typedef struct {
    const char *p;
    int line;
    const char *elem;
} numbers;

static numbers nums(const ferc_xml_doc *d, int node)
{
    numbers r = {d->nodes[node].text, d->nodes[node].line, d->nodes[node].name};
    return r;
}

/* Next number as double; 0 at the end of the text, -1 on garbage. */
static int next_num(numbers *s, double *v)
{
    while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r') s->p++;
    if (!*s->p) return 0;
    char *end;
    errno = 0;
    *v = strtod(s->p, &end);
    if (end == s->p || !isfinite(*v) || !(*end == '\0' || *end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        return -1;
    s->p = end;
    return 1;
}

/* FileNode's int conversion rounds reals; here only integral values in range are accepted. */
static ferc_status want_int(numbers *s, int *out, const char *what, ferc_error *err)
{
    double v;
    int r = next_num(s, &v);
    if (r == 0) return ferc_set_error(err, FERC_ERR_FORMAT, "line %d: <%s>: missing %s", s->line, s->elem, what);
    if (r < 0 || v != floor(v) || v < -2147483648.0 || v > 2147483647.0)
        return ferc_set_error(err, FERC_ERR_FORMAT, "line %d: <%s>: %s is not an integer", s->line, s->elem, what);
    *out = (int)v;
    return FERC_OK;
}

static ferc_status want_float(numbers *s, float *out, const char *what, ferc_error *err)
{
    double v;
    int r = next_num(s, &v);
    if (r == 0) return ferc_set_error(err, FERC_ERR_FORMAT, "line %d: <%s>: missing %s", s->line, s->elem, what);
    if (r < 0 || fabs(v) > 3.0e38)
        return ferc_set_error(err, FERC_ERR_FORMAT, "line %d: <%s>: %s is not a number", s->line, s->elem, what);
    *out = (float)v;
    return FERC_OK;
}

static ferc_status want_end(numbers *s, ferc_error *err)
{
    double v;
    if (next_num(s, &v) != 0)
        return ferc_set_error(err, FERC_ERR_FORMAT, "line %d: <%s>: unexpected extra values", s->line, s->elem);
    return FERC_OK;
}

static int count_nums(const ferc_xml_doc *d, int node, int *bad)
{
    numbers s = nums(d, node);
    double v;
    int n = 0, r;
    while ((r = next_num(&s, &v)) > 0) n++;
    *bad = r < 0;
    return n;
}

static int child(loader *L, int node, const char *name, int required)
{
    int c = ferc_xml_child(L->doc, node, name);
    if (c < 0 && required)
        ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: <%s> has no <%s>", L->doc->nodes[node].line,
                       L->doc->nodes[node].name, name);
    return c;
}

static ferc_status int_child(loader *L, int node, const char *name, int *out)
{
    int c = child(L, node, name, 1);
    if (c < 0) return L->err ? L->err->code : FERC_ERR_FORMAT;
    numbers s = nums(L->doc, c);
    ferc_status st = want_int(&s, out, name, L->err);
    return st ? st : want_end(&s, L->err);
}

static const char *trimmed(const ferc_xml_doc *d, int node, char *buf, size_t size)
{
    const char *t = d->nodes[node].text;
    while (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t') t++;
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == '\t')) n--;
    if (n >= size) n = size - 1;
    memcpy(buf, t, n);
    buf[n] = '\0';
    return buf;
}

/* ---- features ---------------------------------------------------------------------- */

static ferc_status add_haar_feature(loader *L, int fnode)
{
    ferc_cascade *c = L->c;
    const ferc_xml_doc *d = L->doc;
    ferc_status st = grow((void **)&c->haar, &L->cap_features, c->n_features + 1, sizeof *c->haar, L->err);
    if (st) return st;
    ferc_haar_feature *f = &c->haar[c->n_features];
    memset(f, 0, sizeof *f);
    int rects = child(L, fnode, "rects", 1);
    if (rects < 0) return FERC_ERR_FORMAT;
    int tl = ferc_xml_child(d, fnode, "tilted");
    if (tl >= 0) {
        numbers s = nums(d, tl);
        if ((st = want_int(&s, &f->tilted, "tilted flag", L->err))) return st;
        f->tilted = f->tilted != 0;
    }
    for (int r = d->nodes[rects].first_child; r >= 0; r = d->nodes[r].next_sibling) {
        if (f->nrects == 3)
            return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: Haar feature with more than 3 rectangles",
                                  d->nodes[r].line);
        ferc_haar_rect *q = &f->r[f->nrects];
        numbers s = nums(d, r);
        if ((st = want_int(&s, &q->x, "rectangle x", L->err)) || (st = want_int(&s, &q->y, "rectangle y", L->err)) ||
            (st = want_int(&s, &q->w, "rectangle width", L->err)) ||
            (st = want_int(&s, &q->h, "rectangle height", L->err)) ||
            (st = want_float(&s, &q->weight, "rectangle weight", L->err)) || (st = want_end(&s, L->err)))
            return st;
        int ok = q->w >= 0 && q->h >= 0 && q->y >= 0;
        if (f->tilted)
            ok = ok && q->x - q->h >= 0 && q->x + q->w <= c->win_w && q->y + q->w + q->h <= c->win_h;
        else
            ok = ok && q->x >= 0 && q->x + q->w <= c->win_w && q->y + q->h <= c->win_h;
        if (!ok)
            return ferc_set_error(L->err, FERC_ERR_FORMAT,
                                  "line %d: %srectangle %d %d %d %d lies outside the %dx%d window", d->nodes[r].line,
                                  f->tilted ? "tilted " : "", q->x, q->y, q->w, q->h, c->win_w, c->win_h);
        f->nrects++;
    }
    if (f->nrects < 2)
        return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: Haar feature with fewer than 2 rectangles",
                              d->nodes[rects].line);
    if (f->tilted) c->has_tilted = 1;
    c->n_features++;
    return FERC_OK;
}

static ferc_status add_lbp_feature(loader *L, int fnode)
{
    ferc_cascade *c = L->c;
    ferc_status st = grow((void **)&c->lbp, &L->cap_features, c->n_features + 1, sizeof *c->lbp, L->err);
    if (st) return st;
    ferc_lbp_feature *f = &c->lbp[c->n_features];
    int r = child(L, fnode, "rect", 1);
    if (r < 0) return FERC_ERR_FORMAT;
    numbers s = nums(L->doc, r);
    if ((st = want_int(&s, &f->x, "x", L->err)) || (st = want_int(&s, &f->y, "y", L->err)) ||
        (st = want_int(&s, &f->w, "width", L->err)) || (st = want_int(&s, &f->h, "height", L->err)) ||
        (st = want_end(&s, L->err)))
        return st;
    if (f->x < 0 || f->y < 0 || f->w < 0 || f->h < 0 || f->x + 3 * f->w > c->win_w || f->y + 3 * f->h > c->win_h)
        return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: LBP block %d %d %d %d: 3x3 grid outside the %dx%d window",
                              L->doc->nodes[r].line, f->x, f->y, f->w, f->h, c->win_w, c->win_h);
    c->n_features++;
    return FERC_OK;
}

/* ---- trees ------------------------------------------------------------------------- */

static ferc_status add_tree(loader *L, int n_nodes, int n_leaves, int line)
{
    ferc_cascade *c = L->c;
    ferc_status st = grow((void **)&c->trees, &L->cap_trees, c->n_trees + 1, sizeof *c->trees, L->err);
    if (st) return st;
    if (n_nodes < 1) return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: tree without nodes", line);
    /* OpenCV steps through the leaf array by n_nodes + 1 per tree. */
    if (n_leaves != n_nodes + 1)
        return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: tree with %d nodes has %d leaves (want %d)", line,
                              n_nodes, n_leaves, n_nodes + 1);
    ferc_cascade_tree *t = &c->trees[c->n_trees++];
    t->first_node = c->n_nodes - n_nodes;
    t->n_nodes = n_nodes;
    t->first_leaf = c->n_leaves - n_leaves;
    if (n_nodes > c->max_nodes_per_tree) c->max_nodes_per_tree = n_nodes;
    for (int i = 0; i < n_nodes; i++) {
        const ferc_cascade_node *nd = &c->nodes[t->first_node + i];
        int kids[2] = {nd->left, nd->right};
        for (int k = 0; k < 2; k++) {
            int ok = kids[k] > 0 ? (kids[k] > i && kids[k] < n_nodes) : (-kids[k] < n_leaves);
            if (!ok)
                return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: tree node %d has an invalid child %d", line, i,
                                      kids[k]);
        }
    }
    return FERC_OK;
}

static ferc_status push_leaf(loader *L, float v)
{
    ferc_status st = grow((void **)&L->c->leaves, &L->cap_leaves, L->c->n_leaves + 1, sizeof(float), L->err);
    if (!st) L->c->leaves[L->c->n_leaves++] = v;
    return st;
}

static ferc_status push_node(loader *L, const ferc_cascade_node *nd, const int32_t *subset)
{
    ferc_cascade *c = L->c;
    int old_cap = L->cap_nodes;
    ferc_status st = grow((void **)&c->nodes, &L->cap_nodes, c->n_nodes + 1, sizeof *c->nodes, L->err);
    if (st) return st;
    if (c->subset_size && L->cap_nodes != old_cap) {
        int32_t *s = realloc(c->subsets, sizeof(int32_t) * (size_t)L->cap_nodes * (size_t)c->subset_size);
        if (!s) return ferc_set_error(L->err, FERC_ERR_NOMEM, "out of memory");
        c->subsets = s;
    }
    if (c->subset_size) memcpy(c->subsets + (size_t)c->n_nodes * c->subset_size, subset, sizeof(int32_t) * c->subset_size);
    c->nodes[c->n_nodes++] = *nd;
    return FERC_OK;
}

static ferc_status add_stage(loader *L, float threshold, int first_tree, int line)
{
    ferc_cascade *c = L->c;
    ferc_status st = grow((void **)&c->stages, &L->cap_stages, c->n_stages + 1, sizeof *c->stages, L->err);
    if (st) return st;
    if (c->n_trees == first_tree) return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: stage without weak classifiers", line);
    ferc_cascade_stage *s = &c->stages[c->n_stages++];
    s->first_tree = first_tree;
    s->n_trees = c->n_trees - first_tree;
    s->threshold = threshold - 1e-5f; /* OpenCV's THRESHOLD_EPS */
    return FERC_OK;
}

/* ---- the two formats --------------------------------------------------------------- */

static ferc_status read_new(loader *L, int root)
{
    ferc_cascade *c = L->c;
    const ferc_xml_doc *d = L->doc;
    char buf[32];
    ferc_status st;
    int n = child(L, root, "stageType", 1);
    if (n < 0) return FERC_ERR_FORMAT;
    if (strcmp(trimmed(d, n, buf, sizeof buf), "BOOST"))
        return ferc_set_error(L->err, FERC_ERR_UNSUPPORTED, "line %d: stageType '%s' (only BOOST is supported)",
                              d->nodes[n].line, buf);
    if ((n = child(L, root, "featureType", 1)) < 0) return FERC_ERR_FORMAT;
    trimmed(d, n, buf, sizeof buf);
    if (!strcmp(buf, "HAAR")) c->type = FERC_CASCADE_HAAR;
    else if (!strcmp(buf, "LBP")) c->type = FERC_CASCADE_LBP;
    else
        return ferc_set_error(L->err, FERC_ERR_UNSUPPORTED, "line %d: featureType '%s' (HAAR and LBP are supported)",
                              d->nodes[n].line, buf);
    if ((st = int_child(L, root, "width", &c->win_w)) || (st = int_child(L, root, "height", &c->win_h))) return st;
    if (c->win_w < 1 || c->win_h < 1 || c->win_w > MAX_WINDOW || c->win_h > MAX_WINDOW)
        return ferc_set_error(L->err, FERC_ERR_FORMAT, "window %dx%d out of range (1..%d)", c->win_w, c->win_h, MAX_WINDOW);
    int fp = child(L, root, "featureParams", 1);
    if (fp < 0) return FERC_ERR_FORMAT;
    int ncat = 0;
    if ((st = int_child(L, fp, "maxCatCount", &ncat))) return st;
    if (c->type == FERC_CASCADE_HAAR && ncat != 0)
        return ferc_set_error(L->err, FERC_ERR_UNSUPPORTED, "Haar cascade with maxCatCount %d (want 0)", ncat);
    if (c->type == FERC_CASCADE_LBP && ncat != 256)
        return ferc_set_error(L->err, FERC_ERR_UNSUPPORTED, "LBP cascade with maxCatCount %d (want 256)", ncat);
    c->subset_size = (ncat + 31) / 32;
    const int node_step = 3 + (ncat > 0 ? c->subset_size : 1);

    int feats = child(L, root, "features", 1);
    if (feats < 0) return FERC_ERR_FORMAT;
    for (int f = d->nodes[feats].first_child; f >= 0; f = d->nodes[f].next_sibling)
        if ((st = c->type == FERC_CASCADE_HAAR ? add_haar_feature(L, f) : add_lbp_feature(L, f))) return st;
    if (!c->n_features) return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: no features", d->nodes[feats].line);

    int stages = child(L, root, "stages", 1);
    if (stages < 0) return FERC_ERR_FORMAT;
    for (int s = d->nodes[stages].first_child; s >= 0; s = d->nodes[s].next_sibling) {
        int th = child(L, s, "stageThreshold", 1), weaks = child(L, s, "weakClassifiers", 1);
        if (th < 0 || weaks < 0) return FERC_ERR_FORMAT;
        numbers ts = nums(d, th);
        float threshold;
        if ((st = want_float(&ts, &threshold, "stage threshold", L->err))) return st;
        int first_tree = c->n_trees;
        for (int w = d->nodes[weaks].first_child; w >= 0; w = d->nodes[w].next_sibling) {
            int in = child(L, w, "internalNodes", 1), lv = child(L, w, "leafValues", 1);
            if (in < 0 || lv < 0) return FERC_ERR_FORMAT;
            int bad, count = count_nums(d, in, &bad);
            if (bad || count == 0 || count % node_step)
                return ferc_set_error(L->err, FERC_ERR_FORMAT,
                                      "line %d: <internalNodes> holds %d values, not a multiple of %d%s",
                                      d->nodes[in].line, count, node_step, bad ? " (or a non-number)" : "");
            numbers ns = nums(d, in);
            for (int k = 0; k < count / node_step; k++) {
                ferc_cascade_node nd = {0, 0, 0, 0.f};
                int32_t subset[64];
                if ((st = want_int(&ns, &nd.left, "left child", L->err)) ||
                    (st = want_int(&ns, &nd.right, "right child", L->err)) ||
                    (st = want_int(&ns, &nd.feature, "feature index", L->err)))
                    return st;
                if (nd.feature < 0 || nd.feature >= c->n_features)
                    return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: feature index %d out of range (%d features)",
                                          d->nodes[in].line, nd.feature, c->n_features);
                if (ncat > 0) {
                    for (int j = 0; j < c->subset_size; j++)
                        if ((st = want_int(&ns, &subset[j], "category subset", L->err))) return st;
                } else if ((st = want_float(&ns, &nd.threshold, "node threshold", L->err))) {
                    return st;
                }
                if ((st = push_node(L, &nd, subset))) return st;
            }
            numbers ls = nums(d, lv);
            int n_leaves = 0;
            double v;
            int r;
            while ((r = next_num(&ls, &v)) > 0) {
                if (fabs(v) > 3.0e38) r = -1;
                if (r < 0 || (st = push_leaf(L, (float)v))) break;
                n_leaves++;
            }
            if (r < 0) return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: <leafValues>: not a number", d->nodes[lv].line);
            if (st) return st;
            if ((st = add_tree(L, count / node_step, n_leaves, d->nodes[in].line))) return st;
        }
        if ((st = add_stage(L, threshold, first_tree, d->nodes[s].line))) return st;
    }
    return FERC_OK;
}

static ferc_status read_old(loader *L, int root)
{
    ferc_cascade *c = L->c;
    const ferc_xml_doc *d = L->doc;
    ferc_status st;
    c->type = FERC_CASCADE_HAAR;
    int sz = child(L, root, "size", 1);
    if (sz < 0) return FERC_ERR_FORMAT;
    numbers ss = nums(d, sz);
    if ((st = want_int(&ss, &c->win_w, "window width", L->err)) || (st = want_int(&ss, &c->win_h, "window height", L->err)))
        return st;
    if (c->win_w < 1 || c->win_h < 1 || c->win_w > MAX_WINDOW || c->win_h > MAX_WINDOW)
        return ferc_set_error(L->err, FERC_ERR_FORMAT, "window %dx%d out of range (1..%d)", c->win_w, c->win_h, MAX_WINDOW);
    int stages = child(L, root, "stages", 1);
    if (stages < 0) return FERC_ERR_FORMAT;
    for (int s = d->nodes[stages].first_child; s >= 0; s = d->nodes[s].next_sibling) {
        int th = child(L, s, "stage_threshold", 1), trees = child(L, s, "trees", 1);
        if (th < 0 || trees < 0) return FERC_ERR_FORMAT;
        numbers ts = nums(d, th);
        float threshold;
        if ((st = want_float(&ts, &threshold, "stage threshold", L->err))) return st;
        int first_tree = c->n_trees;
        for (int t = d->nodes[trees].first_child; t >= 0; t = d->nodes[t].next_sibling) {
            int n_nodes = 0, n_leaves = 0;
            for (int nn = d->nodes[t].first_child; nn >= 0; nn = d->nodes[nn].next_sibling) {
                int fe = child(L, nn, "feature", 1), tn = child(L, nn, "threshold", 1);
                if (fe < 0 || tn < 0) return FERC_ERR_FORMAT;
                if ((st = add_haar_feature(L, fe))) return st;
                ferc_cascade_node nd = {0, 0, c->n_features - 1, 0.f};
                numbers ns = nums(d, tn);
                if ((st = want_float(&ns, &nd.threshold, "node threshold", L->err))) return st;
                static const char *const side[2][2] = {{"left_val", "left_node"}, {"right_val", "right_node"}};
                for (int k = 0; k < 2; k++) {
                    int *link = k ? &nd.right : &nd.left;
                    int val = ferc_xml_child(d, nn, side[k][0]);
                    if (val >= 0) {
                        float v;
                        numbers vs = nums(d, val);
                        if ((st = want_float(&vs, &v, side[k][0], L->err)) || (st = push_leaf(L, v))) return st;
                        *link = -n_leaves++;
                    } else {
                        int ln = child(L, nn, side[k][1], 1);
                        if (ln < 0) return FERC_ERR_FORMAT;
                        numbers ls = nums(d, ln);
                        if ((st = want_int(&ls, link, side[k][1], L->err))) return st;
                        if (*link <= 0)
                            return ferc_set_error(L->err, FERC_ERR_FORMAT, "line %d: <%s> %d must be positive",
                                                  d->nodes[ln].line, side[k][1], *link);
                    }
                }
                if ((st = push_node(L, &nd, NULL))) return st;
                n_nodes++;
            }
            if ((st = add_tree(L, n_nodes, n_leaves, d->nodes[t].line))) return st;
        }
        if ((st = add_stage(L, threshold, first_tree, d->nodes[s].line))) return st;
    }
    return FERC_OK;
}

ferc_status ferc_cascade_load_memory(const void *data, size_t size, ferc_cascade **out, ferc_error *err)
{
    *out = NULL;
    ferc_xml_doc doc;
    ferc_status st = ferc_xml_parse(data, size, &doc, err);
    if (st) return st;
    ferc_cascade *c = calloc(1, sizeof *c);
    if (!c) {
        ferc_xml_free(&doc);
        return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    }
    loader L = {&doc, c, 0, 0, 0, 0, 0, err};
    int root = doc.nodes[0].first_child; /* FileStorage's first top-level node */
    if (strcmp(doc.nodes[0].name, "opencv_storage") || root < 0) {
        st = ferc_set_error(err, FERC_ERR_FORMAT, "not an OpenCV FileStorage XML file (root <%s>)", doc.nodes[0].name);
    } else if (ferc_xml_child(&doc, root, "stageType") >= 0) {
        st = read_new(&L, root);
    } else if (ferc_xml_child(&doc, root, "size") >= 0 && ferc_xml_child(&doc, root, "stages") >= 0) {
        st = read_old(&L, root);
    } else {
        st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: <%s> is neither a new-format cascade (no <stageType>) "
                            "nor an old-format Haar cascade (no <size>/<stages>)", doc.nodes[root].line,
                            doc.nodes[root].name);
    }
    if (!st && !c->n_stages) st = ferc_set_error(err, FERC_ERR_FORMAT, "cascade without stages");
    if (!st) { /* 8 readable floats from any tree's first leaf, for the SIMD leaf lookup */
        float *l = realloc(c->leaves, sizeof(float) * ((size_t)c->n_leaves + 8));
        if (!l) st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        else memset(l + c->n_leaves, 0, 8 * sizeof(float)), c->leaves = l;
    }
    if (!st && c->max_nodes_per_tree == 1) {
        c->stumps = malloc(sizeof *c->stumps * (size_t)c->n_nodes);
        if (!c->stumps) st = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        /* As OpenCV: a stump takes the first two leaves of its tree, whatever its links say. */
        for (int t = 0; !st && t < c->n_trees; t++) {
            const ferc_cascade_tree *tr = &c->trees[t];
            ferc_cascade_stump *sp = &c->stumps[tr->first_node];
            sp->feature = c->nodes[tr->first_node].feature;
            sp->threshold = c->nodes[tr->first_node].threshold;
            sp->left = c->leaves[tr->first_leaf];
            sp->right = c->leaves[tr->first_leaf + 1];
        }
    }
    ferc_xml_free(&doc);
    if (st) {
        ferc_cascade_free(c);
        return st;
    }
    *out = c;
    return FERC_OK;
}

ferc_status ferc_cascade_load(const char *path, ferc_cascade **out, ferc_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return ferc_set_error(err, FERC_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    ferc_status st = FERC_OK;
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= MAX_FILE_BYTES) {
            st = ferc_set_error(err, FERC_ERR_NOMEM, "%s: larger than %zu bytes", path, MAX_FILE_BYTES);
            break;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (!st && !buf) st = ferc_set_error(err, FERC_ERR_NOMEM, "%s: out of memory", path);
    if (!st && ferror(f)) st = ferc_set_error(err, FERC_ERR_IO, "%s: read error", path);
    fclose(f);
    if (!st) {
        st = ferc_cascade_load_memory(buf, n, out, err);
        if (st) ferc_error_prefix(err, path);
    }
    free(buf);
    return st;
}

void ferc_cascade_free(ferc_cascade *c)
{
    if (!c) return;
    free(c->stages);
    free(c->trees);
    free(c->nodes);
    free(c->leaves);
    free(c->subsets);
    free(c->stumps);
    free(c->haar);
    free(c->lbp);
    free(c);
}

const char *ferc_cascade_kind(const ferc_cascade *c) { return c->type == FERC_CASCADE_LBP ? "lbp" : "haar"; }

void ferc_cascade_window(const ferc_cascade *c, int *w, int *h)
{
    *w = c->win_w;
    *h = c->win_h;
}
