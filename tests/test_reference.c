/* test_reference.c - every node of every model in tests/ref/ against PyTorch.
 *
 * tests/gen/make_test_refs.py builds the models in PyTorch, exports them, and stores PyTorch's
 * input and per-node outputs. Here the C engine runs each model with every activation kept,
 * and each node's output must satisfy |ferc - torch| <= 1e-5 + 1e-5 * |torch| (float32
 * accumulation in a different order than PyTorch; the widest sums here have ~900 terms).
 * A second run with the planner's shared buffers must give bit-identical outputs, with one
 * thread and with two. */
#include "testutil.h"

#define ATOL 1e-5
#define RTOL 1e-5

static char cases[200][128];
static int n_cases;

static void load_cases(void)
{
    char path[512];
    FILE *f = fopen(test_path("ref/cases.txt", path, sizeof path), "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    n_cases = 0;
    while (n_cases < 200 && fscanf(f, "%127s", cases[n_cases]) == 1) n_cases++;
    fclose(f);
    ck_assert_int_gt(n_cases, 100);
}

static void check_case(const char *name)
{
    char path[512], rpath[512], rel[256];
    ferc_error err;
    ferc_model *m, *ref;
    snprintf(rel, sizeof rel, "ref/%s.ferc", name);
    ck_assert_msg(ferc_model_load(test_path(rel, path, sizeof path), &m, &err) == FERC_OK, "%s", err.message);
    snprintf(rel, sizeof rel, "ref/%s.ref.ferc", name);
    ck_assert_msg(ferc_model_load(test_path(rel, rpath, sizeof rpath), &ref, &err) == FERC_OK, "%s", err.message);

    ferc_tensor in;
    ck_assert_int_eq(ferc_model_tensor(ref, ferc_model_input_name(m, 0), &in), 0);
    const int batch = (int)in.dims[0];
    ferc_context_options opt = {.max_batch = batch, .threads = 1, .flags = FERC_CTX_KEEP_ALL};
    ferc_context *all, *shared;
    ck_assert_msg(ferc_context_create(m, &opt, &all, &err) == FERC_OK, "%s", err.message);
    opt.flags = 0;
    ck_assert_msg(ferc_context_create(m, &opt, &shared, &err) == FERC_OK, "%s", err.message);
    const float *inputs[1] = {in.data};
    ck_assert(ferc_run(all, inputs, batch, &err) == FERC_OK);

    int compared = 0;
    double worst = 0;
    for (int i = 0; i < ferc_model_num_tensors(ref); i++) {
        const char *vname = ferc_model_tensor_name(ref, i);
        ferc_tensor want, got;
        ferc_model_tensor(ref, vname, &want);
        ck_assert_msg(ferc_context_value(all, vname, &got) == 0, "%s: no value '%s'", name, vname);
        ck_assert_int_eq(got.ndim, want.ndim);
        for (int d = 0; d < got.ndim; d++)
            ck_assert_msg(got.dims[d] == want.dims[d], "%s/%s: dim %d is %lld, torch %lld", name, vname, d,
                          (long long)got.dims[d], (long long)want.dims[d]);
        tensor_cmp c = compare_floats(got.data, want.data, tensor_count(&want), ATOL, RTOL);
        ck_assert_msg(c.worst_ratio <= 1.0, "%s/%s [%s]: element %zu is %.9g, torch %.9g (max abs diff %.3g)", name,
                      vname, ferc_isa_name(), c.worst_index, got.data[c.worst_index], want.data[c.worst_index],
                      c.max_abs);
        if (c.worst_ratio > worst) worst = c.worst_ratio;
        compared++;
    }
    ck_assert_int_ge(compared, ferc_model_num_nodes(m));

    for (int threads = 1; threads <= 2; threads++) {
        ferc_context_set_threads(shared, threads);
        ck_assert(ferc_run(shared, inputs, batch, &err) == FERC_OK);
        for (int o = 0; o < ferc_model_num_outputs(m); o++) {
            ferc_tensor a, b;
            ferc_output(shared, o, &a);
            ferc_context_value(all, ferc_model_output_name(m, o), &b);
            ck_assert_msg(!memcmp(a.data, b.data, tensor_count(&a) * sizeof(float)),
                          "%s: output %d differs between planned and keep-all runs (%d threads)", name, o, threads);
        }
    }
    ck_assert_msg(ferc_context_memory(shared) <= ferc_context_memory(all), "%s: planner used more memory", name);
    ferc_context_free(all);
    ferc_context_free(shared);
    ferc_model_free(ref);
    ferc_model_free(m);
}

START_TEST(every_case_matches_pytorch)
{
    load_cases();
    for (int i = 0; i < n_cases; i++) check_case(cases[i]);
    printf("reference: %d models, every node within %g + %g*|torch| [%s]\n", n_cases, ATOL, RTOL, ferc_isa_name());
}
END_TEST

/* A bigger batch than was run at must be refused, a smaller one must give the same rows. */
START_TEST(smaller_batch_gives_same_rows)
{
    char path[512], rpath[512];
    ferc_error err;
    ferc_model *m, *ref;
    ck_assert(ferc_model_load(test_path("ref/residual.ferc", path, sizeof path), &m, &err) == FERC_OK);
    ck_assert(ferc_model_load(test_path("ref/residual.ref.ferc", rpath, sizeof rpath), &ref, &err) == FERC_OK);
    ferc_tensor in, want, got;
    ferc_model_tensor(ref, ferc_model_input_name(m, 0), &in);
    ferc_model_tensor(ref, ferc_model_output_name(m, 0), &want);
    ferc_context_options opt = {.max_batch = 4, .threads = 1};
    ferc_context *c;
    ck_assert(ferc_context_create(m, &opt, &c, &err) == FERC_OK);
    const float *inputs[1] = {in.data};
    ck_assert(ferc_run(c, inputs, 5, &err) == FERC_ERR_ARG);
    ck_assert(ferc_run(c, inputs, 1, &err) == FERC_OK);
    ferc_output(c, 0, &got);
    ck_assert_int_eq(got.dims[0], 1);
    size_t per = tensor_count(&want) / (size_t)want.dims[0];
    tensor_cmp r = compare_floats(got.data, want.data, per, ATOL, RTOL);
    ck_assert_msg(r.worst_ratio <= 1.0, "batch-1 row differs by %g", r.max_abs);
    ferc_context_free(c);
    ferc_model_free(ref);
    ferc_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reference");
    TCase *tc = tcase_create("pytorch");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_case_matches_pytorch);
    tcase_add_test(tc, smaller_batch_gives_same_rows);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
