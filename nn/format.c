/* format.c - reads and validates a ferc weight file (byte layout: docs/FORMAT.md).
 *
 * Everything in the file is untrusted. Each count is checked against the bytes that remain
 * before anything is allocated for it, so a hostile file cannot make the loader allocate
 * more than a small multiple of its own size; every offset is bounds-checked; the graph is
 * checked for unknown ops, dangling edges, double producers and cycles; every op checks its
 * attributes and parameter shapes; and shapes are inferred once so a bad graph fails here,
 * not during a run. */
#include "nn/model.h"
#include "nn/graph.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FERC_MAGIC "\x89" "FERC\r\n\x1a"
#define FERC_FORMAT_VERSION 1
#define HEADER_SIZE 64
#define MAX_STR 65535
#define MAX_NAME 255
#define MAX_ATTR_VALUES 64

/* CRC-32 (IEEE 802.3, reflected, as zlib.crc32). Table built on the fly: 1 KiB on the
 * stack is cheaper than a global that would need thread-safe initialisation. */
uint32_t ferc_crc32(const uint8_t *p, size_t n)
{
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

/* ---- a bounds-checked little-endian reader ----------------------------------------- */

typedef struct {
    const uint8_t *p, *end;
    ferc_error *err;
    int failed;
} reader;

static int need(reader *r, size_t n, const char *what)
{
    if (r->failed) return 0;
    if ((size_t)(r->end - r->p) < n) {
        ferc_set_error(r->err, FERC_ERR_FORMAT, "truncated index: %s needs %zu bytes, %zu left",
                       what, n, (size_t)(r->end - r->p));
        r->failed = 1;
        return 0;
    }
    return 1;
}

static uint32_t rd_u32(reader *r, const char *what)
{
    if (!need(r, 4, what)) return 0;
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
                 (uint32_t)r->p[3] << 24;
    r->p += 4;
    return v;
}

static uint64_t rd_u64(reader *r, const char *what)
{
    uint64_t lo = rd_u32(r, what);
    uint64_t hi = rd_u32(r, what);
    return lo | hi << 32;
}

static uint8_t rd_u8(reader *r, const char *what)
{
    if (!need(r, 1, what)) return 0;
    return *r->p++;
}

static float rd_f32(reader *r, const char *what)
{
    uint32_t u = rd_u32(r, what);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* A length-prefixed string, copied and NUL-terminated. Embedded NULs are refused. */
static char *rd_str(reader *r, size_t maxlen, const char *what)
{
    uint32_t len = rd_u32(r, what);
    if (r->failed) return NULL;
    if (len > maxlen) {
        ferc_set_error(r->err, FERC_ERR_FORMAT, "%s is %u bytes long, limit %zu", what, len, maxlen);
        r->failed = 1;
        return NULL;
    }
    if (!need(r, len, what)) return NULL;
    if (memchr(r->p, 0, len)) {
        ferc_set_error(r->err, FERC_ERR_FORMAT, "%s contains a NUL byte", what);
        r->failed = 1;
        return NULL;
    }
    char *s = malloc((size_t)len + 1);
    if (!s) {
        ferc_set_error(r->err, FERC_ERR_NOMEM, "out of memory reading %s", what);
        r->failed = 1;
        return NULL;
    }
    memcpy(s, r->p, len);
    s[len] = 0;
    r->p += len;
    return s;
}

/* A count of entries that each take at least min_bytes: refused if the rest of the index
 * could not hold them, which bounds every allocation by the file size. */
static uint32_t rd_count(reader *r, size_t min_bytes, const char *what)
{
    uint32_t n = rd_u32(r, what);
    if (r->failed) return 0;
    if ((uint64_t)n * min_bytes > (uint64_t)(r->end - r->p)) {
        ferc_set_error(r->err, FERC_ERR_FORMAT, "%s count %u cannot fit in the %zu index bytes left",
                       what, n, (size_t)(r->end - r->p));
        r->failed = 1;
        return 0;
    }
    return n;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- parsing ------------------------------------------------------------------------ */

static const char *kind_name(int k)
{
    return k == FERC_VAL_INPUT ? "input" : k == FERC_VAL_PARAM ? "parameter" : "activation";
}

static ferc_status parse_values(ferc_model *m, reader *r, uint64_t data_off, uint64_t data_size)
{
    m->n_values = (int)rd_count(r, 8, "value table");
    if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
    m->values = calloc((size_t)m->n_values + 1, sizeof *m->values);
    if (!m->values) return ferc_set_error(r->err, FERC_ERR_NOMEM, "out of memory for value table");
    for (int i = 0; i < m->n_values; i++) {
        ferc_value *v = &m->values[i];
        v->producer = -1;
        v->name = rd_str(r, MAX_NAME, "value name");
        if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
        if (!v->name[0])
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "value %d has an empty name", i);
        v->kind = rd_u8(r, "value kind");
        v->dtype = rd_u8(r, "value dtype");
        v->shape.ndim = rd_u8(r, "value ndim");
        uint8_t reserved = rd_u8(r, "value reserved byte");
        if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
        if (v->kind > FERC_VAL_ACT)
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "value '%s': unknown kind %d", v->name, v->kind);
        if (v->dtype > FERC_DT_Q8)
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "value '%s': unknown dtype %d", v->name, v->dtype);
        if (v->kind != FERC_VAL_PARAM && v->dtype != FERC_DT_F32)
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "%s '%s' must be f32", kind_name(v->kind), v->name);
        if (v->shape.ndim > FERC_MAX_DIMS || reserved != 0)
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "value '%s': bad rank %d", v->name, v->shape.ndim);
        int64_t numel = 1;
        for (int d = 0; d < v->shape.ndim; d++) {
            uint32_t dim = rd_u32(r, "value dims");
            if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
            if (dim < 1 || dim > FERC_MAX_DIM)
                return ferc_set_error(r->err, FERC_ERR_FORMAT, "value '%s': dimension %d is %u (allowed 1..%d)",
                                      v->name, d, dim, FERC_MAX_DIM);
            v->shape.d[d] = dim;
            numel *= dim;
            if (numel > FERC_MAX_NUMEL)
                return ferc_set_error(r->err, FERC_ERR_FORMAT, "value '%s' has more than %lld elements",
                                      v->name, (long long)FERC_MAX_NUMEL);
        }
        if (v->kind == FERC_VAL_INPUT && v->shape.ndim == 0)
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "input '%s' has no shape", v->name);
        if (v->kind != FERC_VAL_PARAM) continue;

        float scale = rd_f32(r, "quantisation scale");
        int32_t zero = (int32_t)rd_u32(r, "quantisation zero point");
        uint64_t off = rd_u64(r, "tensor offset");
        uint64_t nbytes = rd_u64(r, "tensor size");
        if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
        if (v->shape.ndim == 0)
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "parameter '%s' has no shape", v->name);
        size_t esize = v->dtype == FERC_DT_F32 ? 4 : v->dtype == FERC_DT_F16 ? 2 : 1;
        if (nbytes != (uint64_t)numel * esize)
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "parameter '%s': %llu bytes stored, shape needs %llu",
                                  v->name, (unsigned long long)nbytes, (unsigned long long)numel * esize);
        if (off % FERC_ALIGN)
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "parameter '%s': offset %llu is not %d-byte aligned",
                                  v->name, (unsigned long long)off, FERC_ALIGN);
        if (off > data_size || nbytes > data_size - off)
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "parameter '%s' lies outside the data section",
                                  v->name);
        if (v->dtype == FERC_DT_Q8 && (!(scale > 0) || scale > 1e30f || zero < 0 || zero > 255))
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "parameter '%s': bad quantisation scale %g / zero point %d",
                                  v->name, (double)scale, zero);
        const uint8_t *src = m->file + data_off + off;
        if (v->dtype == FERC_DT_F32) {
            v->data = (float *)(void *)src; /* used in place: aligned by construction */
            continue;
        }
        v->data = ferc_alloc((size_t)numel * sizeof(float));
        if (!v->data) return ferc_set_error(r->err, FERC_ERR_NOMEM, "out of memory for '%s'", v->name);
        v->owned = 1;
        for (int64_t k = 0; k < numel; k++)
            v->data[k] = v->dtype == FERC_DT_F16
                             ? ferc_half_to_float((uint16_t)(src[2 * k] | src[2 * k + 1] << 8))
                             : scale * (float)((int32_t)src[k] - zero);
    }
    /* Names are how references, edges and users find tensors: they must be unique. Sorting
     * would be faster; n is small (hundreds) and this runs once. */
    for (int i = 0; i < m->n_values; i++)
        for (int j = i + 1; j < m->n_values; j++)
            if (!strcmp(m->values[i].name, m->values[j].name))
                return ferc_set_error(r->err, FERC_ERR_FORMAT, "value name '%s' is used twice", m->values[i].name);
    return FERC_OK;
}

