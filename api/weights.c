/* weights.c - where the shipped weight files are found, for the library and the command
 * alike: $FERC_WEIGHTS, then beside the running program, then beside libferc.so, then the
 * install prefix, so an installed program, a program in a build tree and a program linked
 * against an installed libferc.so all find the same files without configuration. */
#define _GNU_SOURCE /* dladdr */
#include "ferc.h"
#include "nn/error.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FERC_PREFIX
#define FERC_PREFIX "/usr/local"
#endif

const char *ferc_version(void) { return FERC_VERSION_STRING; }

/* The files behind the names the command and ferc_analyzer_open take. The cascades are
 * OpenCV's own, from Debian's opencv-data. */
static const struct {
    const char *stage, *name, *file;
} defaults[] = {
    {"classifier", "cnn", "emotion_cnn.ferc"},
    {"classifier", "small", "emotion_small.ferc"},
    {"classifier", "lbp-svm", "emotion_lbp_svm.ferc"},
    {"detector", "ssd", "face_res10.ferc"},
    {"detector", "haar", "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"},
    {"detector", "lbp", "/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml"},
    {"eyes", "haar", "/usr/share/opencv4/haarcascades/haarcascade_eye.xml"},
};

const char *ferc_default_file(const char *stage, const char *name)
{
    for (size_t i = 0; stage && name && i < sizeof defaults / sizeof *defaults; i++)
        if (!strcmp(stage, defaults[i].stage) && !strcmp(name, defaults[i].name)) return defaults[i].file;
    return NULL;
}

/* Cuts a file name down to its folder ("" when it has none). */
static void to_folder(char *path)
{
    char *slash = strrchr(path, '/');
    if (slash) *slash = 0;
    else path[0] = 0;
}

int ferc_weights_dir(int i, char *dir, size_t size)
{
    if (!dir || size == 0) return -1;
    const char *env = getenv("FERC_WEIGHTS");
    if (env && *env && i-- == 0) return snprintf(dir, size, "%s", env), 0;
    char base[2][1024] = {"", ""};
    ssize_t len = readlink("/proc/self/exe", base[0], sizeof base[0] - 1);
    base[0][len > 0 ? len : 0] = 0;
    to_folder(base[0]);
    Dl_info info;
    char real[PATH_MAX];
    if (dladdr((void *)ferc_weights_dir, &info) && info.dli_fname && realpath(info.dli_fname, real) &&
        strlen(real) < sizeof base[1]) {
        memcpy(base[1], real, strlen(real) + 1);
        to_folder(base[1]);
        if (!strcmp(base[1], base[0])) base[1][0] = 0; /* a static build: the program itself */
    }
    for (int b = 0; b < 2; b++) {
        if (!base[b][0]) continue;
        if (i-- == 0) return snprintf(dir, size, "%s/weights", base[b]), 0;
        if (i-- == 0) return snprintf(dir, size, "%s/../share/ferc/weights", base[b]), 0;
    }
    if (i-- == 0) return snprintf(dir, size, "%s/share/ferc/weights", FERC_PREFIX), 0;
    return -1;
}

ferc_status ferc_find_weights(const char *file, char *path, size_t size, ferc_error *err)
{
    if (!file || !*file || !path || size == 0) return ferc_set_error(err, FERC_ERR_ARG, "no file name or buffer");
    if (file[0] == '/') { /* OpenCV's cascades, from Debian's opencv-data */
        snprintf(path, size, "%s", file);
        if (access(path, R_OK) == 0) return FERC_OK;
        return ferc_set_error(err, FERC_ERR_IO, "%s is missing (apt-get install opencv-data)", file);
    }
    char dir[1024], tried[400] = "";
    for (int i = 0; ferc_weights_dir(i, dir, sizeof dir) == 0; i++) {
        if ((size_t)snprintf(path, size, "%s/%s", dir, file) < size && access(path, R_OK) == 0) return FERC_OK;
        const size_t n = strlen(tried), k = strlen(dir);
        if (n + k + 3 < sizeof tried) {
            if (n) memcpy(tried + n, ", ", 2);
            memcpy(tried + n + (n ? 2 : 0), dir, k + 1);
        }
    }
    path[0] = 0;
    return ferc_set_error(err, FERC_ERR_IO,
                          "%s is not in %s (set FERC_WEIGHTS to its folder, or name the file)", file, tried);
}
