"""The C library: finding libferc.so and the weights, and every ctypes declaration.

Everything that depends on include/ferc.h's layout lives in this one module, so a change of
the C API is a change here. The library is opened with ctypes.CDLL, which releases the GIL
for the duration of every call into it.
"""
import ctypes
import ctypes.util
import os

from ._errors import Error

c_float_p = ctypes.POINTER(ctypes.c_float)
c_uint8_p = ctypes.POINTER(ctypes.c_uint8)
c_int64_4 = ctypes.c_int64 * 4

NUM_EMOTIONS = 7
IMAGE_MAX_PIXELS = 1 << 26  # FERC_IMAGE_MAX_PIXELS
CTX_KEEP_ALL = 1            # FERC_CTX_KEEP_ALL


class error_t(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 512)]


class tensor_t(ctypes.Structure):
    _fields_ = [("ndim", ctypes.c_int), ("dims", c_int64_4), ("data", c_float_p)]


class context_options_t(ctypes.Structure):
    _fields_ = [("max_batch", ctypes.c_int), ("height", ctypes.c_int), ("width", ctypes.c_int),
                ("threads", ctypes.c_int), ("flags", ctypes.c_uint)]


class image_t(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("channels", ctypes.c_int),
                ("data", c_uint8_p)]


MAX_LANDMARKS = 5  # FERC_MAX_LANDMARKS


class box_t(ctypes.Structure):
    _fields_ = [("x", ctypes.c_float), ("y", ctypes.c_float), ("w", ctypes.c_float),
                ("h", ctypes.c_float), ("score", ctypes.c_float), ("n_landmarks", ctypes.c_int),
                ("landmarks", (ctypes.c_float * 2) * MAX_LANDMARKS)]


class face_t(ctypes.Structure):
    _fields_ = [("box", box_t), ("emotion", ctypes.c_int),
                ("probabilities", ctypes.c_float * NUM_EMOTIONS)]


class classifier_options_t(ctypes.Structure):
    _fields_ = [("tta", ctypes.c_int), ("max_batch", ctypes.c_int), ("threads", ctypes.c_int)]


class analyzer_options_t(ctypes.Structure):
    _fields_ = [("model", ctypes.c_char_p), ("classifier", ctypes.c_char_p), ("detector", ctypes.c_char_p),
                ("detector_model", ctypes.c_char_p), ("threshold", ctypes.c_float), ("min_size", ctypes.c_int),
                ("detector_size", ctypes.c_int), ("scale_factor", ctypes.c_double), ("min_neighbors", ctypes.c_int),
                ("nms", ctypes.c_float), ("tta", ctypes.c_int), ("threads", ctypes.c_int), ("align", ctypes.c_int),
                ("eye_cascade", ctypes.c_char_p), ("int8", ctypes.c_int), ("tiles", ctypes.c_int),
                ("tile_scale", ctypes.c_double)]


# Not in ferc.h: the Y4M reader and the face tracker `ferc video` uses (detect/image/y4m.h,
# detect/tracker.h), exported by libferc.so. ferc.dask uses them so that a video analysed on a
# cluster reads frames and numbers tracks exactly as the command does.
class y4m_t(ctypes.Structure):
    _fields_ = [("f", ctypes.c_void_p), ("width", ctypes.c_int), ("height", ctypes.c_int),
                ("chroma", ctypes.c_int), ("full_range", ctypes.c_int), ("fps_num", ctypes.c_int),
                ("fps_den", ctypes.c_int), ("cw", ctypes.c_int), ("ch", ctypes.c_int),
                ("frame_bytes", ctypes.c_size_t), ("frames", ctypes.c_long)]


class track_t(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int), ("box", box_t), ("probabilities", ctypes.c_float * NUM_EMOTIONS),
                ("smoothed", ctypes.c_float * NUM_EMOTIONS), ("emotion", ctypes.c_int),
                ("seen", ctypes.c_int), ("missed", ctypes.c_int), ("first_frame", ctypes.c_long),
                ("last_frame", ctypes.c_long)]


class tracker_options_t(ctypes.Structure):
    _fields_ = [("iou", ctypes.c_float), ("window", ctypes.c_int), ("max_missed", ctypes.c_int)]


