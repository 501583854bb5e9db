"""ferc.Model: a weight file, its graph, and runs that return NumPy views of the engine's
memory."""
import ctypes
import weakref

import numpy as np

from . import _lib
from ._pool import Pool
from .analyzer import _Owner, _load_model, _threads


class _Lease:
    """Holds a context for the arrays of one run: when the last of them is gone, the
    context goes back to its pool (weakref.finalize), so no run overwrites memory that an
    array still shows. It also keeps the Model (and so the context) alive."""
    __slots__ = ("model", "__weakref__")

    def __init__(self, model):
        self.model = model


class _View:
    """NumPy's view of float32 memory in a context; keeps the run's lease alive."""

    def __init__(self, t, lease):
        shape = tuple(t.dims[k] for k in range(t.ndim))
        self.__array_interface__ = {"data": (ctypes.addressof(t.data.contents), False), "shape": shape,
                                    "typestr": "<f4", "version": 3}
        self.lease = lease


class _Values(dict):
    """run(keep=True)'s result: outputs and node outputs by name; any other activation of
    the run is looked up on first access (values[name])."""

    def __init__(self, ctx, lease):
        super().__init__()
        self._ctx, self._lease = ctx, lease

    def fetch(self, names):
        for name in names:
            if name not in self:
                self.__missing__(name)

    def __missing__(self, name):
        t = _lib.tensor_t()
        if _lib.lib.ferc_context_value(self._ctx, name.encode(), ctypes.byref(t)):
            raise KeyError(name)
        v = self[name] = np.asarray(_View(t, self._lease))
        return v


def _shape(ndim, dims):
    return tuple(int(dims[k]) for k in range(ndim.value))


