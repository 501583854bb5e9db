/* serve.c - `ferc serve`: the command as an HTTP service (docs/serve.md).
 *
 * HTTP is libmicrohttpd's: one internal thread polls every connection and calls handle()
 * as a request's headers and body arrive. A complete POST /v1/analyze becomes a job on a
 * bounded queue and its connection is suspended; one of --workers threads, each with its own
 * detectors, classifiers and analyzers (clones over models and detector files loaded once and
 * shared read-only), runs it and resumes the connection, whose handler then sends the answer.
 * A full queue answers 503 at once; memory stays bounded by --max-connections bodies of at
 * most --max-body bytes. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "tools/cli/cli.h"
#include "tools/cli/json.h"
#include "tools/cli/serve_request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* GET /: tools/cli/serve_page.html as a byte array (made by the Makefile with xxd -i). */
static const unsigned char serve_page[] = {
#include "serve_page.inc"
};

#define N_CLS (SERVE_N_CLS + 1) /* the named classifiers, and --model FILE */
#define CLS_FILE SERVE_N_CLS
#define N_MODEL (2 * N_CLS)     /* each fp32, then its int8 twin (NAME.q8.ferc) at + N_CLS */
#define DET_YUNET_Q8 SERVE_N_DET /* the named detectors, then YuNet's int8 twin (int8=1) */
#define N_DET (SERVE_N_DET + 1)

static const double buckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define N_BUCKETS (sizeof buckets / sizeof *buckets)

typedef struct job job;

/* One worker's engines, made on first use of each parameter set. */
typedef struct {
    ferc_detector *det[N_DET];
    ferc_classifier *cls[N_MODEL][FERC_NUM_TTA_MODES];        /* [model][tta mode] */
    ferc_analyzer *an[N_DET][N_MODEL][FERC_NUM_TTA_MODES][2]; /* [detector][model][tta mode][align] */
} engines;

typedef struct {
    cli_options o;
    int workers, queue_cap, engine_threads;
    size_t max_body;
    /* What can be asked for: loaded models, detector files found (or why not). */
    ferc_model *model[N_MODEL];
    ferc_detector *det[N_DET]; /* loaded once; each worker uses a clone */
    char missing_cls[N_MODEL][600], missing_det[N_DET][600];
    ferc_cascade *eyes;
    int def_det, def_cls, def_align;
    engines *eng;
    pthread_t *threads;
    /* The queue and shutdown. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    int depth, stopping, open_jobs;
    /* Metrics (under mu). */
    unsigned long long by_status[600], aborted, faces, lat_hist[N_BUCKETS + 1], lat_n;
    double lat_sum;
} server;

enum { ROUTE_PAGE, ROUTE_HEALTH, ROUTE_METRICS, ROUTE_ANALYZE };
enum { RECEIVING, QUEUED, DONE };

struct job {
    struct MHD_Connection *conn;
    int route, state, multipart, too_big;
    serve_params p;
    char boundary[72];
    uint8_t *body;           /* a mapping of cap bytes (body_map) */
    size_t n, cap, declared; /* declared: the Content-Length, if any */
    size_t img_off, img_n;   /* the image within body (the multipart field, or all of it) */
    char file[256];          /* "file" of the answer: the multipart filename, else "-" */
    double t0, t_answer;     /* t_answer: when a 413 was written on the way (answer_too_big) */
    /* The answer: filled by a worker, sent by the handler after resume. */
    unsigned status;
    const char *ctype;
    char *out;
    size_t out_n;
    job *next;
};

/* ---- answers ---------------------------------------------------------------------- */

static enum MHD_Result send_answer(struct MHD_Connection *c, job *j, unsigned status, const char *ctype, char *body,
                                   size_t n, const char *extra_header, const char *extra_value)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (extra_header) MHD_add_response_header(r, extra_header, extra_value);
    enum MHD_Result res = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    if (res == MHD_YES) j->status = status;
    return res;
}

/* {"error": message}, or with file given the command's {"file":..., "error":...}. */
static char *error_json(const char *file, const char *msg, size_t *n)
{
    char *b = NULL;
    FILE *f = open_memstream(&b, n);
    if (!f) return NULL;
    if (file) {
        cli_print_json_error(f, file, msg);
    } else {
        fputs("{\"error\":", f);
        cli_json_string(f, msg);
        fputs("}\n", f);
    }
    fclose(f);
    return b;
}

static enum MHD_Result send_error(struct MHD_Connection *c, job *j, unsigned status, const char *msg,
                                  const char *extra_header, const char *extra_value)
{
    size_t n;
    char *b = error_json(NULL, msg, &n);
    return b ? send_answer(c, j, status, "application/json", b, n, extra_header, extra_value) : MHD_NO;
}

/* ---- bodies ----------------------------------------------------------------------- */

