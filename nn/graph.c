/* graph.c - the executor.
 *
 * A model is a DAG of nodes joined by named values. At load the graph is checked and put in
 * topological order. A context plans memory once: it infers every activation's shape for its
 * batch and input size, then places activations in one arena so that values whose lifetimes
 * (first write .. last read, in execution order) do not overlap share bytes. A run is then a
 * loop over the nodes with no allocation. */
#include "nn/graph.h"
#include "kernels/q8.h"
#include "kernels/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

const char *ferc_node_name(const ferc_model *m, const ferc_node *n)
{
    return n->n_out ? m->values[n->out[0]].name : n->op->name;
}

static void node_error(const ferc_model *m, const ferc_node *n, ferc_error *err)
{
    char prefix[300];
    snprintf(prefix, sizeof prefix, "node '%s' (%s)", ferc_node_name(m, n), n->op->name);
    ferc_error_prefix(err, prefix);
}

/* ---- checking ----------------------------------------------------------------------- */

static ferc_status topo_sort(ferc_model *m, ferc_error *err)
{
    /* Kahn's algorithm over node->node dependencies through values. */
    int *pending = calloc((size_t)m->n_nodes + 1, sizeof(int));
    m->order = malloc(sizeof(int) * ((size_t)m->n_nodes + 1));
    if (!pending || !m->order) {
        free(pending);
        return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < m->n_nodes; i++)
        for (int k = 0; k < m->nodes[i].n_in; k++)
            pending[i] += m->values[m->nodes[i].in[k]].producer >= 0;
    int head = 0, tail = 0;
    for (int i = 0; i < m->n_nodes; i++)
        if (!pending[i]) m->order[tail++] = i;
    while (head < tail) {
        const ferc_node *n = &m->nodes[m->order[head++]];
        /* Release consumers of this node's outputs. Quadratic in the worst case; graphs
         * are hundreds of nodes and this runs once per load. */
        for (int j = 0; j < m->n_nodes; j++)
            for (int k = 0; k < m->nodes[j].n_in; k++)
                for (int o = 0; o < n->n_out; o++)
                    if (m->nodes[j].in[k] == n->out[o] && --pending[j] == 0) m->order[tail++] = j;
    }
    free(pending);
    if (tail != m->n_nodes)
        return ferc_set_error(err, FERC_ERR_FORMAT, "the graph has a cycle (%d of %d nodes can be ordered)",
                              tail, m->n_nodes);
    return FERC_OK;
}

