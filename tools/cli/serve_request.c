/* serve_request.c - query parameters and multipart/form-data bodies of `ferc serve`
 * (serve_request.h). Every index is checked against the length: the input is whatever a
 * client sent. */
#include "tools/cli/serve_request.h"

#include "ferc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const serve_detector_names[SERVE_N_DET] = {"ssd", "yunet", "haar", "lbp", "none"};
const char *const serve_classifier_names[SERVE_N_CLS] = {"cnn", "small", "lbp-svm"};

void serve_params_init(serve_params *p)
{
    p->detector = p->classifier = p->tta = p->align = p->int8 = p->annotate = -1;
}

static int name_index(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i])) return i;
    return -1;
}

static int choice(int *slot, const char *key, const char *v, const char *const *names, int n, char *msg, size_t ms)
{
    int i = v ? name_index(v, names, n) : -1;
    if (i < 0) {
        int k = snprintf(msg, ms, "query parameter %s=%s: expected one of", key, v ? v : "");
        for (int j = 0; j < n && k >= 0 && (size_t)k < ms; j++) k += snprintf(msg + k, ms - (size_t)k, " %s", names[j]);
        return -1;
    }
    *slot = i;
    return 0;
}

static int flag(int *slot, const char *key, const char *v, char *msg, size_t ms)
{
    if (!v || !strcmp(v, "1") || !strcmp(v, "true")) *slot = 1; /* "?tta" alone means on */
    else if (!strcmp(v, "0") || !strcmp(v, "false")) *slot = 0;
    else {
        snprintf(msg, ms, "query parameter %s=%s: expected 0, 1, true or false", key, v);
        return -1;
    }
    return 0;
}

/* tta: a flag (on = flip, as bare --tta) or a mode name (ferc_tta_from_name). */
static int tta_mode(int *slot, const char *v, char *msg, size_t ms)
{
    const int mode = ferc_tta_from_name(v);
    if (mode >= 0) *slot = mode;
    else if (flag(slot, "tta", v, msg, ms)) {
        snprintf(msg, ms, "query parameter tta=%s: expected 0, 1, true, false, none, flip, centre or crops", v);
        return -1;
    }
    return 0;
}

int serve_param(serve_params *p, const char *key, const char *value, char *msg, size_t msg_size)
{
    static const char *const keys[] = {"detector", "classifier", "tta", "align", "int8", "annotate"};
    int *slots[] = {&p->detector, &p->classifier, &p->tta, &p->align, &p->int8, &p->annotate};
    int k = name_index(key, keys, 6);
    if (k < 0) {
        snprintf(msg, msg_size, "unknown query parameter '%s' (detector, classifier, tta, align, int8, annotate)", key);
        return -1;
    }
    if (*slots[k] != -1) {
        snprintf(msg, msg_size, "query parameter %s given twice", key);
        return -1;
    }
    if (k == 0) return choice(slots[k], key, value, serve_detector_names, SERVE_N_DET, msg, msg_size);
    if (k == 1) return choice(slots[k], key, value, serve_classifier_names, SERVE_N_CLS, msg, msg_size);
    if (k == 2) return tta_mode(slots[k], value, msg, msg_size);
    return flag(slots[k], key, value, msg, msg_size);
}

/* Copies the parameter `name` of a header value ("type; a=b; name=\"v\"") into out. Returns
 * 1 if found, 0 if absent, -1 if malformed (unterminated quote, too long). */
static int header_param(const char *s, size_t len, const char *name, char *out, size_t out_size)
{
    size_t nl = strlen(name), i = 0;
    while (i < len) {
        while (i < len && s[i] != ';') {
            if (s[i] == '"') { /* skip a quoted string so that ';' inside it does not split */
                for (i++; i < len && s[i] != '"'; i++)
                    if (s[i] == '\\') i++;
            }
            i++;
        }
        if (i >= len) return 0;
        i++; /* past ';' */
        while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
        if (len - i <= nl || strncasecmp(s + i, name, nl) || s[i + nl] != '=') continue;
        i += nl + 1;
        size_t o = 0;
        if (i < len && s[i] == '"') {
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == '\\' && i + 1 < len) i++;
                if (o + 1 >= out_size) return -1;
                out[o++] = s[i];
            }
            if (i >= len) return -1;
        } else {
            for (; i < len && s[i] != ';' && s[i] != ' ' && s[i] != '\t'; i++) {
                if (o + 1 >= out_size) return -1;
                out[o++] = s[i];
            }
        }
        out[o] = 0;
        return 1;
    }
    return 0;
}

