/* ferc - the command: emotions of the faces in photos, folders and video.
 *
 *   ferc [options] FILE|DIR|- ...   one JSON object per image (JSON Lines) or a text table
 *   ferc video [options] FILE|-     YUV4MPEG2 in, tracked faces per frame out (video.c)
 *   ferc eval --data DIR [options]  accuracy on an image-folder data set (eval.c)
 *   ferc serve [options]            the same as an HTTP service and web page (serve.c)
 *   ferc version
 *
 * Images are processed in parallel, one analyzer per thread, and printed in input order. */
#include "tools/cli/cli.h"
#include "tools/cli/json.h"
#include "tools/cli/look.h"

#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: ferc [options] FILE|DIR|- ...       faces and emotions in images\n"
    "       ferc video [options] FILE|-         faces and emotions over a YUV4MPEG2 video\n"
    "       ferc eval --data DIR [options]      accuracy on an image-folder data set\n"
    "       ferc serve [options]                HTTP API and web page (see ferc serve --help)\n"
    "       ferc version                        version, build options, ISA, threads\n"
    "       ferc inspect MODEL.ferc             a model's metadata and nodes (shapes, MACs, plan)\n"
    "       ferc profile MODEL.ferc | --conv SPEC  time per node, GFLOP/s, % of the FMA peak\n"
    "       ferc trace MODEL.ferc IMAGE --out DIR  every node's output as .npy\n"
    "       ferc explain IMAGE                  which parts of each face drove its emotion\n"
    "\n"
    "Images (JPEG, PNG, BMP, PNM, TGA, GIF): each FILE, every image under each DIR (sorted,\n"
    "recursive), '-' reads one image from standard input. One JSON object per image is printed\n"
    "(JSON Lines), in input order:\n"
    "  {\"file\":..., \"width\":..., \"height\":..., \"faces\":[{\"box\":[x,y,w,h], \"score\":...,\n"
    "   \"landmarks\":[[x,y] x 5] (yunet: right eye, left eye, nose, right and left mouth corner),\n"
    "   \"emotion\":\"happy\", \"probabilities\":{\"angry\":..., ..., \"neutral\":...}}]}\n"
    "An input that cannot be read gives {\"file\":..., \"error\":...} and a message on stderr;\n"
    "the others are still processed and the exit status is 1.\n"
    "\n"
    "Options:\n"
    "  --format json|text      output format (default json)\n"
    "  --detector yunet|ssd|haar|lbp\n"
    "                          face detector (default yunet, with five landmarks per face)\n"
    "  --detector-model FILE   the detector's weights or cascade XML (also --cascade FILE)\n"
    "  --threshold T           minimum detector score, 0 < T < 1 (default: yunet 0.6, ssd 0.5)\n"
    "  --detector-size N       network input (also --ssd-size). yunet: long side N (default for\n"
    "                          photos: twice the image's, within 640..2048, to find small\n"
    "                          faces; for video: 640). ssd: N x N (default for photos:\n"
    "                          300x300, plus the image's own size for images over 400 pixels;\n"
    "                          for video: 300x300 only)\n"
    "  --nms T                 yunet: drop a face overlapping a better one by IoU > T (0.3)\n"
    "  --tiles G[xK]           yunet, photos: also run on G x G overlapping tiles, each at K\n"
    "                          times its size (default K 3), for small faces; about 1 + G^2\n"
    "                          times the detection time (default: one pass)\n"
    "  --scale-factor F        cascade scaleFactor (default 1.1)\n"
    "  --min-neighbors N       cascade minNeighbors (default 3)\n"
    "  --min-size N            cascade: smallest face side in pixels\n"
    "  --no-detect, --faces-only\n"
    "                          each image is already a cropped face (as in FER2013)\n"
    "  --classifier cnn|small|lbp-svm\n"
    "                          emotion classifier (default cnn)\n"
    "  --model FILE            classifier weight file (overrides --classifier)\n"
    "  --tta [flip|centre|crops]\n"
    "                          test-time augmentation: average each face with its mirror image\n"
    "                          (flip, the default), with that and its centre 11/12 crop and its\n"
    "                          mirror (centre: 4 runs per face), or with five 11/12 crops and their\n"
    "                          mirrors (crops: 12 runs per face, about a point above flip)\n"
    "  --int8                  the int8 files of the classifier and of YuNet (emotion_*.q8.ferc,\n"
    "                          face_yunet.q8.ferc; the SSD and the cascades stay as they are)\n"
    "  --align                 turn each face upright from its eyes before classifying\n"
    "                          (eyes from YuNet's landmarks, else OpenCV's haarcascade_eye.xml)\n"
    "  --eye-cascade FILE      the eye cascade for --align (implies --align)\n"
    "  --annotate DIR          write a copy of each image with boxes and labels into DIR\n"
    "  --threads N             threads (default: FERC_THREADS or all processors)\n"
    "  --max-pixels N          refuse images (and video frames) over N pixels, before\n"
    "                          decoding them (default and most: 67108864 = 2^26)\n"
    "  -h, --help              this help\n"
    "\n"
    "Video: ferc video [options] FILE|-  (see ferc video --help)\n"
    "  --format csv|json  --window N  --iou T  --max-missed N  --plot FILE.svg  --summary\n"
    "  --frames FILE\n"
    "Eval:  ferc eval --data DIR [--model FILE | --classifier NAME] [--tta [flip|centre|crops]] [--threads N]\n"
    "  DIR holds one folder per class (angry, disgust, fear, happy, sad, surprise, neutral,\n"
    "  or FER2013's digits 0-6); prints one JSON object: images, accuracy, per_class,\n"
    "  confusion (rows true, columns predicted), seconds.\n"
    "\n"
    "Weights: --classifier and --detector files are looked up in $FERC_WEIGHTS, in weights/\n"
    "and ../share/ferc/weights next to the ferc binary (make install), the same next to\n"
    "libferc.so, then in the install prefix (ferc version lists them).\n"
    "\n"
    "Examples:\n"
    "  ferc photo.jpg\n"
    "  ferc --format text --annotate out/ photos/\n"
    "  ferc --no-detect --tta face48x48.png\n"
    "  cat photo.jpg | ferc -\n"
    "  ffmpeg -i clip.mp4 -f yuv4mpegpipe - | ferc video --summary --plot emotions.svg -\n"
    "  ferc eval --data ../shared/data/fer2013/val --tta\n";

