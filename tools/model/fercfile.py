"""Read and write ferc weight files (byte layout: docs/FORMAT.md).

A file holds metadata (string pairs), a table of named values (graph inputs, parameter
tensors, activations), a list of nodes joined by those names, and the graph outputs.
Parameter data follows the index, each tensor 64-byte aligned. A file with tensors and no
nodes is a "debug state": the reference tensors the C tests compare against.

    w = Writer()
    w.meta["name"] = "tiny"
    w.input("input", (1, 48, 48, 1))
    w.param("conv1.w", array)                  # f32; dtype="f16" or "q8" (scale, zero_point),
                                               # "i8" / "i32" (int8 models, stored as given)
    w.node("conv2d", ["input", "conv1.w"], ["conv1"], stride=[1, 1], act=1)
    w.output("conv1")
    w.save("tiny.ferc")
"""
import os
import struct
import zlib

import numpy as np

MAGIC = b"\x89FERC\r\n\x1a"
# Version 2 adds i8, i32 and u8 tensors (int8 models); a file without them is written as 1.
VERSION = 2
HEADER_SIZE = 64
ALIGN = 64
KIND = {"input": 0, "param": 1, "act": 2}
DTYPE = {"f32": 0, "f16": 1, "q8": 2, "i8": 3, "i32": 4, "u8": 5}
NUMPY = {"i8": np.int8, "i32": np.int32, "u8": np.uint8}


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<I", len(b)) + b


class Writer:
    def __init__(self):
        self.meta = {}
        self.values = []  # dicts: name, kind, dtype, shape, data, scale, zero_point
        self.index = {}
        self.nodes = []
        self.outputs = []

    def _add(self, name, kind, shape, dtype="f32", data=None, scale=1.0, zero_point=0):
        if name in self.index:
            raise ValueError(f"value {name!r} defined twice")
        self.index[name] = len(self.values)
        self.values.append(dict(name=name, kind=kind, dtype=dtype, shape=tuple(int(d) for d in shape),
                                data=data, scale=float(scale), zero_point=int(zero_point)))

    def input(self, name, shape):
        self._add(name, "input", shape)

    def param(self, name, array, dtype="f32", scale=1.0, zero_point=0):
        """array: float data for f32/f16, uint8 codes for q8 (real = scale * (q - zero_point))."""
        a = np.asarray(array)
        if a.ndim == 0:
            a = a.reshape(1)
        self._add(name, "param", a.shape, dtype, a, scale, zero_point)

    def act(self, name, shape=(), dtype="f32"):
        """dtype "u8": uint8 codes written by an int8 op (format version 2)."""
        self._add(name, "act", shape, dtype)

    def node(self, op, inputs, outputs, **attrs):
        for o in outputs:
            if o not in self.index:
                self.act(o)
        self.nodes.append((op, list(inputs), list(outputs), attrs))

    def output(self, name):
        self.outputs.append(name)

    def set_shape(self, name, shape):
        self.values[self.index[name]]["shape"] = tuple(int(d) for d in shape)

    def _tensor_bytes(self, v):
        a = v["data"]
        if v["dtype"] == "f32":
            return np.ascontiguousarray(a, dtype="<f4").tobytes()
        if v["dtype"] == "f16":
            return np.ascontiguousarray(a, dtype="<f2").tobytes()
        if v["dtype"] in NUMPY:
            if a.dtype != NUMPY[v["dtype"]]:
                raise ValueError(f"{v['dtype']} tensor {v['name']!r} needs {NUMPY[v['dtype']].__name__} data")
            return np.ascontiguousarray(a, dtype=np.dtype(NUMPY[v["dtype"]]).newbyteorder("<")).tobytes()
        if a.dtype != np.uint8:
            raise ValueError(f"q8 tensor {v['name']!r} needs uint8 codes")
        return np.ascontiguousarray(a).tobytes()

    def tobytes(self):
        data = bytearray()
        offsets = {}
        for v in self.values:
            if v["kind"] != "param":
                continue
            data += b"\0" * (-len(data) % ALIGN)
            raw = self._tensor_bytes(v)
            offsets[v["name"]] = (len(data), len(raw))
            data += raw
        idx = bytearray(struct.pack("<I", len(self.meta)))
        for k, val in self.meta.items():
            idx += _str(k) + _str(str(val))
        idx += struct.pack("<I", len(self.values))
        for v in self.values:
            idx += _str(v["name"])
            idx += struct.pack("<BBBB", KIND[v["kind"]], DTYPE[v["dtype"]], len(v["shape"]), 0)
            idx += struct.pack(f"<{len(v['shape'])}I", *v["shape"])
            if v["kind"] == "param":
                off, n = offsets[v["name"]]
                idx += struct.pack("<fiQQ", v["scale"], v["zero_point"], off, n)
        idx += struct.pack("<I", len(self.nodes))
        for op, ins, outs, attrs in self.nodes:
            idx += _str(op)
            idx += struct.pack("<I", len(ins)) + b"".join(struct.pack("<I", self.index[i]) for i in ins)
            idx += struct.pack("<I", len(outs)) + b"".join(struct.pack("<I", self.index[o]) for o in outs)
            idx += struct.pack("<I", len(attrs))
            for k, val in attrs.items():
                vals = list(val) if isinstance(val, (list, tuple)) else [val]
                is_float = any(isinstance(x, (float, np.floating)) for x in vals)
                idx += _str(k) + struct.pack("<BI", 1 if is_float else 0, len(vals))
                idx += struct.pack(f"<{len(vals)}{'f' if is_float else 'i'}", *vals)
        idx += struct.pack("<I", len(self.outputs))
        idx += b"".join(struct.pack("<I", self.index[o]) for o in self.outputs)
        data_off = HEADER_SIZE + len(idx)
        data_off += -data_off % ALIGN
        body = bytes(idx) + b"\0" * (data_off - HEADER_SIZE - len(idx)) + bytes(data)
        size = HEADER_SIZE + len(body)
        version = 2 if any(DTYPE[v["dtype"]] > 2 for v in self.values) else 1
        header = MAGIC + struct.pack("<IIQQQQQII", version, HEADER_SIZE, size, HEADER_SIZE, len(idx), data_off,
                                     size - data_off, zlib.crc32(body) & 0xffffffff, 0)
        assert len(header) == HEADER_SIZE
        return header + body

    def save(self, path):
        """Written to PATH.part, then renamed over PATH: PATH is never half written, and a
        process that has the old file loaded keeps reading the old bytes. The C loader maps
        weight files (ferc serve for its whole life); a file truncated and rewritten in place
        under a mapping makes the next read of it fault (SIGBUS)."""
        data, tmp = self.tobytes(), path + ".part"
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


