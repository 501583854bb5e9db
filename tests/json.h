/* json.h - a small JSON reader for tests that check the command's output: parses one
 * value into a tree; json_get/json_at walk it. Strict enough to reject malformed output. */
#ifndef FERC_TEST_JSON_H
#define FERC_TEST_JSON_H

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } json_type;

typedef struct json {
    json_type type;
    double num;
    char *str;           /* J_STR value */
    int n;               /* array / object items */
    char **keys;         /* J_OBJ */
    struct json **items;
} json;

static void json_free(json *j)
{
    if (!j) return;
    for (int i = 0; i < j->n; i++) {
        json_free(j->items[i]);
        if (j->keys) free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->str);
    free(j);
}

static void json_ws(const char **p) { while (isspace((unsigned char)**p)) (*p)++; }

static char *json_parse_str(const char **p)
{
    if (**p != '"') return NULL;
    const char *s = ++*p;
    char *out = malloc(strlen(s) + 1);
    size_t n = 0;
    while (**p && **p != '"') {
        if (**p == '\\') {
            (*p)++;
            char c = **p;
            if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
            else if (c == 'u') {
                for (int i = 0; i < 4; i++)
                    if (!isxdigit((unsigned char)(*p)[1])) { free(out); return NULL; } else (*p)++;
                c = '?';
            } else if (c != '"' && c != '\\' && c != '/') { free(out); return NULL; }
            out[n++] = c;
        } else if ((unsigned char)**p < 0x20) {
            free(out);
            return NULL;
        } else {
            out[n++] = **p;
        }
        (*p)++;
    }
    if (**p != '"') { free(out); return NULL; }
    (*p)++;
    out[n] = 0;
    return out;
}

static json *json_value(const char **p, int depth)
{
    if (depth > 32) return NULL;
    json_ws(p);
    json *j = calloc(1, sizeof *j);
    if (**p == '{' || **p == '[') {
        char close = **p == '{' ? '}' : ']';
        j->type = **p == '{' ? J_OBJ : J_ARR;
        (*p)++;
        json_ws(p);
        if (**p == close) { (*p)++; return j; }
        for (;;) {
            char *key = NULL;
            if (j->type == J_OBJ) {
                json_ws(p);
                if (!(key = json_parse_str(p))) goto bad;
                json_ws(p);
                if (**p != ':') { free(key); goto bad; }
                (*p)++;
            }
            json *v = json_value(p, depth + 1);
            if (!v) { free(key); goto bad; }
            j->items = realloc(j->items, sizeof *j->items * (size_t)(j->n + 1));
            if (j->type == J_OBJ) {
                j->keys = realloc(j->keys, sizeof *j->keys * (size_t)(j->n + 1));
                j->keys[j->n] = key;
            }
            j->items[j->n++] = v;
            json_ws(p);
            if (**p == ',') { (*p)++; continue; }
            if (**p == close) { (*p)++; return j; }
            goto bad;
        }
    }
    if (**p == '"') {
        j->type = J_STR;
        if (!(j->str = json_parse_str(p))) goto bad;
        return j;
    }
    if (!strncmp(*p, "true", 4) || !strncmp(*p, "false", 5)) {
        j->type = J_BOOL;
        j->num = **p == 't';
        *p += **p == 't' ? 4 : 5;
        return j;
    }
    if (!strncmp(*p, "null", 4)) { *p += 4; return j; }
    if (**p != '-' && !isdigit((unsigned char)**p)) goto bad; /* strtod would take nan, inf, hex */
    char *end;
    j->num = strtod(*p, &end);
    if (end == *p) goto bad;
    j->type = J_NUM;
    *p = end;
    return j;
bad:
    json_free(j);
    return NULL;
}

/* Parses all of s (trailing white space allowed); NULL if malformed. */
static json *json_parse(const char *s)
{
    json *j = json_value(&s, 0);
    json_ws(&s);
    if (j && *s) { json_free(j); return NULL; }
    return j;
}

static json *json_get(const json *j, const char *key)
{
    if (!j || j->type != J_OBJ) return NULL;
    for (int i = 0; i < j->n; i++)
        if (!strcmp(j->keys[i], key)) return j->items[i];
    return NULL;
}

static json *json_at(const json *j, int i) { return j && j->type == J_ARR && i >= 0 && i < j->n ? j->items[i] : NULL; }

#endif
