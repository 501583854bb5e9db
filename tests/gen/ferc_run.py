"""Run a ferc model from Python through libferc.so (ctypes): every activation by name.
For generators that check a conversion before storing references; the tests proper are C.

    vals = run("model.ferc", x_nhwc)      # dict name -> array, every activation kept
"""
import ctypes
import os
import sys

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
import fercfile  # noqa: E402


class _Err(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 512)]


class _Tensor(ctypes.Structure):
    _fields_ = [("ndim", ctypes.c_int), ("dims", ctypes.c_int64 * 4), ("data", ctypes.POINTER(ctypes.c_float))]


class _Opt(ctypes.Structure):
    _fields_ = [("max_batch", ctypes.c_int), ("height", ctypes.c_int), ("width", ctypes.c_int),
                ("threads", ctypes.c_int), ("flags", ctypes.c_uint)]


def _lib():
    lib = ctypes.CDLL(os.environ.get("FERC_LIB", os.path.join(ROOT, "libferc.so")))
    lib.ferc_model_tensor_name.restype = ctypes.c_char_p
    lib.ferc_context_value.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(_Tensor)]
    return lib


def run(path, x, names=None):
    """x: NHWC float32 input. Returns {name: array} for names (default: every activation)."""
    lib = _lib()
    err = _Err()
    m = ctypes.c_void_p()
    if lib.ferc_model_load(path.encode(), ctypes.byref(m), ctypes.byref(err)):
        raise RuntimeError(err.message.decode())
    x = np.ascontiguousarray(x, np.float32)
    opt = _Opt(x.shape[0], x.shape[1] if x.ndim == 4 else 0, x.shape[2] if x.ndim == 4 else 0, 1, 1)
    ctx = ctypes.c_void_p()
    try:
        if lib.ferc_context_create(m, ctypes.byref(opt), ctypes.byref(ctx), ctypes.byref(err)):
            raise RuntimeError(err.message.decode())
        ptrs = (ctypes.POINTER(ctypes.c_float) * 1)(x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        if lib.ferc_run(ctx, ptrs, x.shape[0], ctypes.byref(err)):
            raise RuntimeError(err.message.decode())
        if names is None:
            names = [v["name"] for v in fercfile.read(path)["values"] if v["kind"] == "act"]
        out = {}
        for nm in names:
            t = _Tensor()
            if lib.ferc_context_value(ctx, nm.encode(), ctypes.byref(t)):
                raise KeyError(nm)
            shape = tuple(t.dims[:t.ndim])
            out[nm] = np.ctypeslib.as_array(t.data, shape=shape).copy()
        return out
    finally:
        if ctx:
            lib.ferc_context_free(ctx)
        lib.ferc_model_free(m)
