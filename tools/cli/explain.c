/* explain.c - `ferc explain IMAGE`: occlusion sensitivity (Zeiler and Fergus, 2014). For each
 * face, a patch of the model's mean gray slides over the classifier's crop; every occluded
 * copy is classified, all in one batch with the unoccluded face, and the drop in the winning
 * class's probability is mapped: where hiding the face costs the answer most is what drove it. */
#include "tools/cli/look.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: ferc explain [options] IMAGE\n"
    "\n"
    "Which parts of each face drove its emotion: occlusion sensitivity. A patch (default 8x8\n"
    "pixels) of the model's mean gray (its \"mean\" metadata x 255) slides over the face as the\n"
    "classifier sees it (48x48 gray) with a stride (default 4); each occluded copy is\n"
    "classified, all copies of a face in one batch with the face itself: (48-8)/4+1 = 11 x 11\n"
    "= 121 copies + 1 = 122 classifier runs per face. The score of a patch position is\n"
    "p(winner | face) - p(winner | face with that patch hidden): positive where the face\n"
    "supports the answer. A pixel's heat is the mean score of the patches covering it.\n"
    "\n"
    "  --out FILE.png        per face: the crop, the heat over it (red: supports the winning\n"
    "                        emotion, blue: speaks against it), the probabilities\n"
    "  --format text|json    text (default): the grid of scores per face; json: one object\n"
    "                        with faces, boxes, probabilities, patch, stride, runs and grids\n"
    "  --patch N, --stride N occluder side and step in crop pixels (defaults 8 and 4)\n"
    "  Detection and classifier options as for images (ferc --help): --detector,\n"
    "  --detector-model, --threshold, --ssd-size, --no-detect, --classifier, --model,\n"
    "  --tta, --threads.\n";

typedef struct {
    ferc_box box;
    float probs[FERC_NUM_EMOTIONS];
    int winner;
    float *grid; /* gn x gn scores */
    float *heat; /* fw x fh per pixel */
    uint8_t *crop;
} face_map;

/* Occludes, classifies and scores one face; crop is fw x fh gray. */
static int explain_face(ferc_classifier *cls, const uint8_t *crop, int fw, int fh, int patch, int stride, uint8_t gray,
                        face_map *f, int gx, int gy)
{
    const int positions = gx * gy;
    const size_t px = (size_t)fw * fh;
    uint8_t *batch = malloc(px * (size_t)(positions + 1));
    float *probs = malloc(sizeof(float) * FERC_NUM_EMOTIONS * (size_t)(positions + 1));
    f->grid = calloc((size_t)positions, sizeof(float));
    f->heat = calloc(px, sizeof(float));
    int *cover = calloc(px, sizeof(int));
    ferc_error err;
    int rc = 0;
    if (!batch || !probs || !f->grid || !f->heat || !cover) {
        fprintf(stderr, "ferc explain: out of memory\n");
        rc = 1;
        goto done;
    }
    memcpy(batch, crop, px);
    for (int p = 0; p < positions; p++) {
        uint8_t *img = batch + px * (size_t)(p + 1);
        memcpy(img, crop, px);
        const int x0 = (p % gx) * stride, y0 = (p / gx) * stride;
        for (int y = y0; y < y0 + patch; y++) memset(img + (size_t)y * fw + x0, gray, (size_t)patch);
    }
    if (ferc_classify(cls, batch, positions + 1, probs, &err)) {
        fprintf(stderr, "ferc explain: %s\n", err.message);
        rc = 1;
        goto done;
    }
    f->winner = 0;
    for (int k = 0; k < FERC_NUM_EMOTIONS; k++) {
        f->probs[k] = probs[k];
        if (probs[k] > probs[f->winner]) f->winner = k;
    }
    for (int p = 0; p < positions; p++) {
        const float s = probs[f->winner] - probs[(size_t)(p + 1) * FERC_NUM_EMOTIONS + f->winner];
        const int x0 = (p % gx) * stride, y0 = (p / gx) * stride;
        f->grid[p] = s;
        for (int y = y0; y < y0 + patch; y++)
            for (int x = x0; x < x0 + patch; x++) f->heat[y * fw + x] += s, cover[y * fw + x]++;
    }
    for (size_t i = 0; i < px; i++) f->heat[i] = cover[i] ? f->heat[i] / (float)cover[i] : 0;
done:
    free(batch);
    free(probs);
    free(cover);
    return rc;
}

