"""Faces and emotions: Analyzer (image in, faces out) and Classifier (cropped faces in)."""
import ctypes
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from . import _lib
from ._image import CImage
from ._pool import Pool

MAX_FACES = 256  # as the command (CLI_MAX_FACES)


@dataclass
class Face:
    """One face: `box` (x, y, w, h) in pixels of the input image, the detector's `score`,
    the most probable `emotion`, all seven `probabilities` (sum 1) and, for detectors that
    give them, five (x, y) `landmarks`."""
    box: Tuple[float, float, float, float]
    score: float
    emotion: str
    probabilities: Dict[str, float] = field(default_factory=dict)
    landmarks: Optional[List[Tuple[float, float]]] = None

    def to_dict(self):
        """The command's JSON object for this face."""
        d = {"box": list(self.box), "score": self.score, "emotion": self.emotion,
             "probabilities": dict(self.probabilities)}
        if self.landmarks is not None:
            d["landmarks"] = [list(p) for p in self.landmarks]
        return d


def face_from_c(f):
    b = f.box
    marks = [(b.landmarks[k][0], b.landmarks[k][1]) for k in range(b.n_landmarks)] if b.n_landmarks > 0 else None
    return Face(box=(b.x, b.y, b.w, b.h), score=b.score, emotion=_lib.EMOTIONS[f.emotion],
                probabilities={name: f.probabilities[k] for k, name in enumerate(_lib.EMOTIONS)}, landmarks=marks)


def _load_model(source):
    """A ferc_model handle from a path or the file's bytes."""
    handle, err = ctypes.c_void_p(), _lib.error_t()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _lib.check(_lib.lib.ferc_model_load_memory(data, len(data), ctypes.byref(handle), ctypes.byref(err)), err)
    elif isinstance(source, (str, os.PathLike)):
        _lib.check(_lib.lib.ferc_model_load(os.fsencode(source), ctypes.byref(handle), ctypes.byref(err)), err)
    else:
        _lib.fail("model must be a path or the file's bytes, not %s" % type(source).__name__)
    return handle


def _classifier_source(classifier, model):
    return model if model is not None else _lib.default_file("classifier", classifier)


def _threads(threads):
    if threads is None:
        return 0
    if not isinstance(threads, int) or threads < 1 or threads > 1024:
        _lib.fail("threads %r: expected a whole number from 1 to 1024, or None" % (threads,))
    return threads


def _tta(tta):
    """False/"none", True/"flip" (the face and its mirror), "centre", "crops" (as the command's --tta):
    the FERC_TTA_* value, names as the library reads them (ferc_tta_from_name)."""
    if isinstance(tta, bool):
        return int(tta)  # FERC_TTA_NONE, FERC_TTA_FLIP
    mode = _lib.lib.ferc_tta_from_name(tta.encode()) if isinstance(tta, str) else -1
    if mode >= 0:
        return mode
    _lib.fail("tta %r: expected False, True, 'none', 'flip', 'centre' or 'crops'" % (tta,))


class _Owner:
    """Frees C handles once, on close() or garbage collection."""

    def close(self):
        for pool in getattr(self, "_pools", ()):
            pool.close()
        model = getattr(self, "_model", None)
        if model is not None and _lib.lib is not None:
            self._model = None
            _lib.lib.ferc_model_free(model)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Classifier(_Owner):
    """Emotions of already-cropped gray faces (FER2013 style).

    `classifier` names a shipped model ("cnn", "small", "lbp-svm"), `model` a weight file
    (path or bytes) instead; `tta` averages each face with its mirror image (True or "flip"),
    with that and its centre crop and the crop's mirror ("centre"), or with five crops and their
    mirrors ("crops"), as the command's --tta."""

    def __init__(self, classifier="cnn", model=None, tta=False, threads=None):
        self._pools = []
        self._model = _load_model(_classifier_source(classifier, model))
        self._opts = _lib.classifier_options_t(_tta(tta), 0, _threads(threads))
        self._pool = Pool(self._make, _lib.lib.ferc_classifier_free)
        self._pools = [self._pool]
        c = self._pool.get()  # checks the model is a classifier, now
        w, h = ctypes.c_int(), ctypes.c_int()
        _lib.lib.ferc_classifier_input_size(c, ctypes.byref(w), ctypes.byref(h))
        self.input_size = (w.value, h.value)  # (width, height)
        self._pool.put(c)

    def _make(self):
        handle, err = ctypes.c_void_p(), _lib.error_t()
        _lib.check(_lib.lib.ferc_classifier_create(self._model, ctypes.byref(self._opts), ctypes.byref(handle),
                                                   ctypes.byref(err)), err)
        return handle

    def classify(self, faces):
        """faces: N x H x W (or one H x W) uint8 gray faces of the model's input size.
        Returns N x 7 (or 7) float32 probabilities in ferc.EMOTIONS order."""
        if not isinstance(faces, np.ndarray):
            _lib.fail("faces must be a uint8 NumPy array (N x H x W), not %s" % type(faces).__name__)
        if faces.dtype != np.uint8:
            _lib.fail("faces have dtype %s: expected uint8" % faces.dtype)
        one = faces.ndim == 2
        f = faces[None] if one else faces
        w, h = self.input_size
        if f.ndim != 3 or f.shape[1:] != (h, w):
            _lib.fail("faces have shape %s: expected N x %d x %d (or %d x %d)" % (faces.shape, h, w, h, w))
        f = np.ascontiguousarray(f)
        probs = np.empty((f.shape[0], _lib.NUM_EMOTIONS), np.float32)
        c, err = self._pool.get(), _lib.error_t()
        try:
            _lib.check(_lib.lib.ferc_classify(c, f.ctypes.data_as(_lib.c_uint8_p), f.shape[0],
                                              probs.ctypes.data_as(_lib.c_float_p), ctypes.byref(err)), err)
        finally:
            self._pool.put(c)
        return probs[0] if one else probs