int serve_multipart_boundary(const char *ct, char *boundary, size_t boundary_size, char *msg, size_t msg_size)
{
    static const char type[] = "multipart/form-data";
    while (*ct == ' ' || *ct == '\t') ct++;
    if (strncasecmp(ct, type, sizeof type - 1) || (ct[sizeof type - 1] && ct[sizeof type - 1] != ';' &&
                                                   ct[sizeof type - 1] != ' '))
        return 0;
    char b[72];
    int r = header_param(ct, strlen(ct), "boundary", b, sizeof b);
    if (r <= 0 || !b[0] || strlen(b) > 70 || strlen(b) + 1 > boundary_size) {
        snprintf(msg, msg_size, "multipart/form-data without a valid boundary (1 to 70 characters)");
        return -1;
    }
    memcpy(boundary, b, strlen(b) + 1);
    return 1;
}

/* First occurrence of needle in hay, or NULL (glibc's memmem is not POSIX). */
static const uint8_t *find(const uint8_t *hay, size_t n, const char *needle, size_t m)
{
    if (m == 0 || n < m) return NULL;
    const uint8_t *end = hay + (n - m) + 1;
    for (const uint8_t *p = hay; p < end; p++) {
        p = memchr(p, (unsigned char)needle[0], (size_t)(end - p));
        if (!p) return NULL;
        if (!memcmp(p, needle, m)) return p;
    }
    return NULL;
}

int serve_multipart_field(const uint8_t *body, size_t len, const char *boundary, const char *name,
                          const uint8_t **data, size_t *n, char *filename, size_t filename_size, char *msg,
                          size_t msg_size)
{
    char delim[80]; /* "\r\n--" boundary */
    size_t bl = strlen(boundary);
    if (bl == 0 || bl > 70) {
        snprintf(msg, msg_size, "multipart boundary must have 1 to 70 characters");
        return -1;
    }
    int dl = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    /* The first delimiter may open the body (no preamble, so no CRLF before it). */
    const uint8_t *p;
    if (len >= (size_t)dl - 2 && !memcmp(body, delim + 2, (size_t)dl - 2)) p = body + dl - 2;
    else if ((p = find(body, len, delim, (size_t)dl))) p += dl;
    else {
        snprintf(msg, msg_size, "multipart body has no boundary line --%s", boundary);
        return -1;
    }
    const uint8_t *end = body + len;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') break; /* the closing delimiter */
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            snprintf(msg, msg_size, "malformed multipart body: a boundary line does not end in CRLF");
            return -1;
        }
        p += 2;
        /* Header lines up to an empty line; only Content-Disposition matters. */
        char part_name[256] = "", part_file[256] = "";
        int named = 0;
        for (;;) {
            const uint8_t *eol = find(p, (size_t)(end - p), "\r\n", 2);
            if (!eol) {
                snprintf(msg, msg_size, "malformed multipart body: part headers do not end");
                return -1;
            }
            size_t ll = (size_t)(eol - p);
            const char *line = (const char *)p;
            p = eol + 2;
            if (ll == 0) break;
            static const char cd[] = "content-disposition:";
            if (ll >= sizeof cd - 1 && !strncasecmp(line, cd, sizeof cd - 1)) {
                if (header_param(line, ll, "name", part_name, sizeof part_name) < 0 ||
                    header_param(line, ll, "filename", part_file, sizeof part_file) < 0) {
                    snprintf(msg, msg_size, "malformed multipart Content-Disposition header");
                    return -1;
                }
                named = 1;
            }
        }
        const uint8_t *next = find(p, (size_t)(end - p), delim, (size_t)dl);
        if (!next) {
            snprintf(msg, msg_size, "multipart body ends before its closing boundary (cut off?)");
            return -1;
        }
        if (named && !strcmp(part_name, name)) {
            *data = p;
            *n = (size_t)(next - p);
            snprintf(filename, filename_size, "%s", part_file);
            return 0;
        }
        p = next + dl;
    }
    snprintf(msg, msg_size, "multipart body has no field named '%s'", name);
    return -1;
}
