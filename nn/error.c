/* error.c - how every part of ferc reports a failure: a status code and a message that
 * names the problem, written into the caller's ferc_error (which may be NULL). */
#include "nn/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

ferc_status ferc_set_error(ferc_error *err, ferc_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void ferc_error_prefix(ferc_error *err, const char *prefix)
{
    if (!err) return;
    size_t cap = sizeof err->message, lp = strlen(prefix), lm = strnlen(err->message, cap - 1);
    if (lp + 2 >= cap) return;
    if (lp + 2 + lm >= cap) lm = cap - lp - 3;
    memmove(err->message + lp + 2, err->message, lm);
    memcpy(err->message, prefix, lp);
    err->message[lp] = ':', err->message[lp + 1] = ' ';
    err->message[lp + 2 + lm] = 0;
}

const char *ferc_status_name(ferc_status s)
{
    switch (s) {
    case FERC_OK: return "ok";
    case FERC_ERR_IO: return "I/O error";
    case FERC_ERR_FORMAT: return "bad format";
    case FERC_ERR_UNSUPPORTED: return "unsupported";
    case FERC_ERR_NOMEM: return "out of memory";
    case FERC_ERR_ARG: return "bad argument";
    }
    return "unknown error";
}
