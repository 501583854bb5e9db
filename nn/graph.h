/* graph.h - graph validation, memory planning and execution (graph.c). */
#ifndef FERC_NN_GRAPH_H
#define FERC_NN_GRAPH_H

#include "nn/model.h"

#define MAX_NODE_IO 64 /* inputs, or outputs, of one node at most */

/* Called by the loader once the tables are parsed: producers, topological order (rejecting
 * cycles), per-op prepare, and shape inference at the nominal input shapes. */
ferc_status ferc_graph_check(ferc_model *m, ferc_error *err);

/* Shapes of every value for the given batch and input size (0 keeps the nominal size).
 * shapes must hold m->n_values entries. */
ferc_status ferc_graph_infer(const ferc_model *m, int batch, int height, int width,
                             ferc_shape *shapes, ferc_error *err);

uint32_t ferc_crc32(const uint8_t *p, size_t n);

#endif
