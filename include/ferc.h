/* ferc.h - facial expression recognition in pure C.
 *
 * The engine runs CNNs exported from PyTorch (tools/model/export_torch.py) from ferc's own weight
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

/* The library's version, FERC_VERSION_STRING of the build that made it. */
const char *ferc_version(void);

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
void ferc_model_output_shape(const ferc_model *model, int i, int *ndim, int64_t dims[4]);
/* The op ("softmax", "dense", ...) that writes output i; NULL if an input or parameter does. */
const char *ferc_model_output_op(const ferc_model *model, int i);
int ferc_model_num_nodes(const ferc_model *model);
/* Number of parameter tensors and their total element count. */
int64_t ferc_model_param_count(const ferc_model *model);

/* A named tensor stored in the file (a parameter, or a reference tensor in a debug-state
 * file written by tools/model/export_torch.py). Returns 0 and fills *t, or -1 if absent. */
int ferc_model_tensor(const ferc_model *model, const char *name, ferc_tensor *t);
int ferc_model_num_tensors(const ferc_model *model);
const char *ferc_model_tensor_name(const ferc_model *model, int i);

/* ---- contexts -------------------------------------------------------------------- */

enum {
    FERC_CTX_KEEP_ALL = 1, /* give every activation its own buffer (to inspect them all) */
    FERC_CTX_PROFILE = 2,  /* time each node of every run (ferc_context_node_seconds) */
    FERC_CTX_PROFILE_CPU = 4 /* with FERC_CTX_PROFILE: in the calling thread's CPU time, which a
                                loaded machine does not inflate (meaningful with one thread) */
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
 * NHWC. Outputs stay valid until the next run on this context. inputs[i] may be the
 * context's own buffer for input i (ferc_context_value of its name), filled in place before
 * each run: then nothing is copied. */
ferc_status ferc_run(ferc_context *ctx, const float *const *inputs, int batch,
                     ferc_error *err);
/* Output i of the last run (batch dimension = the batch that was run). */
int ferc_output(const ferc_context *ctx, int i, ferc_tensor *t);
/* Any activation by name after a run; only reliable for contexts made with
 * FERC_CTX_KEEP_ALL, since buffers are otherwise reused. Returns -1 if no such value. The
 * u8 activations of int8 models (docs/FORMAT.md) hold uint8 codes: read t->data as bytes. */
int ferc_context_value(const ferc_context *ctx, const char *name, ferc_tensor *t);

/* ---- looking inside: nodes, memory plan, per-node times (ferc inspect, profile) ---- */
/* Nodes are numbered in execution order, 0 .. ferc_model_num_nodes - 1. */

typedef struct {
    const char *name;  /* the node's first output value */
    const char *op;    /* "conv2d", "dense", ... (docs/FORMAT.md) */
    int n_inputs, n_outputs, n_attrs;
    int64_t params;    /* elements of the parameter tensors among its inputs */
    const char *dtype; /* the first one's dtype in the file: "f32", "f16" or "q8", which the
                          engine computes with in f32, or "i8" for the weights of the int8
                          ops (conv2d_q8, dense_q8), computed in integers; "" when none */
    int64_t macs;      /* multiply-accumulates for one sample at the nominal input size
                          (convolutions and dense layers; 0 for the rest) */
    char path[48];     /* the kernel path chosen at load: ISA and variant ("avx2 winograd",
                          "scalar direct", "avx512 pool"; int8 ops name the int8 path,
                          "avx512vnni gemm"), or "c" for plain loops that are the same on
                          every ISA */
} ferc_node_info;

/* Returns 0 and fills *info, or -1 if i is out of range. */
int ferc_model_node_info(const ferc_model *model, int i, ferc_node_info *info);
/* Name of node i's input or output j (a graph input, parameter or activation); NULL out of
 * range. */
const char *ferc_model_node_input(const ferc_model *model, int i, int j);
const char *ferc_model_node_output(const ferc_model *model, int i, int j);
/* Attribute a of node i: its key and *count values, integers in *ints or floats in *floats
 * (the other set to NULL). Returns 0, or -1 out of range. */
int ferc_model_node_attr(const ferc_model *model, int i, int a, const char **key, int *count,
                         const int32_t **ints, const float **floats);
/* Shape of a value by name: parameters as stored, inputs and activations at the nominal
 * input size with batch 1. Returns 0, or -1 if there is no such value. */
int ferc_model_value_shape(const ferc_model *model, const char *name, int *ndim, int64_t dims[4]);

/* Where the memory planner put a graph input or activation: byte offset in the context's
 * arena and bytes reserved (for the planned batch). -1 for parameters (they stay in the
 * model) and unknown names. */
int ferc_context_value_place(const ferc_context *ctx, const char *name, size_t *offset, size_t *bytes);
/* Bytes of the activation arena alone (ferc_context_memory adds the scratch buffer). */
size_t ferc_context_arena_bytes(const ferc_context *ctx);
/* Multiply-accumulates of node i for the last run's batch (the planned batch before any run)
 * at the context's input size. */
int64_t ferc_context_node_macs(const ferc_context *ctx, int i);
/* The node whose kernel computes node i in this context: i itself, or, for a depthwise
 * convolution run together with the 1x1 convolution before it (contexts without
 * FERC_CTX_KEEP_ALL fuse such pairs; the 1x1's output then has no memory of its own), that
 * 1x1 convolution's index. -1 out of range. */
int ferc_context_node_runner(const ferc_context *ctx, int i);
/* Seconds node i took in the last run of a context made with FERC_CTX_PROFILE (wall clock
 * around its kernel, or thread CPU time with FERC_CTX_PROFILE_CPU); 0 without the flag. Without it a run pays one branch per node. */
double ferc_context_node_seconds(const ferc_context *ctx, int i);

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
/* The same with the caller's pixel limit (width x height; 0 or anything over
 * FERC_IMAGE_MAX_PIXELS means FERC_IMAGE_MAX_PIXELS): a larger header is refused with
 * FERC_ERR_FORMAT and its size named before any pixel memory is allocated. */
ferc_status ferc_image_load_limit(const char *path, int channels, int64_t max_pixels, ferc_image *img,
                                  ferc_error *err);
ferc_status ferc_image_load_memory_limit(const void *data, size_t size, int channels, int64_t max_pixels,
                                         ferc_image *img, ferc_error *err);
/* .png or .jpg by the file name's extension. */
ferc_status ferc_image_save(const char *path, const ferc_image *img, ferc_error *err);
/* The bytes ferc_image_save would write for a file called name (.png or .jpg), in memory:
 * *out is allocated (release with free). */
ferc_status ferc_image_encode(const ferc_image *img, const char *name, uint8_t **out, size_t *size,
                              ferc_error *err);
void ferc_image_free(ferc_image *img);

/* ---- face boxes (detect/box.c) --------------------------------------------------- */

#define FERC_MAX_LANDMARKS 5

/* A face box in pixels of the input image: top-left corner (x, y) and size w x h (it may
 * extend past the image), the detector's confidence in [0, 1] (1 from the cascades, which
 * give none), and n_landmarks points (x, y) in image pixels from detectors that find them
 * (eyes, nose tip, mouth corners), 0 otherwise. Every detector, the analyzer, the tracker
 * and the command's output use this one type. */
typedef struct {
    float x, y, w, h;
    float score;
    int n_landmarks;
    float landmarks[FERC_MAX_LANDMARKS][2];
} ferc_box;

/* Intersection over union of two boxes (0 when either is empty). */
float ferc_box_iou(const ferc_box *a, const ferc_box *b);

/* ---- image preprocessing (detect/image/preprocess.c) -------------------------------------- */
/* Each call allocates dst (free with ferc_image_free). The arithmetic is OpenCV 4.6's:
 * results are identical to cv2's on every photo and size measured (docs/detection.md). */

/* cv2.INTER_LINEAR, cv2.INTER_AREA, cv2.INTER_LINEAR_EXACT (the last for gray only) */
enum { FERC_RESIZE_LINEAR = 1, FERC_RESIZE_AREA = 3, FERC_RESIZE_LINEAR_EXACT = 5 };

/* cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY); a gray image is copied. */
ferc_status ferc_image_to_gray(const ferc_image *src, ferc_image *dst, ferc_error *err);
/* cv2.resize(src, (width, height), interpolation=...). */
ferc_status ferc_image_resize(const ferc_image *src, int width, int height, int interpolation,
                              ferc_image *dst, ferc_error *err);
/* The width x height region at (x, y), which must lie inside src. */
ferc_status ferc_image_crop(const ferc_image *src, int x, int y, int width, int height,
                            ferc_image *dst, ferc_error *err);

/* ---- face detection (detect/ssd.c, docs/detection.md) ------------------------------- */
/* OpenCV's res10 SSD face detector (weights/face_res10.ferc), run on the engine with
 * OpenCV's prior boxes, decoding and NMS. A ferc_ssd is read-only after loading and can
 * serve any number of threads; each thread needs its own ferc_ssd_state (contexts and
 * buffers for the two input sizes used last, rebuilt when another size comes). */

typedef struct ferc_ssd ferc_ssd;
typedef struct ferc_ssd_state ferc_ssd_state;

#define FERC_SSD_DEFAULT_SIZE 300
#define FERC_SSD_DEFAULT_THRESHOLD 0.5f

typedef struct {
    int input_width, input_height; /* network input; 0 and 0: ferc_ssd_auto_sizes */
    float threshold;               /* faces with score > threshold are returned */
    int threads;                   /* 0: the context default */
} ferc_ssd_options;

ferc_status ferc_ssd_load(const char *path, ferc_ssd **out, ferc_error *err);
void ferc_ssd_free(ferc_ssd *d);
ferc_status ferc_ssd_state_create(const ferc_ssd *d, ferc_ssd_state **out,
                                       ferc_error *err);
void ferc_ssd_state_free(ferc_ssd_state *s);
/* The passes (network input sizes) used for an image of this size when the options give
 * none; returns 1 or 2. Images up to 400 pixels on the long side: one pass at 300x300
 * (OpenCV's sample). Larger: 300x300 and the image at its own size (long side at most 1024),
 * merged, which finds the small faces 300x300 loses (docs/detection.md has the recall). */
int ferc_ssd_auto_sizes(int image_width, int image_height, int sizes[2][2]);
/* Finds faces in an RGB (or gray) image: per pass, the image is resized to the input size as
 * OpenCV's sample does (cv2.resize, bilinear), the mean subtracted in BGR order, the network
 * run; the detections above the threshold (of all passes, a later pass adding only faces
 * that no earlier box overlaps with IoU > 0.45) are written to out, best first. *n_faces is
 * the number found, which may exceed max_faces (only max_faces are written). opt may be
 * NULL. With one given input size the result equals OpenCV's sample at that size. */
ferc_status ferc_ssd_detect(const ferc_ssd *d, ferc_ssd_state *s, const ferc_image *img,
                        const ferc_ssd_options *opt, ferc_box *out, int max_faces,
                        int *n_faces, ferc_error *err);

/* ---- YuNet face detector (detect/yunet.c, docs/detection.md) ------------------------- */
/* libfacedetection's YuNet (weights/face_yunet.ferc): boxes with five landmarks. The image
 * is scaled to the input size, zero-padded to multiples of 32, run on the engine, decoded
 * and suppressed as OpenCV's NMSBoxes does. A ferc_yunet is read-only after loading; each
 * thread needs its own ferc_yunet_state (context and buffers for the last input size). */

typedef struct ferc_yunet ferc_yunet;
typedef struct ferc_yunet_state ferc_yunet_state;

#define FERC_YUNET_DEFAULT_THRESHOLD 0.6f
#define FERC_YUNET_DEFAULT_NMS 0.3f
#define FERC_YUNET_TOP_K 5000

typedef struct {
    int input_size;  /* long side of the network input; 0: ferc_yunet_input_size's rule */
    float threshold; /* faces with score (cls * obj) > threshold are returned */
    float nms;       /* a face overlapping a better one with IoU > nms is dropped; 0: 0.3 */
    int threads;     /* 0: the context default */
} ferc_yunet_options;

ferc_status ferc_yunet_load(const char *path, ferc_yunet **out, ferc_error *err);
void ferc_yunet_free(ferc_yunet *d);
ferc_status ferc_yunet_state_create(const ferc_yunet *d, ferc_yunet_state **out, ferc_error *err);
void ferc_yunet_state_free(ferc_yunet_state *s);
/* The network input (before padding) for an image: its long side scaled to size, or for
 * size 0 to twice the image's long side kept within 640..2048. */
void ferc_yunet_input_size(int width, int height, int size, int *net_width, int *net_height);
/* Faces in an RGB (or gray) image, best first, in image pixels with 5 landmarks each;
 * *n_faces is the number found, which may exceed max_faces (only max_faces are written).
 * opt may be NULL (the defaults). */
ferc_status ferc_yunet_detect(const ferc_yunet *d, ferc_yunet_state *s, const ferc_image *img,
                              const ferc_yunet_options *opt, ferc_box *out, int max_faces,
                              int *n_faces, ferc_error *err);
/* Small faces (detect/yunet_tiles.c): ferc_yunet_detect on the whole image (at opt's input
 * size) plus on tiles x tiles overlapping tiles (neighbours share a quarter of a tile), each
 * at tile_scale times its own size (0: FERC_YUNET_DEFAULT_TILE_SCALE; long side at most
 * 2048); faces cut by an inner tile edge are dropped (another tile holds them whole), the
 * rest mapped back to image pixels (landmarks too) and all merged by one NMS at opt's IoU.
 * tiles 0 or 1, tiles under 32 pixels, or tiles seen at no larger scale than the whole
 * image: exactly ferc_yunet_detect. Costs about 4x its time for 2x2 tiles at 3x;
 * docs/detection.md has the recall it buys. */
#define FERC_YUNET_DEFAULT_TILE_SCALE 3
#define FERC_YUNET_MAX_TILES 8
#define FERC_YUNET_MAX_TILE_SCALE 16
ferc_status ferc_yunet_detect_tiled(const ferc_yunet *d, ferc_yunet_state *s, const ferc_image *img,
                                    const ferc_yunet_options *opt, int tiles, double tile_scale,
                                    ferc_box *out, int max_faces, int *n_faces, ferc_error *err);

/* ---- the classifier's face crop (detect/image/face_crop.c, docs/detection.md) ------------- */
/* How a detector's box becomes the square the classifier sees. Each detector kind has one,
 * since each draws its boxes differently around a face. */
typedef enum {
    FERC_FRAMING_BOX = 0,   /* the box as given, clipped to the image (whole images, boxes
                               already framed like the classifier's training faces) */
    FERC_FRAMING_RES10 = 1, /* the square FER2013 frames around a res10 SSD box (measured by
                               bench/fer_framing.py); also the cascades' */
    FERC_FRAMING_YUNET = 2  /* the same for YuNet's boxes, which are taller (chin to brow) */
} ferc_framing;

/* The square region, in image pixels, framed around a detected face as FER2013's 48x48
 * crops frame their faces, for a box drawn as `framing` says (RES10 or YUNET; BOX gives the
 * box's own square). It may extend past the image. */
void ferc_face_crop_fer_rect(const ferc_box *face, ferc_framing framing, int *x, int *y, int *side);
/* That square as a size x size gray image (out is allocated; free with ferc_image_free):
 * edge pixels repeated outside the image, gray as cv2.cvtColor, resized as cv2.resize
 * (INTER_AREA to shrink, INTER_LINEAR to enlarge). */
ferc_status ferc_face_crop_fer(const ferc_image *img, const ferc_box *face, ferc_framing framing, int size,
                               ferc_image *out, ferc_error *err);

/* ---- kernels and CPU ------------------------------------------------------------- */

/* The kernel path in use: "scalar", "avx2" or "avx512" (FERC_ISA overrides detection). */
const char *ferc_isa_name(void);
/* The int8 path int8 models run on: "avx512vnni", "avxvnni", "avx2" or "scalar" (FERC_ISA
 * forces it as for ferc_isa_name; kernels/q8.h). */
const char *ferc_int8_isa_name(void);
/* The int8 file of a weight file: NAME.ferc -> NAME.q8.ferc (a .q8.ferc name is kept). */
ferc_status ferc_int8_file(const char *file, char *out, size_t size, ferc_error *err);
const char *ferc_status_name(ferc_status s);

/* ---- face detection: OpenCV-compatible cascades, CLAHE, alignment (docs/cascades.md) --- */

/* A Haar or LBP cascade read from OpenCV's XML (new format, or the old Haar format).
 * Read-only after loading: one cascade can serve any number of threads. */
typedef struct ferc_cascade ferc_cascade;

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
 * apart): same boxes as OpenCV 4.6 (whole pixels, score 1). Writes up to max_boxes boxes
 * (sorted by y, then x) and sets *n_boxes to the number found (which may be larger than
 * max_boxes). */