ferc_status ferc_graph_check(ferc_model *m, ferc_error *err)
{
    for (int i = 0; i < m->n_nodes; i++) {
        ferc_node *n = &m->nodes[i];
        for (int o = 0; o < n->n_out; o++) {
            ferc_value *v = &m->values[n->out[o]];
            if (v->kind != FERC_VAL_ACT)
                return ferc_set_error(err, FERC_ERR_FORMAT, "node %d (%s) writes %s '%s'", i, n->op->name,
                                      v->kind == FERC_VAL_PARAM ? "parameter" : "input", v->name);
            if (v->producer >= 0)
                return ferc_set_error(err, FERC_ERR_FORMAT, "activation '%s' is written by two nodes", v->name);
            v->producer = i;
        }
        if (n->n_in > MAX_NODE_IO || n->n_out > MAX_NODE_IO)
            return ferc_set_error(err, FERC_ERR_FORMAT, "node %d has more than %d inputs or outputs", i, MAX_NODE_IO);
        /* Float ops read every input as floats: integer tensors reach only the int8 ops. */
        for (int j = 0; !ferc_op_is_int8(n->op) && j < n->n_in + n->n_out; j++) {
            const ferc_value *v = &m->values[j < n->n_in ? n->in[j] : n->out[j - n->n_in]];
            if (v->dtype > FERC_DT_Q8 || (v->kind != FERC_VAL_PARAM && v->dtype != FERC_DT_F32))
                return ferc_set_error(err, FERC_ERR_FORMAT, "node %d (%s): '%s' is an integer tensor, the op takes floats",
                                      i, n->op->name, v->name);
        }
    }
    m->inputs = malloc(sizeof(int) * ((size_t)m->n_values + 1));
    if (!m->inputs) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m->n_values; i++) {
        const ferc_value *v = &m->values[i];
        if (v->kind == FERC_VAL_INPUT) m->inputs[m->n_inputs++] = i;
        if (v->kind == FERC_VAL_ACT && v->producer < 0)
            return ferc_set_error(err, FERC_ERR_FORMAT, "activation '%s' is never written (dangling edge)", v->name);
    }
    if (m->n_nodes && (!m->n_inputs || !m->n_outputs))
        return ferc_set_error(err, FERC_ERR_FORMAT, "the graph has nodes but no %s", m->n_inputs ? "outputs" : "inputs");
    ferc_status s = topo_sort(m, err);
    if (s) return s;
    m->kernels = ferc_kernels();
    m->q8 = ferc_q8_kernels_get();
    for (int i = 0; i < m->n_nodes; i++) {
        ferc_node *n = &m->nodes[i];
        if (n->op->prepare && (s = n->op->prepare(m, n, err))) {
            node_error(m, n, err);
            return s;
        }
    }
    if (!m->n_nodes) return FERC_OK;
    ferc_shape *shapes = malloc(sizeof(ferc_shape) * (size_t)m->n_values);
    if (!shapes) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    s = ferc_graph_infer(m, 1, 0, 0, shapes, err);
    for (int i = 0; !s && i < m->n_values; i++) {
        ferc_value *v = &m->values[i];
        if (v->kind != FERC_VAL_ACT) continue;
        if (v->shape.ndim && !ferc_shape_equal(&v->shape, &shapes[i])) {
            char a[96], b[96];
            s = ferc_set_error(err, FERC_ERR_FORMAT, "activation '%s': file says %s, graph gives %s", v->name,
                               ferc_shape_str(&v->shape, a, sizeof a), ferc_shape_str(&shapes[i], b, sizeof b));
        }
        v->shape = shapes[i];
    }
    free(shapes);
    return s;
}

ferc_status ferc_graph_infer(const ferc_model *m, int batch, int height, int width, ferc_shape *shapes,
                             ferc_error *err)
{
    for (int i = 0; i < m->n_values; i++) {
        const ferc_value *v = &m->values[i];
        shapes[i] = v->shape;
        if (v->kind != FERC_VAL_INPUT) continue;
        shapes[i].d[0] = batch;
        if (shapes[i].ndim == 4) {
            if (height > 0) shapes[i].d[1] = height;
            if (width > 0) shapes[i].d[2] = width;
        }
    }
    ferc_shape in[MAX_NODE_IO], out[MAX_NODE_IO];
    for (int k = 0; k < m->n_nodes; k++) {
        const ferc_node *n = &m->nodes[m->order[k]];
        for (int j = 0; j < n->n_in; j++) in[j] = shapes[n->in[j]];
        ferc_status s = n->op->infer(n, in, out, err);
        for (int j = 0; !s && j < n->n_out; j++) {
            int64_t numel = ferc_shape_numel(&out[j]);
            if (numel <= 0 || numel > FERC_MAX_NUMEL)
                s = ferc_set_error(err, FERC_ERR_NOMEM, "%lld elements, limit %lld", (long long)numel,
                                   (long long)FERC_MAX_NUMEL);
            shapes[n->out[j]] = out[j];
        }
        if (s) {
            node_error(m, n, err);
            return s;
        }
    }
    return FERC_OK;
}

/* ---- contexts ----------------------------------------------------------------------- */

