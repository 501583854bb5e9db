/* look.h - the commands that look inside a model (docs/cli.md, "Looking inside"):
 * inspect.c, profile.c, trace.c, explain.c, and what they share (look.c). */
#ifndef FERC_TOOLS_CLI_LOOK_H
#define FERC_TOOLS_CLI_LOOK_H

#include "tools/cli/cli.h"
#include "tools/cli/json.h"

int cli_inspect(int argc, char **argv);
int cli_profile(int argc, char **argv);
int cli_trace(int argc, char **argv);
int cli_explain(int argc, char **argv);

/* "[1, 48, 48, 32]" into buf (compact: "1x48x48x32" when compact). Returns buf. */
const char *look_shape(int ndim, const int64_t *dims, int compact, char *buf, size_t size);

/* The input the model takes for the image at path, height x width (its nominal size when
 * 0): a 1-channel model gets the image as one face: gray, resized as cv2.resize does
 * (INTER_AREA to shrink, INTER_LINEAR to enlarge), CLAHE if the metadata says, then
 * (pixel/255 - mean)/std from the metadata, as ferc_classify. A 3-channel model (the SSD)
 * gets the image resized bilinearly, in the metadata's channel_order, minus its per-channel
 * mean, as ferc_ssd_detect. out holds height x width x channels floats. Prints the error
 * and returns -1 on failure. */
int look_model_input(const ferc_model *m, const char *path, int height, int width, float *out);

/* A float32 .npy file (NumPy format 1.0, C order). Returns 0, or -1 with errno set. */
int look_write_npy(const char *path, const ferc_tensor *t);

#endif