def _path(what, p):
    if p is None:
        return None
    if not isinstance(p, (str, os.PathLike)):
        _lib.fail("%s must be a file path, not %s" % (what, type(p).__name__))
    return os.fsencode(p)


class Analyzer(_Owner):
    """Image in, faces with emotions out, with the `ferc` command's defaults.

    detector: None (the library's default, the command's: "yunet"), "yunet", "ssd", "haar", "lbp",
    or "none" (each image is one already-cropped face). classifier: "cnn", "small", "lbp-svm";
    model: a classifier weight file instead. threads: engine threads per call (None: the
    library's default, FERC_THREADS or all cores). tta (False, True or "flip", "centre", "crops"), align,
    int8: as the command's --tta, --align, --int8. The keyword options mirror the command's:
    threshold, ssd_size (the detector's input size, --detector-size), nms, min_size,
    scale_factor, min_neighbors, detector_model, eye_cascade, tiles and tile_scale (--tiles GxK:
    YuNet also on tiles x tiles tiles, each at tile_scale times its size, for small faces).

    One Analyzer can be shared by threads: each call takes a per-thread engine from a pool
    (ferc_analyzer_clone, made on first need: the loaded files are shared)."""

    def __init__(self, detector=None, classifier="cnn", model=None, threads=None, tta=False, align=False,
                 int8=False, *, threshold=None, ssd_size=None, min_size=None, scale_factor=None,
                 min_neighbors=None, detector_model=None, eye_cascade=None, nms=None, tiles=None, tile_scale=None):
        self._pools = []
        if nms is not None and not (0 < nms < 1):
            _lib.fail("nms %r: expected a number between 0 and 1" % (nms,))
        if threshold is not None and not (0 < threshold < 1):
            _lib.fail("threshold %r: expected a number between 0 and 1" % (threshold,))
        if scale_factor is not None and not (1 < scale_factor < 10):
            _lib.fail("scale_factor %r: expected a number between 1 and 10 (exclusive)" % (scale_factor,))
        if tile_scale is not None and not (1 <= tile_scale <= 16):
            _lib.fail("tile_scale %r: expected a number from 1 to 16" % (tile_scale,))
        for name, v, lo, hi in (("ssd_size", ssd_size, 32, 4096), ("min_size", min_size, 1, 65536),
                                ("min_neighbors", min_neighbors, 1, 1000), ("tiles", tiles, 0, 8)):
            if v is not None and (not isinstance(v, int) or not lo <= v <= hi):
                _lib.fail("%s %r: expected a whole number from %d to %d" % (name, v, lo, hi))
        for name, v in (("detector", detector), ("classifier", classifier)):
            if v is not None and not isinstance(v, str):
                _lib.fail("%s must be a name, not %s" % (name, type(v).__name__))
        # the strings the options point to live as long as the Analyzer
        self._strings = [_path("model", model), classifier and classifier.encode(), detector and detector.encode(),
                         _path("detector_model", detector_model), _path("eye_cascade", eye_cascade)]
        m, c, d, dm, eyes = self._strings
        opts = _lib.analyzer_options_t(model=m, classifier=c, detector=d, detector_model=dm, threshold=threshold or 0.0,
                                       min_size=min_size or 0, detector_size=ssd_size or 0,
                                       scale_factor=scale_factor or 0.0, min_neighbors=min_neighbors or 0,
                                       nms=nms or 0.0, tta=_tta(tta), threads=_threads(threads),
                                       align=int(bool(align)), eye_cascade=eyes, int8=int(bool(int8)),
                                       tiles=tiles or 0, tile_scale=tile_scale or 0.0)
        base, err = ctypes.c_void_p(), _lib.error_t()
        _lib.check(_lib.lib.ferc_analyzer_open(ctypes.byref(opts), ctypes.byref(base), ctypes.byref(err)), err)
        self._pool = Pool(lambda: self._clone(base), _lib.lib.ferc_analyzer_free)
        self._pool.adopt(base)
        self._pools = [self._pool]

    @staticmethod
    def _clone(base):
        handle, err = ctypes.c_void_p(), _lib.error_t()
        _lib.check(_lib.lib.ferc_analyzer_clone(base, ctypes.byref(handle), ctypes.byref(err)), err)
        return handle

    def _analyze_c(self, img):
        """Faces of a C image (ferc.dask feeds video frames this way)."""
        faces, n, err = (_lib.face_t * MAX_FACES)(), ctypes.c_int(), _lib.error_t()
        a = self._pool.get()
        try:
            _lib.check(_lib.lib.ferc_analyze(a, ctypes.byref(img), faces, MAX_FACES, ctypes.byref(n),
                                             ctypes.byref(err)), err)
        finally:
            self._pool.put(a)
        return [face_from_c(faces[i]) for i in range(min(n.value, MAX_FACES))]

    def analyze(self, image):
        """Faces in an image, best detector score first. image: H x W x 3 BGR or H x W gray
        uint8 array (OpenCV's convention), a file path, or encoded bytes (JPEG, PNG, BMP,
        PNM, TGA, GIF). Raises ferc.Error when the image cannot be read."""
        with CImage(image) as img:
            return self._analyze_c(img)

    def analyze_many(self, images):
        """analyze() of each image, in order (one after the other: for parallelism share
        this Analyzer between threads, or use ferc.dask)."""
        return [self.analyze(im) for im in images]
