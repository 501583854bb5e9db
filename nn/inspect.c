/* inspect.c - what a loaded model holds, node by node, for `ferc inspect` and the Python
 * package: op, inputs and outputs, attributes, parameters, MACs and the kernel path chosen.
 * Nodes are numbered in execution order. Read-only: the model stays shareable. */
#include "nn/graph.h"
#include "kernels/q8.h"

#include <stdio.h>
#include <string.h>

static const ferc_node *node_at(const ferc_model *m, int i)
{
    return i >= 0 && i < m->n_nodes ? &m->nodes[m->order[i]] : NULL;
}

int ferc_model_node_info(const ferc_model *m, int i, ferc_node_info *info)
{
    const ferc_node *n = node_at(m, i);
    if (!n) return -1;
    memset(info, 0, sizeof *info);
    info->name = ferc_node_name(m, n);
    info->op = n->op->name;
    info->n_inputs = n->n_in;
    info->n_outputs = n->n_out;
    info->n_attrs = n->n_attr;
    info->dtype = "";
    static const char *const dtypes[] = {"f32", "f16", "q8", "i8", "i32", "u8"};
    ferc_shape in[MAX_NODE_IO], out[MAX_NODE_IO];
    for (int j = 0; j < n->n_in; j++) {
        const ferc_value *v = &m->values[n->in[j]];
        in[j] = v->shape;
        if (v->kind != FERC_VAL_PARAM) continue;
        info->params += ferc_shape_numel(&v->shape);
        if (!*info->dtype && v->dtype >= 0 && v->dtype < 6) info->dtype = dtypes[v->dtype];
    }
    for (int j = 0; j < n->n_out; j++) out[j] = m->values[n->out[j]].shape;
    info->macs = n->op->macs ? n->op->macs(n, in, out) : 0;
    const char *isa = ferc_op_is_int8(n->op) ? m->q8->isa : m->kernels->isa;
    if (n->op->path) snprintf(info->path, sizeof info->path, "%s %s", isa, n->op->path(n, m->kernels));
    else snprintf(info->path, sizeof info->path, "c");
    return 0;
}

const char *ferc_model_node_input(const ferc_model *m, int i, int j)
{
    const ferc_node *n = node_at(m, i);
    return n && j >= 0 && j < n->n_in ? m->values[n->in[j]].name : NULL;
}

const char *ferc_model_node_output(const ferc_model *m, int i, int j)
{
    const ferc_node *n = node_at(m, i);
    return n && j >= 0 && j < n->n_out ? m->values[n->out[j]].name : NULL;
}

int ferc_model_node_attr(const ferc_model *m, int i, int a, const char **key, int *count, const int32_t **ints,
                         const float **floats)
{
    const ferc_node *n = node_at(m, i);
    if (!n || a < 0 || a >= n->n_attr) return -1;
    const ferc_attr *at = &n->attrs[a];
    *key = at->key;
    *count = at->count;
    *ints = at->type == FERC_ATTR_INTS ? at->ints : NULL;
    *floats = at->type == FERC_ATTR_FLOATS ? at->floats : NULL;
    return 0;
}

int ferc_model_value_shape(const ferc_model *m, const char *name, int *ndim, int64_t dims[4])
{
    for (int i = 0; i < m->n_values; i++) {
        if (strcmp(m->values[i].name, name)) continue;
        const ferc_shape *s = &m->values[i].shape;
        *ndim = s->ndim;
        for (int d = 0; d < 4; d++) dims[d] = d < s->ndim ? s->d[d] : 0;
        return 0;
    }
    return -1;
}