static void print_text(FILE *f, const char *file, const ferc_image *img, const ferc_face *faces, int n)
{
    fprintf(f, "%s  %dx%d  %d face%s\n", file, img->width, img->height, n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        const ferc_face *fc = &faces[i];
        fprintf(f, "  #%d  box %.0f,%.0f %.0fx%.0f  score %.2f  %-8s %5.1f%%  |", i + 1, fc->box.x, fc->box.y, fc->box.w,
                fc->box.h, fc->box.score, ferc_emotion_name(fc->emotion), 100 * fc->probabilities[fc->emotion]);
        for (int k = 0; k < FERC_NUM_EMOTIONS; k++)
            fprintf(f, " %.4s %4.1f", ferc_emotion_name(k), 100 * fc->probabilities[k]);
        fputc('\n', f);
    }
}

/* DIR/<input path with '/' as '_'>, .jpg kept for JPEG input, else .png. */
static void annotate_path(const char *dir, const char *input, char *out, size_t size)
{
    char name[1024];
    const char *p = strcmp(input, "-") ? input : "stdin";
    while (p[0] == '.' && p[1] == '/') p += 2;
    while (*p == '/') p++;
    snprintf(name, sizeof name, "%s", p);
    for (char *c = name; *c; c++)
        if (*c == '/') *c = '_';
    char *dot = strrchr(name, '.');
    int jpg = dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
    if (dot && cli_is_image_name(name)) *dot = 0;
    snprintf(out, size, "%s/%s.%s", dir, name, jpg ? "jpg" : "png");
}