/* A chain of 1x1 + depthwise conv pairs (and a max pooling) run as one by the kernels. */
typedef struct {
    int stages, last;                  /* last: position of the node whose output the chain writes */
    const ferc_node *head;             /* a convolution before the first pair, or NULL */
    const ferc_node *pw[FERC_CHAIN_MAX], *dw[FERC_CHAIN_MAX];
    int pool;
    ferc_pool_desc pd;                 /* at the planned shapes */
} fused_chain;

struct ferc_context {
    const ferc_model *model;
    int batch, max_batch, threads;
    ferc_shape *shapes;  /* planned for max_batch */
    float **ptr;         /* per value: where it lives during a run */
    uint8_t *arena;
    size_t arena_size;
    void *scratch;
    size_t scratch_size;
    ferc_tensor *tin, *tout;
    double *node_seconds; /* FERC_CTX_PROFILE: per node of the last run; NULL otherwise */
    int cpu_clock;        /* FERC_CTX_PROFILE_CPU: node_seconds in thread CPU time */
    int *fused;           /* per position: 1 heads a fused chain (chain[position]), -1 none,
                             and a node run by the chain at position p holds -2 - p */
    fused_chain *chain;   /* per position that heads a chain */
};

typedef struct {
    int value;
    int first, last; /* node positions in execution order */
    size_t size, offset;
} plan_item;

static int by_size_desc(const void *a, const void *b)
{
    const plan_item *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->value - y->value;
}

/* Greedy placement by size (as TFLite's arena planner): largest tensors first, each at the
 * lowest offset that does not collide with an already placed tensor alive at the same time. */
static size_t place(plan_item *items, int n)
{
    qsort(items, (size_t)n, sizeof *items, by_size_desc);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t off = 0;
        int moved = 1;
        while (moved) {
            moved = 0;
            for (int j = 0; j < i; j++) {
                const plan_item *o = &items[j];
                if (o->last < items[i].first || items[i].last < o->first) continue;
                if (off < o->offset + o->size && o->offset < off + items[i].size) {
                    off = o->offset + o->size;
                    moved = 1;
                }
            }
        }
        items[i].offset = off;
        if (off + items[i].size > total) total = off + items[i].size;
    }
    return total;
}

/* The one node reading value v, and in which input slot; -1 when none, several, or v is a
 * graph output. */
static int sole_reader(const ferc_model *m, int v, int *slot)
{
    int readers = 0, q = -1;
    for (int i = 0; i < m->n_nodes; i++)
        for (int j = 0; j < m->nodes[i].n_in; j++)
            if (m->nodes[i].in[j] == v) readers++, q = i, *slot = j;
    for (int i = 0; i < m->n_outputs; i++) readers += m->outputs[i] == v;
    return readers == 1 ? q : -1;
}

/* Chains of a 1x1 convolution and the depthwise convolution that alone reads its output,
 * then as many such pairs as read the previous one's output alone, then the 2x2 max pooling
 * that alone reads the last output if there is one, and before the first pair the
 * convolution whose output it alone reads, if the kernels take it; or, with no pair, a
 * convolution the kernels take as a head and the 2x2 max pooling that alone reads it (a
 * CNN's first layer). The kernels run them as one, so the intermediates, the largest tensors
 * of mobile networks such as YuNet and of a CNN's first layer, never leave the cache. A chain
 * runs at its first node's position; the intermediates get no memory. */