/* A request body lives in its own anonymous mapping, not on the heap: mapped when its first
 * bytes arrive, for the declared Content-Length (or --max-body when chunked), its pages made
 * resident only as bytes are written, and given back to the system by munmap as soon as its
 * image is decoded (run_job). So bodies cost what they hold, and the heap never sees blocks
 * of up to --max-body: from the heap, freeing one moves glibc's mmap threshold up, and the
 * workers' arenas then keep their freed memory (measured over the bound:
 * docs/reliability.md). */
static uint8_t *body_map(size_t cap)
{
    void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void body_unmap(job *j)
{
    if (j->body) munmap(j->body, j->cap);
    j->body = NULL;
    j->cap = 0;
}

/* ---- engines ---------------------------------------------------------------------- */

/* The analyzer for one parameter set on worker w, made when first asked for. */
static ferc_analyzer *analyzer_for(server *s, int w, int det, int cls, int tta, int align, ferc_error *err)
{
    engines *e = &s->eng[w];
    ferc_analyzer **slot = &e->an[det][cls][tta][align];
    if (*slot) return *slot;
    if (det != SERVE_DET_NONE && !e->det[det] && ferc_detector_clone(s->det[det], &e->det[det], err)) return NULL;
    if (!e->cls[cls][tta]) {
        const ferc_classifier_options co = {.tta = tta, .threads = s->engine_threads};
        if (ferc_classifier_create(s->model[cls], &co, &e->cls[cls][tta], err)) return NULL;
    }
    ferc_analyzer *a;
    if (ferc_analyzer_create(e->cls[cls][tta], det == SERVE_DET_NONE ? NULL : e->det[det], &a, err)) return NULL;
    if (align && ferc_analyzer_set_align(a, s->eyes, err)) {
        ferc_analyzer_free(a);
        return NULL;
    }
    return *slot = a;
}

static void engines_free(engines *e)
{
    for (int d = 0; d < N_DET; d++)
        for (int c = 0; c < N_MODEL; c++)
            for (int t = 0; t < FERC_NUM_TTA_MODES; t++)
                for (int a = 0; a < 2; a++) ferc_analyzer_free(e->an[d][c][t][a]);
    for (int c = 0; c < N_MODEL; c++)
        for (int t = 0; t < FERC_NUM_TTA_MODES; t++) ferc_classifier_free(e->cls[c][t]);
    for (int d = 0; d < N_DET; d++) ferc_detector_free(e->det[d]);
}

/* The model slot a request asks for: its classifier (or the default), int8 twin if asked
 * (int8=1, or the server's --int8 when the query does not say). */
static int model_index(const server *s, const serve_params *p)
{
    const int cls = p->classifier >= 0 ? p->classifier : s->def_cls, int8 = p->int8 >= 0 ? p->int8 : s->o.an.int8;
    return cls + (int8 ? N_CLS : 0);
}

/* The detector slot: the kind asked for (or the default), YuNet's int8 twin if int8 as above. */
static int det_index(const server *s, const serve_params *p)
{
    const int det = p->detector >= 0 ? p->detector : s->def_det, int8 = p->int8 >= 0 ? p->int8 : s->o.an.int8;
    return det == SERVE_DET_YUNET && int8 ? DET_YUNET_Q8 : det;
}

/* The job's answer: the command's JSON line (or the annotated JPEG), or its error. */
static void run_job(server *s, int w, job *j)
{
    const uint8_t *data = j->body + j->img_off;
    size_t n = j->img_n;
    const char *file = j->file;
    const serve_params *p = &j->p;
    int det = det_index(s, p), cls = model_index(s, p);
    int tta = p->tta >= 0 ? p->tta : s->o.an.tta, align = p->align >= 0 ? p->align : s->def_align;
    ferc_error err = {0};
    ferc_image img = {0};
    ferc_face faces[CLI_MAX_FACES];
    int nf = 0;
    j->status = 0;
    ferc_analyzer *a = analyzer_for(s, w, det, cls, tta, align, &err);
    ferc_status loaded = a ? ferc_image_load_memory_limit(data, n, 3, s->o.max_pixels, &img, &err) : FERC_OK;
    body_unmap(j); /* decoded (or not): the body's memory goes back before the analysis */
    if (!a) {
        j->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    } else if (loaded) {
        j->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
        char m[sizeof err.message]; /* named as ferc_image_load names the file */
        snprintf(m, sizeof m, "%s", err.message);
        snprintf(err.message, sizeof err.message, "%.250s: %.250s", file, m);
    } else if (ferc_analyze(a, &img, faces, CLI_MAX_FACES, &nf, &err)) {
        j->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
    }
    j->ctype = "application/json";
    if (j->status) { /* as the command prints an input it cannot read */
        j->out = error_json(j->status == MHD_HTTP_UNPROCESSABLE_CONTENT ? file : NULL, err.message, &j->out_n);
    } else if (p->annotate == 1) {
        cli_annotate(&img, faces, nf);
        uint8_t *jpg;
        if (ferc_image_encode(&img, "annotated.jpg", &jpg, &j->out_n, &err)) {
            j->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            j->out = error_json(NULL, err.message, &j->out_n);
        } else {
            j->status = MHD_HTTP_OK, j->out = (char *)jpg, j->ctype = "image/jpeg";
        }
    } else {
        FILE *f = open_memstream(&j->out, &j->out_n);
        if (f) {
            cli_print_json(f, file, img.width, img.height, faces, nf);
            fclose(f);
        }
        j->status = MHD_HTTP_OK;
    }
    ferc_image_free(&img);
    if (j->status == MHD_HTTP_OK) {
        pthread_mutex_lock(&s->mu);
        s->faces += (unsigned long long)(nf < CLI_MAX_FACES ? nf : CLI_MAX_FACES);
        pthread_mutex_unlock(&s->mu);
    }
}

typedef struct {
    server *s;
    int index;
} worker_arg;

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    server *s = wa->s;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->stopping) pthread_cond_wait(&s->cv, &s->mu);
        job *j = s->head;
        if (!j) { /* stopping, and the queue is drained */
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        s->head = j->next;
        if (!s->head) s->tail = NULL;
        s->depth--;
        pthread_mutex_unlock(&s->mu);
        run_job(s, wa->index, j);
        j->state = DONE;
        MHD_resume_connection(j->conn);
    }
}

