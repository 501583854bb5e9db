/* cascade_xml.c - bounded, non-recursive XML reader for OpenCV FileStorage files.
 * The input is untrusted: every scan is bounded by the buffer end, nesting is limited to
 * FERC_XML_MAX_DEPTH, the node count by the input size, and each error says where. */
#include "detect/cascade_xml.h"
#include "nn/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int node, last_child;
    size_t content; /* offset of the first byte after the start tag */
} open_elem;

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
}

/* Offset of the first occurrence of pat at or after i, or n. Counts newlines passed. */
static size_t find(const char *b, size_t n, size_t i, const char *pat, int *line)
{
    size_t m = strlen(pat);
    for (; i + m <= n; i++) {
        if (b[i] == pat[0] && !memcmp(b + i, pat, m)) return i;
        if (b[i] == '\n') (*line)++;
    }
    return n;
}

ferc_status ferc_xml_parse(const char *data, size_t size, ferc_xml_doc *doc, ferc_error *err)
{
    memset(doc, 0, sizeof *doc);
    if (!data || size == 0) return ferc_set_error(err, FERC_ERR_FORMAT, "empty XML document");
    if (size > FERC_XML_MAX_BYTES)
        return ferc_set_error(err, FERC_ERR_NOMEM, "XML document of %zu bytes exceeds the %zu-byte limit", size,
                              FERC_XML_MAX_BYTES);
    char *b = malloc(size + 1);
    if (!b) return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    memcpy(b, data, size);
    b[size] = '\0';
    doc->buf = b;
    /* Every element takes at least 4 bytes ("<a/>"), which bounds the node count. */
    int cap = (int)(size / 4 + 1);
    doc->nodes = malloc(sizeof(ferc_xml_node) * (size_t)cap);
    if (!doc->nodes) {
        ferc_xml_free(doc);
        return ferc_set_error(err, FERC_ERR_NOMEM, "out of memory");
    }
    static const char empty[] = "";
    open_elem stack[FERC_XML_MAX_DEPTH];
    int depth = 0, line = 1, root_done = 0;
    ferc_status st = FERC_OK;
    size_t i = 0, n = size;
    if (n >= 3 && (unsigned char)b[0] == 0xEF && (unsigned char)b[1] == 0xBB && (unsigned char)b[2] == 0xBF) i = 3;

    while (i < n) {
        char c = b[i];
        if (c != '<') {
            if (c == '\n') line++;
            if (!depth && !is_space(c)) {
                st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: text outside the root element", line);
                goto fail;
            }
            if (c == '\0') {
                st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: NUL byte in XML text", line);
                goto fail;
            }
            i++;
            continue;
        }
        if (i + 1 < n && b[i + 1] == '?') {
            int l0 = line;
            size_t e = find(b, n, i + 2, "?>", &line);
            if (e == n) {
                st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: unterminated <? ... ?>", l0);
                goto fail;
            }
            i = e + 2;
            continue;
        }
        if (i + 3 < n && !memcmp(b + i, "<!--", 4)) {
            int l0 = line;
            size_t e = find(b, n, i + 4, "-->", &line);
            if (e == n) {
                st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: unterminated comment", l0);
                goto fail;
            }
            /* Blank the comment so that a leaf's text stays one run of characters. */
            for (size_t k = i; k < e + 3; k++)
                if (b[k] != '\n') b[k] = ' ';
            i = e + 3;
            continue;
        }
        if (i + 1 < n && b[i + 1] == '!') {
            st = ferc_set_error(err, FERC_ERR_UNSUPPORTED, "line %d: DOCTYPE/CDATA sections are not supported", line);
            goto fail;
        }
        if (i + 1 < n && b[i + 1] == '/') { /* end tag */
            size_t s = i + 2, e = s;
            while (e < n && is_name_char(b[e])) e++;
            if (!depth) {
                st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: end tag </%.*s> without a start tag", line,
                                    (int)(e - s > 64 ? 64 : e - s), b + s);
                goto fail;
            }
            open_elem *top = &stack[depth - 1];
            ferc_xml_node *nd = &doc->nodes[top->node];
            if (strlen(nd->name) != e - s || memcmp(nd->name, b + s, e - s)) {
                st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: end tag </%.*s> does not match <%s> from line %d",
                                    line, (int)(e - s > 64 ? 64 : e - s), b + s, nd->name, nd->line);
                goto fail;
            }
            while (e < n && is_space(b[e])) {
                if (b[e] == '\n') line++;
                e++;
            }
            if (e >= n || b[e] != '>') {
                st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: malformed end tag </%s", line, nd->name);
                goto fail;
            }
            if (nd->n_children == 0) {
                b[i] = '\0';
                nd->text = b + top->content;
            }
            depth--;
            if (!depth) root_done = 1;
            i = e + 1;
            continue;
        }
        /* start tag */
        size_t s = i + 1, e = s;
        while (e < n && is_name_char(b[e])) e++;
        if (e == s) {
            st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: '<' not followed by an element name", line);
            goto fail;
        }
        if (root_done) {
            st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: second root element <%.*s>", line,
                                (int)(e - s > 64 ? 64 : e - s), b + s);
            goto fail;
        }
        if (depth == FERC_XML_MAX_DEPTH) {
            st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: elements nested deeper than %d", line,
                                FERC_XML_MAX_DEPTH);
            goto fail;
        }
        size_t name_end = e;
        int self_close = 0, start_line = line;
        /* attributes: skipped, honouring quotes */
        char quote = 0;
        for (; e < n; e++) {
            char a = b[e];
            if (a == '\n') line++;
            if (quote) {
                if (a == quote) quote = 0;
            } else if (a == '"' || a == '\'') {
                quote = a;
            } else if (a == '>') {
                break;
            } else if (a == '<') {
                e = n;
                break;
            }
        }
        if (e >= n) {
            st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: unterminated start tag <%.*s", start_line,
                                (int)(name_end - s > 64 ? 64 : name_end - s), b + s);
            goto fail;
        }
        if (b[e - 1] == '/' && e - 1 >= name_end) self_close = 1;
        if (doc->n_nodes == cap) { /* cannot happen given the bound, kept as a guard */
            st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: too many elements", line);
            goto fail;
        }
        int id = doc->n_nodes++;
        ferc_xml_node *nd = &doc->nodes[id];
        nd->name = b + s;
        nd->text = empty;
        nd->first_child = nd->next_sibling = -1;
        nd->n_children = 0;
        nd->line = start_line;
        if (depth) {
            open_elem *parent = &stack[depth - 1];
            ferc_xml_node *pn = &doc->nodes[parent->node];
            if (parent->last_child < 0) pn->first_child = id;
            else doc->nodes[parent->last_child].next_sibling = id;
            parent->last_child = id;
            pn->n_children++;
        } else if (id != 0) {
            st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: second root element", line);
            goto fail;
        }
        b[name_end] = '\0'; /* after the scan above, which no longer needs it */
        i = e + 1;
        if (self_close) {
            if (!depth) root_done = 1;
            continue;
        }
        stack[depth].node = id;
        stack[depth].last_child = -1;
        stack[depth].content = i;
        depth++;
    }
    if (depth) {
        ferc_xml_node *nd = &doc->nodes[stack[depth - 1].node];
        st = ferc_set_error(err, FERC_ERR_FORMAT, "line %d: end of file inside <%s> (opened on line %d)", line,
                            nd->name, nd->line);
        goto fail;
    }
    if (!doc->n_nodes) {
        st = ferc_set_error(err, FERC_ERR_FORMAT, "no XML element found");
        goto fail;
    }
    return FERC_OK;
fail:
    ferc_xml_free(doc);
    return st;
}

void ferc_xml_free(ferc_xml_doc *doc)
{
    free(doc->buf);
    free(doc->nodes);
    memset(doc, 0, sizeof *doc);
}

int ferc_xml_child(const ferc_xml_doc *doc, int node, const char *name)
{
    if (node < 0) return -1;
    for (int c = doc->nodes[node].first_child; c >= 0; c = doc->nodes[c].next_sibling)
        if (!strcmp(doc->nodes[c].name, name)) return c;
    return -1;
}
