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

/* ---- emotion recognition: detect -> crop -> classify ------------------------------
 *
 * Three stages with small interfaces, and an analyzer that composes them:
 *
 *   ferc_detector    image -> face boxes (res10 SSD, Haar or LBP cascade, or your function)
 *   ferc_face_crop   box -> a gray face of the classifier's input size
 *   ferc_classifier  N gray faces -> N x 7 probabilities (a CNN or the LBP+SVM graph)
 *   ferc_analyzer    image in, faces with emotions out (ferc_analyze)
 *
 * Models are shared read-only; a classifier, detector or analyzer holds a context and
 * scratch buffers, so use one per thread (each may borrow the same ferc_model). */

#define FERC_NUM_EMOTIONS 7

/* FER2013's numbering. Probabilities are always reported in this order, whatever order the
 * model's "labels" metadata lists them in. */
typedef enum {
    FERC_ANGRY, FERC_DISGUST, FERC_FEAR, FERC_HAPPY, FERC_SAD, FERC_SURPRISE, FERC_NEUTRAL
} ferc_emotion;

/* "angry", "disgust", ...; NULL outside 0..6. */
const char *ferc_emotion_name(int emotion);
/* Index of a name (case-insensitive; FER2013's digits "0".."6" too), or -1. */
int ferc_emotion_from_name(const char *name);

/* A face box in pixels of the input image ([x, y, w, h], top-left origin) and the
 * detector's confidence in [0, 1]. */
typedef struct {
    float x, y, w, h;
    float score;
} ferc_box;

/* ---- classifier ---- */

typedef struct ferc_classifier ferc_classifier;

typedef struct {
    int tta;       /* 1: average the softmax of each face and of its mirror image */
    int max_batch; /* faces per engine run; 0: 16 */
    int threads;   /* engine threads; 0: as ferc_context_options */
} ferc_classifier_options;

/* Wraps a model whose input is [N, H, W, 1] gray and whose output holds 7 scores per face.
 * Metadata read: "task" (absent or "emotion"), "labels" (comma-separated class names,
 * default FER2013's order), "mean" and "std" (input = (pixel/255 - mean) / std, default 0
 * and 1). Scores from a graph that does not end in softmax are passed through softmax.
 * The model is borrowed: it must outlive the classifier. */
ferc_status ferc_classifier_create(const ferc_model *model, const ferc_classifier_options *opt,
                                   ferc_classifier **out, ferc_error *err);
void ferc_classifier_free(ferc_classifier *c);
/* The face size the classifier takes (48x48 for FER2013 models). */
void ferc_classifier_input_size(const ferc_classifier *c, int *width, int *height);
/* n faces, each width*height gray bytes, back to back -> probs[n][FERC_NUM_EMOTIONS]. */
ferc_status ferc_classify(ferc_classifier *c, const uint8_t *faces, int n, float *probs,
                          ferc_error *err);

/* ---- detector ---- */

typedef struct ferc_detector ferc_detector;

/* A detector function: writes at most max_boxes boxes, best first, and their number to
 * *count. */
typedef ferc_status (*ferc_detect_fn)(void *user, const ferc_image *img, ferc_box *boxes,
                                      int max_boxes, int *count, ferc_error *err);

typedef struct {
    const char *kind;   /* "ssd" (NULL: ssd), "haar" or "lbp" */
    const char *model;  /* the detector's file (SSD weights or cascade XML) */
    float threshold;    /* minimum score; 0: the detector's default */
    int min_size;       /* smallest face side in pixels; 0: the detector's default */
    int threads;        /* engine threads; 0: as ferc_context_options */
} ferc_detector_options;

ferc_status ferc_detector_create(const ferc_detector_options *opt, ferc_detector **out,
                                 ferc_error *err);
/* A detector that calls fn(user, ...): for your own detector, or fixed boxes in tests. */
ferc_status ferc_detector_from_function(ferc_detect_fn fn, void *user, ferc_detector **out,
                                        ferc_error *err);
ferc_status ferc_detect(ferc_detector *d, const ferc_image *img, ferc_box *boxes, int max_boxes,
                        int *count, ferc_error *err);
void ferc_detector_free(ferc_detector *d);

/* ---- crop ---- */

/* Converts RGB to gray as OpenCV's cvtColor(RGB2GRAY) does (gray images are copied).
 * gray->data is malloc'd; free it with free(). */
ferc_status ferc_image_to_gray(const ferc_image *img, ferc_image *gray, ferc_error *err);
/* The face in box (clipped to the image) resized to out_w x out_h gray bytes (bilinear,
 * pixel centres as OpenCV's INTER_LINEAR). img is gray or RGB; RGB pixels are converted as
 * ferc_image_to_gray does, so the result is the same as converting first. Fails if the
 * clipped box is empty. */
ferc_status ferc_face_crop(const ferc_image *img, const ferc_box *box, int out_w, int out_h,
                           uint8_t *out, ferc_error *err);

/* ---- analyzer: image in, faces with emotions out ---- */

typedef struct {
    ferc_box box;                            /* where, in input pixels */
    int emotion;                             /* the most probable ferc_emotion */
    float probabilities[FERC_NUM_EMOTIONS];  /* in ferc_emotion order, sum 1 */
} ferc_face;

typedef struct ferc_analyzer ferc_analyzer;

/* Composes borrowed stages. detector NULL: every image is one already-cropped face (as in
 * FER2013), its box the whole image with score 1. */
ferc_status ferc_analyzer_create(ferc_classifier *classifier, ferc_detector *detector,
                                 ferc_analyzer **out, ferc_error *err);

typedef struct {
    const char *model;          /* classifier weight file (required) */
    const char *detector;       /* "ssd", "haar", "lbp"; NULL: no detection (faces only) */
    const char *detector_model; /* the detector's file */
    float threshold;            /* detector minimum score; 0: default */
    int tta;                    /* as ferc_classifier_options */
    int threads;                /* engine threads; 0: as ferc_context_options */
} ferc_analyzer_options;

/* The one-call setup: loads the files and owns everything it made. */
ferc_status ferc_analyzer_open(const ferc_analyzer_options *opt, ferc_analyzer **out,
                               ferc_error *err);
void ferc_analyzer_free(ferc_analyzer *a);

/* Faces in img (gray or RGB), best detector score first: writes at most max_faces and
 * their number to *count. */
ferc_status ferc_analyze(ferc_analyzer *a, const ferc_image *img, ferc_face *faces,
                         int max_faces, int *count, ferc_error *err);

#ifdef __cplusplus
}
#endif
#endif