static ferc_status parse_nodes(ferc_model *m, reader *r)
{
    m->n_nodes = (int)rd_count(r, 16, "node table");
    if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
    m->nodes = calloc((size_t)m->n_nodes + 1, sizeof *m->nodes);
    if (!m->nodes) return ferc_set_error(r->err, FERC_ERR_NOMEM, "out of memory for node table");
    for (int i = 0; i < m->n_nodes; i++) {
        ferc_node *n = &m->nodes[i];
        char *opname = rd_str(r, MAX_NAME, "op name");
        if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
        n->op = ferc_find_op(opname);
        if (!n->op) {
            ferc_status s = ferc_set_error(r->err, FERC_ERR_UNSUPPORTED,
                                           "node %d: unknown op '%s' (this build of ferc does not implement it)",
                                           i, opname);
            free(opname);
            return s;
        }
        free(opname);
        for (int io = 0; io < 2; io++) {
            int cnt = (int)rd_count(r, 4, io ? "node outputs" : "node inputs");
            if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
            int *idx = malloc(sizeof(int) * (size_t)(cnt + 1));
            if (!idx) return ferc_set_error(r->err, FERC_ERR_NOMEM, "out of memory for node edges");
            if (io) { n->out = idx; n->n_out = cnt; } else { n->in = idx; n->n_in = cnt; }
            for (int k = 0; k < cnt; k++) {
                uint32_t v = rd_u32(r, "node edge");
                if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
                if (v >= (uint32_t)m->n_values)
                    return ferc_set_error(r->err, FERC_ERR_FORMAT, "node %d (%s): edge to value %u, only %d values",
                                          i, n->op->name, v, m->n_values);
                idx[k] = (int)v;
            }
        }
        if (n->n_in < n->op->min_in || n->n_in > n->op->max_in || n->n_out != n->op->n_out)
            return ferc_set_error(r->err, FERC_ERR_FORMAT, "node %d (%s): %d inputs and %d outputs, op takes %d-%d and %d",
                                  i, n->op->name, n->n_in, n->n_out, n->op->min_in, n->op->max_in, n->op->n_out);
        n->n_attr = (int)rd_count(r, 9, "node attributes");
        if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
        n->attrs = calloc((size_t)n->n_attr + 1, sizeof *n->attrs);
        if (!n->attrs) return ferc_set_error(r->err, FERC_ERR_NOMEM, "out of memory for attributes");
        for (int k = 0; k < n->n_attr; k++) {
            ferc_attr *a = &n->attrs[k];
            a->key = rd_str(r, MAX_NAME, "attribute name");
            a->type = rd_u8(r, "attribute type");
            a->count = (int)rd_u32(r, "attribute count");
            if (r->failed) return r->err ? r->err->code : FERC_ERR_FORMAT;
            if (a->type > FERC_ATTR_FLOATS || a->count < 0 || a->count > MAX_ATTR_VALUES)
                return ferc_set_error(r->err, FERC_ERR_FORMAT, "node %d (%s): attribute '%s' has type %d and %d values",
                                      i, n->op->name, a->key, a->type, a->count);
            if (!need(r, (size_t)a->count * 4, "attribute values")) return r->err ? r->err->code : FERC_ERR_FORMAT;
            if (a->type == FERC_ATTR_INTS) {
                a->ints = malloc(sizeof(int32_t) * (size_t)(a->count + 1));
                if (!a->ints) return ferc_set_error(r->err, FERC_ERR_NOMEM, "out of memory for attributes");
                for (int j = 0; j < a->count; j++) a->ints[j] = (int32_t)rd_u32(r, "attribute value");
            } else {
                a->floats = malloc(sizeof(float) * (size_t)(a->count + 1));
                if (!a->floats) return ferc_set_error(r->err, FERC_ERR_NOMEM, "out of memory for attributes");
                for (int j = 0; j < a->count; j++) a->floats[j] = rd_f32(r, "attribute value");
            }
            for (int j = 0; j < k; j++)
                if (!strcmp(n->attrs[j].key, a->key))
                    return ferc_set_error(r->err, FERC_ERR_FORMAT, "node %d (%s): attribute '%s' given twice",
                                          i, n->op->name, a->key);
        }
    }
    return FERC_OK;
}