/* ---- metrics and health ------------------------------------------------------------ */

static char *metrics_text(server *s, size_t *n)
{
    char *b = NULL;
    FILE *f = open_memstream(&b, n);
    if (!f) return NULL;
    pthread_mutex_lock(&s->mu);
    fputs("# HELP ferc_requests_total Requests answered, by HTTP status.\n# TYPE ferc_requests_total counter\n", f);
    for (int c = 100; c < 600; c++)
        if (s->by_status[c]) fprintf(f, "ferc_requests_total{code=\"%d\"} %llu\n", c, s->by_status[c]);
    fputs("# HELP ferc_request_errors_total Requests answered with a 4xx or 5xx status, by status.\n"
          "# TYPE ferc_request_errors_total counter\n", f);
    for (int c = 400; c < 600; c++)
        if (s->by_status[c]) fprintf(f, "ferc_request_errors_total{code=\"%d\"} %llu\n", c, s->by_status[c]);
    fputs("# HELP ferc_requests_aborted_total Requests whose connection closed before an answer (cut off, "
          "timed out).\n# TYPE ferc_requests_aborted_total counter\n", f);
    fprintf(f, "ferc_requests_aborted_total %llu\n", s->aborted);
    fputs("# HELP ferc_request_duration_seconds Time from a request's headers to its answer.\n"
          "# TYPE ferc_request_duration_seconds histogram\n", f);
    unsigned long long cum = 0;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        cum += s->lat_hist[i];
        fprintf(f, "ferc_request_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i], cum);
    }
    fprintf(f, "ferc_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", s->lat_n);
    fprintf(f, "ferc_request_duration_seconds_sum %.6f\nferc_request_duration_seconds_count %llu\n", s->lat_sum,
            s->lat_n);
    fprintf(f, "# HELP ferc_faces_total Faces found in answered images.\n# TYPE ferc_faces_total counter\n"
               "ferc_faces_total %llu\n", s->faces);
    fprintf(f, "# HELP ferc_queue_depth Images waiting for a worker.\n# TYPE ferc_queue_depth gauge\n"
               "ferc_queue_depth %d\n", s->depth);
    fprintf(f, "# HELP ferc_queue_capacity Images that may wait before 503.\n# TYPE ferc_queue_capacity gauge\n"
               "ferc_queue_capacity %d\n", s->queue_cap);
    fprintf(f, "# HELP ferc_workers Worker threads.\n# TYPE ferc_workers gauge\nferc_workers %d\n", s->workers);
    pthread_mutex_unlock(&s->mu);
    fputs("# HELP ferc_models_loaded Classifier models loaded, by name.\n# TYPE ferc_models_loaded gauge\n", f);
    for (int c = 0; c < N_MODEL; c++)
        if (s->model[c])
            fprintf(f, "ferc_models_loaded{classifier=\"%s\",precision=\"%s\"} 1\n",
                    c % N_CLS == CLS_FILE ? "file" : serve_classifier_names[c % N_CLS], c >= N_CLS ? "int8" : "fp32");
    fclose(f);
    return b;
}

static char *health_json(server *s, size_t *n)
{
    char *b = NULL;
    FILE *f = open_memstream(&b, n);
    if (!f) return NULL;
    pthread_mutex_lock(&s->mu);
    fprintf(f, "{\"status\":\"ok\",\"workers\":%d,\"queue\":%d,\"queue_capacity\":%d,\"classifiers\":[", s->workers,
            s->depth, s->queue_cap);
    pthread_mutex_unlock(&s->mu);
    for (int c = 0, k = 0; c < SERVE_N_CLS; c++)
        if (s->model[c]) fprintf(f, "%s\"%s\"", k++ ? "," : "", serve_classifier_names[c]);
    fputs("],\"detectors\":[", f);
    for (int d = 0, k = 0; d < SERVE_N_DET; d++)
        if (!s->missing_det[d][0]) fprintf(f, "%s\"%s\"", k++ ? "," : "", serve_detector_names[d]);
    fputs("]}\n", f);
    fclose(f);
    return b;
}

