/* test_import.c - models converted by tools/model/convert.py, every node against the source
 * runtime (tests/gen/make_import_refs.py wrote the references):
 *   zoo_*          PyTorch models exported with torch.onnx, every node as PyTorch computes it
 *   yunet_320/640  weights/face_yunet.ferc (from the dynamic ONNX file) against
 *                  cv2.dnn.readNetFromONNX on the fixed 320x320 / 640x640 files
 *   *_xception     weights/mini_xception.ferc, big_xception.ferc against an independent NumPy
 *                  forward pass of the Keras files (tests/gen/keras_numpy.py), ten FER faces
 *   keras_*        two small Keras files written by the generator (every layer type the
 *                  reader handles, functional and Sequential), against the same NumPy pass
 * A reference holds, per activation, its shape, max |ref| over the whole tensor and up to
 * 2,048 values (one per stratum of the flat tensor, positions drawn as the generator drew
 * them), so 640x640 activations need not be stored. Each value must satisfy
 *   |ferc - ref| <= 1e-4 |ref| + 1e-5 max|ref|
 * (float32 against float32 runtimes summing in other orders, or a float64 NumPy pass; the
 * max term covers values that cancel to near zero), and so must the tensor's max |ferc|. */
#include "testutil.h"

#include <stdint.h>

#define RTOL 1e-4
#define MTOL 1e-5
#define SAMPLE 2048

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Index k of the sample of a tensor of numel elements named name (make_import_refs.py). */
static size_t sample_index(const char *name, size_t len, size_t numel, size_t k)
{
    const size_t s = numel < SAMPLE ? numel : SAMPLE;
    const size_t lo = k * numel / s, hi = (k + 1) * numel / s;
    return lo + (size_t)(splitmix64((uint64_t)fnv1a(name, len) ^ k) % (hi - lo));
}

/* The YuNet references name an image: tiled to the size, BGR, raw 0-255. */
static float *tiled_image(const ferc_model *ref, int *h, int *w)
{
    const char *img = ferc_model_meta(ref, "input_image"), *size = ferc_model_meta(ref, "input_size");
    ck_assert(img && size && sscanf(size, "%dx%d", h, w) == 2);
    char path[512];
    ferc_image im;
    ferc_error err;
    ck_assert_msg(ferc_image_load(test_path(img, path, sizeof path), 3, &im, &err) == FERC_OK, "%s", err.message);
    float *x = malloc(sizeof(float) * (size_t)*h * *w * 3);
    for (int y = 0; y < *h; y++)
        for (int xx = 0; xx < *w; xx++)
            for (int c = 0; c < 3; c++) /* RGB -> BGR */
                x[((size_t)y * *w + xx) * 3 + c] = im.data[((size_t)(y % im.height) * im.width + xx % im.width) * 3 + 2 - c];
    ferc_image_free(&im);
    return x;
}