static ferc_status parse_index(ferc_model *m, const uint8_t *idx, size_t size, uint64_t data_off,
                               uint64_t data_size, ferc_error *err)
{
    reader r = {idx, idx + size, err, 0};
    ferc_status s;
    m->n_meta = (int)rd_count(&r, 8, "metadata");
    if (r.failed) return err ? err->code : FERC_ERR_FORMAT;
    m->meta_key = calloc((size_t)m->n_meta + 1, sizeof(char *));
    m->meta_val = calloc((size_t)m->n_meta + 1, sizeof(char *));
    if (!m->meta_key || !m->meta_val) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for metadata");
    for (int i = 0; i < m->n_meta; i++) {
        m->meta_key[i] = rd_str(&r, MAX_NAME, "metadata key");
        m->meta_val[i] = rd_str(&r, MAX_STR, "metadata value");
        if (r.failed) return err ? err->code : FERC_ERR_FORMAT;
    }
    if ((s = parse_values(m, &r, data_off, data_size))) return s;
    if ((s = parse_nodes(m, &r))) return s;
    m->n_outputs = (int)rd_count(&r, 4, "graph outputs");
    if (r.failed) return err ? err->code : FERC_ERR_FORMAT;
    m->outputs = malloc(sizeof(int) * (size_t)(m->n_outputs + 1));
    if (!m->outputs) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m->n_outputs; i++) {
        uint32_t v = rd_u32(&r, "graph output");
        if (r.failed) return err ? err->code : FERC_ERR_FORMAT;
        if (v >= (uint32_t)m->n_values || m->values[v].kind != FERC_VAL_ACT)
            return ferc_set_error(err, FERC_ERR_FORMAT, "graph output %d is not an activation", i);
        m->outputs[i] = (int)v;
    }
    if (r.p != r.end)
        return ferc_set_error(err, FERC_ERR_FORMAT, "%zu unexpected bytes after the index", (size_t)(r.end - r.p));
    return FERC_OK;
}

