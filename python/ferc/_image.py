"""Any image the API takes (a path, encoded bytes, a BGR or gray uint8 array) as a C
ferc_image for the duration of a call."""
import ctypes
import os

import numpy as np

from . import _lib


class CImage:
    """with CImage(image) as img: img is a _lib.image_t (RGB or gray) valid inside the block."""

    def __init__(self, image):
        self.img = _lib.image_t()
        self.owned = False  # decoded by libferc: freed with ferc_image_free
        self.array = None   # the contiguous array img.data points into
        if isinstance(image, (str, os.PathLike)):
            err = _lib.error_t()
            _lib.check(_lib.lib.ferc_image_load(os.fsencode(image), 3, ctypes.byref(self.img), ctypes.byref(err)), err)
            self.owned = True
        elif isinstance(image, (bytes, bytearray, memoryview)):
            data = bytes(image)
            err = _lib.error_t()
            _lib.check(_lib.lib.ferc_image_load_memory(data, len(data), 3, ctypes.byref(self.img), ctypes.byref(err)), err)
            self.owned = True
        elif isinstance(image, np.ndarray):
            self._from_array(image)
        else:
            _lib.fail("image must be a path, encoded bytes or a uint8 NumPy array, not %s" % type(image).__name__)

    def _from_array(self, a):
        if a.dtype != np.uint8:
            _lib.fail("image array has dtype %s: expected uint8 (H x W x 3 BGR or H x W gray)" % a.dtype)
        if a.ndim == 3 and a.shape[2] == 1:
            a = a[:, :, 0]
        if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
            _lib.fail("image array has shape %s: expected H x W x 3 (BGR) or H x W (gray)" % (a.shape,))
        h, w = a.shape[:2]
        if h < 1 or w < 1:
            _lib.fail("image array has shape %s: empty" % (a.shape,))
        if h * w > _lib.IMAGE_MAX_PIXELS:
            _lib.fail("image array is %dx%d, %d pixels: more than the limit of %d" % (w, h, h * w, _lib.IMAGE_MAX_PIXELS), 4)
        # OpenCV's BGR to the library's RGB (a copy); gray is used in place when contiguous.
        a = np.ascontiguousarray(a[:, :, ::-1] if a.ndim == 3 else a)
        self.array = a
        self.img.width, self.img.height = w, h
        self.img.channels = 1 if a.ndim == 2 else 3
        self.img.data = a.ctypes.data_as(_lib.c_uint8_p)

    def __enter__(self):
        return self.img

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.owned:
            _lib.lib.ferc_image_free(ctypes.byref(self.img))
            self.owned = False


def imread(image, gray=False):
    """Decodes a file (path) or encoded bytes with libferc's decoder, the one the command
    uses: an H x W x 3 BGR uint8 array (OpenCV's order), or H x W with gray=True."""
    if not isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview)):
        _lib.fail("imread takes a path or encoded bytes, not %s" % type(image).__name__)
    with CImage(image) as img:
        rgb = np.ctypeslib.as_array(img.data, (img.height, img.width, 3))
        if gray:  # cv2.cvtColor's arithmetic, in C
            g, err = _lib.image_t(), _lib.error_t()
            _lib.check(_lib.lib.ferc_image_to_gray(ctypes.byref(img), ctypes.byref(g), ctypes.byref(err)), err)
            out = np.ctypeslib.as_array(g.data, (g.height, g.width)).copy()
            _lib.lib.ferc_image_free(ctypes.byref(g))
            return out
        return rgb[:, :, ::-1].copy()