static double check_case(const char *model_rel, const char *ref_rel, int *n_compared)
{
    char path[512], rpath[512];
    ferc_error err;
    ferc_model *m, *ref;
    ck_assert_msg(ferc_model_load(test_path(model_rel, path, sizeof path), &m, &err) == FERC_OK, "%s", err.message);
    ck_assert_msg(ferc_model_load(test_path(ref_rel, rpath, sizeof rpath), &ref, &err) == FERC_OK, "%s", err.message);

    ferc_tensor in;
    float *owned = NULL;
    int batch = 1, h, w;
    if (ferc_model_tensor(ref, "input", &in) == 0) {
        batch = (int)in.dims[0], h = (int)in.dims[1], w = (int)in.dims[2];
    } else {
        owned = tiled_image(ref, &h, &w);
        in.data = owned;
    }
    ferc_context_options opt = {batch, h, w, 1, FERC_CTX_KEEP_ALL};
    ferc_context *all, *planned;
    ck_assert_msg(ferc_context_create(m, &opt, &all, &err) == FERC_OK, "%s: %s", ref_rel, err.message);
    opt.flags = 0;
    ck_assert_msg(ferc_context_create(m, &opt, &planned, &err) == FERC_OK, "%s: %s", ref_rel, err.message);
    const float *inputs[1] = {in.data};
    ck_assert(ferc_run(all, inputs, batch, &err) == FERC_OK);

    double worst = 0;
    int compared = 0;
    for (int i = 0; i < ferc_model_num_tensors(ref); i++) {
        const char *key = ferc_model_tensor_name(ref, i), *at = strrchr(key, '@');
        if (!at || strcmp(at, "@val")) continue;
        char name[300], k2[320];
        const size_t len = (size_t)(at - key);
        snprintf(name, sizeof name, "%.*s", (int)len, key);
        ferc_tensor val, shape, mx, got;
        ck_assert(ferc_model_tensor(ref, key, &val) == 0);
        snprintf(k2, sizeof k2, "%s@shape", name);
        ck_assert(ferc_model_tensor(ref, k2, &shape) == 0);
        snprintf(k2, sizeof k2, "%s@max", name);
        ck_assert(ferc_model_tensor(ref, k2, &mx) == 0);
        ck_assert_msg(ferc_context_value(all, name, &got) == 0, "%s: no value '%s'", model_rel, name);
        ck_assert_int_eq(got.ndim, (int)shape.dims[0]);
        size_t numel = 1;
        for (int d = 0; d < got.ndim; d++) {
            ck_assert_msg(got.dims[d] == (int64_t)shape.data[d], "%s/%s: dim %d is %lld, reference %g", ref_rel, name, d,
                          (long long)got.dims[d], shape.data[d]);
            numel *= (size_t)got.dims[d];
        }
        const double vmax = mx.data[0];
        const size_t n = tensor_count(&val);
        ck_assert_uint_eq(n, numel < SAMPLE ? numel : SAMPLE);
        for (size_t k = 0; k < n; k++) {
            const size_t j = sample_index(name, len, numel, k);
            const double g = got.data[j], r = val.data[k], tol = RTOL * fabs(r) + MTOL * vmax;
            const double q = fabs(g - r) / (tol > 0 ? tol : 1e-30);
            ck_assert_msg(q <= 1.0, "%s/%s [%s]: element %zu is %.9g, reference %.9g (tolerance %.3g)", ref_rel, name,
                          ferc_isa_name(), j, g, r, tol);
            if (q > worst) worst = q;
        }
        double gmax = 0;
        for (size_t j = 0; j < numel; j++) gmax = fabs(got.data[j]) > gmax ? fabs(got.data[j]) : gmax;
        ck_assert_msg(fabs(gmax - vmax) <= RTOL * vmax + MTOL * vmax, "%s/%s: max |value| %.9g, reference %.9g", ref_rel,
                      name, gmax, vmax);
        compared++;
    }
    ck_assert_int_ge(compared, ferc_model_num_nodes(m) - 1);

    /* The planner's shared buffers must give the same bits, with one thread and with two. */
    for (int threads = 1; threads <= 2; threads++) {
        ferc_context_set_threads(planned, threads);
        ck_assert(ferc_run(planned, inputs, batch, &err) == FERC_OK);
        for (int o = 0; o < ferc_model_num_outputs(m); o++) {
            ferc_tensor a, b;
            ferc_output(planned, o, &a);
            ferc_context_value(all, ferc_model_output_name(m, o), &b);
            ck_assert_msg(!memcmp(a.data, b.data, tensor_count(&a) * sizeof(float)),
                          "%s: output %d differs between planned and keep-all runs (%d threads)", ref_rel, o, threads);
        }
    }
    *n_compared += compared;
    free(owned);
    ferc_context_free(all);
    ferc_context_free(planned);
    ferc_model_free(ref);
    ferc_model_free(m);
    return worst;
}

START_TEST(every_node_matches_its_source_runtime)
{
    char path[512], model[256], ref[256];
    FILE *f = fopen(test_path("ref/import/cases.txt", path, sizeof path), "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    int cases = 0, nodes = 0;
    while (fscanf(f, "%255s %255s", model, ref) == 2) {
        const double worst = check_case(model, ref, &nodes);
        printf("import: %-32s worst %.3f of the tolerance [%s]\n", ref, worst, ferc_isa_name());
        cases++;
    }
    fclose(f);
    ck_assert_int_ge(cases, 17);
    printf("import: %d cases, %d activations within %g |ref| + %g max|ref| [%s]\n", cases, nodes, RTOL, MTOL,
           ferc_isa_name());
}
END_TEST

/* The dynamic YuNet file also runs at a size that is not square; the head's reshape keeps
 * -1 for the cell count. */
START_TEST(dynamic_yunet_runs_at_other_sizes)
{
    char path[512];
    ferc_error err;
    ferc_model *m;
    ck_assert(ferc_model_load(test_path("../weights/face_yunet.ferc", path, sizeof path), &m, &err) == FERC_OK);
    ferc_context_options opt = {1, 160, 224, 1, 0};
    ferc_context *c;
    ck_assert_msg(ferc_context_create(m, &opt, &c, &err) == FERC_OK, "%s", err.message);
    float *x = calloc(160 * 224 * 3, sizeof(float));
    const float *inputs[1] = {x};
    ck_assert(ferc_run(c, inputs, 1, &err) == FERC_OK);
    ferc_tensor t;
    ferc_output(c, 6, &t); /* bbox_8: (160/8) x (224/8) cells of 4 */
    ck_assert_int_eq(t.ndim, 3);
    ck_assert_int_eq(t.dims[1], 20 * 28);
    ck_assert_int_eq(t.dims[2], 4);
    free(x);
    ferc_context_free(c);
    ferc_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("nodes");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, every_node_matches_its_source_runtime);
    tcase_add_test(tc, dynamic_yunet_runs_at_other_sizes);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
