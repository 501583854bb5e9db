/* fuzz_serve_request.c - libFuzzer target for what `ferc serve` parses itself
 * (tools/cli/serve_request.c): query parameters and multipart/form-data bodies. The input
 * is "query string \n Content-Type \n body"; the query is split on '&' and '=' as
 * libmicrohttpd hands it over (a key without '=' has no value). */
#include "tools/cli/serve_request.c"

#include <assert.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl1 = memchr(data, '\n', size);
    if (!nl1) return 0;
    const uint8_t *nl2 = memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - data));
    if (!nl2) return 0;
    char *query = strndup((const char *)data, (size_t)(nl1 - data));
    char *ctype = strndup((const char *)nl1 + 1, (size_t)(nl2 - nl1 - 1));
    const uint8_t *body = nl2 + 1;
    size_t len = size - (size_t)(body - data);
    char msg[300];
    serve_params p;
    serve_params_init(&p);
    for (char *save = NULL, *kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq) *eq = 0;
        if (serve_param(&p, kv, eq ? eq + 1 : NULL, msg, sizeof msg)) assert(msg[0]);
    }
    assert(p.detector >= -1 && p.detector < SERVE_N_DET && p.classifier >= -1 && p.classifier < SERVE_N_CLS);
    char boundary[72], file[256];
    if (serve_multipart_boundary(ctype, boundary, sizeof boundary, msg, sizeof msg) == 1) {
        const uint8_t *field;
        size_t n;
        if (!serve_multipart_field(body, len, boundary, "image", &field, &n, file, sizeof file, msg, sizeof msg))
            assert(field >= body && n <= len && (size_t)(field - body) <= len - n);
    }
    free(query);
    free(ctype);
    return 0;
}