/* ---- loading ------------------------------------------------------------------------ */

static ferc_status load_bytes(ferc_model *m, ferc_error *err)
{
    const uint8_t *h = m->file;
    if (m->file_size < HEADER_SIZE)
        return ferc_set_error(err, FERC_ERR_FORMAT, "file is %zu bytes, shorter than the %d-byte header",
                              m->file_size, HEADER_SIZE);
    if (memcmp(h, FERC_MAGIC, 8))
        return ferc_set_error(err, FERC_ERR_FORMAT, "not a ferc weight file (bad magic)");
    uint32_t version = le32(h + 8);
    if (version != FERC_FORMAT_VERSION)
        return ferc_set_error(err, FERC_ERR_UNSUPPORTED,
                              "weight file format version %u, this ferc reads version %d: re-export the model "
                              "with the tools/ of this ferc version",
                              version, FERC_FORMAT_VERSION);
    uint64_t file_size = le64(h + 16), idx_off = le64(h + 24), idx_size = le64(h + 32);
    uint64_t data_off = le64(h + 40), data_size = le64(h + 48);
    uint32_t crc = le32(h + 56);
    if (le32(h + 12) != HEADER_SIZE || le32(h + 60) != 0)
        return ferc_set_error(err, FERC_ERR_FORMAT, "bad header size or reserved field");
    if (file_size != m->file_size)
        return ferc_set_error(err, FERC_ERR_FORMAT, "header says %llu bytes but the file has %zu (truncated or padded?)",
                              (unsigned long long)file_size, m->file_size);
    if (idx_off != HEADER_SIZE || idx_size > file_size - HEADER_SIZE || data_off % FERC_ALIGN ||
        data_off < idx_off + idx_size || data_off > file_size || data_size != file_size - data_off)
        return ferc_set_error(err, FERC_ERR_FORMAT, "section offsets in the header are inconsistent");
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* Fuzzing builds skip the checksum so the fuzzer can reach the parser behind it. */
    uint32_t actual = ferc_crc32(m->file + HEADER_SIZE, m->file_size - HEADER_SIZE);
    if (actual != crc)
        return ferc_set_error(err, FERC_ERR_FORMAT, "checksum mismatch (stored %08x, computed %08x): file is corrupt",
                              crc, actual);
#else
    (void)crc;
#endif
    ferc_status s = parse_index(m, m->file + idx_off, idx_size, data_off, data_size, err);
    if (s) return s;
    return ferc_graph_check(m, err);
}

