"""ferc: facial expression recognition in pure C, from Python.

    import ferc, cv2
    faces = ferc.Analyzer().analyze(cv2.imread("photo.jpg"))
    for f in faces:
        print(f.box, f.emotion, f.probabilities["happy"])

A thin ctypes layer over libferc.so (docs/python.md): ferc.Analyzer, ferc.Classifier,
ferc.Model, ferc.Face, ferc.Error; ferc.dask spreads work over a dask.distributed cluster.
"""
from . import _lib
from ._errors import Error
from ._image import imread
from .analyzer import Analyzer, Classifier, Face
from .model import Model

EMOTIONS = _lib.EMOTIONS        # ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
LIBRARY = _lib.LIBRARY_PATH     # the libferc.so in use
__version__ = _lib.version()


def isa():
    """The kernel path in use: "scalar", "avx2" or "avx512" (FERC_ISA overrides)."""
    return _lib.lib.ferc_isa_name().decode()


__all__ = ["Analyzer", "Classifier", "Model", "Face", "Error", "imread", "EMOTIONS", "LIBRARY", "isa", "__version__"]
