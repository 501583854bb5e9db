/* cascade_xml.h - a small, bounded XML reader for OpenCV FileStorage files (cascades).
 *
 * Reads the subset FileStorage writes: elements, attributes, text, comments and the
 * <?xml?> declaration. The document is parsed into a flat node array (no recursion, depth
 * limited), text stays in a private copy of the input with comments blanked out, so each
 * leaf's text is one NUL-terminated string. Errors name the line and element. */
#ifndef FERC_DETECT_CASCADE_XML_H
#define FERC_DETECT_CASCADE_XML_H

#include "ferc.h"

#include <stddef.h>

#define FERC_XML_MAX_DEPTH 64
#define FERC_XML_MAX_BYTES ((size_t)64 << 20)

typedef struct {
    const char *name;
    const char *text;  /* text content of an element without child elements, else "" */
    int first_child;   /* index or -1 */
    int next_sibling;  /* index or -1 */
    int n_children;
    int line;
} ferc_xml_node;

typedef struct {
    char *buf;         /* private copy of the input, names and texts point into it */
    ferc_xml_node *nodes;
    int n_nodes;
} ferc_xml_doc;

/* Parses size bytes. Node 0 is the document's root element. */
ferc_status ferc_xml_parse(const char *data, size_t size, ferc_xml_doc *doc, ferc_error *err);
void ferc_xml_free(ferc_xml_doc *doc);

/* First child element called name, or -1. */
int ferc_xml_child(const ferc_xml_doc *doc, int node, const char *name);

#endif
