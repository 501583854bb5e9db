/* error.h - filling the caller's ferc_error (error.c). The one header detect/, api/ and the
 * image code need from nn/ to report a failure. */
#ifndef FERC_NN_ERROR_H
#define FERC_NN_ERROR_H

#include "ferc.h"

/* Sets err (if not NULL) to code and the printf-formatted message; returns code. */
ferc_status ferc_set_error(ferc_error *err, ferc_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Puts "prefix: " before the message already in err. */
void ferc_error_prefix(ferc_error *err, const char *prefix);

#endif
