/* trace.c - `ferc trace MODEL IMAGE --out DIR`: every node's output for one input as a .npy
 * file, and min / max / mean / zeros per node, so activations can be put beside PyTorch's. */
#include "tools/cli/look.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: ferc trace MODEL.ferc IMAGE --out DIR [--node NAME]\n"
    "\n"
    "Runs the model once on IMAGE, the whole image taken as the network input (no face\n"
    "detection): resized to the model's input size and normalised as its metadata says (as\n"
    "ferc_classify does for emotion models, as the SSD does for face_res10). Writes into DIR:\n"
    "  input.npy                 the network input\n"
    "  NN_<node>.npy             each node's output (NN: execution order; '/' in names as '_')\n"
    "  summary.json              per node: name, op, shape, min, max, mean, zeros, file\n"
    "and prints the summary as a table. Arrays are float32 in ferc's layout, NHWC (PyTorch's\n"
    "NCHW is x.transpose(0, 3, 1, 2)), batch 1.\n"
    "\n"
    "  --out DIR     where to write (created if missing)\n"
    "  --node NAME   only this node's output (and the input)\n";

static int write_npy(const char *dir, const char *file, const ferc_tensor *t)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (!look_write_npy(path, t)) return 0;
    fprintf(stderr, "ferc trace: %s: %s\n", path, strerror(errno));
    return -1;
}

int cli_trace(int argc, char **argv)
{
    const char *model = NULL, *image = NULL, *out = NULL, *only = NULL, *v;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 0;
        }
        if ((v = cli_opt_value("--out", argc, argv, &i))) out = v;
        else if ((v = cli_opt_value("--node", argc, argv, &i))) only = v;
        else if (argv[i][0] == '-' || image) {
            fprintf(stderr, "ferc trace: unexpected argument %s (see ferc trace --help)\n", argv[i]);
            return 2;
        } else if (model) image = argv[i];
        else model = argv[i];
    }
    if (!image || !out) {
        fprintf(stderr, "ferc trace: needs MODEL.ferc IMAGE --out DIR (see ferc trace --help)\n");
        return 2;
    }
    ferc_model *m;
    ferc_error err;
    if (ferc_model_load(model, &m, &err)) {
        fprintf(stderr, "ferc trace: %s\n", err.message);
        return 1;
    }
    const int n = ferc_model_num_nodes(m);
    int want = -1;
    for (int k = 0; only && k < n; k++) {
        ferc_node_info info;
        ferc_model_node_info(m, k, &info);
        if (!strcmp(info.name, only)) want = k;
    }
    ferc_context *ctx = NULL;
    ferc_context_options o = {1, 0, 0, 0, FERC_CTX_KEEP_ALL};
    ferc_tensor in;
    int rc = 1;
    struct stat st;
    FILE *sum = NULL;
    char path[2048];
    snprintf(path, sizeof path, "%s/summary.json", out);
    if (only && want < 0) fprintf(stderr, "ferc trace: %s has no node '%s' (ferc inspect lists them)\n", model, only);
    else if (!n) fprintf(stderr, "ferc trace: %s holds tensors only, no graph to run\n", model);
    else if (ferc_model_num_inputs(m) != 1)
        fprintf(stderr, "ferc trace: the model needs %d inputs; trace feeds one\n", ferc_model_num_inputs(m));
    else if (ferc_context_create(m, &o, &ctx, &err)) fprintf(stderr, "ferc trace: %s\n", err.message);
    else rc = 0;
    /* The input is prepared in place in the arena (KEEP_ALL: nothing else lives there). */
    if (!rc) {
        ferc_context_value(ctx, ferc_model_input_name(m, 0), &in);
        rc = look_model_input(m, image, 0, 0, in.data) ? 1 : 0;
    }
    if (!rc && stat(out, &st) && mkdir(out, 0777) && errno != EEXIST) {
        fprintf(stderr, "ferc trace: %s: %s\n", out, strerror(errno));
        rc = 1;
    }
    if (!rc && !(sum = fopen(path, "w"))) {
        fprintf(stderr, "ferc trace: %s: %s\n", path, strerror(errno));
        rc = 1;
    }
    if (rc) goto done;
    /* ferc_run copies its input into the arena: run from a copy of what we wrote there. */
    size_t count = 1;
    for (int d = 0; d < in.ndim; d++) count *= (size_t)in.dims[d];
    float *x = malloc(count * sizeof(float));
    const float *inputs[1] = {x};
    if (x) memcpy(x, in.data, count * sizeof(float));
    if (!x || ferc_run(ctx, inputs, 1, &err)) {
        fprintf(stderr, "ferc trace: %s\n", x ? err.message : "out of memory");
        free(x);
        rc = 1;
        goto done;
    }
    free(x);
    rc = write_npy(out, "input.npy", &in);
    fprintf(sum, "{\"model\":");
    cli_json_string(sum, model);
    fprintf(sum, ",\"image\":");
    cli_json_string(sum, image);
    fprintf(sum, ",\"isa\":\"%s\",\"layout\":\"NHWC\",\"nodes\":[", ferc_isa_name());
    printf("%3s  %-28s %-14s %-16s %12s %12s %12s %7s  %s\n", "#", "node", "op", "shape", "min", "max", "mean", "zeros",
           "file");
    int first = 1;
    for (int k = 0; k < n && !rc; k++) {
        if (want >= 0 && k != want) continue;
        ferc_node_info info;
        ferc_model_node_info(m, k, &info);
        ferc_tensor t;
        ferc_context_value(ctx, info.name, &t);
        size_t cnt = 1, zeros = 0;
        for (int d = 0; d < t.ndim; d++) cnt *= (size_t)t.dims[d];
        double lo = INFINITY, hi = -INFINITY, mean = 0;
        for (size_t i = 0; i < cnt; i++) {
            const double e = t.data[i];
            lo = e < lo ? e : lo, hi = e > hi ? e : hi, mean += e, zeros += e == 0;
        }
        mean /= (double)cnt;
        char file[300], shp[64];
        snprintf(file, sizeof file, "%02d_%s.npy", k, info.name);
        for (char *c = file; *c; c++)
            if (*c == '/' || *c == '\\') *c = '_';
        rc = write_npy(out, file, &t);
        look_shape(t.ndim, t.dims, 1, shp, sizeof shp);
        printf("%3d  %-28s %-14s %-16s %12.5g %12.5g %12.5g %6.1f%%  %s\n", k, info.name, info.op, shp, lo, hi, mean,
               100.0 * (double)zeros / (double)cnt, file);
        fprintf(sum, "%s{\"index\":%d,\"name\":", first ? "" : ",", k);
        cli_json_string(sum, info.name);
        fprintf(sum, ",\"op\":\"%s\",\"shape\":[", info.op);
        for (int d = 0; d < t.ndim; d++) fprintf(sum, "%s%lld", d ? "," : "", (long long)t.dims[d]);
        fprintf(sum, "],\"min\":%.9g,\"max\":%.9g,\"mean\":%.9g,\"zeros\":%zu,\"count\":%zu,\"file\":", lo, hi, mean,
                zeros, cnt);
        cli_json_string(sum, file);
        fputc('}', sum);
        first = 0;
    }
    fprintf(sum, "]}\n");
done:
    if (sum && fclose(sum) && !rc) {
        fprintf(stderr, "ferc trace: %s: %s\n", path, strerror(errno));
        rc = 1;
    }
    ferc_context_free(ctx);
    ferc_model_free(m);
    return rc;
}