ferc_status ferc_cascade_detect(const ferc_cascade *cascade, const uint8_t *gray, int width, int height,
                                int stride, const ferc_detect_params *params, ferc_box *boxes, int max_boxes,
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

/* The face box is taken in whole pixels: corner truncated, width and height rounded. */
ferc_status ferc_find_eyes(const ferc_cascade *eye_cascade, const uint8_t *gray, int width, int height,
                           int stride, const ferc_box *face, ferc_eyes *eyes, ferc_error *err);
/* Rotates the box's square (its longer side) by eyes->roll_deg (0 when eyes is NULL or
 * !eyes->found) about the box centre at its own size (bilinear, edge pixels outside the
 * image), then resizes it to out_size x out_size as every face crop is (cv2.resize
 * INTER_AREA to shrink, INTER_LINEAR to enlarge). */
ferc_status ferc_align_crop(const uint8_t *gray, int width, int height, int stride, const ferc_box *face,
                            const ferc_eyes *eyes, uint8_t *out, int out_size, ferc_error *err);
/* The eyes from a detector's landmarks (YuNet's first two points); returns eyes->found, 0
 * when the box has no landmarks or they are not an eye pair. One pass of landmarks follows
 * only part of a face's roll: ferc_yunet_eyes refines them. */
int ferc_eyes_from_landmarks(const ferc_box *face, ferc_eyes *eyes);
/* The eyes of a face YuNet found (its box and landmarks; a box without landmarks starts
 * level), refined: one pass of YuNet levels a turned face's eyes only part of the way, so
 * the face's square is turned upright by the current eye line and detected again (a
 * 320x320 input), up to three times, until a pass moves the line by less than a degree.
 * gray is the image the face was found in, in gray (channels 1). eyes->found is 0 when no
 * eye pair is known (no landmarks and none found). s is used at 320x320: a state of its own
 * keeps the detector's from being remade for each size. threads: 0 for the context default. */
ferc_status ferc_yunet_eyes(const ferc_yunet *d, ferc_yunet_state *s, const ferc_image *gray,
                            const ferc_box *face, int threads, ferc_eyes *eyes, ferc_error *err);
/* Both steps. */
ferc_status ferc_align_face(const ferc_cascade *eye_cascade, const uint8_t *gray, int width, int height,
                            int stride, const ferc_box *face, uint8_t *out, int out_size, ferc_eyes *eyes,
                            ferc_error *err);

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

/* ---- classifier ---- */

typedef struct ferc_classifier ferc_classifier;

/* Test-time augmentation: the classifier averages the probabilities of several views of each
 * face. CROPS: the face, its mirror, and five crops of 11/12 of the side (corners, centre)
 * resized back, each with its mirror (12 runs per face; api/classifier.c says exactly).
 * CENTRE: the face, its mirror, and only the centre crop and its mirror (4 runs per face; on
 * the default model most of what the crops gain, for a third of the runs). */
enum { FERC_TTA_NONE = 0, FERC_TTA_FLIP = 1, FERC_TTA_CROPS = 2, FERC_TTA_CENTRE = 3 };
#define FERC_NUM_TTA_MODES 4
/* The modes' names ("none", "flip", "crops", "centre"; ferc_tta_from_name: -1 for another,
 * NULL given) and runs per face (1, 2, 12, 4); ferc_tta_name NULL and ferc_tta_views 0 for a
 * value that is not a mode. */
int ferc_tta_from_name(const char *name);
const char *ferc_tta_name(int tta);
int ferc_tta_views(int tta);

typedef struct {
    int tta;       /* FERC_TTA_NONE, _FLIP (the face and its mirror image), _CENTRE or _CROPS */
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
/* A second classifier over the same model and options, for another thread. */
ferc_status ferc_classifier_clone(const ferc_classifier *c, ferc_classifier **out, ferc_error *err);
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
    const char *kind;    /* "yunet" (NULL: FERC_DEFAULT_DETECTOR), "ssd", "haar", "lbp", or "none": the whole
                            image is one face (already cropped, as FER2013's) */
    const char *model;   /* the detector's file (SSD or YuNet weights, or cascade XML); NULL:
                            the kind's default file, found by ferc_find_weights */
    float threshold;     /* ssd, yunet: minimum score; 0: the detector's default */
    int min_size;        /* smallest face side in pixels; 0: the detector's default */
    int threads;         /* engine threads; 0: as ferc_context_options */
    int input_size;      /* ssd: network input side; 0: ferc_ssd_auto_sizes by image size;
                            yunet: long side of the input; 0: ferc_yunet_input_size's rule */
    double scale_factor; /* haar/lbp: detectMultiScale scaleFactor; 0: 1.1 */
    int min_neighbors;   /* haar/lbp: detectMultiScale minNeighbors; 0: 3 */
    float nms;           /* yunet: NMS IoU; 0: FERC_YUNET_DEFAULT_NMS */
    int tiles;           /* yunet: also tiles x tiles tiles (ferc_yunet_detect_tiled); 0, 1: one pass */
    double tile_scale;   /* yunet: each tile at this times its size; 0: FERC_YUNET_DEFAULT_TILE_SCALE */
} ferc_detector_options;

/* The detector used when none is named: the best on docs/detection.md's measurements. */
#define FERC_DEFAULT_DETECTOR "yunet"

ferc_status ferc_detector_create(const ferc_detector_options *opt, ferc_detector **out,
                                 ferc_error *err);
/* A detector that calls fn(user, ...): for your own detector, or fixed boxes in tests.
 * framing says how its boxes are cropped for the classifier. */
ferc_status ferc_detector_from_function(ferc_detect_fn fn, void *user, ferc_framing framing,
                                        ferc_detector **out, ferc_error *err);
/* A second detector of the same kind and options for another thread: loaded files (SSD
 * weights, cascades) are shared, not read again; d must outlive the clone. */
ferc_status ferc_detector_clone(const ferc_detector *d, ferc_detector **out, ferc_error *err);
ferc_framing ferc_detector_framing(const ferc_detector *d);
/* The eyes of a box d found in img, from the detector's landmarks (YuNet: ferc_yunet_eyes,
 * refined), given img in gray. eyes->found is 0 for kinds without landmarks (and for a NULL
 * or function detector). */
ferc_status ferc_detector_eyes(ferc_detector *d, const ferc_image *gray, const ferc_box *box,
                               ferc_eyes *eyes, ferc_error *err);
ferc_status ferc_detect(ferc_detector *d, const ferc_image *img, ferc_box *boxes, int max_boxes,
                        int *count, ferc_error *err);
void ferc_detector_free(ferc_detector *d);

/* ---- crop ---- */
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

/* Composes borrowed stages. detector NULL: as kind "none", every image is one
 * already-cropped face (as in FER2013), its box the whole image with score 1. */
ferc_status ferc_analyzer_create(ferc_classifier *classifier, ferc_detector *detector,
                                 ferc_analyzer **out, ferc_error *err);

/* What ferc_analyzer_open builds; zero (or a NULL options pointer) is the `ferc` command's
 * default: the CNN classifier and the res10 SSD from the installed weights. */
typedef struct {
    const char *model;          /* classifier weight file; NULL: the file of `classifier` */
    const char *classifier;     /* "cnn" (NULL), "small" or "lbp-svm": a shipped classifier,
                                   found by ferc_find_weights */
    const char *detector;       /* "yunet" (NULL), "ssd", "haar", "lbp", or "none" (no
                                   detection: the whole image is one face) */
    const char *detector_model; /* the detector's file; NULL: the kind's default */
    float threshold;            /* ssd, yunet: minimum score; 0: default */
    int min_size;               /* smallest face side in pixels; 0: the detector's default */
    int detector_size;          /* ssd: network input side; yunet: long side of the input;
                                   0: by image size */
    double scale_factor;        /* haar/lbp: detectMultiScale scaleFactor; 0: 1.1 */
    int min_neighbors;          /* haar/lbp: detectMultiScale minNeighbors; 0: 3 */
    float nms;                  /* yunet: NMS IoU; 0: FERC_YUNET_DEFAULT_NMS */
    int tta;                    /* as ferc_classifier_options */
    int threads;                /* engine threads; 0: as ferc_context_options */
    int align;                  /* 1: turn faces upright from their eyes: the detector's
                                   landmarks (YuNet), else OpenCV's haarcascade_eye.xml */
    const char *eye_cascade;    /* that eye cascade instead (implies align) */
    int int8;                   /* 1: the int8 twins, NAME.q8.ferc for NAME.ferc
                                   (tools/model/quantize.py), of the classifier and of
                                   YuNet's file (the SSD and the cascades stay as they are) */
    int tiles;                  /* yunet: as ferc_detector_options (small faces; 0: one pass) */
    double tile_scale;          /* yunet: as ferc_detector_options */
} ferc_analyzer_options;

/* The one-call setup: loads the files and owns everything it made. */
ferc_status ferc_analyzer_open(const ferc_analyzer_options *opt, ferc_analyzer **out,
                               ferc_error *err);
/* A second analyzer like a for another thread: the loaded files (classifier model,
 * detector weights, eye cascade) are shared, contexts and buffers are its own. a must
 * outlive the clone. */
ferc_status ferc_analyzer_clone(const ferc_analyzer *a, ferc_analyzer **out, ferc_error *err);
void ferc_analyzer_free(ferc_analyzer *a);
/* The analyzer's classifier (borrowed), to classify crops made elsewhere. */
ferc_classifier *ferc_analyzer_classifier(const ferc_analyzer *a);

/* Finds a shipped file (e.g. "emotion_cnn.ferc", "face_res10.ferc") in, in order:
 * $FERC_WEIGHTS; weights/ and ../share/ferc/weights beside the running program; the same
 * beside libferc.so; the install prefix's share/ferc/weights. An absolute name is only
 * checked. Writes the path to path (size bytes); FERC_ERR_IO naming the places if absent. */
ferc_status ferc_find_weights(const char *file, char *path, size_t size, ferc_error *err);
/* The file behind a name: stage "classifier" ("cnn", "small", "lbp-svm"), "detector"
 * ("ssd", "haar", "lbp") or "eyes" ("haar"); NULL for an unknown name. */
const char *ferc_default_file(const char *stage, const char *name);
/* The i-th place ferc_find_weights looks in (0, 1, ...); -1 past the last. */
int ferc_weights_dir(int i, char *dir, size_t size);

/* Roll correction before classifying: each face's eyes are taken from the detector's
 * landmarks (ferc_detector_eyes: YuNet's, refined), else looked for in the box with
 * eye_cascade (ferc_find_eyes), and the face is cropped turned upright (ferc_align_crop of
 * the square the classifier's crop would take); a face whose eyes are not found is cropped
 * as without alignment. The cascade is borrowed; NULL turns alignment off. */
ferc_status ferc_analyzer_set_align(ferc_analyzer *a, const ferc_cascade *eye_cascade, ferc_error *err);

/* Faces in img (gray or RGB), best detector score first: writes at most max_faces and
 * their number to *count. The same as ferc_analyzer_detect then ferc_analyze_boxes. */
ferc_status ferc_analyze(ferc_analyzer *a, const ferc_image *img, ferc_face *faces,
                         int max_faces, int *count, ferc_error *err);
/* The first half: the analyzer's detector on img (the whole image with detector "none"). */
ferc_status ferc_analyzer_detect(ferc_analyzer *a, const ferc_image *img, ferc_box *boxes,
                                 int max_boxes, int *count, ferc_error *err);
/* The second half: n boxes found in img by this analyzer's detector kind (by
 * ferc_analyzer_detect here or in a clone), each cropped with the kind's framing, aligned
 * if asked, classified in one batch. faces[i] for each box that has pixels in the image
 * (a box wholly outside is skipped); *count says how many, at most n. */
ferc_status ferc_analyze_boxes(ferc_analyzer *a, const ferc_image *img, const ferc_box *boxes,
                               int n, ferc_face *faces, int *count, ferc_error *err);
/* The classifier's input that ferc_analyze_boxes makes for one box (framed as the detector kind
 * says, aligned if asked): width x height gray bytes into out, the size
 * ferc_classifier_input_size(ferc_analyzer_classifier(a), ...) gives. FERC_ERR_ARG when the box
 * has no pixels in the image. For tools that classify variants of that crop (ferc explain). */
ferc_status ferc_analyzer_crop(ferc_analyzer *a, const ferc_image *img, const ferc_box *box, uint8_t *out,
                               ferc_error *err);

#ifdef __cplusplus
}
#endif
#endif
