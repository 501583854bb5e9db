/* ferc.h - facial expression recognition in pure C.
 *
 * The engine runs CNNs exported from PyTorch (tools/export_torch.py) from ferc's own weight
 * file (docs/FORMAT.md). Two kinds of object:
 *
 *   ferc_model    a loaded weight file: graph, parameters, metadata. Read-only after
 *                 ferc_model_load returns, so one model can serve any number of threads.
 *   ferc_context  what one thread needs to run a model: the activation arena, planned once
 *                 for a batch size and input size. No allocation happens in ferc_run.
 *
 * Every call that can fail returns a ferc_status and, when given a ferc_error, fills it with
 * a message that names the problem (and the file or tensor concerned). There is no global
 * mutable state: the only process-wide setting, the ISA override, is read from the
 * environment.
 *
 * Tensors are float32, activations in NHWC order (docs/ARCHITECTURE.md says why).
 */
#ifndef FERC_H
#define FERC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FERC_VERSION_STRING "0.1.0"

typedef enum {
    FERC_OK = 0,
    FERC_ERR_IO,          /* file missing, unreadable, short read */
    FERC_ERR_FORMAT,      /* malformed or corrupt weight file / image / stream */
    FERC_ERR_UNSUPPORTED, /* valid file that asks for something this build cannot do */
    FERC_ERR_NOMEM,       /* allocation failed or a size limit was exceeded */
    FERC_ERR_ARG          /* invalid argument from the caller */
} ferc_status;

typedef struct {
    ferc_status code;
    char message[512];
} ferc_error;

typedef struct ferc_model ferc_model;
typedef struct ferc_context ferc_context;

/* A tensor view: shape (up to 4-D, NHWC for images) and contiguous float data. */
typedef struct {
    int ndim;
    int64_t dims[4];
    float *data;
} ferc_tensor;

/* ---- models ---------------------------------------------------------------------- */

/* Loads and fully validates a weight file. On failure *out is NULL and err says why. */
ferc_status ferc_model_load(const char *path, ferc_model **out, ferc_error *err);
/* Same, from memory. The bytes are copied; the caller keeps ownership of data. */
ferc_status ferc_model_load_memory(const void *data, size_t size, ferc_model **out,
                                   ferc_error *err);
void ferc_model_free(ferc_model *model);

/* Metadata value for key ("name", "task", "labels", "mean", ...), or NULL if absent. */
const char *ferc_model_meta(const ferc_model *model, const char *key);
int ferc_model_meta_count(const ferc_model *model);
const char *ferc_model_meta_key(const ferc_model *model, int i);

int ferc_model_num_inputs(const ferc_model *model);
int ferc_model_num_outputs(const ferc_model *model);
/* Name and nominal shape (batch 1) of graph input/output i. */
const char *ferc_model_input_name(const ferc_model *model, int i);
const char *ferc_model_output_name(const ferc_model *model, int i);
void ferc_model_input_shape(const ferc_model *model, int i, int *ndim, int64_t dims[4]);
int ferc_model_num_nodes(const ferc_model *model);
/* Number of parameter tensors and their total element count. */
int64_t ferc_model_param_count(const ferc_model *model);

/* A named tensor stored in the file (a parameter, or a reference tensor in a debug-state
 * file written by tools/export_torch.py). Returns 0 and fills *t, or -1 if absent. */
int ferc_model_tensor(const ferc_model *model, const char *name, ferc_tensor *t);
int ferc_model_num_tensors(const ferc_model *model);
const char *ferc_model_tensor_name(const ferc_model *model, int i);

/* ---- contexts -------------------------------------------------------------------- */

enum {
    FERC_CTX_KEEP_ALL = 1 /* give every activation its own buffer (to inspect them all) */
};

typedef struct {
    int max_batch;  /* largest batch ferc_run will be given (>= 1) */
    int height;     /* input height/width; 0 keeps the model's nominal size */
    int width;
    int threads;    /* 0: FERC_THREADS from the environment, else all cores */
    unsigned flags; /* FERC_CTX_* */
} ferc_context_options;

ferc_status ferc_context_create(const ferc_model *model, const ferc_context_options *opt,
                                ferc_context **out, ferc_error *err);
void ferc_context_free(ferc_context *ctx);
void ferc_context_set_threads(ferc_context *ctx, int threads);
int ferc_context_threads(const ferc_context *ctx);
/* Bytes of activation arena and scratch this context holds. */
size_t ferc_context_memory(const ferc_context *ctx);

/* Runs the graph on `batch` samples. inputs[i] points to batch x (input i's shape) floats,
 * NHWC. Outputs stay valid until the next run on this context. */
ferc_status ferc_run(ferc_context *ctx, const float *const *inputs, int batch,
                     ferc_error *err);
/* Output i of the last run (batch dimension = the batch that was run). */
int ferc_output(const ferc_context *ctx, int i, ferc_tensor *t);
/* Any activation by name after a run; only reliable for contexts made with
 * FERC_CTX_KEEP_ALL, since buffers are otherwise reused. Returns -1 if no such value. */
int ferc_context_value(const ferc_context *ctx, const char *name, ferc_tensor *t);

/* ---- images --------------------------------------------------------------------- */

/* An 8-bit image, rows top to bottom, channels interleaved (1 = gray, 3 = RGB). */
typedef struct {
    int width, height, channels;
    uint8_t *data;
} ferc_image;

/* Images whose header claims more pixels are refused before anything is decoded. */
#define FERC_IMAGE_MAX_PIXELS ((int64_t)1 << 26)