P = ctypes.POINTER
vp = ctypes.c_void_p
i32 = ctypes.c_int
st = ctypes.c_int  # ferc_status
err_p = P(error_t)
cstr = ctypes.c_char_p

# name: (restype, argtypes). Handles (ferc_model *, ...) are void pointers.
SIGNATURES = {
    "ferc_version": (cstr, []),
    "ferc_status_name": (cstr, [i32]),
    "ferc_isa_name": (cstr, []),
    "ferc_emotion_name": (cstr, [i32]),
    "ferc_tta_from_name": (i32, [cstr]),
    # models and contexts
    "ferc_model_load": (st, [cstr, P(vp), err_p]),
    "ferc_model_load_memory": (st, [vp, ctypes.c_size_t, P(vp), err_p]),
    "ferc_model_free": (None, [vp]),
    "ferc_model_meta": (cstr, [vp, cstr]),
    "ferc_model_meta_count": (i32, [vp]),
    "ferc_model_meta_key": (cstr, [vp, i32]),
    "ferc_model_num_inputs": (i32, [vp]),
    "ferc_model_num_outputs": (i32, [vp]),
    "ferc_model_input_name": (cstr, [vp, i32]),
    "ferc_model_output_name": (cstr, [vp, i32]),
    "ferc_model_output_shape": (None, [vp, i32, P(i32), c_int64_4]),
    "ferc_model_input_shape": (None, [vp, i32, P(i32), c_int64_4]),
    "ferc_model_num_nodes": (i32, [vp]),
    "ferc_model_param_count": (ctypes.c_int64, [vp]),
    "ferc_model_tensor": (i32, [vp, cstr, P(tensor_t)]),
    "ferc_model_num_tensors": (i32, [vp]),
    "ferc_model_tensor_name": (cstr, [vp, i32]),
    "ferc_context_create": (st, [vp, P(context_options_t), P(vp), err_p]),
    "ferc_context_free": (None, [vp]),
    "ferc_context_threads": (i32, [vp]),
    "ferc_run": (st, [vp, P(vp), i32, err_p]),  # inputs: const float *const *, passed as addresses
    "ferc_output": (i32, [vp, i32, P(tensor_t)]),
    "ferc_context_value": (i32, [vp, cstr, P(tensor_t)]),
    # images
    "ferc_image_load": (st, [cstr, i32, P(image_t), err_p]),
    "ferc_image_load_memory": (st, [vp, ctypes.c_size_t, i32, P(image_t), err_p]),
    "ferc_image_free": (None, [P(image_t)]),
    "ferc_image_to_gray": (st, [P(image_t), P(image_t), err_p]),
    # default files
    "ferc_find_weights": (st, [cstr, ctypes.c_char_p, ctypes.c_size_t, err_p]),
    "ferc_default_file": (cstr, [cstr, cstr]),
    "ferc_weights_dir": (i32, [i32, ctypes.c_char_p, ctypes.c_size_t]),
    # classifier, detector, analyzer
    "ferc_classifier_create": (st, [vp, P(classifier_options_t), P(vp), err_p]),
    "ferc_classifier_free": (None, [vp]),
    "ferc_classifier_input_size": (None, [vp, P(i32), P(i32)]),
    "ferc_classify": (st, [vp, c_uint8_p, i32, c_float_p, err_p]),
    "ferc_analyzer_open": (st, [P(analyzer_options_t), P(vp), err_p]),
    "ferc_analyzer_clone": (st, [vp, P(vp), err_p]),
    "ferc_analyzer_free": (None, [vp]),
    "ferc_analyze": (st, [vp, P(image_t), P(face_t), i32, P(i32), err_p]),
    # video (internal, see above)
    "ferc_y4m_open": (st, [vp, P(y4m_t), err_p]),
    "ferc_y4m_read": (st, [P(y4m_t), c_uint8_p, P(i32), err_p]),
    "ferc_y4m_to_image": (None, [P(y4m_t), c_uint8_p, P(image_t)]),
    "ferc_y4m_channels": (i32, [P(y4m_t)]),
    "ferc_tracker_create": (st, [P(tracker_options_t), P(vp), err_p]),
    "ferc_tracker_free": (None, [vp]),
    "ferc_tracker_update": (st, [vp, ctypes.c_long, P(face_t), i32, err_p]),
    "ferc_tracker_tracks": (i32, [vp, P(P(track_t))]),
}
# Present only in newer libraries; looked up with has().
class node_info_t(ctypes.Structure):
    _fields_ = [("name", cstr), ("op", cstr), ("n_inputs", i32), ("n_outputs", i32), ("n_attrs", i32),
                ("params", ctypes.c_int64), ("dtype", cstr), ("macs", ctypes.c_int64),
                ("path", ctypes.c_char * 48)]


