/* serve_request.h - the parts of an HTTP request that `ferc serve` parses itself (HTTP
 * framing, headers and URL decoding are libmicrohttpd's): query parameters of
 * POST /v1/analyze, and the `image` field of a multipart/form-data body. Pure functions on
 * bytes, so fuzz/fuzz_serve_request.c can drive them. */
#ifndef FERC_TOOLS_CLI_SERVE_REQUEST_H
#define FERC_TOOLS_CLI_SERVE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

enum { SERVE_DET_SSD, SERVE_DET_HAAR, SERVE_DET_LBP, SERVE_DET_NONE, SERVE_N_DET };
enum { SERVE_CLS_CNN, SERVE_CLS_SMALL, SERVE_CLS_LBP_SVM, SERVE_N_CLS };

extern const char *const serve_detector_names[SERVE_N_DET];
extern const char *const serve_classifier_names[SERVE_N_CLS];

/* Query parameters; -1 means "not given" (the server's command-line default applies). */
typedef struct {
    int detector, classifier, tta, align, int8, annotate;
} serve_params;

void serve_params_init(serve_params *p);
/* One query parameter (value NULL for "?key" without '='). Returns 0, or -1 with a message
 * naming the parameter in msg. */
int serve_param(serve_params *p, const char *key, const char *value, char *msg, size_t msg_size);

/* The boundary of a "multipart/form-data; boundary=..." Content-Type (quoted or not, 1 to 70
 * characters as RFC 2046 allows). Returns 1 if content_type is multipart/form-data with a
 * boundary, 0 if it is not multipart/form-data, -1 (message in msg) if it is but has no
 * usable boundary. */
int serve_multipart_boundary(const char *content_type, char *boundary, size_t boundary_size, char *msg,
                             size_t msg_size);
/* Finds the part named `name` in a multipart body: *data and *n point into body; its
 * filename parameter (if any, else "") is copied into filename. Returns 0, or -1 with a
 * message in msg (malformed body, or no such field). */
int serve_multipart_field(const uint8_t *body, size_t len, const char *boundary, const char *name,
                          const uint8_t **data, size_t *n, char *filename, size_t filename_size, char *msg,
                          size_t msg_size);

#endif