/* ---- the request handler ------------------------------------------------------------- */

typedef struct {
    serve_params p;
    char msg[256];
    int bad;
} query_ctx;

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    query_ctx *q = cls;
    if (!q->bad && serve_param(&q->p, key, value, q->msg, sizeof q->msg)) q->bad = 1;
    return MHD_YES;
}

/* Why a parameter set cannot be served (a model or file missing), or NULL. */
static const char *unavailable(server *s, const serve_params *p, char *msg, size_t size)
{
    int det = det_index(s, p), cls = model_index(s, p);
    if (!s->model[cls])
        return snprintf(msg, size, "classifier %s%s is not available: %.500s",
                        cls % N_CLS == CLS_FILE ? "file" : serve_classifier_names[cls % N_CLS], cls >= N_CLS ? " int8" : "",
                        s->missing_cls[cls]), msg;
    if (s->missing_det[det][0])
        return snprintf(msg, size, "detector %s is not available: %.500s",
                        det == DET_YUNET_Q8 ? "yunet int8" : serve_detector_names[det], s->missing_det[det]), msg;
    if ((p->align == 1 || (p->align < 0 && s->def_align)) && !s->eyes)
        return snprintf(msg, size, "align=1: the eye cascade is not available (apt-get install opencv-data)"), msg;
    return NULL;
}

/* The body types taken as an image: none named, any image, or what generic clients send. */
static int image_type(const char *ct)
{
    static const char *const ok[] = {"image/", "application/octet-stream", "application/x-www-form-urlencoded"};
    if (!ct || !*ct) return 1;
    for (size_t i = 0; i < 3; i++)
        if (!strncasecmp(ct, ok[i], strlen(ok[i]))) return 1;
    return 0;
}

/* First call for POST /v1/analyze: everything that can be refused before the body is read. */
static enum MHD_Result analyze_start(server *s, struct MHD_Connection *c, job *j)
{
    char msg[600];
    query_ctx q = {.bad = 0};
    serve_params_init(&q.p);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
    if (q.bad) return send_error(c, j, MHD_HTTP_BAD_REQUEST, q.msg, NULL, NULL);
    j->p = q.p;
    if (unavailable(s, &j->p, msg, sizeof msg)) return send_error(c, j, MHD_HTTP_BAD_REQUEST, msg, NULL, NULL);
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    int mp = ct ? serve_multipart_boundary(ct, j->boundary, sizeof j->boundary, msg, sizeof msg) : 0;
    if (mp < 0) return send_error(c, j, MHD_HTTP_BAD_REQUEST, msg, NULL, NULL);
    j->multipart = mp;
    if (!mp && !image_type(ct)) {
        snprintf(msg, sizeof msg, "Content-Type %s is not an image (send image/*, application/octet-stream or "
                 "multipart/form-data with a field 'image')", ct);
        return send_error(c, j, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, msg, NULL, NULL);
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (!cl && !te)
        return send_error(c, j, MHD_HTTP_LENGTH_REQUIRED, "the image is sent as the body: Content-Length (or "
                          "chunked Transfer-Encoding) is required", NULL, NULL);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long len = strtoull(cl, &end, 10);
        if (end == cl || *end || errno) return send_error(c, j, MHD_HTTP_BAD_REQUEST, "bad Content-Length", NULL, NULL);
        if (len > s->max_body) {
            snprintf(msg, sizeof msg, "body of %llu bytes is over the limit of %zu bytes (--max-body)", len, s->max_body);
            return send_error(c, j, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL, NULL);
        }
        j->declared = (size_t)len;
    }
    return MHD_YES;
}

/* The 413 for a chunked body (size not declared) that crosses --max-body while it arrives.
 * libmicrohttpd 0.9.75 cannot queue a response then: MHD_queue_response returns MHD_NO in
 * every state between the headers and the end of the body (docs/serve.md). So the answer is
 * written to the socket here, in one send, and the write side shut down: the client reads the
 * whole answer, then end of file. The connection then drops what still arrives, at most
 * --max-body more bytes (no memory kept), so that a client that sends all before it reads
 * (Python's http.client) still gets the 413 rather than a reset, and then it is closed.
 * Returns 0, or -1 to close at once (the socket did not take the whole answer). */