/* JPEG, PNG, BMP, PNM, TGA or GIF; converted to `channels` (1 or 3). path "-" is stdin. */
ferc_status ferc_image_load(const char *path, int channels, ferc_image *img, ferc_error *err);
ferc_status ferc_image_load_memory(const void *data, size_t size, int channels, ferc_image *img,
                                   ferc_error *err);
/* .png or .jpg by the file name's extension. */
ferc_status ferc_image_save(const char *path, const ferc_image *img, ferc_error *err);
void ferc_image_free(ferc_image *img);

/* ---- kernels and CPU ------------------------------------------------------------- */

/* The kernel path in use: "scalar", "avx2" or "avx512" (FERC_ISA overrides detection). */
const char *ferc_isa_name(void);
const char *ferc_status_name(ferc_status s);

/* ---- face detection: OpenCV-compatible cascades, CLAHE, alignment (docs/cascades.md) --- */

/* A Haar or LBP cascade read from OpenCV's XML (new format, or the old Haar format).
 * Read-only after loading: one cascade can serve any number of threads. */
typedef struct ferc_cascade ferc_cascade;

typedef struct {
    int x, y, width, height;
} ferc_rect;

typedef struct {
    double scale_factor;        /* > 1; window grows by this factor per scale (1.1) */
    int min_neighbors;          /* candidates a box needs, as cv::groupRectangles (3) */
    int min_width, min_height;  /* smallest box; 0: the cascade's window */
    int max_width, max_height;  /* largest box; 0: the image size */
    int threads;                /* 0: FERC_THREADS from the environment, else all cores */
} ferc_detect_params;

/* scale 1.1, 3 neighbours, no size limits, default threads. */
void ferc_detect_params_default(ferc_detect_params *p);

ferc_status ferc_cascade_load(const char *path, ferc_cascade **out, ferc_error *err);
ferc_status ferc_cascade_load_memory(const void *data, size_t size, ferc_cascade **out, ferc_error *err);
void ferc_cascade_free(ferc_cascade *cascade);
/* "haar" or "lbp", and the training window size. */
const char *ferc_cascade_kind(const ferc_cascade *cascade);
void ferc_cascade_window(const ferc_cascade *cascade, int *width, int *height);

/* cv::CascadeClassifier::detectMultiScale on an 8-bit gray image (rows `stride` bytes
 * apart): same boxes as OpenCV 4.6. Writes up to max_boxes boxes (sorted by y, then x)
 * and sets *n_boxes to the number found (which may be larger than max_boxes). */
ferc_status ferc_cascade_detect(const ferc_cascade *cascade, const uint8_t *gray, int width, int height,
                                int stride, const ferc_detect_params *params, ferc_rect *boxes, int max_boxes,
                                int *n_boxes, ferc_error *err);

/* cv::resize of an 8-bit gray image, bit-exact with OpenCV 4.6: INTER_LINEAR (exact = 0) or
 * INTER_LINEAR_EXACT (exact = 1, the resize CascadeClassifier uses). No overlap allowed. */
ferc_status ferc_resize_gray(const uint8_t *src, int width, int height, int src_stride, uint8_t *dst,
                             int dst_width, int dst_height, int dst_stride, int exact, ferc_error *err);

/* cv::equalizeHist. src and dst may be the same buffer. */
ferc_status ferc_equalize_hist(const uint8_t *src, int width, int height, int src_stride, uint8_t *dst,
                               int dst_stride, ferc_error *err);

/* cv::createCLAHE(clip_limit, (tiles_x, tiles_y)).apply(src): contrast-limited adaptive
 * histogram equalisation. clip_limit <= 0 disables clipping. src and dst must not overlap. */
ferc_status ferc_clahe(const uint8_t *src, int width, int height, int src_stride, uint8_t *dst, int dst_stride,
                       double clip_limit, int tiles_x, int tiles_y, ferc_error *err);

/* Face alignment: finds the eyes with an eye cascade (haarcascade_eye.xml) in the face box,
 * trying a few trial rolls so that faces tilted up to about 45 degrees are found, then
 * rotates the box about its centre so that the eyes are level and resamples it into an
 * out_size x out_size square (the box's longer side spans the square, as an unaligned crop
 * of the same box would). */
typedef struct {
    double left_eye_x, left_eye_y;   /* eye centres in image coordinates (left in the image) */
    double right_eye_x, right_eye_y;
    double roll_deg;                 /* angle of the eye line, degrees, y down: > 0 when the
                                        face is turned clockwise on screen */
    int found;                       /* 0: no eye pair, roll_deg is 0 */
} ferc_eyes;

ferc_status ferc_find_eyes(const ferc_cascade *eye_cascade, const uint8_t *gray, int width, int height,
                           int stride, ferc_rect face, ferc_eyes *eyes, ferc_error *err);
/* Rotates by eyes->roll_deg (0 when eyes is NULL or !eyes->found) about the box centre and
 * resamples bilinearly into an out_size x out_size crop; outside the image, edge pixels. */
ferc_status ferc_align_crop(const uint8_t *gray, int width, int height, int stride, ferc_rect face,
                            const ferc_eyes *eyes, uint8_t *out, int out_size, ferc_error *err);
/* Both steps. */
ferc_status ferc_align_face(const ferc_cascade *eye_cascade, const uint8_t *gray, int width, int height,
                            int stride, ferc_rect face, uint8_t *out, int out_size, ferc_eyes *eyes,
                            ferc_error *err);

#ifdef __cplusplus
}
#endif
#endif
