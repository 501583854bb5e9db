/* inspect.c - `ferc inspect MODEL.ferc`: the metadata, then one row per node in execution
 * order (op, kernel path, input and output shapes, parameters and their dtype, MACs, where the
 * memory planner put the output, attributes), then totals. Text or JSON. */
#include "tools/cli/look.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: ferc inspect [--format text|json] MODEL.ferc\n"
    "\n"
    "What a weight file holds: its metadata (name, task, labels, preprocessing, provenance,\n"
    "accuracy), then one row per node in execution order: name, op, the kernel path chosen\n"
    "for this CPU (ISA and variant: winograd, gemm, gemm-1x1, dot, depthwise, direct; 'c' for\n"
    "plain loops that are the same on every ISA), input and output shapes (NHWC, batch 1, the\n"
    "nominal input size), parameter count and dtype as stored, multiply-accumulates, the\n"
    "memory planner's offset and bytes for the output in the activation arena, attributes.\n"
    "Totals: nodes, parameters, MACs, arena and scratch bytes, file bytes.\n"
    "A file that does not load gives the loader's message and exit status 1.\n"
    "\n"
    "  --format text|json   output format (default text)\n";

typedef struct {
    const ferc_model *m;
    ferc_context *ctx; /* batch 1, nominal size: the planner's offsets */
} view;

static const char *value_shape(const view *v, const char *name, int compact, char *buf, size_t size)
{
    int nd;
    int64_t d[4];
    if (ferc_model_value_shape(v->m, name, &nd, d)) nd = 0;
    return look_shape(nd, d, compact, buf, size);
}

static int is_param(const ferc_model *m, const char *name)
{
    ferc_tensor t;
    return !ferc_model_tensor(m, name, &t);
}

/* "stride=1,1 pad=1,1,1,1" into buf. */
static void attrs_text(const ferc_model *m, int i, char *buf, size_t size)
{
    ferc_node_info info;
    ferc_model_node_info(m, i, &info);
    size_t n = 0;
    buf[0] = 0;
    for (int a = 0; a < info.n_attrs && n < size; a++) {
        const char *key;
        int count;
        const int32_t *ints;
        const float *floats;
        ferc_model_node_attr(m, i, a, &key, &count, &ints, &floats);
        n += (size_t)snprintf(buf + n, size - n, "%s%s=", a ? " " : "", key);
        for (int k = 0; k < count && n < size; k++)
            n += ints ? (size_t)snprintf(buf + n, size - n, "%s%d", k ? "," : "", ints[k])
                      : (size_t)snprintf(buf + n, size - n, "%s%g", k ? "," : "", floats[k]);
    }
}

static void print_text(const view *v, const char *path, long long file_bytes)
{
    const ferc_model *m = v->m;
    char a[96], b[96];
    printf("%s  %lld bytes\n", path, file_bytes);
    for (int i = 0; i < ferc_model_meta_count(m); i++) {
        const char *k = ferc_model_meta_key(m, i);
        printf("  %-22s %s\n", k, ferc_model_meta(m, k));
    }
    for (int i = 0; i < ferc_model_num_inputs(m); i++)
        printf("input  %s %s\n", ferc_model_input_name(m, i), value_shape(v, ferc_model_input_name(m, i), 0, a, sizeof a));
    for (int i = 0; i < ferc_model_num_outputs(m); i++)
        printf("output %s %s\n", ferc_model_output_name(m, i), value_shape(v, ferc_model_output_name(m, i), 0, a, sizeof a));
    int n = ferc_model_num_nodes(m);
    if (!n) {
        printf("no graph: %d tensors\n", ferc_model_num_tensors(m));
        return;
    }
    printf("\n%3s  %-24s %-14s %-19s %-24s %-14s %9s %-4s %12s %19s  %s\n", "#", "name", "op", "path", "in", "out",
           "params", "type", "MACs", "arena offset+bytes", "attributes");
    int64_t params = 0, macs = 0;
    for (int i = 0; i < n; i++) {
        ferc_node_info info;
        ferc_model_node_info(m, i, &info);
        /* Inputs that are activations (parameters are counted, not listed). */
        size_t k = 0;
        a[0] = 0;
        for (int j = 0; j < info.n_inputs && k < sizeof a; j++) {
            const char *in = ferc_model_node_input(m, i, j);
            if (is_param(m, in)) continue;
            k += (size_t)snprintf(a + k, sizeof a - k, "%s%s", k ? " " : "", value_shape(v, in, 1, b, sizeof b));
        }
        const char *out = ferc_model_node_output(m, i, 0);
        size_t off = 0, bytes = 0;
        char place[48], attrs[512];
        if (ferc_context_value_place(v->ctx, out, &off, &bytes)) snprintf(place, sizeof place, "-");
        else snprintf(place, sizeof place, "%zu+%zu", off, bytes);
        attrs_text(m, i, attrs, sizeof attrs);
        printf("%3d  %-24s %-14s %-19s %-24s %-14s %9lld %-4s %12lld %19s  %s\n", i, info.name, info.op, info.path, a,
               value_shape(v, out, 1, b, sizeof b), (long long)info.params, *info.dtype ? info.dtype : "-",
               (long long)info.macs, place, attrs);
        params += info.params;
        macs += info.macs;
    }
    printf("\ntotal: %d nodes, %lld parameters in nodes (%lld in the file), %.4g M MACs per sample, "
           "arena %zu bytes + scratch %zu, file %lld bytes\n",
           n, (long long)params, (long long)ferc_model_param_count(m), macs / 1e6, ferc_context_arena_bytes(v->ctx),
           ferc_context_memory(v->ctx) - ferc_context_arena_bytes(v->ctx), file_bytes);
}