static int answer_too_big(server *s, struct MHD_Connection *c, job *j)
{
    char msg[160], *b = NULL;
    size_t n = 0;
    snprintf(msg, sizeof msg, "body is over the limit of %zu bytes (--max-body)", s->max_body);
    char *json = error_json(NULL, msg, &n);
    FILE *f = json ? open_memstream(&b, &n) : NULL;
    if (f) {
        fprintf(f, "HTTP/1.1 %u %s\r\nConnection: close\r\nContent-Length: %zu\r\n"
                   "Content-Type: application/json\r\n\r\n%s",
                MHD_HTTP_CONTENT_TOO_LARGE, MHD_get_reason_phrase_for(MHD_HTTP_CONTENT_TOO_LARGE), strlen(json), json);
        fclose(f);
    }
    free(json);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    int ok = b && ci && send(ci->connect_fd, b, n, MSG_NOSIGNAL) == (ssize_t)n;
    free(b);
    if (ci) shutdown(ci->connect_fd, SHUT_WR);
    if (!ok) return -1;
    j->status = MHD_HTTP_CONTENT_TOO_LARGE;
    j->t_answer = cli_seconds();
    return 0;
}

/* Body bytes as they arrive: kept up to --max-body; the first byte past it gets the 413 at
 * once (answer_too_big), and what follows is dropped. Returns 0, or -1 to close the
 * connection. */
static int analyze_body(server *s, struct MHD_Connection *c, job *j, const char *data, size_t size)
{
    if (j->too_big) { /* answered: dropping the rest, up to --max-body more */
        j->n += size < s->max_body ? size : s->max_body;
        return j->n > s->max_body ? -1 : 0;
    }
    if (size > s->max_body - j->n) {
        j->too_big = 1;
        body_unmap(j);
        j->n = 0; /* from here: bytes dropped */
        return answer_too_big(s, c, j);
    }
    if (j->n + size > j->cap) { /* the declared length, else (chunked, or more than declared) --max-body */
        size_t cap = !j->n && size <= j->declared ? j->declared : s->max_body;
        uint8_t *b = body_map(cap);
        if (!b) return -1;
        if (j->n) memcpy(b, j->body, j->n);
        body_unmap(j);
        j->body = b, j->cap = cap;
    }
    memcpy(j->body + j->n, data, size);
    j->n += size;
    return 0;
}

