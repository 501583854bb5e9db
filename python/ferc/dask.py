"""ferc on a dask.distributed cluster (Debian python3-distributed): photos and videos
mapped over the workers, the models loaded once per worker process, results in input order.

    from dask.distributed import Client
    import ferc.dask
    client = Client("tcp://scheduler:8786")          # or Client(LocalCluster(...))
    faces = ferc.dask.analyze_files(paths, client)    # [[ferc.Face, ...], ...]
    frames = ferc.dask.analyze_video("talk.y4m", client, chunk_frames=300)

Every worker needs the ferc package and libferc.so (docs/python.md), and the input files at
the same paths (a shared file system)."""
import ctypes
import ctypes.util
import os
import threading

import distributed  # noqa: F401  (an ImportError here: ferc.dask needs python3-distributed)
import numpy as np

from . import _lib
from ._errors import Error
from .analyzer import Analyzer

_analyzers = {}  # per worker process: analyzer options -> Analyzer
_analyzers_lock = threading.Lock()


def _analyzer(options):
    with _analyzers_lock:
        a = _analyzers.get(options)
        if a is None:
            a = _analyzers[options] = Analyzer(**dict(options))
        return a


def _analyze_paths(paths, options):
    a, out = _analyzer(options), []
    for p in paths:
        try:
            out.append(a.analyze(p))
        except Error as e:
            out.append(Error(e.message if p in e.message else "%s: %s" % (p, e.message), e.status, e.code))
    return out


def _options(analyzer_options):
    Analyzer(**analyzer_options).close()  # bad options fail here, on the client, not on every worker
    return tuple(sorted(analyzer_options.items()))


def analyze_files(paths, client, batch=4, errors="raise", **analyzer_options):
    """ferc.Analyzer(**analyzer_options).analyze(path) for every path, on the cluster's
    workers, `batch` paths per task. Returns the lists of faces in input order. A file
    that cannot be read raises its ferc.Error (errors="raise") or leaves the ferc.Error in
    its place (errors="return")."""
    if errors not in ("raise", "return"):
        _lib.fail("errors=%r: expected 'raise' or 'return'" % (errors,))
    if not isinstance(batch, int) or batch < 1:
        _lib.fail("batch %r: expected a whole number >= 1" % (batch,))
    paths = [os.fspath(p) for p in paths]
    options = _options(analyzer_options)
    chunks = [paths[i:i + batch] for i in range(0, len(paths), batch)]
    futures = client.map(_analyze_paths, chunks, options=options, pure=False)
    results = [r for chunk in client.gather(futures) for r in chunk]
    if errors == "raise":
        for r in results:
            if isinstance(r, Error):
                raise r
    return results


# ---- video ------------------------------------------------------------------------------

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.fopen.restype, _libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
_libc.fclose.argtypes = [ctypes.c_void_p]
_libc.fseek.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_int]
_libc.ftell.restype, _libc.ftell.argtypes = ctypes.c_long, [ctypes.c_void_p]


class _Y4M:
    """The C reader (the command's) over a file, optionally from a frame's byte offset."""

    def __init__(self, path, offset=None):
        self.f = _libc.fopen(os.fsencode(path), b"rb")
        if not self.f:
            e = ctypes.get_errno()
            _lib.fail("%s: %s" % (path, os.strerror(e)), 1)
        self.y, err = _lib.y4m_t(), _lib.error_t()
        try:
            _lib.check(_lib.lib.ferc_y4m_open(self.f, ctypes.byref(self.y), ctypes.byref(err)), err)
        except Error as e:
            self.close()
            raise Error("%s: %s" % (path, e.message), e.status, e.code)
        self.header_end = _libc.ftell(self.f)
        if offset is not None:
            _libc.fseek(self.f, offset, 0)
        self.raw = np.empty(self.y.frame_bytes, np.uint8)
        ch = _lib.lib.ferc_y4m_channels(ctypes.byref(self.y))
        self.pixels = np.empty((self.y.height, self.y.width, ch), np.uint8)
        self.img = _lib.image_t(self.y.width, self.y.height, ch, self.pixels.ctypes.data_as(_lib.c_uint8_p))

    def read(self):
        """The next frame as self.img; False at the end of the stream."""
        eof, err = ctypes.c_int(), _lib.error_t()
        _lib.check(_lib.lib.ferc_y4m_read(ctypes.byref(self.y), self.raw.ctypes.data_as(_lib.c_uint8_p),
                                          ctypes.byref(eof), ctypes.byref(err)), err)
        if eof.value:
            return False
        _lib.lib.ferc_y4m_to_image(ctypes.byref(self.y), self.raw.ctypes.data_as(_lib.c_uint8_p), ctypes.byref(self.img))
        return True

    def close(self):
        if self.f:
            _libc.fclose(self.f)
            self.f = None