static void json_shape(const view *v, const char *name)
{
    int nd;
    int64_t d[4];
    if (ferc_model_value_shape(v->m, name, &nd, d)) nd = 0;
    putchar('[');
    for (int i = 0; i < nd; i++) printf("%s%lld", i ? "," : "", (long long)d[i]);
    putchar(']');
}

static void json_value(const view *v, const char *name)
{
    printf("{\"name\":");
    cli_json_string(stdout, name);
    printf(",\"shape\":");
    json_shape(v, name);
    size_t off, bytes;
    if (is_param(v->m, name)) printf(",\"param\":true");
    else if (v->ctx && !ferc_context_value_place(v->ctx, name, &off, &bytes))
        printf(",\"offset\":%zu,\"bytes\":%zu", off, bytes);
    putchar('}');
}

static void print_json(const view *v, const char *path, long long file_bytes)
{
    const ferc_model *m = v->m;
    printf("{\"file\":");
    cli_json_string(stdout, path);
    printf(",\"file_bytes\":%lld,\"isa\":\"%s\",\"metadata\":{", file_bytes, ferc_isa_name());
    for (int i = 0; i < ferc_model_meta_count(m); i++) {
        const char *k = ferc_model_meta_key(m, i);
        printf("%s", i ? "," : "");
        cli_json_string(stdout, k);
        putchar(':');
        cli_json_string(stdout, ferc_model_meta(m, k));
    }
    printf("},\"inputs\":[");
    for (int i = 0; i < ferc_model_num_inputs(m); i++) {
        printf("%s", i ? "," : "");
        json_value(v, ferc_model_input_name(m, i));
    }
    printf("],\"outputs\":[");
    for (int i = 0; i < ferc_model_num_outputs(m); i++) {
        printf("%s", i ? "," : "");
        json_value(v, ferc_model_output_name(m, i));
    }
    printf("],\"nodes\":[");
    int64_t params = 0, macs = 0;
    for (int i = 0; i < ferc_model_num_nodes(m); i++) {
        ferc_node_info info;
        ferc_model_node_info(m, i, &info);
        printf("%s{\"index\":%d,\"name\":", i ? "," : "", i);
        cli_json_string(stdout, info.name);
        printf(",\"op\":\"%s\",\"path\":\"%s\",\"params\":%lld,\"dtype\":\"%s\",\"macs\":%lld,\"inputs\":[", info.op,
               info.path, (long long)info.params, info.dtype, (long long)info.macs);
        for (int j = 0; j < info.n_inputs; j++) {
            printf("%s", j ? "," : "");
            json_value(v, ferc_model_node_input(m, i, j));
        }
        printf("],\"outputs\":[");
        for (int j = 0; j < info.n_outputs; j++) {
            printf("%s", j ? "," : "");
            json_value(v, ferc_model_node_output(m, i, j));
        }
        printf("],\"attributes\":{");
        for (int a = 0; a < info.n_attrs; a++) {
            const char *key;
            int count;
            const int32_t *ints;
            const float *floats;
            ferc_model_node_attr(m, i, a, &key, &count, &ints, &floats);
            printf("%s", a ? "," : "");
            cli_json_string(stdout, key);
            printf(":[");
            for (int k = 0; k < count; k++)
                ints ? printf("%s%d", k ? "," : "", ints[k]) : printf("%s%.9g", k ? "," : "", floats[k]);
            putchar(']');
        }
        printf("}}");
        params += info.params;
        macs += info.macs;
    }
    printf("],\"totals\":{\"nodes\":%d,\"params\":%lld,\"file_params\":%lld,\"macs\":%lld,\"arena_bytes\":%zu,"
           "\"scratch_bytes\":%zu,\"file_bytes\":%lld}}\n",
           ferc_model_num_nodes(m), (long long)params, (long long)ferc_model_param_count(m), (long long)macs,
           v->ctx ? ferc_context_arena_bytes(v->ctx) : 0,
           v->ctx ? ferc_context_memory(v->ctx) - ferc_context_arena_bytes(v->ctx) : 0, file_bytes);
}

int cli_inspect(int argc, char **argv)
{
    const char *path = NULL, *format = "text", *v;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 0;
        }
        if ((v = cli_opt_value("--format", argc, argv, &i))) format = v;
        else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "ferc inspect: unexpected argument %s (see ferc inspect --help)\n", argv[i]);
            return 2;
        } else path = argv[i];
    }
    if (!path || (strcmp(format, "text") && strcmp(format, "json"))) {
        fputs(path ? "ferc inspect: --format is text or json\n" : usage, stderr);
        return 2;
    }
    ferc_model *m;
    ferc_error err;
    if (ferc_model_load(path, &m, &err)) {
        fprintf(stderr, "ferc inspect: %s\n", err.message);
        return 1;
    }
    view vw = {m, NULL};
    ferc_context_options o = {1, 0, 0, 1, 0};
    if (ferc_model_num_nodes(m) && ferc_context_create(m, &o, &vw.ctx, &err)) {
        fprintf(stderr, "ferc inspect: %s: %s\n", path, err.message);
        ferc_model_free(m);
        return 1;
    }
    struct stat st;
    long long bytes = stat(path, &st) ? -1 : (long long)st.st_size;
    if (!strcmp(format, "json")) print_json(&vw, path, bytes);
    else print_text(&vw, path, bytes);
    ferc_context_free(vw.ctx);
    ferc_model_free(m);
    return 0;
}