/* The whole body is in: find the image, then queue it or answer 503. */
static enum MHD_Result analyze_ready(server *s, struct MHD_Connection *c, job *j)
{
    char msg[300];
    if (j->too_big) return MHD_NO; /* answered 413 on the way (answer_too_big): close */
    snprintf(j->file, sizeof j->file, "-");
    j->img_off = 0, j->img_n = j->n;
    if (j->multipart) {
        const uint8_t *d;
        char file[256];
        if (serve_multipart_field(j->body ? j->body : (const uint8_t *)"", j->n, j->boundary, "image", &d, &j->img_n,
                                  file, sizeof file, msg, sizeof msg))
            return send_error(c, j, MHD_HTTP_BAD_REQUEST, msg, NULL, NULL);
        j->img_off = (size_t)(d - j->body);
        if (file[0]) snprintf(j->file, sizeof j->file, "%s", file);
    }
    if (j->img_n == 0)
        return send_error(c, j, MHD_HTTP_BAD_REQUEST, "no image: the body (or its multipart field 'image') is empty",
                          NULL, NULL);
    pthread_mutex_lock(&s->mu);
    if (s->depth >= s->queue_cap || s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return send_error(c, j, MHD_HTTP_SERVICE_UNAVAILABLE, "server busy: the queue is full, try again", 
                          MHD_HTTP_HEADER_RETRY_AFTER, "1");
    }
    /* Suspended before a worker can see it, so its resume always comes after. */
    MHD_suspend_connection(c);
    j->state = QUEUED;
    j->next = NULL;
    if (s->tail) s->tail->next = j;
    else s->head = j;
    s->tail = j;
    s->depth++;
    s->open_jobs++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    server *s = cls;
    job *j = *con_cls;
    if (!j) {
        if (!(j = calloc(1, sizeof *j))) return MHD_NO;
        *con_cls = j;
        j->conn = c;
        j->t0 = cli_seconds();
        int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
        static const struct { const char *path; int route; } routes[] = {
            {"/", ROUTE_PAGE}, {"/healthz", ROUTE_HEALTH}, {"/metrics", ROUTE_METRICS}, {"/v1/analyze", ROUTE_ANALYZE}};
        j->route = -1;
        for (size_t i = 0; i < 4; i++)
            if (!strcmp(url, routes[i].path)) j->route = routes[i].route;
        if (j->route < 0) {
            char msg[300];
            snprintf(msg, sizeof msg, "no such path: %.200s (try /, /v1/analyze, /healthz, /metrics)", url);
            return send_error(c, j, MHD_HTTP_NOT_FOUND, msg, NULL, NULL);
        }
        if (j->route == ROUTE_ANALYZE && strcmp(method, "POST"))
            return send_error(c, j, MHD_HTTP_METHOD_NOT_ALLOWED, "/v1/analyze takes POST with an image",
                              MHD_HTTP_HEADER_ALLOW, "POST");
        if (j->route != ROUTE_ANALYZE && !get)
            return send_error(c, j, MHD_HTTP_METHOD_NOT_ALLOWED, "this path takes GET", MHD_HTTP_HEADER_ALLOW,
                              "GET, HEAD");
        if (j->route == ROUTE_ANALYZE) return analyze_start(s, c, j);
        return MHD_YES; /* answered on the next call, after any body */
    }
    if (*upload_data_size) {
        if (j->route == ROUTE_ANALYZE && analyze_body(s, c, j, upload_data, *upload_data_size)) return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    size_t n = 0;
    char *b;
    switch (j->route) {
    case ROUTE_PAGE:
        b = malloc(sizeof serve_page);
        if (!b) return MHD_NO;
        memcpy(b, serve_page, sizeof serve_page);
        return send_answer(c, j, MHD_HTTP_OK, "text/html; charset=utf-8", b, sizeof serve_page, NULL, NULL);
    case ROUTE_HEALTH:
        return (b = health_json(s, &n)) ? send_answer(c, j, MHD_HTTP_OK, "application/json", b, n, NULL, NULL) : MHD_NO;
    case ROUTE_METRICS:
        return (b = metrics_text(s, &n)) ? send_answer(c, j, MHD_HTTP_OK, "text/plain; version=0.0.4", b, n, NULL, NULL)
                                         : MHD_NO;
    default:
        if (j->state == RECEIVING) return analyze_ready(s, c, j);
        if (j->state == DONE && j->out) {
            b = j->out;
            j->out = NULL;
            return send_answer(c, j, j->status, j->ctype, b, j->out_n, NULL, NULL);
        }
        return MHD_NO; /* a worker could not allocate its answer: close */
    }
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    server *s = cls;
    job *j = *con_cls;
    if (!j) return;
    double t = (j->too_big ? j->t_answer : cli_seconds()) - j->t0;
    pthread_mutex_lock(&s->mu);
    /* answered: sent in full by libmicrohttpd, or the 413 written on the way (answer_too_big) */
    if (j->status && (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK || j->too_big)) {
        s->by_status[j->status < 600 ? j->status : 599]++;
        size_t b = 0;
        while (b < N_BUCKETS && t > buckets[b]) b++;
        s->lat_hist[b]++;
        s->lat_n++;
        s->lat_sum += t;
    } else {
        s->aborted++;
    }
    if (j->state != RECEIVING) s->open_jobs--;
    pthread_mutex_unlock(&s->mu);
    body_unmap(j);
    free(j->out);
    free(j);
    *con_cls = NULL;
}

/* ---- setup ---------------------------------------------------------------------------- */

const char cli_serve_usage[] =
    "usage: ferc serve [--host 127.0.0.1] [--port 8080] [--workers N] [--queue N] [--max-body BYTES]\n"
    "                  [--timeout S] [--max-connections N] [detector and classifier options]\n"
    "\n"
    "HTTP service of the command (docs/serve.md). Listens on loopback unless --host says otherwise.\n"
    "  POST /v1/analyze  body: an image, or multipart/form-data with a field 'image'; answer: the JSON\n"
    "                    line `ferc` prints for it. Query: detector=yunet|ssd|haar|lbp|none,\n"
    "                    classifier=cnn|small|lbp-svm, tta=0|1|flip|centre|crops, align=0|1, annotate=1 (the annotated JPEG)\n"
    "  GET /             a page: photos and the webcam, with boxes, probabilities and 30 s curves\n"
    "  GET /healthz      {\"status\":\"ok\", ...}\n"
    "  GET /metrics      Prometheus text: requests by status, latency, faces, queue, models\n"
    "Options:\n"
    "  --host ADDR           IPv4 or IPv6 address to bind (default 127.0.0.1)\n"
    "  --port N              TCP port (default 8080; 0: any free port, printed at start)\n"
    "  --workers N           images analysed at once (default: --threads, or all processors)\n"
    "  --queue N             images that may wait for a worker; more get 503 (default 32)\n"
    "  --max-body BYTES      largest body (default 33554432); larger gets 413\n"
    "  --timeout S           close connections idle for S seconds (default 10)\n"
    "  --max-connections N   open connections at most (default 256)\n"
    "  --threads N           engine threads in all (default FERC_THREADS or all processors);\n"
    "                        each worker gets N / workers\n"
    "Defaults for the query: --detector, --classifier (or --model FILE), --tta, --align, --int8, as for ferc;\n"
    "--threshold, --ssd-size, --scale-factor, --min-neighbors, --min-size, --detector-model, --max-pixels\n"
    "apply to all.\n"
    "SIGINT or SIGTERM: stop taking connections, finish the queued images, exit 0.\n";

/* Loads every classifier and detector that can be found (the files named by --model and
 * --detector-model too), so that a request for a missing one is answered 400 at once, and
 * makes the default parameter set on every worker, so that a bad file fails at start. */
static int load_models(server *s)
{
    ferc_error err;
    char path[1024];
    for (int c = 0; c < N_CLS; c++) {
        const char *file = c == CLS_FILE ? s->o.an.model : ferc_default_file("classifier", serve_classifier_names[c]);
        if (!file) continue;
        ferc_status st = c == CLS_FILE ? FERC_OK : ferc_find_weights(file, path, sizeof path, &err);
        if (!st) st = ferc_model_load(c == CLS_FILE ? file : path, &s->model[c], &err);
        if (st) snprintf(s->missing_cls[c], sizeof s->missing_cls[c], "%s", err.message);
        /* the int8 twin beside it, for int8=1 (tools/model/quantize.py writes it) */
        char q8[1024];
        st = st ? st : ferc_int8_file(c == CLS_FILE ? file : path, q8, sizeof q8, &err);
        if (!st) st = ferc_model_load(q8, &s->model[c + N_CLS], &err);
        if (st) snprintf(s->missing_cls[c + N_CLS], sizeof s->missing_cls[c + N_CLS], "%s", err.message);
    }
    const int def_model = s->def_cls + (s->o.an.int8 ? N_CLS : 0);
    if (!s->model[def_model]) {
        fprintf(stderr, "ferc serve: classifier %s%s: %s\n", s->def_cls == CLS_FILE ? s->o.an.model :
                serve_classifier_names[s->def_cls], s->o.an.int8 ? " (int8)" : "", s->missing_cls[def_model]);
        return -1;
    }
    const int def_det = s->def_det == SERVE_DET_YUNET && s->o.an.int8 ? DET_YUNET_Q8 : s->def_det;
    for (int d = 0; d < N_DET; d++) {
        if (d == SERVE_DET_NONE) continue;
        const char *model = s->def_det == (d == DET_YUNET_Q8 ? SERVE_DET_YUNET : d) ? s->o.an.detector_model : NULL;
        char q8[1024];
        if (d == DET_YUNET_Q8) { /* YuNet's int8 twin, for int8=1: beside --detector-model's file, or shipped */
            ferc_status st = ferc_int8_file(model ? model : ferc_default_file("detector", "yunet"), model ? q8 : path,
                                            model ? sizeof q8 : sizeof path, &err);
            if (!st && !model) st = ferc_find_weights(path, q8, sizeof q8, &err);
            if (st) {
                if (d == def_det) return fprintf(stderr, "ferc serve: detector yunet (int8): %s\n", err.message), -1;
                snprintf(s->missing_det[d], sizeof s->missing_det[d], "%s", err.message);
                continue;
            }
            model = q8;
        }
        const ferc_detector_options o = {
            .kind = d == DET_YUNET_Q8 ? "yunet" : serve_detector_names[d],
            .model = model,
            .threshold = s->o.an.threshold,
            .min_size = s->o.an.min_size,
            .threads = s->engine_threads,
            .input_size = s->o.an.detector_size,
            .scale_factor = s->o.an.scale_factor,
            .min_neighbors = s->o.an.min_neighbors,
            .nms = s->o.an.nms,
            .tiles = s->o.an.tiles,
            .tile_scale = s->o.an.tile_scale,
        };
        if (ferc_detector_create(&o, &s->det[d], &err)) {
            if (d == def_det) return fprintf(stderr, "ferc serve: detector %s: %s\n", o.kind, err.message), -1;
            snprintf(s->missing_det[d], sizeof s->missing_det[d], "%s", err.message);
        }
    }
    const char *eyes = s->o.an.eye_cascade;
    if (!eyes && !ferc_find_weights(ferc_default_file("eyes", "haar"), path, sizeof path, &err)) eyes = path;
    if ((!eyes || ferc_cascade_load(eyes, &s->eyes, &err)) && s->def_align) {
        fprintf(stderr, "ferc serve: --align: %s\n", err.message);
        return -1;
    }
    for (int w = 0; w < s->workers; w++) {
        if (!analyzer_for(s, w, def_det, def_model, s->o.an.tta, s->def_align, &err)) {
            fprintf(stderr, "ferc serve: %s\n", err.message);
            return -1;
        }
    }
    return 0;
}

static int parse_size(const char *opt, const char *v, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi || *v == '-') {
        fprintf(stderr, "ferc serve: %s %s: expected a whole number from %llu to %llu\n", opt, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_serve(int argc, char **argv)
{
    static server srv; /* the handlers' shared state; static keeps it off the stack */
    server *s = &srv;
    const char *host = "127.0.0.1", *v;
    int port = 8080, timeout = 10, max_conn = 256;
    unsigned long long max_body = 32ull << 20;
    s->queue_cap = 32;
    for (int i = 1; i < argc; i++) {
        int r = cli_parse_common(&s->o, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        int bad = 0;
        if ((v = cli_opt_value("--host", argc, argv, &i))) host = v;
        else if ((v = cli_opt_value("--port", argc, argv, &i))) bad = cli_parse_int("--port", v, 0, 65535, &port);
        else if ((v = cli_opt_value("--workers", argc, argv, &i))) bad = cli_parse_int("--workers", v, 1, 256, &s->workers);
        else if ((v = cli_opt_value("--queue", argc, argv, &i))) bad = cli_parse_int("--queue", v, 0, 1 << 20, &s->queue_cap);
        else if ((v = cli_opt_value("--timeout", argc, argv, &i))) bad = cli_parse_int("--timeout", v, 1, 3600, &timeout);
        else if ((v = cli_opt_value("--max-connections", argc, argv, &i)))
            bad = cli_parse_int("--max-connections", v, 1, 1 << 16, &max_conn);
        else if ((v = cli_opt_value("--max-body", argc, argv, &i))) bad = parse_size("--max-body", v, 1, 1ull << 31, &max_body);
        else {
            fprintf(stderr, "ferc serve: unknown option %s (see ferc serve --help)\n", argv[i]);
            return 2;
        }
        if (bad) return 2;
    }
    if (s->o.format) {
        fprintf(stderr, "ferc serve: --format: the server answers JSON (or annotate=1 for a JPEG)\n");
        return 2;
    }
    s->max_body = (size_t)max_body;
    int threads = s->o.threads ? s->o.threads : cli_default_threads();
    if (!s->workers) s->workers = threads;
    s->engine_threads = threads / s->workers > 1 ? threads / s->workers : 1;
    const char *kind = s->o.an.detector ? s->o.an.detector : FERC_DEFAULT_DETECTOR;
    s->def_det = SERVE_DET_SSD;
    for (int d = 0; d < SERVE_N_DET; d++)
        if (!strcmp(kind, serve_detector_names[d])) s->def_det = d;
    s->def_cls = SERVE_CLS_CNN;
    for (int c = 0; c < SERVE_N_CLS; c++)
        if (s->o.an.classifier && !strcmp(s->o.an.classifier, serve_classifier_names[c])) s->def_cls = c;
    if (s->o.an.model) s->def_cls = CLS_FILE;
    s->def_align = s->o.an.align || s->o.an.eye_cascade;

    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } addr;
    memset(&addr, 0, sizeof addr);
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, host, &addr.v4.sin_addr) == 1) {
        addr.v4.sin_family = AF_INET;
        addr.v4.sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &addr.v6.sin6_addr) == 1) {
        addr.v6.sin6_family = AF_INET6;
        addr.v6.sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr, "ferc serve: --host %s: expected a numeric IPv4 or IPv6 address\n", host);
        return 2;
    }

    s->eng = calloc((size_t)s->workers, sizeof *s->eng);
    s->threads = calloc((size_t)s->workers, sizeof *s->threads);
    worker_arg *wa = calloc((size_t)s->workers, sizeof *wa);
    int rc = 1, started = 0;
    struct MHD_Daemon *d = NULL;
    MHD_socket listen_fd = MHD_INVALID_SOCKET;
    if (!s->eng || !s->threads || !wa) {
        fprintf(stderr, "ferc serve: out of memory\n");
        goto done;
    }
    if (load_models(s)) goto done;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);

    /* Signals go to this thread only (sigwait below); every thread made from here inherits
     * the mask. A client that hangs up must not kill the process with SIGPIPE. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    for (; started < s->workers; started++) {
        wa[started] = (worker_arg){s, started};
        if (pthread_create(&s->threads[started], NULL, worker_main, &wa[started])) {
            fprintf(stderr, "ferc serve: cannot start worker thread %d\n", started);
            goto stop;
        }
    }
    d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, &addr,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)timeout, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)max_conn, MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "ferc serve: cannot listen on %s port %d: %s\n", host, port, strerror(errno));
        goto stop;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "ferc serve: listening on http://%s%s%s:%u/ (%d workers x %d threads, queue %d)\n",
            flags & MHD_USE_IPv6 ? "[" : "", host, flags & MHD_USE_IPv6 ? "]" : "", info ? info->port : (unsigned)port,
            s->workers, s->engine_threads, s->queue_cap);
    int sig = 0;
    do
        sigwait(&set, &sig);
    while (sig == SIGPIPE);
    fprintf(stderr, "ferc serve: %s: finishing queued images\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    listen_fd = MHD_quiesce_daemon(d); /* no new connections; closed after the daemon stops */
    rc = 0;
stop:
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (int w = 0; w < started; w++) pthread_join(s->threads[w], NULL);
    /* Answers of resumed jobs go out before the daemon closes their connections (at most 5 s). */
    for (int k = 0; d && k < 500; k++) {
        pthread_mutex_lock(&s->mu);
        int open = s->open_jobs;
        pthread_mutex_unlock(&s->mu);
        if (!open) break;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    if (d) MHD_stop_daemon(d);
    if (listen_fd != MHD_INVALID_SOCKET) close(listen_fd);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
done:
    for (int w = 0; s->eng && w < s->workers; w++) engines_free(&s->eng[w]);
    for (int k = 0; k < N_DET; k++) ferc_detector_free(s->det[k]);
    for (int c = 0; c < N_MODEL; c++) ferc_model_free(s->model[c]);
    ferc_cascade_free(s->eyes);
    free(s->eng);
    free(s->threads);
    free(wa);
    if (!rc) fprintf(stderr, "ferc serve: stopped\n");
    return rc;
}