def read(path):
    """Returns dict(meta, values, nodes, outputs); parameter arrays dequantised to float32
    (i8, i32 and u8 arrays as stored).
    A convenience for tools and tests: it checks far less than the C loader."""
    buf = open(path, "rb").read()
    if buf[:8] != MAGIC:
        raise ValueError(f"{path}: not a ferc file")
    version, hsize, size, ioff, isize, doff, dsize, crc, _ = struct.unpack_from("<IIQQQQQII", buf, 8)
    if version not in (1, VERSION) or size != len(buf) or zlib.crc32(buf[HEADER_SIZE:]) & 0xffffffff != crc:
        raise ValueError(f"{path}: bad version, size or checksum")
    p = ioff

    def u32():
        nonlocal p
        v = struct.unpack_from("<I", buf, p)[0]
        p += 4
        return v

    def s():
        nonlocal p
        n = u32()
        v = buf[p:p + n].decode("utf-8")
        p += n
        return v

    meta = {}
    for _ in range(u32()):
        k = s()
        meta[k] = s()
    values = []
    for _ in range(u32()):
        name = s()
        kind, dt, nd, _r = struct.unpack_from("<BBBB", buf, p)
        p += 4
        shape = struct.unpack_from(f"<{nd}I", buf, p)
        p += 4 * nd
        dtype = [k for k, i in DTYPE.items() if i == dt][0]
        v = dict(name=name, kind=[k for k, i in KIND.items() if i == kind][0], shape=shape, data=None, dtype=dtype)
        if kind == KIND["param"]:
            scale, zp, off, n = struct.unpack_from("<fiQQ", buf, p)
            p += 24
            raw = buf[doff + off:doff + off + n]
            if dt == 0:
                a = np.frombuffer(raw, "<f4")
            elif dt == 1:
                a = np.frombuffer(raw, "<f2").astype(np.float32)
            elif dtype in NUMPY:
                a = np.frombuffer(raw, np.dtype(NUMPY[dtype]).newbyteorder("<"))
            else:
                a = (scale * (np.frombuffer(raw, np.uint8).astype(np.float32) - zp)).astype(np.float32)
            v["data"] = a.reshape(shape)
        values.append(v)
    nodes = []
    for _ in range(u32()):
        op = s()
        ins = [values[u32()]["name"] for _ in range(u32())]
        outs = [values[u32()]["name"] for _ in range(u32())]
        attrs = {}
        for _ in range(u32()):
            k = s()
            t, n = struct.unpack_from("<BI", buf, p)
            p += 5
            attrs[k] = list(struct.unpack_from(f"<{n}{'f' if t else 'i'}", buf, p))
            p += 4 * n
        nodes.append((op, ins, outs, attrs))
    outputs = [values[u32()]["name"] for _ in range(u32())]
    return dict(meta=meta, values=values, nodes=nodes, outputs=outputs)


def write_tensors(path, tensors, meta=None):
    """A debug-state file: named float32 tensors, no graph."""
    w = Writer()
    w.meta["task"] = "reference"
    w.meta.update(meta or {})
    for name, a in tensors.items():
        w.param(name, np.asarray(a, dtype=np.float32))
    w.save(path)