/* One row per face: the crop and the heat over it, each scaled x4, then the probabilities. */
static int write_png(const char *path, const face_map *faces, int n, int fw, int fh, int patch, int stride)
{
    const int s = 4, cw = fw * s, ch = fh * s, bars = 230, pad = 8, head = 16;
    const int width = 2 * cw + bars + 4 * pad, row = ch + head + pad;
    ferc_image im = {width, n * row + pad, 3, calloc((size_t)width * (size_t)(n * row + pad), 3)};
    if (!im.data) return -1;
    static const uint8_t white[3] = {255, 255, 255}, dim[3] = {90, 90, 90};
    memset(im.data, 24, (size_t)im.width * im.height * 3);
    for (int i = 0; i < n; i++) {
        const face_map *f = &faces[i];
        const int top = pad + i * row, y0 = top + head;
        float m = 1e-6f;
        for (int k = 0; k < fw * fh; k++) m = fabsf(f->heat[k]) > m ? fabsf(f->heat[k]) : m;
        char label[96];
        snprintf(label, sizeof label, "#%d %s %.1f%%  patch %d stride %d  max drop %.3f", i + 1,
                 ferc_emotion_name(f->winner), 100 * f->probs[f->winner], patch, stride, m);
        cli_draw_text(&im, pad, top + 2, 1, label, white);
        for (int y = 0; y < ch; y++)
            for (int x = 0; x < cw; x++) {
                const int k = (y / s) * fw + x / s;
                const float g = f->crop[k], h = f->heat[k] / m; /* -1 .. 1 */
                uint8_t *a = im.data + ((size_t)(y0 + y) * im.width + pad + x) * 3;
                uint8_t *b = im.data + ((size_t)(y0 + y) * im.width + 2 * pad + cw + x) * 3;
                a[0] = a[1] = a[2] = (uint8_t)g;
                /* Heat over the darkened face: red for support, blue against. */
                const float base = 0.45f * g, r = h > 0 ? h : 0, bl = h < 0 ? -h : 0;
                b[0] = (uint8_t)fminf(255.f, base + 255.f * r);
                b[1] = (uint8_t)(base * (1 - fmaxf(r, bl)));
                b[2] = (uint8_t)fminf(255.f, base + 255.f * bl);
            }
        const int bx = 3 * pad + 2 * cw, bh = ch / FERC_NUM_EMOTIONS;
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) {
            char t[32];
            snprintf(t, sizeof t, "%-8s %5.1f%%", ferc_emotion_name(k), 100 * f->probs[k]);
            cli_draw_text(&im, bx, y0 + k * bh + 2, 1, t, k == f->winner ? white : dim);
            const int w = (int)lroundf(f->probs[k] * (bars - 8));
            cli_fill(&im, bx, y0 + k * bh + 12, bx + w, y0 + k * bh + bh - 4, k == f->winner ? white : dim);
        }
    }
    ferc_error err;
    int rc = ferc_image_save(path, &im, &err) ? -1 : 0;
    if (rc) fprintf(stderr, "ferc explain: %s\n", err.message);
    free(im.data);
    return rc;
}

