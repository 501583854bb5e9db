/* draw.c - annotated images: a box per face in its emotion's colour, its landmarks if the
 * detector gave them, and a label ("HAPPY 93%") in a built-in 5x7 bitmap font, so
 * annotation needs no font files. */
#include "tools/cli/cli.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

/* Rows top to bottom, 5 bits each, bit 4 the leftmost column. */
static const struct { char c; uint8_t rows[7]; } glyphs[] = {
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}}, {'.', {0, 0, 0, 0, 0, 0x0C, 0x0C}},
    {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}}, {'-', {0, 0, 0, 0x1F, 0, 0, 0}},
    {':', {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0}},
};

static const uint8_t emotion_colors[FERC_NUM_EMOTIONS][3] = {
    {230, 40, 40}, {60, 160, 60}, {150, 80, 200}, {250, 200, 20}, {50, 100, 230}, {250, 130, 0}, {180, 180, 180}};

void cli_fill(ferc_image *im, int x0, int y0, int x1, int y1, const uint8_t c[3])
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > im->width) x1 = im->width;
    if (y1 > im->height) y1 = im->height;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) memcpy(im->data + ((size_t)y * im->width + x) * 3, c, 3);
}

static int text_width(const char *text, int scale) { return (int)strlen(text) * 6 * scale; }

/* text in the 5x7 font, each dot scale x scale pixels, top-left at (x, y) */
void cli_draw_text(ferc_image *im, int x, int y, int scale, const char *text, const uint8_t color[3])
{
    for (; *text; text++, x += 6 * scale) {
        const uint8_t *rows = NULL;
        for (size_t g = 0; g < sizeof glyphs / sizeof *glyphs; g++)
            if (glyphs[g].c == toupper((unsigned char)*text)) rows = glyphs[g].rows;
        if (!rows) continue; /* space and anything without a glyph */
        for (int r = 0; r < 7; r++)
            for (int col = 0; col < 5; col++)
                if (rows[r] >> (4 - col) & 1)
                    cli_fill(im, x + col * scale, y + r * scale, x + (col + 1) * scale, y + (r + 1) * scale, color);
    }
}

void cli_annotate(ferc_image *im, const ferc_face *faces, int n)
{
    static const uint8_t black[3] = {0, 0, 0};
    if (im->channels != 3) return;
    /* Later faces drawn first, so the best-scoring face's label ends up on top. */
    for (int i = n - 1; i >= 0; i--) {
        const ferc_face *f = &faces[i];
        const uint8_t *c = emotion_colors[f->emotion];
        int x0 = (int)lroundf(f->box.x), y0 = (int)lroundf(f->box.y);
        int x1 = (int)lroundf(f->box.x + f->box.w), y1 = (int)lroundf(f->box.y + f->box.h);
        int side = x1 - x0 < y1 - y0 ? x1 - x0 : y1 - y0;
        int t = side / 60 > 1 ? side / 60 : 1, scale = side / 100 > 1 ? side / 100 : 1;
        cli_fill(im, x0, y0, x1, y0 + t, c);
        cli_fill(im, x0, y1 - t, x1, y1, c);
        cli_fill(im, x0, y0, x0 + t, y1, c);
        cli_fill(im, x1 - t, y0, x1, y1, c);
        /* Landmarks as small squares: eyes, nose, mouth corners. */
        for (int k = 0; k < f->box.n_landmarks && k < FERC_MAX_LANDMARKS; k++) {
            const int lx = (int)lroundf(f->box.landmarks[k][0]), ly = (int)lroundf(f->box.landmarks[k][1]);
            cli_fill(im, lx - 2 * t, ly - 2 * t, lx + 2 * t + 1, ly + 2 * t + 1, c);
        }
        char label[48];
        snprintf(label, sizeof label, "%s %.0f%%", ferc_emotion_name(f->emotion), 100 * f->probabilities[f->emotion]);
        int lh = 9 * scale, lw = text_width(label, scale) + 2 * scale;
        int ly = y0 - lh >= 0 ? y0 - lh : y0; /* above the box, or inside it at the top edge */
        cli_fill(im, x0, ly, x0 + lw, ly + lh, c);
        cli_draw_text(im, x0 + 2 * scale, ly + scale, scale, label, black);
    }
}