static ferc_status finish(ferc_model *m, ferc_model **out, ferc_error *err, ferc_status s)
{
    if (s) {
        ferc_model_free(m);
        *out = NULL;
        return s;
    }
    *out = m;
    if (err) { err->code = FERC_OK; err->message[0] = 0; }
    return FERC_OK;
}

ferc_status ferc_model_load_memory(const void *data, size_t size, ferc_model **out, ferc_error *err)
{
    if (!out) return ferc_set_error(err, FERC_ERR_ARG, "no output pointer");
    *out = NULL;
    if (!data && size) return ferc_set_error(err, FERC_ERR_ARG, "no data");
    ferc_model *m = calloc(1, sizeof *m);
    if (!m) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    m->file = ferc_alloc(size);
    if (!m->file) return finish(m, out, err, ferc_set_error(err, FERC_ERR_NOMEM, "out of memory for %zu bytes", size));
    if (size) memcpy(m->file, data, size);
    m->file_size = size;
    return finish(m, out, err, load_bytes(m, err));
}

ferc_status ferc_model_load(const char *path, ferc_model **out, ferc_error *err)
{
    if (!out || !path) return ferc_set_error(err, FERC_ERR_ARG, "no path or output pointer");
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return ferc_set_error(err, FERC_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return ferc_set_error(err, FERC_ERR_IO, "%s: not a regular file", path);
    }
    ferc_model *m = calloc(1, sizeof *m);
    if (!m) { close(fd); return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory"); }
    m->file_size = (size_t)st.st_size;
    if (m->file_size >= HEADER_SIZE) {
        /* Mapped read-only: f32 parameters are used in place and pages are shared between
         * processes. mmap returns page-aligned memory, so 64-byte offsets stay aligned. */
        void *p = mmap(NULL, m->file_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) { m->file = p; m->mapped = 1; }
    }
    if (!m->mapped) {
        m->file = ferc_alloc(m->file_size);
        size_t got = 0;
        while (m->file && got < m->file_size) {
            ssize_t k = read(fd, m->file + got, m->file_size - got);
            if (k <= 0) break;
            got += (size_t)k;
        }
        if (!m->file || got != m->file_size) {
            close(fd);
            return finish(m, out, err, ferc_set_error(err, FERC_ERR_IO, "%s: short read", path));
        }
    }
    close(fd);
    ferc_status s = load_bytes(m, err);
    if (s) ferc_error_prefix(err, path);
    return finish(m, out, err, s);
}

void ferc_model_free(ferc_model *m)
{
    if (!m) return;
    for (int i = 0; m->nodes && i < m->n_nodes; i++) {
        ferc_node *n = &m->nodes[i];
        if (n->op && n->op->destroy && n->state) n->op->destroy(n);
        for (int k = 0; n->attrs && k < n->n_attr; k++) {
            free(n->attrs[k].key);
            free(n->attrs[k].ints);
            free(n->attrs[k].floats);
        }
        free(n->attrs);
        free(n->in);
        free(n->out);
    }
    free(m->nodes);
    for (int i = 0; m->values && i < m->n_values; i++) {
        free(m->values[i].name);
        if (m->values[i].owned) ferc_free(m->values[i].data);
    }
    free(m->values);
    for (int i = 0; i < m->n_meta; i++) {
        if (m->meta_key) free(m->meta_key[i]);
        if (m->meta_val) free(m->meta_val[i]);
    }
    free(m->meta_key);
    free(m->meta_val);
    free(m->order);
    free(m->inputs);
    free(m->outputs);
    if (m->mapped) munmap(m->file, m->file_size);
    else ferc_free(m->file);
    free(m);
}

/* ---- accessors ---------------------------------------------------------------------- */

const char *ferc_model_meta(const ferc_model *m, const char *key)
{
    for (int i = 0; i < m->n_meta; i++)
        if (!strcmp(m->meta_key[i], key)) return m->meta_val[i];
    return NULL;
}
int ferc_model_meta_count(const ferc_model *m) { return m->n_meta; }
const char *ferc_model_meta_key(const ferc_model *m, int i) { return i >= 0 && i < m->n_meta ? m->meta_key[i] : NULL; }
int ferc_model_num_inputs(const ferc_model *m) { return m->n_inputs; }
int ferc_model_num_outputs(const ferc_model *m) { return m->n_outputs; }
int ferc_model_num_nodes(const ferc_model *m) { return m->n_nodes; }

const char *ferc_model_input_name(const ferc_model *m, int i)
{
    return i >= 0 && i < m->n_inputs ? m->values[m->inputs[i]].name : NULL;
}

const char *ferc_model_output_name(const ferc_model *m, int i)
{
    return i >= 0 && i < m->n_outputs ? m->values[m->outputs[i]].name : NULL;
}

void ferc_model_input_shape(const ferc_model *m, int i, int *ndim, int64_t dims[4])
{
    *ndim = 0;
    if (i < 0 || i >= m->n_inputs) return;
    const ferc_shape *s = &m->values[m->inputs[i]].shape;
    *ndim = s->ndim;
    for (int d = 0; d < s->ndim; d++) dims[d] = s->d[d];
}

void ferc_model_output_shape(const ferc_model *m, int i, int *ndim, int64_t dims[4])
{
    *ndim = 0;
    if (i < 0 || i >= m->n_outputs) return;
    const ferc_shape *s = &m->values[m->outputs[i]].shape;
    *ndim = s->ndim;
    for (int d = 0; d < s->ndim; d++) dims[d] = s->d[d];
}

const char *ferc_model_output_op(const ferc_model *m, int i)
{
    if (i < 0 || i >= m->n_outputs) return NULL;
    const int p = m->values[m->outputs[i]].producer;
    return p >= 0 ? m->nodes[p].op->name : NULL;
}

int64_t ferc_model_param_count(const ferc_model *m)
{
    int64_t n = 0;
    for (int i = 0; i < m->n_values; i++)
        if (m->values[i].kind == FERC_VAL_PARAM) n += ferc_shape_numel(&m->values[i].shape);
    return n;
}

static int param_index(const ferc_model *m, int i)
{
    for (int k = 0; k < m->n_values; k++)
        if (m->values[k].kind == FERC_VAL_PARAM && i-- == 0) return k;
    return -1;
}

int ferc_model_num_tensors(const ferc_model *m)
{
    int n = 0;
    for (int i = 0; i < m->n_values; i++) n += m->values[i].kind == FERC_VAL_PARAM;
    return n;
}

const char *ferc_model_tensor_name(const ferc_model *m, int i)
{
    int k = param_index(m, i);
    return k < 0 ? NULL : m->values[k].name;
}

int ferc_model_tensor(const ferc_model *m, const char *name, ferc_tensor *t)
{
    for (int i = 0; i < m->n_values; i++) {
        const ferc_value *v = &m->values[i];
        if (v->kind != FERC_VAL_PARAM || strcmp(v->name, name)) continue;
        t->ndim = v->shape.ndim;
        for (int d = 0; d < 4; d++) t->dims[d] = d < v->shape.ndim ? v->shape.d[d] : 0;
        t->data = v->data;
        return 0;
    }
    return -1;
}
