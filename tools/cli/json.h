/* json.h - the command's JSON output for one analysed image (json.c). One writer, so that
 * every program printing ferc's results (the command, a server) prints the same bytes. */
#ifndef FERC_TOOLS_CLI_JSON_H
#define FERC_TOOLS_CLI_JSON_H

#include "ferc.h"

#include <stdio.h>

/* One line: {"file":...,"width":W,"height":H,"faces":[{"box":[x,y,w,h],"score":s,
 * "emotion":"happy","probabilities":{"angry":p,...}},...]} and a newline. Numbers as %.6g. */
void cli_print_json(FILE *f, const char *file, int width, int height, const ferc_face *faces, int n);
/* One line: {"file":...,"error":...} and a newline. */
void cli_print_json_error(FILE *f, const char *file, const char *message);
/* A JSON string (quoted, escaped). */
void cli_json_string(FILE *f, const char *s);

#endif
