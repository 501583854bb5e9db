/* cli_plot.c - `ferc video --plot`: an SVG with one panel per track, each showing the
 * track's seven smoothed probabilities over time (one coloured line per emotion). */
#include "tools/cli/cli.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static const char *const colors[FERC_NUM_EMOTIONS] = {"#e62828", "#3ca03c", "#9650c8", "#e6b400",
                                                      "#3264e6", "#fa8200", "#808080"};

/* A "nice" step (1, 2 or 5 times a power of ten) giving about `want` ticks over span. */
static double nice_step(double span, int want)
{
    double raw = span / want, p = pow(10, floor(log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
}

int cli_write_plot(const char *path, const int *ids, const float *const *pts, const long *n_pts, int n_tracks,
                   double fps, long frames)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "ferc video: --plot %s: %s\n", path, strerror(errno));
        return -1;
    }
    const int W = 900, PH = 200, top = 40, left = 60, right = 20, gap = 50;
    const int pw = W - left - right, H = top + (n_tracks ? n_tracks : 1) * (PH + gap);
    const double span = frames > 1 ? (double)(frames - 1) : 1, unit = fps > 0 ? 1 / fps : 1;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H, W, H);
    for (int k = 0; k < FERC_NUM_EMOTIONS; k++)
        fprintf(f, "<rect x=\"%d\" y=\"12\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"22\">%s</text>\n",
                left + k * 100, colors[k], left + k * 100 + 16, ferc_emotion_name(k));
    if (!n_tracks)
        fprintf(f, "<text x=\"%d\" y=\"%d\">no faces were tracked</text>\n", left, top + PH / 2);
    double step = nice_step(span * unit, 8);
    for (int t = 0; t < n_tracks; t++) {
        int y0 = top + t * (PH + gap) + 20;
        fprintf(f, "<g id=\"track%d\">\n<text x=\"%d\" y=\"%d\" font-weight=\"bold\">track %d</text>\n", ids[t], left,
                y0 - 6, ids[t]);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n", left, y0, pw, PH);
        for (int g = 0; g <= 4; g++) {
            double y = y0 + PH - g * PH / 4.0;
            fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                       "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n",
                    left, y, left + pw, y, left - 6, y + 4, g / 4.0);
        }
        for (double v = 0; v <= span * unit + 1e-9; v += step) {
            double x = left + pw * (v / unit) / span;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/>"
                       "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                    x, y0 + PH, x, y0 + PH + 4, x, y0 + PH + 16, v);
        }
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left + pw, y0 + PH + 30,
                fps > 0 ? "seconds" : "frame");
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++) {
            fprintf(f, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                    ferc_emotion_name(k), colors[k]);
            for (long i = 0; i < n_pts[t]; i++) {
                const float *p = pts[t] + 8 * i;
                fprintf(f, "%s%.1f,%.1f", i ? " " : "", left + pw * p[0] / span, y0 + PH * (1 - p[1 + k]));
            }
            fputs("\"/>\n", f);
        }
        fputs("</g>\n", f);
    }
    fputs("</svg>\n", f);
    if (fclose(f)) {
        fprintf(stderr, "ferc video: --plot %s: write failed\n", path);
        return -1;
    }
    return 0;
}