static void find_fusions(ferc_context *c)
{
    const ferc_model *m = c->model;
    int *pos = malloc(sizeof(int) * (size_t)m->n_nodes);
    for (int k = 0; k < m->n_nodes; k++) c->fused[k] = -1;
    if (!pos) return; /* no fusion: the plain plan is as correct */
    for (int k = 0; k < m->n_nodes; k++) pos[m->order[k]] = k;
    for (int k = 0; k < m->n_nodes; k++) {
        fused_chain *ch = &c->chain[k];
        int node = m->order[k], slot = -1, q, r;
        ch->stages = ch->pool = 0;
        ch->head = NULL;
        if (c->fused[k] == -1 && m->nodes[node].n_out == 1 && ferc_conv2d_head_fusable(&m->nodes[node], m->kernels) &&
            (q = sole_reader(m, m->nodes[node].out[0], &slot)) >= 0 && slot == 0 && m->nodes[q].n_out == 1 &&
            (r = sole_reader(m, m->nodes[q].out[0], &slot)) >= 0 && slot == 0 &&
            ferc_conv2d_pw_dw_fusable(&m->nodes[q], &m->nodes[r], m->kernels))
            ch->head = &m->nodes[node], node = q;
        while (c->fused[pos[node]] == -1 && m->nodes[node].n_out == 1 && ch->stages < FERC_CHAIN_MAX &&
               (q = sole_reader(m, m->nodes[node].out[0], &slot)) >= 0 && slot == 0 && c->fused[pos[q]] == -1 &&
               ferc_conv2d_pw_dw_fusable(&m->nodes[node], &m->nodes[q], m->kernels)) {
            ch->pw[ch->stages] = &m->nodes[node], ch->dw[ch->stages++] = &m->nodes[q];
            if (pos[node] != k) c->fused[pos[node]] = -2 - k;
            c->fused[pos[q]] = -2 - k;
            ch->last = pos[q];
            /* the next stage's 1x1 conv must read this one's output alone */
            if ((node = sole_reader(m, m->nodes[q].out[0], &slot)) < 0 || slot != 0) break;
        }
        if (!ch->stages) { /* no pair: a head alone, which the pooling below must follow */
            node = m->order[k];
            ch->head = c->fused[k] == -1 && m->nodes[node].n_out == 1 &&
                               ferc_conv2d_head_fusable(&m->nodes[node], m->kernels)
                           ? &m->nodes[node]
                           : NULL;
            if (!ch->head) continue;
        }
        const int v = ch->stages ? ch->dw[ch->stages - 1]->out[0] : ch->head->out[0];
        r = sole_reader(m, v, &slot);
        if (r >= 0 && slot == 0 && c->fused[pos[r]] == -1 &&
            ferc_maxpool_fusable(&m->nodes[r], &c->shapes[v], &c->shapes[m->nodes[r].out[0]], &ch->pd)) {
            ch->pool = 1;
            ch->last = pos[r];
            c->fused[pos[r]] = -2 - k;
        } else if (!ch->stages) {
            ch->head = NULL;
            continue;
        }
        c->fused[k] = 1;
    }
    free(pos);
}

/* The node whose outputs the run at position k writes: the last of a fused chain, or k's. */
static const ferc_node *fused_last(const ferc_context *c, int k)
{
    return &c->model->nodes[c->model->order[c->fused[k] >= 0 ? c->chain[k].last : k]];
}

/* The kernels' description of the chain at position k on input shape x. */
static void chain_of(const ferc_context *c, int k, ferc_pw_dw_chain *ch, const int64_t *x)
{
    const fused_chain *f = &c->chain[k];
    ferc_conv2d_chain(ch, f->head, f->pw, f->dw, f->stages, f->pool ? &f->pd : NULL, x);
}