def _frame_offsets(path):
    """Byte offset of every FRAME line, and the stream's frame rate (0 when not given)."""
    r = _Y4M(path)
    try:
        start, size, fps = r.header_end, r.y.frame_bytes, (r.y.fps_num / r.y.fps_den if r.y.fps_den > 0 else 0.0)
    finally:
        r.close()
    offsets = []
    with open(path, "rb") as f:
        f.seek(start)
        while True:
            pos = f.tell()
            line = f.readline(256)
            if not line:
                break
            offsets.append(pos)  # a bad or short frame is left for the reader to report
            if not line.startswith(b"FRAME") or not line.endswith(b"\n"):
                break
            f.seek(size, 1)
    return offsets, fps


def _analyze_frames(path, first, offset, count, options):
    a, r, out = _analyzer(options), _Y4M(path, offset), []
    try:
        for k in range(count):
            try:
                if not r.read():
                    break
            except Error as e:
                return out, Error("%s: frame %d: %s" % (path, first + k + 1, e.message), e.status, e.code)
            out.append(a._analyze_c(r.img))
    finally:
        r.close()
    return out, None


def _face_t(face):
    f = _lib.face_t()
    f.box = _lib.box_t(*face.box, face.score)
    for k, (x, y) in enumerate(face.landmarks or ()):
        f.box.landmarks[k][0], f.box.landmarks[k][1] = x, y
    f.box.n_landmarks = len(face.landmarks or ())
    f.emotion = _lib.EMOTIONS.index(face.emotion)
    for k, name in enumerate(_lib.EMOTIONS):
        f.probabilities[k] = face.probabilities[name]
    return f


def track(frames, fps=0.0, window=5, iou=0.3, max_missed=10):
    """The command's tracker (ferc video) over per-frame face lists: one dict per frame as
    `ferc video --format json` prints it: frame, time (None without a frame rate), faces
    (track, box, score, emotion and probabilities smoothed over `window` frames, raw)."""
    opts, handle, err = _lib.tracker_options_t(iou, window, max_missed), ctypes.c_void_p(), _lib.error_t()
    _lib.check(_lib.lib.ferc_tracker_create(ctypes.byref(opts), ctypes.byref(handle), ctypes.byref(err)), err)
    out = []
    try:
        for n, faces in enumerate(frames):
            arr = (_lib.face_t * max(len(faces), 1))(*[_face_t(f) for f in faces])
            _lib.check(_lib.lib.ferc_tracker_update(handle, n, arr, len(faces), ctypes.byref(err)), err)
            tracks = ctypes.POINTER(_lib.track_t)()
            nt = _lib.lib.ferc_tracker_tracks(handle, ctypes.byref(tracks))
            seen = []
            for i in range(nt):
                t = tracks[i]
                if not t.seen:
                    continue
                b = t.box
                seen.append({"track": t.id, "box": [b.x, b.y, b.w, b.h], "score": b.score,
                             "emotion": _lib.EMOTIONS[t.emotion],
                             "probabilities": dict(zip(_lib.EMOTIONS, t.smoothed)),
                             "raw": dict(zip(_lib.EMOTIONS, t.probabilities))})
            out.append({"frame": n, "time": n / fps if fps > 0 else None, "faces": seen})
    finally:
        _lib.lib.ferc_tracker_free(handle)
    return out


def analyze_video(path, client, chunk_frames=300, window=5, iou=0.3, max_missed=10, **analyzer_options):
    """A YUV4MPEG2 file (ffmpeg -f yuv4mpegpipe) analysed as `ferc video --format json`
    would: the frames are split into chunks of chunk_frames, detected and classified on the
    workers, and tracked on the client afterwards, so track ids and smoothing run across the
    chunk borders and equal one `ferc video` run. The detector's input size defaults to the
    command's video sizes (YuNet: long side 640; SSD: one 300x300 pass).
    Returns one dict per frame (see track()); a corrupt frame raises ferc.Error naming it."""
    if not isinstance(chunk_frames, int) or chunk_frames < 1:
        _lib.fail("chunk_frames %r: expected a whole number >= 1" % (chunk_frames,))
    path = os.fspath(path)
    detector = analyzer_options.get("detector") or "yunet"
    if detector in ("ssd", "yunet"):  # the command's video sizes: SSD 300x300, YuNet long side 640
        analyzer_options.setdefault("ssd_size", 300 if detector == "ssd" else 640)
    options = _options(analyzer_options)
    offsets, fps = _frame_offsets(path)
    starts = range(0, len(offsets), chunk_frames)
    futures = [client.submit(_analyze_frames, path, s, offsets[s], min(chunk_frames, len(offsets) - s), options,
                             pure=False) for s in starts]
    frames = []
    for faces, error in client.gather(futures):
        frames += faces
        if error is not None:
            raise error
    return track(frames, fps, window, iou, max_missed)
