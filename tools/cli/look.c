/* look.c - what inspect, profile, trace and explain share: shapes as text, the network
 * input for an image, .npy files. */
#include "tools/cli/look.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *look_shape(int ndim, const int64_t *dims, int compact, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "%s", compact ? "" : "[");
    for (int d = 0; d < ndim && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? (compact ? "x" : ", ") : "", (long long)dims[d]);
    if (!compact && n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

static int meta_float(const ferc_model *m, const char *key, float dflt, float *out)
{
    const char *v = ferc_model_meta(m, key);
    char *end;
    *out = v ? strtof(v, &end) : dflt;
    return v && (end == v || *end);
}

int look_model_input(const ferc_model *m, const char *path, int height, int width, float *out)
{
    int ndim;
    int64_t dims[4];
    ferc_model_input_shape(m, 0, &ndim, dims);
    if (ndim != 4 || (dims[3] != 1 && dims[3] != 3)) {
        fprintf(stderr, "ferc: the model's input is not an image (NHWC with 1 or 3 channels)\n");
        return -1;
    }
    const int ch = (int)dims[3];
    if (!height) height = (int)dims[1];
    if (!width) width = (int)dims[2];
    ferc_image img, gray = {0}, small = {0};
    ferc_error err;
    ferc_status s = ferc_image_load(path, 3, &img, &err);
    if (!s && ch == 1) s = ferc_image_to_gray(&img, &gray, &err);
    const ferc_image *src = ch == 1 ? &gray : &img;
    int shrink = src->width > width || src->height > height;
    if (!s) s = ferc_image_resize(src, width, height, ch == 1 && shrink ? FERC_RESIZE_AREA : FERC_RESIZE_LINEAR, &small, &err);
    ferc_image_free(&img);
    ferc_image_free(&gray);
    if (s) {
        fprintf(stderr, "ferc: %s%s%s\n", strstr(err.message, path) ? "" : path, strstr(err.message, path) ? "" : ": ",
                err.message);
        return -1;
    }
    const size_t px = (size_t)width * height;
    int bad = 0;
    if (ch == 1) {
        float mean = 0, std = 1;
        double clip = 0;
        int grid = 0;
        const char *cl = ferc_model_meta(m, "clahe");
        bad = 2 * (meta_float(m, "mean", 0, &mean) || meta_float(m, "std", 1, &std) || !(std > 0) ||
              (cl && (sscanf(cl, "%lf,%d", &clip, &grid) != 2 || grid < 1 || grid > 64)));
        uint8_t *eq = grid && !bad ? malloc(px) : NULL; /* ferc_clahe does not work in place */
        if (grid && !bad && !eq) {
            fprintf(stderr, "ferc: out of memory\n");
            bad = 1;
        } else if (eq && ferc_clahe(small.data, width, height, width, eq, width, clip, grid, grid, &err)) {
            fprintf(stderr, "ferc: %s\n", err.message);
            bad = 1;
        }
        const char *eqm = ferc_model_meta(m, "equalize");
        if (!bad && !eq && eqm && !strcmp(eqm, "1") && /* as the classifier: equalised, then normalised */
            ferc_equalize_hist(small.data, width, height, width, small.data, width, &err)) {
            fprintf(stderr, "ferc: %s\n", err.message);
            bad = 1;
        }
        const uint8_t *p = eq ? eq : small.data;
        for (size_t i = 0; !bad && i < px; i++) out[i] = (p[i] / 255.0f - mean) / std;
        free(eq);
    } else {
        float mean[3] = {0, 0, 0};
        const char *mv = ferc_model_meta(m, "mean"), *order = ferc_model_meta(m, "channel_order");
        bad = 2 * (mv && sscanf(mv, "%f %f %f", &mean[0], &mean[1], &mean[2]) != 3);
        const int bgr = order && !strcmp(order, "BGR");
        for (size_t i = 0; !bad && i < px; i++)
            for (int c = 0; c < 3; c++) out[3 * i + c] = small.data[3 * i + (bgr ? 2 - c : c)] - mean[c];
    }
    ferc_image_free(&small);
    if (bad == 2) fprintf(stderr, "ferc: the model's mean, std or clahe metadata is malformed\n");
    return bad ? -1 : 0;
}

int look_write_npy(const char *path, const ferc_tensor *t)
{
    char hdr[128], shape[96];
    size_t n = 0, count = 1;
    shape[0] = 0;
    for (int d = 0; d < t->ndim; d++) {
        const char *sep = t->ndim > 1 && d < t->ndim - 1 ? " " : "";
        n += (size_t)snprintf(shape + n, sizeof shape - n, "%lld,%s", (long long)t->dims[d], sep);
        count *= (size_t)t->dims[d];
    }
    if (t->ndim > 1) shape[n - 1] = 0; /* "(1, 7)" but "(7,)" */
    /* Magic, version 1.0, header length; the header is padded with spaces to a multiple of 64
     * and ends in a newline, as numpy.save writes it. */
    int len = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape);
    int total = (10 + len + 1 + 63) / 64 * 64;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)((total - 10) & 255),
                             (unsigned char)((total - 10) >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(hdr, 1, (size_t)len, f);
    for (int i = 10 + len; i < total - 1; i++) fputc(' ', f);
    fputc('\n', f);
    size_t w = fwrite(t->data, sizeof(float), count, f);
    int e = ferror(f) | (w != count);
    if (fclose(f) || e) {
        if (!errno) errno = EIO;
        return -1;
    }
    return 0;
}