/* One image: load, analyze, annotate; the report goes to *text (malloc'd). Returns 0 or 1. */
static int process(ferc_analyzer *a, const char *path, int text_format, int max_pixels, const char *annotate,
                   char **text, size_t *len)
{
    FILE *f = open_memstream(text, len);
    if (!f) return 1;
    ferc_image img;
    ferc_error err;
    ferc_face faces[CLI_MAX_FACES];
    int n = 0, failed = 0;
    ferc_status s = ferc_image_load_limit(path, 3, max_pixels, &img, &err);
    if (!s) s = ferc_analyze(a, &img, faces, CLI_MAX_FACES, &n, &err);
    if (!s && annotate) {
        char out[2048];
        annotate_path(annotate, path, out, sizeof out);
        cli_annotate(&img, faces, n);
        if (ferc_image_save(out, &img, &err)) {
            fprintf(stderr, "ferc: %s\n", err.message);
            failed = 1;
        }
    }
    if (s) {
        fprintf(stderr, "ferc: %s%s%s\n", strstr(err.message, path) ? "" : path, strstr(err.message, path) ? "" : ": ",
                err.message);
        if (text_format) {
            fprintf(f, "%s  error: %s\n", path, err.message);
        } else {
            cli_print_json_error(f, path, err.message);
        }
        failed = 1;
    } else if (text_format) {
        print_text(f, path, &img, faces, n);
    } else {
        cli_print_json(f, path, img.width, img.height, faces, n);
    }
    ferc_image_free(&img);
    fclose(f);
    return failed;
}

/* The exit status once the images are done. A reader that closed the pipe early
 * (`ferc photos/ | head -1`, with SIGPIPE ignored; by default SIGPIPE ends the process as
 * it ends any filter) is not an error worth a message: exit 1 quietly. Any other write
 * failure is named. */
static int stdout_status(int out_errno, int failed)
{
    if (!out_errno && fflush(stdout)) out_errno = errno ? errno : EIO;
    if (out_errno == EPIPE) return 1;
    if (out_errno) {
        fprintf(stderr, "ferc: standard output: %s\n", strerror(out_errno));
        return 1;
    }
    return failed ? 1 : 0;
}

static int images_main(int argc, char **argv)
{
    cli_options o = {.format = NULL};
    const char *annotate = NULL, *v;
    cli_inputs in = {0};
    int rc = 0, stdin_used = 0;
    for (int i = 1; i < argc; i++) {
        int r = argv[i][0] == '-' && argv[i][1] ? cli_parse_common(&o, argc, argv, &i) : 0;
        if (r < 0) { rc = 2; break; }
        if (r) continue;
        if ((v = cli_opt_value("--annotate", argc, argv, &i))) { annotate = v; continue; }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "ferc: unknown option %s (see ferc --help)\n", argv[i]);
            rc = 2;
            break;
        }
        if (!strcmp(argv[i], "-") && stdin_used++) {
            fprintf(stderr, "ferc: '-' (standard input) given twice\n");
            rc = 2;
            break;
        }
        if (cli_inputs_add(&in, argv[i])) {
            fprintf(stderr, "ferc: out of memory listing inputs\n");
            rc = 1;
            break;
        }
    }
    int text = 0;
    if (!rc && o.format && strcmp(o.format, "json") && !(text = !strcmp(o.format, "text"))) {
        fprintf(stderr, "ferc: --format %s: images are written as json or text\n", o.format);
        rc = 2;
    }
    if (!rc && in.n == 0) {
        fprintf(stderr, "ferc: no input images (see ferc --help)\n");
        rc = 2;
    }
    if (!rc && annotate) {
        struct stat st;
        if (stat(annotate, &st) && mkdir(annotate, 0777) && errno != EEXIST) {
            fprintf(stderr, "ferc: --annotate %s: %s\n", annotate, strerror(errno));
            rc = 1;
        }
    }
    if (rc) {
        cli_inputs_free(&in);
        return rc;
    }
    int threads = o.threads ? o.threads : cli_default_threads();
    int workers = threads < in.n ? threads : in.n;
    cli_engines e;
    if (cli_engines_open(&e, &o, workers, threads / workers)) {
        cli_inputs_free(&in);
        return 1;
    }
    int failed = 0, out_errno = 0;
    /* Dynamic schedule for uneven images; the ordered block prints in input order as soon
     * as each image's predecessors are done. Once standard output fails (a reader that went
     * away, a full disk) the remaining images are skipped. */
