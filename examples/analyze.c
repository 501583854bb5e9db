/* analyze.c - the smallest program using libferc: faces and emotions in one image.
 *
 *   cc analyze.c $(pkg-config --cflags --libs --static ferc) -o analyze
 *   ./analyze MODEL.ferc IMAGE [DETECTOR [DETECTOR_FILE]]
 *
 * With no DETECTOR the whole image is taken as one face (a 48x48 FER2013 crop, say). */
#include <ferc.h>

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.ferc IMAGE [ssd|haar|lbp|none [DETECTOR_FILE]]\n", argv[0]);
        return 2;
    }
    ferc_analyzer_options opt = {
        .model = argv[1],
        .detector = argc > 3 ? argv[3] : "none",
        .detector_model = argc > 4 ? argv[4] : NULL, /* NULL: the detector's shipped file */
        .tta = 1,
    };

    ferc_error err;
    ferc_analyzer *an;
    if (ferc_analyzer_open(&opt, &an, &err) != FERC_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    ferc_image img;
    if (ferc_image_load(argv[2], 3, &img, &err) != FERC_OK) {
        fprintf(stderr, "%s\n", err.message);
        ferc_analyzer_free(an);
        return 1;
    }
    ferc_face faces[32];
    int n = 0;
    ferc_status s = ferc_analyze(an, &img, faces, 32, &n, &err);
    if (s != FERC_OK) fprintf(stderr, "%s: %s\n", argv[2], err.message);
    for (int i = 0; i < n; i++) {
        const ferc_face *f = &faces[i];
        printf("face %d at %.0f,%.0f size %.0fx%.0f: %s (%.4f)", i, f->box.x, f->box.y, f->box.w, f->box.h,
               ferc_emotion_name(f->emotion), f->probabilities[f->emotion]);
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) printf(" %s=%.4f", ferc_emotion_name(k), f->probabilities[k]);
        printf("\n");
    }
    ferc_image_free(&img);
    ferc_analyzer_free(an);
    return s == FERC_OK ? 0 : 1;
}