int cli_explain(int argc, char **argv)
{
    cli_options o = {0};
    const char *image = NULL, *out = NULL, *v;
    int patch = 8, stride = 4;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 0;
        }
        int r = argv[i][0] == '-' && argv[i][1] ? cli_parse_common(&o, argc, argv, &i) : 0;
        if (r < 0) return 2;
        if (r) continue;
        if ((v = cli_opt_value("--out", argc, argv, &i))) out = v;
        else if ((v = cli_opt_value("--patch", argc, argv, &i))) {
            if (cli_parse_int("--patch", v, 1, 256, &patch)) return 2;
        } else if ((v = cli_opt_value("--stride", argc, argv, &i))) {
            if (cli_parse_int("--stride", v, 1, 256, &stride)) return 2;
        } else if ((argv[i][0] == '-' && argv[i][1]) || image) {
            fprintf(stderr, "ferc explain: unexpected argument %s (see ferc explain --help)\n", argv[i]);
            return 2;
        } else image = argv[i];
    }
    const int json = o.format && !strcmp(o.format, "json"), align = o.an.align || o.an.eye_cascade;
    if (!image || (o.format && !json && strcmp(o.format, "text")) || align) {
        fprintf(stderr, "ferc explain: %s (see ferc explain --help)\n",
                !image ? "needs an IMAGE" : align ? "--align is not supported here" : "--format is text or json");
        return 2;
    }
    const int threads = o.threads ? o.threads : cli_default_threads();
    /* The analyzer finds the faces; a classifier of our own takes all occluded copies of a
     * face in one batch. */
    cli_engines e;
    if (cli_engines_open(&e, &o, 1, threads)) return 1;
    char mpath[1200];
    ferc_model *model = NULL;
    ferc_classifier *cls = NULL;
    ferc_image img = {0};
    ferc_box boxes[CLI_MAX_FACES];
    face_map faces[CLI_MAX_FACES];
    int n = 0, rc = 1, fw, fh, gx = 0, gy = 0;
    uint8_t gray = 0;
    ferc_error err;
    memset(faces, 0, sizeof faces);
    double secs = 0; /* classifier time: the cost of the map */
    const char *mfile = o.an.model ? o.an.model : ferc_default_file("classifier", o.an.classifier ? o.an.classifier : "cnn");
    if ((!o.an.model && ferc_find_weights(mfile, mpath, sizeof mpath, &err)) ||
        ferc_model_load(o.an.model ? o.an.model : mpath, &model, &err)) {
        fprintf(stderr, "ferc explain: %s\n", err.message);
        goto done;
    }
    ferc_classifier_input_size(ferc_analyzer_classifier(e.an[0]), &fw, &fh);
    if (patch > fw || patch > fh) {
        fprintf(stderr, "ferc explain: --patch %d is larger than the %dx%d face\n", patch, fw, fh);
        rc = 2;
        goto done;
    }
    gx = (fw - patch) / stride + 1, gy = (fh - patch) / stride + 1;
    /* The occluder is the model's mean gray: what its normalisation maps to 0. */
    const char *mv = ferc_model_meta(model, "mean");
    gray = (uint8_t)lround(fmin(fmax(mv ? atof(mv) : 0, 0), 1) * 255);
    ferc_classifier_options co = {o.an.tta, gx * gy + 1, threads};
    if (ferc_classifier_create(model, &co, &cls, &err) || ferc_image_load(image, 3, &img, &err) ||
        ferc_analyzer_detect(e.an[0], &img, boxes, CLI_MAX_FACES, &n, &err)) {
        fprintf(stderr, "ferc explain: %s\n", err.message);
        goto done;
    }
    if (n > CLI_MAX_FACES) n = CLI_MAX_FACES;
    rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        face_map *f = &faces[i];
        f->box = boxes[i];
        f->crop = malloc((size_t)fw * fh);
        /* The crop ferc_analyze classifies (the detector kind's framing; the whole image with
         * --no-detect). */
        ferc_status s = !f->crop ? FERC_ERR_NOMEM : ferc_analyzer_crop(e.an[0], &img, &boxes[i], f->crop, &err);
        if (s) {
            fprintf(stderr, "ferc explain: %s: face %d: %s\n", image, i + 1, f->crop ? err.message : "out of memory");
            rc = 1;
        } else {
            const double t0 = cli_seconds();
            rc = explain_face(cls, f->crop, fw, fh, patch, stride, gray, f, gx, gy);
            secs += cli_seconds() - t0;
        }
    }
    if (!rc && out) rc = write_png(out, faces, n, fw, fh, patch, stride) ? 1 : 0;
    if (rc) goto done;
    const int runs = gx * gy + 1, views = ferc_tta_views(o.an.tta);
    if (json) {
        printf("{\"file\":");
        cli_json_string(stdout, image);
        printf(",\"patch\":%d,\"stride\":%d,\"fill\":%d,\"grid\":[%d,%d],\"runs_per_face\":%d,\"tta\":\"%s\","
               "\"seconds\":%.4f,\"faces\":[",
               patch, stride, gray, gy, gx, runs * views, ferc_tta_name(o.an.tta), secs);
    } else {
        printf("%s  %d face%s  patch %dx%d of gray %d, stride %d: %d x %d positions, %d classifier runs per face"
               " (x%d views, --tta %s; %.1f ms of classifying)\n",
               image, n, n == 1 ? "" : "s", patch, patch, gray, stride, gx, gy, runs, views, ferc_tta_name(o.an.tta),
               secs * 1e3);
    }
    for (int i = 0; i < n; i++) {
        const face_map *f = &faces[i];
        if (json) {
            printf("%s{\"box\":[%.6g,%.6g,%.6g,%.6g],\"emotion\":\"%s\",\"probabilities\":{", i ? "," : "", f->box.x,
                   f->box.y, f->box.w, f->box.h, ferc_emotion_name(f->winner));
            for (int k = 0; k < FERC_NUM_EMOTIONS; k++)
                printf("%s\"%s\":%.6g", k ? "," : "", ferc_emotion_name(k), f->probs[k]);
            printf("},\"scores\":[");
            for (int y = 0; y < gy; y++) {
                printf("%s[", y ? "," : "");
                for (int x = 0; x < gx; x++) printf("%s%.6g", x ? "," : "", f->grid[y * gx + x]);
                putchar(']');
            }
            printf("]}");
        } else {
            printf("#%d  box %.0f,%.0f %.0fx%.0f  %s %.1f%%  drop in p(%s) per patch position (row: patch top):\n",
                   i + 1, f->box.x, f->box.y, f->box.w, f->box.h, ferc_emotion_name(f->winner), 100 * f->probs[f->winner],
                   ferc_emotion_name(f->winner));
            for (int y = 0; y < gy; y++) {
                printf("  %3d ", y * stride);
                for (int x = 0; x < gx; x++) printf(" %6.3f", f->grid[y * gx + x]);
                putchar('\n');
            }
        }
    }
    if (json) printf("]}\n");
done:
    for (int i = 0; i < n && i < CLI_MAX_FACES; i++) free(faces[i].grid), free(faces[i].heat), free(faces[i].crop);
    ferc_image_free(&img);
    ferc_classifier_free(cls);
    ferc_model_free(model);
    cli_engines_close(&e);
    return rc;
}
