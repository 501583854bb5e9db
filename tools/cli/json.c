/* json.c - the command's JSON output for one analysed image (json.h). */
#include "tools/cli/json.h"

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

void cli_print_json(FILE *f, const char *file, int width, int height, const ferc_face *faces, int n)
{
    fputs("{\"file\":", f);
    cli_json_string(f, file);
    fprintf(f, ",\"width\":%d,\"height\":%d,\"faces\":[", width, height);
    for (int i = 0; i < n; i++) {
        const ferc_face *fc = &faces[i];
        fprintf(f, "%s{\"box\":[%.6g,%.6g,%.6g,%.6g],\"score\":%.6g,\"emotion\":\"%s\",\"probabilities\":{", i ? "," : "",
                fc->box.x, fc->box.y, fc->box.w, fc->box.h, fc->box.score, ferc_emotion_name(fc->emotion));
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++)
            fprintf(f, "%s\"%s\":%.6g", k ? "," : "", ferc_emotion_name(k), fc->probabilities[k]);
        fputs("}}", f);
    }
    fputs("]}\n", f);
}

void cli_print_json_error(FILE *f, const char *file, const char *message)
{
    fputs("{\"file\":", f);
    cli_json_string(f, file);
    fputs(",\"error\":", f);
    cli_json_string(f, message);
    fputs("}\n", f);
}