ferc_status ferc_context_create(const ferc_model *m, const ferc_context_options *opt, ferc_context **out,
                                ferc_error *err)
{
    ferc_context_options o = {.max_batch = 1};
    if (opt) o = *opt;
    if (!m || !out) return ferc_set_error(err, FERC_ERR_ARG, "no model or output pointer");
    *out = NULL;
    if (o.max_batch < 1 || o.max_batch > 65536 || o.height < 0 || o.width < 0 || o.height > FERC_MAX_DIM ||
        o.width > FERC_MAX_DIM)
        return ferc_set_error(err, FERC_ERR_ARG, "bad context options (batch %d, size %dx%d)", o.max_batch,
                              o.width, o.height);
    if (!m->n_nodes) return ferc_set_error(err, FERC_ERR_ARG, "the file holds tensors only, no graph to run");
    ferc_context *c = calloc(1, sizeof *c);
    if (!c) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    c->model = m;
    c->max_batch = c->batch = o.max_batch;
    c->threads = o.threads > 0 ? o.threads : ferc_default_threads();
    c->shapes = calloc((size_t)m->n_values, sizeof *c->shapes);
    c->ptr = calloc((size_t)m->n_values, sizeof *c->ptr);
    c->tin = calloc(MAX_NODE_IO, sizeof *c->tin);
    c->tout = calloc(MAX_NODE_IO, sizeof *c->tout);
    plan_item *items = calloc((size_t)m->n_values, sizeof *items);
    c->fused = malloc(sizeof(int) * (size_t)m->n_nodes);
    c->chain = malloc(sizeof(fused_chain) * (size_t)m->n_nodes);
    if (o.flags & FERC_CTX_PROFILE) c->node_seconds = calloc((size_t)m->n_nodes, sizeof *c->node_seconds);
    c->cpu_clock = (o.flags & FERC_CTX_PROFILE_CPU) != 0;
    ferc_status s = FERC_OK;
    if (!c->shapes || !c->ptr || !items || !c->tin || !c->tout || !c->fused || !c->chain ||
        ((o.flags & FERC_CTX_PROFILE) && !c->node_seconds)) {
        s = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((s = ferc_graph_infer(m, o.max_batch, o.height, o.width, c->shapes, err))) goto done;
    /* Every activation stays readable with KEEP_ALL, so nothing is fused there. */
    if (o.flags & FERC_CTX_KEEP_ALL)
        for (int k = 0; k < m->n_nodes; k++) c->fused[k] = -1;
    else find_fusions(c);

    /* Lifetimes: inputs are written before the first node; outputs must survive the run. */
    int n_items = 0;
    int *item_of = malloc(sizeof(int) * (size_t)m->n_values);
    if (!item_of) { s = ferc_set_error(err, FERC_ERR_NOMEM, "out of memory"); goto done; }
    for (int i = 0; i < m->n_values; i++) item_of[i] = -1;
    for (int k = 0; k < m->n_nodes; k++) /* fused away: the intermediates get no memory */
        if (c->fused[k] != -1 && k != (c->fused[k] >= 0 ? c->chain[k].last : c->chain[-2 - c->fused[k]].last))
            item_of[m->nodes[m->order[k]].out[0]] = -2;
    for (int i = 0; i < m->n_values; i++) {
        if (item_of[i] == -2) { item_of[i] = -1; continue; }
        const ferc_value *v = &m->values[i];
        if (v->kind == FERC_VAL_PARAM) { c->ptr[i] = v->data; continue; }
        plan_item *it = &items[n_items];
        it->value = i;
        const size_t esize = v->dtype == FERC_DT_U8 ? 1 : sizeof(float);
        it->size = ferc_align_up((size_t)ferc_shape_numel(&c->shapes[i]) * esize);
        it->first = v->kind == FERC_VAL_INPUT ? -1 : m->n_nodes;
        it->last = -1;
        item_of[i] = n_items++;
    }
    for (int k = 0; k < m->n_nodes; k++) {
        const ferc_node *n = &m->nodes[m->order[k]];
        if (c->fused[k] < -1) continue; /* run with an earlier node */
        /* A fused chain writes its last node's outputs, here. */
        const ferc_node *w = fused_last(c, k);
        for (int j = 0; j < w->n_out; j++) {
            plan_item *it = &items[item_of[w->out[j]]];
            if (k < it->first) it->first = k;
            if (k > it->last) it->last = k;
        }
        for (int j = 0; j < n->n_in; j++)
            if (item_of[n->in[j]] >= 0 && k > items[item_of[n->in[j]]].last) items[item_of[n->in[j]]].last = k;
        size_t need = 0;
        if (w != n) {
            ferc_pw_dw_chain ch;
            chain_of(c, k, &ch, c->shapes[n->in[0]].d);
            need = m->kernels->conv2d_pw_dw_scratch(&ch);
        }
        else if (n->op->scratch) {
            ferc_shape in[MAX_NODE_IO], ou[MAX_NODE_IO];
            for (int j = 0; j < n->n_in; j++) in[j] = c->shapes[n->in[j]];
            for (int j = 0; j < n->n_out; j++) ou[j] = c->shapes[n->out[j]];
            need = n->op->scratch(n, in, ou);
        }
        if (need > c->scratch_size) c->scratch_size = need;
    }
    for (int i = 0; i < m->n_outputs; i++) items[item_of[m->outputs[i]]].last = m->n_nodes;
    if (o.flags & FERC_CTX_KEEP_ALL)
        for (int i = 0; i < n_items; i++) { items[i].first = -1; items[i].last = m->n_nodes; }
    c->arena_size = place(items, n_items);
    c->arena = ferc_alloc(c->arena_size);
    c->scratch = c->scratch_size ? ferc_alloc(c->scratch_size) : NULL;
    if (!c->arena || (c->scratch_size && !c->scratch)) {
        s = ferc_set_error(err, FERC_ERR_NOMEM, "cannot allocate %zu bytes of activations and %zu of scratch",
                           c->arena_size, c->scratch_size);
    } else {
        for (int i = 0; i < n_items; i++) c->ptr[items[i].value] = (float *)(void *)(c->arena + items[i].offset);
    }
    free(item_of);
done:
    free(items);
    if (s) { ferc_context_free(c); return s; }
    *out = c;
    return FERC_OK;
}

void ferc_context_free(ferc_context *c)
{
    if (!c) return;
    free(c->shapes);
    free(c->ptr);
    free(c->tin);
    free(c->tout);
    free(c->node_seconds);
    free(c->fused);
    free(c->chain);
    ferc_free(c->arena);
    ferc_free(c->scratch);
    free(c);
}

void ferc_context_set_threads(ferc_context *c, int threads) { c->threads = threads > 0 ? threads : ferc_default_threads(); }
int ferc_context_threads(const ferc_context *c) { return c->threads; }
size_t ferc_context_memory(const ferc_context *c) { return c->arena_size + c->scratch_size; }

static void fill_tensor(const ferc_context *c, int v, ferc_tensor *t)
{
    int param = c->model->values[v].kind == FERC_VAL_PARAM;
    const ferc_shape *s = param ? &c->model->values[v].shape : &c->shapes[v];
    t->ndim = s->ndim;
    for (int d = 0; d < 4; d++) t->dims[d] = d < s->ndim ? s->d[d] : 0;
    /* Activations are planned for max_batch; a smaller batch uses the front of each buffer. */
    if (!param) t->dims[0] = c->batch;
    t->data = c->ptr[v];
}

static double now_seconds(int cpu)
{
    struct timespec t;
    clock_gettime(cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

ferc_status ferc_run(ferc_context *c, const float *const *inputs, int batch, ferc_error *err)
{
    const ferc_model *m = c->model;
    if (batch < 1 || batch > c->max_batch)
        return ferc_set_error(err, FERC_ERR_ARG, "batch %d outside 1..%d planned for this context", batch,
                              c->max_batch);
    if (!inputs) return ferc_set_error(err, FERC_ERR_ARG, "no inputs");
    c->batch = batch;
    for (int i = 0; i < m->n_inputs; i++) {
        int v = m->inputs[i];
        if (!inputs[i]) return ferc_set_error(err, FERC_ERR_ARG, "input %d is NULL", i);
        size_t per = (size_t)(ferc_shape_numel(&c->shapes[v]) / c->max_batch);
        if (inputs[i] != c->ptr[v]) memcpy(c->ptr[v], inputs[i], per * (size_t)batch * sizeof(float));
    }
    for (int k = 0; k < m->n_nodes; k++) {
        const ferc_node *n = &m->nodes[m->order[k]];
        if (c->fused[k] < -1) { /* ran with an earlier node */
            if (c->node_seconds) c->node_seconds[k] = 0;
            continue;
        }
        const ferc_node *w = fused_last(c, k);
        for (int j = 0; j < n->n_in; j++) fill_tensor(c, n->in[j], &c->tin[j]);
        for (int j = 0; j < w->n_out; j++) fill_tensor(c, w->out[j], &c->tout[j]);
        ferc_op_args a = {c->tin, c->tout, c->scratch, c->threads, m->kernels};
        const double t0 = c->node_seconds ? now_seconds(c->cpu_clock) : 0;
        if (w != n) {
            ferc_pw_dw_chain ch;
            chain_of(c, k, &ch, c->tin[0].dims);
            m->kernels->conv2d_pw_dw(&ch, c->tin[0].data, c->tout[0].data, c->scratch, c->threads);
        }
        else n->op->run(n, &a);
        if (c->node_seconds) c->node_seconds[k] = now_seconds(c->cpu_clock) - t0;
    }
    return FERC_OK;
}

int ferc_output(const ferc_context *c, int i, ferc_tensor *t)
{
    if (i < 0 || i >= c->model->n_outputs) return -1;
    fill_tensor(c, c->model->outputs[i], t);
    return 0;
}

int ferc_context_value(const ferc_context *c, const char *name, ferc_tensor *t)
{
    for (int i = 0; i < c->model->n_values; i++)
        if (!strcmp(c->model->values[i].name, name)) {
            fill_tensor(c, i, t);
            return 0;
        }
    return -1;
}

/* ---- looking inside (ferc inspect, profile) ------------------------------------------ */

static int value_index(const ferc_model *m, const char *name)
{
    for (int i = 0; i < m->n_values; i++)
        if (!strcmp(m->values[i].name, name)) return i;
    return -1;
}

int ferc_context_value_place(const ferc_context *c, const char *name, size_t *offset, size_t *bytes)
{
    int v = value_index(c->model, name);
    if (v < 0 || c->model->values[v].kind == FERC_VAL_PARAM || !c->ptr[v]) return -1;
    *offset = (size_t)((uint8_t *)c->ptr[v] - c->arena);
    *bytes = ferc_align_up((size_t)ferc_shape_numel(&c->shapes[v]) * sizeof(float));
    return 0;
}

size_t ferc_context_arena_bytes(const ferc_context *c) { return c->arena_size; }

int64_t ferc_context_node_macs(const ferc_context *c, int i)
{
    const ferc_model *m = c->model;
    if (i < 0 || i >= m->n_nodes) return 0;
    const ferc_node *n = &m->nodes[m->order[i]];
    if (!n->op->macs) return 0;
    ferc_shape in[MAX_NODE_IO], out[MAX_NODE_IO];
    for (int j = 0; j < n->n_in; j++) {
        in[j] = m->values[n->in[j]].kind == FERC_VAL_PARAM ? m->values[n->in[j]].shape : c->shapes[n->in[j]];
        if (m->values[n->in[j]].kind != FERC_VAL_PARAM) in[j].d[0] = c->batch;
    }
    for (int j = 0; j < n->n_out; j++) {
        out[j] = c->shapes[n->out[j]];
        out[j].d[0] = c->batch;
    }
    return n->op->macs(n, in, out);
}

int ferc_context_node_runner(const ferc_context *c, int i)
{
    if (i < 0 || i >= c->model->n_nodes) return -1;
    return c->fused[i] < -1 ? -2 - c->fused[i] : i;
}

double ferc_context_node_seconds(const ferc_context *c, int i)
{
    return c->node_seconds && i >= 0 && i < c->model->n_nodes ? c->node_seconds[i] : 0;
}