OPTIONAL = {
    # model introspection (ferc inspect)
    "ferc_model_node_info": (i32, [vp, i32, P(node_info_t)]),
    "ferc_model_node_input": (cstr, [vp, i32, i32]),
    "ferc_model_node_output": (cstr, [vp, i32, i32]),
    "ferc_model_node_attr": (i32, [vp, i32, i32, P(cstr), P(i32), P(P(ctypes.c_int32)), P(c_float_p)]),
    "ferc_model_value_shape": (i32, [vp, cstr, P(i32), c_int64_4]),
}

HERE = os.path.dirname(os.path.abspath(__file__))


def _tree():
    """The source tree this package was built from (recorded by setup.py), or the one it
    sits in when imported from python/ directly."""
    try:
        from ._where import TREE
        if TREE:
            return TREE
    except ImportError:
        pass
    return os.path.dirname(os.path.dirname(HERE))


def library_candidates():
    """Where libferc.so is looked for, in order."""
    env = os.environ.get("FERC_LIBRARY")
    if env:
        return [env]
    out = [os.path.join(_tree(), "libferc.so")]
    for prefix in ("/usr/local", "/usr"):
        out.append(os.path.join(prefix, "lib", "libferc.so"))
    found = ctypes.util.find_library("ferc")
    if found:
        out.append(found)
    return out


def _open():
    tried = []
    for path in library_candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path)
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        return lib, path
    raise ImportError("ferc: libferc.so not found (tried %s); build it with `make` in the ferc "
                      "tree, install it with `make install`, or set FERC_LIBRARY to its path"
                      % ", ".join(tried))


def declare(lib):
    """Sets restype and argtypes of every function on a ctypes library handle (also used
    on a ctypes.PyDLL handle by the GIL test)."""
    for name, (res, args) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    for name, (res, args) in OPTIONAL.items():
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype, fn.argtypes = res, args
    return lib


lib, LIBRARY_PATH = _open()
declare(lib)


def has(name):
    return getattr(lib, name, None) is not None


def status_name(code):
    s = lib.ferc_status_name(code)
    return s.decode() if s else "FERC_ERR_%d" % code


def check(status, err):
    """Raises ferc.Error for a non-zero status, with the C message."""
    if status:
        raise Error(err.message.decode("utf-8", "replace"), status_name(status), status)


def fail(message, status=5):
    """A ferc.Error found on the Python side (default status FERC_ERR_ARG)."""
    raise Error(message, status_name(status), status)


def version():
    return lib.ferc_version().decode()


EMOTIONS = tuple(lib.ferc_emotion_name(i).decode() for i in range(NUM_EMOTIONS))


def weight_dirs():
    """Where the library looks for default weights, in order (ferc_find_weights)."""
    out, buf = [], ctypes.create_string_buffer(4096)
    while lib.ferc_weights_dir(len(out), buf, len(buf)) == 0:
        out.append(buf.value.decode())
    return out


def default_file(stage, name):
    """The path of a shipped file: stage "classifier" ("cnn", "small", "lbp-svm"),
    "detector" ("ssd", "haar", "lbp") or "eyes" ("haar"), found as the command finds it."""
    file = lib.ferc_default_file(stage.encode(), str(name).encode())
    if not file:
        fail("%s %r: not a shipped %s" % (stage, name, stage))
    buf, err = ctypes.create_string_buffer(4096), error_t()
    check(lib.ferc_find_weights(file, buf, len(buf), ctypes.byref(err)), err)
    return buf.value.decode()
