/* test_inspect.c - looking inside models: the introspection API (node info, planner
 * placement, per-node MACs and times) against the model cards (weights/NAME.md), and the
 * inspect, profile, trace and explain commands ($FERC_BUILD/ferc) end to end. */
#include "testutil.h"
#include "json.h"

#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpd[64];

static ferc_model *load(const char *rel)
{
    char path[512];
    ferc_model *m;
    ferc_error err;
    ck_assert_msg(ferc_model_load(test_path(rel, path, sizeof path), &m, &err) == FERC_OK, "%s", err.message);
    return m;
}

/* A fixture's path (test_path) in one of 8 rotating buffers, for command lines. */
static const char *tf(const char *rel)
{
    static char bufs[8][512];
    static int next;
    return test_path(rel, bufs[next++ % 8], sizeof bufs[0]);
}

static char *slurp(const char *path)
{
    size_t n;
    unsigned char *b = read_file(path, &n);
    if (!b) return NULL;
    char *s = realloc(b, n + 1);
    s[n] = 0;
    return s;
}

/* Runs `ferc ARGS`; *out and *err malloc'd; returns the exit status. */
static int run(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run(char **out, char **err, const char *fmt, ...)
{
    char args[2048], cmd[4096], o[128], e[128];
    const char *build = getenv("FERC_BUILD");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(o, sizeof o, "%s/stdout", tmpd);
    snprintf(e, sizeof e, "%s/stderr", tmpd);
    char weights[512];
    test_path("../weights", weights, sizeof weights);
    snprintf(cmd, sizeof cmd, "FERC_WEIGHTS=%s %s/ferc %s >%s 2>%s", weights, build && *build ? build : "build", args, o,
             e);
    int st = system(cmd);
    *out = slurp(o), *err = slurp(e);
    ck_assert(*out && *err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

typedef struct {
    int nodes, convs;
    int64_t params, conv_params, macs;
} totals;

static totals count(const ferc_model *m)
{
    totals t = {ferc_model_num_nodes(m), 0, 0, 0, 0};
    for (int i = 0; i < t.nodes; i++) {
        ferc_node_info info;
        ck_assert_int_eq(ferc_model_node_info(m, i, &info), 0);
        t.params += info.params;
        t.macs += info.macs;
        if (!strcmp(info.op, "conv2d")) t.convs++, t.conv_params += info.params;
        /* The path names the ISA in use, or says the op is plain C. */
        ck_assert_msg(!strcmp(info.path, "c") || !strncmp(info.path, ferc_isa_name(), strlen(ferc_isa_name())),
                      "%s: path %s", info.name, info.path);
    }
    ferc_node_info info;
    ck_assert_int_eq(ferc_model_node_info(m, t.nodes, &info), -1);
    return t;
}

/* The figures in weights/emotion_cnn.md, emotion_small.md, emotion_lbp_svm.md, face_res10.md. */
START_TEST(shipped_models_match_their_cards)
{
    ferc_model *m = load("../weights/emotion_cnn.ferc");
    totals t = count(m);
    /* 7 convs (BN folded, ReLU fused), 3 max pools, global average pool, flatten, dropout
     * (identity), linear: 14 nodes; "1,164,231 after folding"; "96.2 M per face". */
    ck_assert_int_eq(t.nodes, 14);
    ck_assert_int_eq(t.convs, 7);
    ck_assert_int_eq(t.params, 1164231);
    ck_assert_int_eq((t.macs + 50000) / 100000, 962);
    ck_assert_int_eq(t.macs, atoll(ferc_model_meta(m, "macs"))); /* what the exporter counted */
    ferc_node_info info;
    ferc_model_node_info(m, 2, &info);
    ck_assert_str_eq(info.name, "features.4");
    ck_assert_int_eq(info.params, 3 * 3 * 32 * 64 + 64);
    ck_assert_int_eq(info.macs, 24 * 24 * 64 * 3 * 3 * 32);
    ck_assert_str_eq(info.dtype, "f32");
    ck_assert_str_eq(info.path + strlen(ferc_isa_name()) + 1, strcmp(ferc_isa_name(), "scalar") ? "winograd" : "direct");
    const char *key;
    int cnt;
    const int32_t *ints;
    const float *floats;
    int found_pad = 0;
    for (int a = 0; ferc_model_node_attr(m, 2, a, &key, &cnt, &ints, &floats) == 0; a++)
        if (!strcmp(key, "pad")) {
            found_pad = 1;
            ck_assert(ints && !floats && cnt == 4 && ints[0] == 1 && ints[3] == 1);
        }
    ck_assert(found_pad);
    ck_assert_str_eq(ferc_model_node_input(m, 2, 0), "features.3");
    ck_assert_ptr_null(ferc_model_node_input(m, 2, 3));
    int nd;
    int64_t d[4];
    ck_assert_int_eq(ferc_model_value_shape(m, "features.4", &nd, d), 0);
    ck_assert(nd == 4 && d[0] == 1 && d[1] == 24 && d[2] == 24 && d[3] == 64);
    ck_assert_int_eq(ferc_model_value_shape(m, "no such value", &nd, d), -1);
    ferc_model_free(m);

    m = load("../weights/emotion_small.ferc");
    t = count(m);
    ck_assert_int_eq(t.nodes, 14);
    ck_assert_int_eq(t.convs, 7);
    ck_assert_int_eq(t.params, 93607);
    ck_assert_int_eq((t.macs + 50000) / 100000, 212);
    ferc_model_free(m);

    /* 5 lbp_histogram nodes, concat, dense [7, 35695] + bias, softmax; 249,872 parameters. */
    m = load("../weights/emotion_lbp_svm.ferc");
    t = count(m);
    ck_assert_int_eq(t.nodes, 8);
    ck_assert_int_eq(t.params, 249872);
    ck_assert_int_eq(t.macs, 7 * 35695);
    ferc_model_free(m);

    /* "32 convolutions, 2,658,068 convolution parameters"; "1.179 G multiply-accumulates per
     * 300x300 frame"; weights stored as q8. (The card's 2,663,526 parameters in all counts
     * the batch norms as OpenCV holds them; the file holds them as scale and shift.) */
    m = load("../weights/face_res10.ferc");
    t = count(m);
    ck_assert_int_eq(t.convs, 32);
    ck_assert_int_eq(t.conv_params, 2658068);
    ck_assert_int_eq((t.macs + 500000) / 1000000, 1179);
    ferc_model_node_info(m, 1, &info);
    ck_assert_str_eq(info.op, "conv2d");
    ck_assert_str_eq(info.dtype, "q8");
    ferc_model_free(m);

    /* Converted files (tools/model/convert.py): face_yunet.md "73,840 after folding", "135.6 M
     * at 320x320"; mini_xception.md 56,215 and 10.2 M; big_xception.md 205,127 and 65.8 M. */
    static const struct { const char *file; int64_t params, macs_rounded, unit; } converted[] = {
        {"../weights/face_yunet.ferc", 73840, 1356, 100000},
        {"../weights/mini_xception.ferc", 56215, 102, 100000},
        {"../weights/big_xception.ferc", 205127, 658, 100000},
    };
    for (int i = 0; i < 3; i++) {
        m = load(converted[i].file);
        t = count(m);
        ck_assert_int_eq(t.params, converted[i].params);
        ck_assert_int_eq((t.macs + converted[i].unit / 2) / converted[i].unit, converted[i].macs_rounded);
        ferc_model_free(m);
    }
}
END_TEST

/* The planner never lets a node's output share bytes with one of its own inputs (nor, for a
 * node run in a fused chain, with the chain's inputs), keeps every buffer inside the arena,
 * and gives each value its own bytes with FERC_CTX_KEEP_ALL (which fuses nothing). */
START_TEST(plan_never_overwrites_a_live_input)
{
    static const char *const models[] = {"../weights/emotion_cnn.ferc", "../weights/emotion_small.ferc",
                                         "../weights/emotion_lbp_svm.ferc", "../weights/face_res10.ferc",
                                         "../weights/face_yunet.ferc", "../weights/mini_xception.ferc"};
    for (int f = 0; f < 6; f++) {
        ferc_model *m = load(models[f]);
        for (int keep = 0; keep < 2; keep++) {
            ferc_context *c;
            ferc_context_options o = {2, 0, 0, 1, keep ? FERC_CTX_KEEP_ALL : 0};
            ck_assert_int_eq(ferc_context_create(m, &o, &c, NULL), FERC_OK);
            const size_t arena = ferc_context_arena_bytes(c);
            ck_assert_uint_le(arena, ferc_context_memory(c));
            size_t sum = 0, off, bytes;
            for (int i = 0; i < ferc_model_num_nodes(m); i++) {
                const char *out = ferc_model_node_output(m, i, 0);
                /* A node run by an earlier one (a fused chain: YuNet's 1x1 + depthwise convs)
                 * writes its output when that one runs, or, inside the chain, nowhere. */
                const int runner = ferc_context_node_runner(c, i);
                if (keep) ck_assert_int_eq(runner, i);
                if (ferc_context_value_place(c, out, &off, &bytes)) {
                    int chained = runner != i;
                    for (int k = i + 1; k < ferc_model_num_nodes(m); k++) chained |= ferc_context_node_runner(c, k) == i;
                    ck_assert_msg(!keep && chained, "%s: node %d's output has no place", models[f], i);
                    continue;
                }
                ck_assert_uint_le(off + bytes, arena);
                ck_assert_uint_eq(off % 64, 0);
                sum += bytes;
                size_t ioff, ibytes;
                for (int r = 0; r < 2; r++) {
                    const int reader = r ? runner : i;
                    for (int j = 0; ferc_model_node_input(m, reader, j); j++) {
                        if (ferc_context_value_place(c, ferc_model_node_input(m, reader, j), &ioff, &ibytes)) continue;
                        ck_assert_msg(off + bytes <= ioff || ioff + ibytes <= off, "%s: node %d writes over input %s",
                                      models[f], i, ferc_model_node_input(m, reader, j));
                    }
                }
            }
            ck_assert_int_eq(ferc_context_value_place(c, ferc_model_tensor_name(m, 0), &off, &bytes), -1);
            ck_assert_int_eq(ferc_context_value_place(c, ferc_model_input_name(m, 0), &off, &bytes), 0);
            if (keep) ck_assert_uint_ge(arena, sum + bytes); /* every node output and the input apart */
            else ck_assert_uint_lt(arena, sum);              /* buffers are reused */
            ferc_context_free(c);
        }
        ferc_model_free(m);
    }
}
END_TEST

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* With FERC_CTX_PROFILE the node timers account for the run: their sum is at most the run's
 * wall time and, in the median run, more than 90% of it (what is left: copying the input
 * and filling the tensor views). MACs per context follow the batch. */
START_TEST(profile_times_cover_the_run)
{
    ferc_model *m = load("../weights/emotion_small.ferc");
    ferc_context *c, *plain;
    ferc_context_options o = {2, 0, 0, 1, FERC_CTX_PROFILE}, p = {2, 0, 0, 1, 0};
    ck_assert_int_eq(ferc_context_create(m, &o, &c, NULL), FERC_OK);
    ck_assert_int_eq(ferc_context_create(m, &p, &plain, NULL), FERC_OK);
    float *x = calloc(2 * 48 * 48, sizeof(float));
    for (int i = 0; i < 2 * 48 * 48; i++) x[i] = (float)((i * 7919) % 255) / 255.0f;
    const float *in[1] = {x};
    enum { RUNS = 9 };
    double cover[RUNS];
    ck_assert_int_eq(ferc_run(c, in, 2, NULL), FERC_OK);
    for (int r = 0; r < RUNS; r++) {
        const double t0 = now();
        ck_assert_int_eq(ferc_run(c, in, 2, NULL), FERC_OK);
        const double wall = now() - t0;
        double sum = 0;
        ck_assert(ferc_context_node_seconds(c, 0) > 0);
        for (int i = 0; i < ferc_model_num_nodes(m); i++) sum += ferc_context_node_seconds(c, i);
        ck_assert(sum <= wall);
        cover[r] = sum / wall;
    }
    qsort(cover, RUNS, sizeof *cover, cmp_double);
    ck_assert_msg(cover[RUNS / 2] > 0.9, "node timers cover %.1f%% of the median run", 100 * cover[RUNS / 2]);
    ck_assert_int_eq(ferc_run(plain, in, 2, NULL), FERC_OK);
    ck_assert(ferc_context_node_seconds(plain, 0) == 0);
    ferc_node_info info;
    ferc_model_node_info(m, 0, &info);
    ck_assert_int_eq(ferc_context_node_macs(c, 0), 2 * info.macs);
    ck_assert_int_eq(ferc_run(c, in, 1, NULL), FERC_OK);
    ck_assert_int_eq(ferc_context_node_macs(c, 0), info.macs);
    free(x);
    ferc_context_free(c);
    ferc_context_free(plain);
    ferc_model_free(m);
}
END_TEST

/* Every broken file of tests/data/bad gives the loader's own message and status 1. */
START_TEST(inspect_names_what_is_wrong)
{
    char path[512];
    FILE *f = fopen(test_path("data/bad/expected.txt", path, sizeof path), "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        char name[128], status[32];
        /* name, expected status, phrase: the files that load ("ok") are the controls */
        if (sscanf(line, "%127s %31s", name, status) != 2 || !strcmp(status, "ok")) continue;
        char rel[200], file[512];
        snprintf(rel, sizeof rel, "data/bad/%s.ferc", name);
        test_path(rel, file, sizeof file);
        ferc_model *m;
        ferc_error err;
        ck_assert_int_ne(ferc_model_load(file, &m, &err), FERC_OK);
        char *out, *e;
        ck_assert_int_eq(run(&out, &e, "inspect %s", file), 1);
        ck_assert_msg(strstr(e, err.message), "%s: stderr '%s' lacks '%s'", name, e, err.message);
        ck_assert_str_eq(out, "");
        free(out), free(e);
        checked++;
    }
    fclose(f);
    ck_assert_int_ge(checked, 10);
    char *out, *e;
    ck_assert_int_eq(run(&out, &e, "inspect /no/such.ferc"), 1);
    ck_assert_ptr_nonnull(strstr(e, "/no/such.ferc"));
    free(out), free(e);
    ck_assert_int_eq(run(&out, &e, "inspect --format xml %s", tf("inspect/quadrant.ferc")), 2);
    free(out), free(e);
}
END_TEST

START_TEST(inspect_json_totals)
{
    char *out, *e;
    ck_assert_int_eq(run(&out, &e, "inspect --format json %s", tf("../weights/emotion_small.ferc")), 0);
    json *j = json_parse(out);
    ck_assert_ptr_nonnull(j);
    json *t = json_get(j, "totals"), *nodes = json_get(j, "nodes");
    ck_assert_int_eq((int)json_get(t, "nodes")->num, 14);
    ck_assert_int_eq((int64_t)json_get(t, "params")->num, 93607);
    ck_assert_int_eq((int64_t)json_get(t, "macs")->num, 21151168);
    ck_assert_int_eq(nodes->n, 14);
    ferc_model *m = load("../weights/emotion_small.ferc");
    ferc_context *c;
    ferc_context_options o = {1, 0, 0, 1, 0};
    ck_assert_int_eq(ferc_context_create(m, &o, &c, NULL), FERC_OK);
    ck_assert_int_eq((int64_t)json_get(t, "arena_bytes")->num, (int64_t)ferc_context_arena_bytes(c));
    size_t off, bytes;
    /* features.0: a convolution read by another, never fused, so placed on every path (the
     * scalar kernels run features.3 and its pooling as one) */
    ferc_context_value_place(c, "features.0", &off, &bytes);
    json *n1 = json_at(nodes, 0), *o1 = json_at(json_get(n1, "outputs"), 0);
    ck_assert_str_eq(json_get(n1, "name")->str, "features.0");
    ck_assert_int_eq((int64_t)json_get(o1, "offset")->num, (int64_t)off);
    ck_assert_int_eq((int64_t)json_get(o1, "bytes")->num, (int64_t)bytes);
    ck_assert_int_eq(json_get(n1, "inputs")->n, 3); /* x, weight, bias */
    ck_assert(json_get(json_at(json_get(n1, "inputs"), 1), "param")->type == J_BOOL);
    ferc_context_free(c);
    ferc_model_free(m);
    json_free(j);
    free(out), free(e);
}
END_TEST

/* The network input trace writes is what the classifier feeds (the face equalised first when
 * the model's metadata asks for it, as emotion_small's does), and each .npy holds exactly what
 * a run of the model gives. */
START_TEST(trace_writes_each_node)
{
    char *out, *e, dir[128], npy[256];
    snprintf(dir, sizeof dir, "%s/trace", tmpd);
    ck_assert_int_eq(run(&out, &e, "trace %s %s --out %s", tf("../weights/emotion_small.ferc"), tf("cli/fer/happy/0.png"),
                         dir), 0);
    free(out), free(e);
    ferc_model *m = load("../weights/emotion_small.ferc");
    ferc_image img;
    ck_assert_int_eq(ferc_image_load(tf("cli/fer/happy/0.png"), 1, &img, NULL), FERC_OK);
    ck_assert(img.width == 48 && img.height == 48);
    const char *eq = ferc_model_meta(m, "equalize");
    ck_assert_msg(eq && !strcmp(eq, "1"), "emotion_small.ferc was trained on equalised faces");
    ck_assert_int_eq(ferc_equalize_hist(img.data, 48, 48, 48, img.data, 48, NULL), FERC_OK);
    float x[48 * 48];
    for (int i = 0; i < 48 * 48; i++) x[i] = (img.data[i] / 255.0f - 0.5f) / 0.25f;
    ferc_context *c;
    ferc_context_options o = {1, 0, 0, 1, FERC_CTX_KEEP_ALL};
    ck_assert_int_eq(ferc_context_create(m, &o, &c, NULL), FERC_OK);
    const float *in[1] = {x};
    ck_assert_int_eq(ferc_run(c, in, 1, NULL), FERC_OK);
    for (int i = -1; i < ferc_model_num_nodes(m); i++) {
        ferc_tensor t;
        if (i < 0) {
            snprintf(npy, sizeof npy, "%s/input.npy", dir);
            t = (ferc_tensor){4, {1, 48, 48, 1}, x};
        } else {
            snprintf(npy, sizeof npy, "%s/%02d_%s.npy", dir, i, ferc_model_node_output(m, i, 0));
            ferc_context_value(c, ferc_model_node_output(m, i, 0), &t);
        }
        size_t size;
        unsigned char *b = read_file(npy, &size);
        ck_assert_msg(b != NULL, "no %s", npy);
        ck_assert(!memcmp(b, "\x93NUMPY\x01\x00", 8));
        const size_t hdr = 10 + (size_t)(b[8] | b[9] << 8), n = tensor_count(&t);
        ck_assert_uint_eq(hdr % 64, 0);
        ck_assert_uint_eq(size, hdr + 4 * n);
        ck_assert_msg(!memcmp(b + hdr, t.data, 4 * n), "%s differs from the run", npy);
        free(b);
    }
    ferc_context_free(c);
    ferc_model_free(m);
    ferc_image_free(&img);
    ck_assert_int_eq(run(&out, &e, "trace %s %s --out %s --node nope", tf("../weights/emotion_small.ferc"),
                         tf("cli/fer/happy/0.png"), dir), 1);
    ck_assert_ptr_nonnull(strstr(e, "no node 'nope'"));
    free(out), free(e);
}
END_TEST

/* A classifier that looks only at the top-left quadrant (tests/gen/make_inspect_fixtures.py):
 * every patch that lies outside the quadrant scores exactly 0, and patches inside it matter. */
START_TEST(explain_sees_only_what_the_model_sees)
{
    char *out, *e;
    ck_assert_int_eq(run(&out, &e, "explain --no-detect --model %s --format json --threads 1 %s",
                         tf("inspect/quadrant.ferc"), tf("cli/fer/happy/1.png")), 0);
    json *j = json_parse(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq((int)json_get(j, "patch")->num, 8);
    ck_assert_int_eq((int)json_get(j, "stride")->num, 4);
    ck_assert_int_eq((int)json_get(j, "runs_per_face")->num, 122);
    json *s = json_get(json_at(json_get(j, "faces"), 0), "scores");
    ck_assert_int_eq(s->n, 11);
    int inside = 0, moved = 0;
    for (int y = 0; y < 11; y++)
        for (int x = 0; x < 11; x++) {
            const double v = json_at(json_at(s, y), x)->num;
            if (4 * x >= 24 || 4 * y >= 24) ck_assert_msg(v == 0, "patch at %d,%d outside the quadrant scores %g", 4 * x, 4 * y, v);
            else inside++, moved += v != 0;
        }
    ck_assert_int_eq(inside, 36);
    ck_assert_int_ge(moved, 30);
    /* The unoccluded probabilities are ferc_classify's. */
    ferc_model *m = load("inspect/quadrant.ferc");
    ferc_classifier *cls;
    ck_assert_int_eq(ferc_classifier_create(m, NULL, &cls, NULL), FERC_OK);
    ferc_image img;
    ck_assert_int_eq(ferc_image_load(tf("cli/fer/happy/1.png"), 1, &img, NULL), FERC_OK);
    float p[7];
    ck_assert_int_eq(ferc_classify(cls, img.data, 1, p, NULL), FERC_OK);
    json *pr = json_get(json_at(json_get(j, "faces"), 0), "probabilities");
    for (int k = 0; k < 7; k++) ck_assert_float_eq_tol(json_get(pr, ferc_emotion_name(k))->num, p[k], 1e-6);
    ferc_image_free(&img);
    ferc_classifier_free(cls);
    ferc_model_free(m);
    json_free(j);
    free(out), free(e);
    ck_assert_int_eq(run(&out, &e, "explain --no-detect --model %s --patch 49 %s", tf("inspect/quadrant.ferc"),
                         tf("cli/fer/happy/1.png")), 2);
    free(out), free(e);
}
END_TEST

/* explain crops and classifies each face as the image mode does: same boxes, same
 * probabilities (with an LBP cascade, which needs no weights beyond the classifier). */
START_TEST(explain_sees_the_faces_ferc_sees)
{
    char *out, *e, *out2, *e2;
    const char *img = tf("data/faces_group.png");
    ck_assert_int_eq(run(&out, &e, "--detector lbp --classifier small --format json --threads 1 %s", img), 0);
    ck_assert_int_eq(run(&out2, &e2, "explain --detector lbp --classifier small --patch 16 --stride 16 --format json "
                                     "--threads 1 %s", img), 0);
    json *a = json_parse(out), *b = json_parse(out2);
    ck_assert(a && b);
    json *fa = json_get(a, "faces"), *fb = json_get(b, "faces");
    ck_assert_int_eq(fa->n, 3);
    ck_assert_int_eq(fb->n, fa->n);
    for (int i = 0; i < fa->n; i++) {
        for (int k = 0; k < 4; k++)
            ck_assert(json_at(json_get(json_at(fa, i), "box"), k)->num == json_at(json_get(json_at(fb, i), "box"), k)->num);
        for (int k = 0; k < 7; k++)
            ck_assert_float_eq_tol(json_get(json_get(json_at(fa, i), "probabilities"), ferc_emotion_name(k))->num,
                                   json_get(json_get(json_at(fb, i), "probabilities"), ferc_emotion_name(k))->num, 1e-6);
    }
    json_free(a), json_free(b);
    free(out), free(e), free(out2), free(e2);
}
END_TEST

/* One layer from the command line: the path and MACs it reports, and bad specs refused. */
START_TEST(profile_one_convolution)
{
    char *out, *e;
    ck_assert_int_eq(run(&out, &e, "profile --conv 'n2 12x12x16->24 k3 s1 p1' --runs 3 --threads 1 --format json"), 0);
    json *j = json_parse(out);
    ck_assert_ptr_nonnull(j);
    json *n0 = json_at(json_get(j, "nodes"), 0);
    ck_assert_int_eq((int64_t)json_get(n0, "macs")->num, 2LL * 12 * 12 * 24 * 3 * 3 * 16);
    ck_assert_int_eq((int)json_get(j, "batch")->num, 2);
    ck_assert_str_eq(json_get(n0, "shape")->str, "2x12x12x24");
    ck_assert(json_get(n0, "ms")->num > 0);
    char path[64];
    snprintf(path, sizeof path, "%s %s", ferc_isa_name(), strcmp(ferc_isa_name(), "scalar") ? "winograd" : "direct");
    ck_assert_str_eq(json_get(n0, "path")->str, path);
    json_free(j);
    free(out), free(e);
    static const char *const bad[] = {"'n1 12x12x16 k3'", "'n0 12x12x16->8 k3'", "'12x12x16->8 k3 g5'",
                                      "'12x12x16->8 k99'", "'70000x70000x1->1 k1'", "'12x12x16->8 k3 q1'"};
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(run(&out, &e, "profile --conv %s", bad[i]), 2);
        ck_assert_ptr_nonnull(strstr(e, "--conv"));
        free(out), free(e);
    }
}
END_TEST

/* YuNet's 1x1 + depthwise chains run as one kernel in a planned context: profile shows the
 * chain on its first node (GFLOP/s over the chain) and names it on the others; --size runs
 * the detector at another input size; --clock cpu needs one thread. */
START_TEST(profile_shows_fused_chains)
{
    char *out, *e, model[512];
    ck_assert_int_eq(run(&out, &e, "profile %s --size 96x64 --runs 2 --threads 1 --clock cpu --format json",
                         test_path("../weights/face_yunet.ferc", model, sizeof model)), 0);
    json *j = json_parse(out);
    ck_assert_ptr_nonnull(j);
    json *nodes = json_get(j, "nodes");
    char chain[64];
    snprintf(chain, sizeof chain, "%s chain", ferc_isa_name());
    ck_assert_str_eq(json_get(json_at(nodes, 0), "shape")->str, "1x32x48x16"); /* 96x64 input, stride 2 */
    ck_assert_str_eq(json_get(json_at(nodes, 0), "path")->str, chain);      /* 211: 3x3 conv, the head */
    ck_assert_str_eq(json_get(json_at(nodes, 1), "path")->str, "in #0");    /* 212: 1x1 conv */
    ck_assert_str_eq(json_get(json_at(nodes, 2), "path")->str, "in #0");    /* 215: its depthwise conv */
    ck_assert_str_eq(json_get(json_at(nodes, 3), "path")->str, "in #0");    /* 216: the max pooling */
    ck_assert_str_eq(json_get(json_at(nodes, 4), "path")->str, chain);      /* 217: the next chain */
    ck_assert(json_get(json_at(nodes, 2), "ms")->num == 0);
    json_free(j);
    free(out), free(e);
    ck_assert_int_eq(run(&out, &e, "profile %s --size 96x", model), 2);
    ck_assert_ptr_nonnull(strstr(e, "--size"));
    free(out), free(e);
    ck_assert_int_eq(run(&out, &e, "profile %s --clock cpu --threads 2", model), 2); /* CPU time of one thread */
    ck_assert_ptr_nonnull(strstr(e, "--clock"));
    free(out), free(e);
}
END_TEST

/* The int8 twins (tools/model/quantize.py): every quantised layer counts the MACs of the
 * float layer it replaces, names the int8 path it runs on and its weights as i8, and the
 * file counts what its fp32 source counted. ferc profile measures the int8 peak beside them. */
START_TEST(int8_layers_count_their_float_twins_macs)
{
    static const char *const pairs[][2] = {{"../weights/emotion_cnn.ferc", "../weights/emotion_cnn.q8.ferc"},
                                           {"../weights/emotion_small.ferc", "../weights/emotion_small.q8.ferc"}};
    const char *int8_isa = ferc_int8_isa_name();
    char want[48];
    snprintf(want, sizeof want, "%s %s", int8_isa, strcmp(int8_isa, "scalar") ? "gemm" : "direct");
    for (int p = 0; p < 2; p++) {
        ferc_model *f = load(pairs[p][0]), *q = load(pairs[p][1]);
        int quantised = 0;
        for (int i = 0; i < ferc_model_num_nodes(q); i++) {
            ferc_node_info qi, fi;
            ferc_model_node_info(q, i, &qi);
            if (strcmp(qi.op, "conv2d_q8") && strcmp(qi.op, "dense_q8")) continue;
            int j = 0;
            while (ferc_model_node_info(f, j, &fi) == 0 && strcmp(fi.name, qi.name)) j++;
            ck_assert_msg(j < ferc_model_num_nodes(f), "%s: no float node %s", pairs[p][0], qi.name);
            ck_assert_msg(qi.macs > 0 && qi.macs == fi.macs, "%s: %lld MACs, float twin %lld", qi.name,
                          (long long)qi.macs, (long long)fi.macs);
            ck_assert_str_eq(qi.dtype, "i8");
            ck_assert_str_eq(qi.path, want);
            quantised++;
        }
        ck_assert_int_eq(quantised, 6); /* every convolution but the one-channel first */
        ck_assert_int_eq(count(q).macs, count(f).macs);
        ferc_model_free(f), ferc_model_free(q);
    }
    char *out, *e;
    ck_assert_int_eq(run(&out, &e, "profile %s --runs 3 --threads 1 --format json", tf("../weights/emotion_small.q8.ferc")), 0);
    json *j = json_parse(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_get(j, "int8_isa")->str, int8_isa);
    const int simd = strcmp(int8_isa, "scalar") != 0;
    ck_assert(!simd || json_get(j, "int8_peak_gops")->num > 0);
    int seen = 0;
    for (int i = 0; json_at(json_get(j, "nodes"), i); i++) {
        json *n = json_at(json_get(j, "nodes"), i);
        if (strcmp(json_get(n, "op")->str, "conv2d_q8")) continue;
        ck_assert_str_eq(json_get(n, "path")->str, want);
        ck_assert(json_get(n, "macs")->num > 0);
        ck_assert(!simd || json_get(n, "peak_percent")->num > 0);
        seen++;
    }
    ck_assert_int_eq(seen, 6);
    json_free(j);
    free(out), free(e);
}
END_TEST

int main(void)
{
    snprintf(tmpd, sizeof tmpd, "/tmp/ferc_test_inspect_XXXXXX");
    if (!mkdtemp(tmpd)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("inspect");
    TCase *tc = tcase_create("inspect");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, shipped_models_match_their_cards);
    tcase_add_test(tc, plan_never_overwrites_a_live_input);
    tcase_add_test(tc, profile_times_cover_the_run);
    tcase_add_test(tc, inspect_names_what_is_wrong);
    tcase_add_test(tc, inspect_json_totals);
    tcase_add_test(tc, trace_writes_each_node);
    tcase_add_test(tc, explain_sees_only_what_the_model_sees);
    tcase_add_test(tc, explain_sees_the_faces_ferc_sees);
    tcase_add_test(tc, profile_one_convolution);
    tcase_add_test(tc, profile_shows_fused_chains);
    tcase_add_test(tc, int8_layers_count_their_float_twins_macs);
    suite_add_tcase(s, tc);
    int rc = run_suite(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpd);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpd);
    return rc;
}