class Model(_Owner):
    """A ferc weight file (path or bytes): metadata, inputs, outputs, nodes, and run().

    One Model can be run from many threads at once: each run takes an idle context (the
    engine's activation memory for one batch and input size) or plans a new one."""

    def __init__(self, source, threads=None):
        self._pools = []
        self._model = _load_model(source)
        self._threads = _threads(threads)
        L, m = _lib.lib, self._model
        self.meta = {L.ferc_model_meta_key(m, i).decode(): L.ferc_model_meta(m, L.ferc_model_meta_key(m, i)).decode()
                     for i in range(L.ferc_model_meta_count(m))}
        self.inputs = []
        for i in range(L.ferc_model_num_inputs(m)):
            nd, dims = ctypes.c_int(), _lib.c_int64_4()
            L.ferc_model_input_shape(m, i, ctypes.byref(nd), dims)
            self.inputs.append((L.ferc_model_input_name(m, i).decode(), _shape(nd, dims)))
        self.outputs = [(name, self._value_shape(name)) for name in
                        (L.ferc_model_output_name(m, i).decode() for i in range(L.ferc_model_num_outputs(m)))]
        self.num_nodes = L.ferc_model_num_nodes(m)
        self.param_count = L.ferc_model_param_count(m)
        self._contexts = {}  # (batch, height, width, keep) -> Pool of ferc_context handles

    def _value_shape(self, name):
        """Shape at the nominal input size and batch 1, or None with an older libferc."""
        if not _lib.has("ferc_model_value_shape"):
            return None
        nd, dims = ctypes.c_int(), _lib.c_int64_4()
        if _lib.lib.ferc_model_value_shape(self._model, name.encode(), ctypes.byref(nd), dims):
            return None
        return _shape(nd, dims)

    @property
    def nodes(self):
        """Every node in execution order: name, op, inputs, outputs (value names), shape (of
        its first output, batch 1), params, dtype, macs, attrs."""
        if not _lib.has("ferc_model_node_info"):
            _lib.fail("this libferc has no node introspection (ferc_model_node_info)", 3)
        L, m, out = _lib.lib, self._model, []
        for i in range(self.num_nodes):
            info = _lib.node_info_t()
            L.ferc_model_node_info(m, i, ctypes.byref(info))
            attrs = {}
            for a in range(info.n_attrs):
                key, count = _lib.cstr(), ctypes.c_int()
                ints, floats = ctypes.POINTER(ctypes.c_int32)(), _lib.c_float_p()
                L.ferc_model_node_attr(m, i, a, ctypes.byref(key), ctypes.byref(count), ctypes.byref(ints),
                                       ctypes.byref(floats))
                src = ints if ints else floats
                attrs[key.value.decode()] = [src[k] for k in range(count.value)]
            name = info.name.decode()
            out.append({"name": name, "op": info.op.decode(),
                        "inputs": [L.ferc_model_node_input(m, i, j).decode() for j in range(info.n_inputs)],
                        "outputs": [L.ferc_model_node_output(m, i, j).decode() for j in range(info.n_outputs)],
                        "shape": self._value_shape(name), "params": info.params, "dtype": info.dtype.decode(),
                        "macs": info.macs, "attrs": attrs})
        return out

    def _pool(self, batch, height, width, keep):
        key = (batch, height, width, keep)
        pool = self._contexts.get(key)
        if pool is None:
            opts = _lib.context_options_t(batch, height, width, self._threads, _lib.CTX_KEEP_ALL if keep else 0)

            def make():
                ctx, err = ctypes.c_void_p(), _lib.error_t()
                _lib.check(_lib.lib.ferc_context_create(self._model, ctypes.byref(opts), ctypes.byref(ctx),
                                                        ctypes.byref(err)), err)
                return ctx

            pool = self._contexts.setdefault(key, Pool(make, _lib.lib.ferc_context_free))
            self._pools.append(pool)
        return pool

    def _check_inputs(self, arrays):
        if len(arrays) == 1 and isinstance(arrays[0], dict):
            d = arrays[0]
            unknown = set(d) - {n for n, _ in self.inputs}
            if unknown:
                _lib.fail("no input named %s (inputs: %s)" % (", ".join(sorted(unknown)),
                                                            ", ".join(n for n, _ in self.inputs)))
            missing = [n for n, _ in self.inputs if n not in d]
            if missing:
                _lib.fail("input %s not given" % ", ".join(missing))
            arrays = [d[n] for n, _ in self.inputs]
        if len(arrays) != len(self.inputs):
            _lib.fail("the model takes %d input(s), %d given" % (len(self.inputs), len(arrays)))
        batch, hw = None, (0, 0)
        for (name, shape), a in zip(self.inputs, arrays):
            if not isinstance(a, np.ndarray):
                _lib.fail("input '%s' must be a float32 NumPy array, not %s" % (name, type(a).__name__))
            if a.dtype != np.float32:
                _lib.fail("input '%s' has dtype %s: expected float32" % (name, a.dtype))
            want = "N x " + " x ".join(str(d) for d in shape[1:])
            if a.ndim != len(shape) or a.shape[0] < 1:
                _lib.fail("input '%s' has shape %s: expected %s (NHWC)" % (name, a.shape, want))
            if len(shape) == 4:  # images may come at another height and width than planned
                if a.shape[3] != shape[3] or a.shape[1] < 1 or a.shape[2] < 1:
                    _lib.fail("input '%s' has shape %s: expected N x H x W x %d (NHWC)" % (name, a.shape, shape[3]))
                if a.shape[1:3] != shape[1:3]:
                    hw = a.shape[1:3]
            elif a.shape[1:] != shape[1:]:
                _lib.fail("input '%s' has shape %s: expected %s" % (name, a.shape, want))
            if batch is not None and a.shape[0] != batch:
                _lib.fail("inputs have different batch sizes (%d and %d)" % (batch, a.shape[0]))
            batch = a.shape[0]
        if batch > 1 << 20:
            _lib.fail("batch %d: more than 2^20 samples" % batch)
        return [np.ascontiguousarray(a) for a in arrays], batch, hw

    def run(self, *inputs, keep=False):
        """Runs the graph on float32 NHWC inputs (one array per graph input, in order, or a
        dict by name), batch first. Returns {output name: array}; with keep=True also every
        node's output by name (any activation can be asked for by name). The arrays are views of the engine's memory (no copies): that
        memory is not reused while any of them is alive, so copy what you store."""
        arrays, batch, (h, w) = self._check_inputs(inputs)
        pool = self._pool(batch, int(h), int(w), bool(keep))
        ctx = pool.get()
        try:
            ptrs = (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])
            err = _lib.error_t()
            _lib.check(_lib.lib.ferc_run(ctx, ptrs, batch, ctypes.byref(err)), err)
        except Exception:
            pool.put(ctx)
            raise
        lease = _Lease(self)
        weakref.finalize(lease, pool.put, ctx)
        out = _Values(ctx, lease) if keep else {}
        for i, (name, _) in enumerate(self.outputs):
            t = _lib.tensor_t()
            _lib.lib.ferc_output(ctx, i, ctypes.byref(t))
            out[name] = np.asarray(_View(t, lease))
        if keep:
            out.fetch(self._node_outputs())
        return out

    def _node_outputs(self):
        if not _lib.has("ferc_model_node_output"):
            return []
        L, m, names = _lib.lib, self._model, []
        for i in range(self.num_nodes):
            info = _lib.node_info_t()
            L.ferc_model_node_info(m, i, ctypes.byref(info))
            names += [L.ferc_model_node_output(m, i, j).decode() for j in range(info.n_outputs)]
        return names

    @property
    def tensors(self):
        """Names of the tensors stored in the file (parameters; reference values in a
        debug-state file written by tools/export_torch.py)."""
        L = _lib.lib
        return [L.ferc_model_tensor_name(self._model, i).decode() for i in range(L.ferc_model_num_tensors(self._model))]

    def tensor(self, name):
        """A stored tensor by name, as a read-only view of the loaded file (kept alive by it)."""
        t = _lib.tensor_t()
        if _lib.lib.ferc_model_tensor(self._model, name.encode(), ctypes.byref(t)):
            _lib.fail("no tensor '%s' in the model" % name)
        a = np.asarray(_View(t, self))
        a.flags.writeable = False
        return a
