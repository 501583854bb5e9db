/* layer_diff - runs a model on the input stored in a reference file and prints, for every
 * tensor of that file that names an activation, the largest difference to the reference
 * relative to the reference's largest magnitude. Used by bench/compare_res10.py.
 *
 *   layer_diff MODEL.ferc REF.ferc [TOL]   exit 1 if any relative difference exceeds TOL */
#include "ferc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.ferc REF.ferc [TOL]\n", argv[0]);
        return 2;
    }
    double tol = argc > 3 ? atof(argv[3]) : 1e-4;
    ferc_error err;
    ferc_model *m, *ref;
    if (ferc_model_load(argv[1], &m, &err) || ferc_model_load(argv[2], &ref, &err)) {
        fprintf(stderr, "layer_diff: %s\n", err.message);
        return 1;
    }
    ferc_tensor in;
    if (ferc_model_tensor(ref, ferc_model_input_name(m, 0), &in)) {
        fprintf(stderr, "layer_diff: %s has no input '%s'\n", argv[2], ferc_model_input_name(m, 0));
        return 1;
    }
    ferc_context_options opt = {
        .max_batch = 1, .height = (int)in.dims[1], .width = (int)in.dims[2], .flags = FERC_CTX_KEEP_ALL};
    ferc_context *ctx;
    const float *inputs[1] = {in.data};
    if (ferc_context_create(m, &opt, &ctx, &err) || ferc_run(ctx, inputs, 1, &err)) {
        fprintf(stderr, "layer_diff: %s\n", err.message);
        return 1;
    }
    int bad = 0, n = 0;
    for (int i = 0; i < ferc_model_num_tensors(ref); i++) {
        const char *name = ferc_model_tensor_name(ref, i);
        ferc_tensor want, got;
        ferc_model_tensor(ref, name, &want);
        if (ferc_context_value(ctx, name, &got) || !strcmp(name, ferc_model_input_name(m, 0))) continue;
        size_t count = 1, gcount = 1;
        for (int d = 0; d < want.ndim; d++) count *= (size_t)want.dims[d];
        for (int d = 0; d < got.ndim; d++) gcount *= (size_t)got.dims[d];
        if (count != gcount) {
            printf("%-40s size %zu, reference %zu\n", name, gcount, count);
            bad++;
            continue;
        }
        double maxref = 0, maxd = 0;
        for (size_t k = 0; k < count; k++) {
            double d = fabs((double)got.data[k] - want.data[k]);
            if (fabs(want.data[k]) > maxref) maxref = fabs(want.data[k]);
            if (!(d <= maxd)) maxd = d;
        }
        double rel = maxd / (maxref > 0 ? maxref : 1);
        printf("%-40s %8zu values  max|ref| %10.4g  max|diff| %10.4g  rel %9.3g%s\n", name, count, maxref, maxd, rel,
               rel > tol ? "  <-- over tolerance" : "");
        bad += rel > tol;
        n++;
    }
    printf("%d tensors compared, %d over %g\n", n, bad, tol);
    ferc_context_free(ctx);
    ferc_model_free(ref);
    ferc_model_free(m);
    return bad ? 1 : 0;
}