#pragma omp parallel for ordered schedule(dynamic, 1) num_threads(workers) reduction(+ : failed)
    for (int i = 0; i < in.n; i++) {
        char *out = NULL;
        size_t len = 0;
        int stop;
#pragma omp atomic read
        stop = out_errno;
        if (!stop) failed += process(e.an[omp_get_thread_num()], in.paths[i], text, o.max_pixels, annotate, &out, &len);
#pragma omp ordered
        {
            errno = 0;
            if (out && !out_errno && (fwrite(out, 1, len, stdout) != len || fflush(stdout))) {
#pragma omp atomic write
                out_errno = errno ? errno : EIO;
            }
        }
        free(out);
    }
    cli_engines_close(&e);
    cli_inputs_free(&in);
    return stdout_status(out_errno, failed);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    /* Looking inside (tools/cli/): each command has its own --help. */
    static const struct { const char *name; int (*run)(int, char **); } looks[] = {
        {"inspect", cli_inspect}, {"profile", cli_profile}, {"trace", cli_trace}, {"explain", cli_explain}};
    for (int i = 0; i < 4; i++)
        if (!strcmp(argv[1], looks[i].name)) return looks[i].run(argc - 1, argv + 1);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            if (i == 2 && !strcmp(argv[1], "video")) return cli_video(argc - 1, argv + 1);
            if (!strcmp(argv[1], "serve")) return fputs(cli_serve_usage, stdout), 0;
            fputs(usage, stdout);
            return 0;
        }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) return cli_version();
    if (!strcmp(argv[1], "eval")) return cli_eval(argc - 1, argv + 1);
    if (!strcmp(argv[1], "video")) return cli_video(argc - 1, argv + 1);
    if (!strcmp(argv[1], "serve")) return cli_serve(argc - 1, argv + 1);
    return images_main(argc, argv);
}

int cli_version(void)
{
    printf("ferc %s\n", ferc_version());
    printf("isa: %s%s\n", ferc_isa_name(), getenv("FERC_ISA") && *getenv("FERC_ISA") ? " (FERC_ISA)" : "");
    printf("int8: %s\n", ferc_int8_isa_name());
    printf("threads: %d (processors: %d)\n", cli_default_threads(), omp_get_num_procs());
    printf("openmp: %d\n", _OPENMP);
#if defined(__clang__)
    printf("compiler: clang %s\n", __clang_version__);
#elif defined(__GNUC__)
    printf("compiler: gcc %s\n", __VERSION__);
#endif
    printf("build:");
#ifdef __OPTIMIZE__
    printf(" optimized");
#else
    printf(" debug");
#endif
#ifdef __SANITIZE_ADDRESS__
    printf(" asan");
#endif
#ifdef FERC_WITH_OPENBLAS
    printf(" openblas");
#endif
    printf("\n");
    char dir[1024];
    printf("weights:");
    for (int i = 0; ferc_weights_dir(i, dir, sizeof dir) == 0; i++) printf("%s %s", i ? "," : "", dir);
    printf("\n");
    static const char *const names[2][4] = {{"cnn", "small", "lbp-svm", NULL}, {"ssd", "yunet", "haar", "lbp"}};
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < 4 && names[d][i]; i++) {
            const char *stage = d ? "detector" : "classifier";
            char path[1200];
            int found = !ferc_find_weights(ferc_default_file(stage, names[d][i]), path, sizeof path, NULL);
            printf("%s %s: %s\n", stage, names[d][i], found ? path : "not found");
            if (d ? !strcmp(names[d][i], "yunet") : i < 2) { /* the int8 twins of the CNNs and of YuNet (--int8) */
                char q8[1200];
                found = !ferc_int8_file(ferc_default_file(stage, names[d][i]), q8, sizeof q8, NULL) &&
                        !ferc_find_weights(q8, path, sizeof path, NULL);
                printf("%s %s --int8: %s\n", stage, names[d][i], found ? path : "not found");
            }
        }
    return 0;
}
