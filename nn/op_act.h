/* op_act.h - the fused activation attributes shared by conv2d, dense, add and batchnorm:
 * "act" (0 none, 1 relu, 2 relu6, 3 leaky relu) and "alpha" (leaky slope). */
#ifndef FERC_NN_OP_ACT_H
#define FERC_NN_OP_ACT_H

#include "nn/model.h"

static inline ferc_status ferc_parse_act(const ferc_node *n, int *act, float *alpha, ferc_error *err)
{
    ferc_status s;
    if ((s = ferc_attr_int(n, "act", FERC_ACT_NONE, act, err))) return s;
    if ((s = ferc_attr_float(n, "alpha", 0.01f, alpha, err))) return s;
    if (*act < FERC_ACT_NONE || *act > FERC_ACT_LEAKY)
        return ferc_set_error(err, FERC_ERR_FORMAT, "unknown activation %d", *act);
    if (!(*alpha == *alpha)) return ferc_set_error(err, FERC_ERR_FORMAT, "alpha is NaN");
    return FERC_OK;
}

#endif
