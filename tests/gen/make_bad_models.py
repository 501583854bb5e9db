"""Writes hostile and broken weight files into tests/data/bad/, each with the error the C
loader must give (tests/data/bad/expected.txt: file, status, a phrase the message contains).
tests/test_format.c loads each one. Also the seed corpus for the loader's fuzz target.

    /usr/bin/python3 tests/gen/make_bad_models.py
"""
import os
import sys
import struct
import zlib

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "model"))
import fercfile  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "bad")


def base():
    """A valid little conv -> relu -> flatten -> dense model to break in one way at a time."""
    w = fercfile.Writer()
    w.meta.update(name="tiny", task="test")
    w.input("input", (1, 4, 4, 2))
    w.param("c.w", np.ones((3, 3, 3, 2), np.float32))
    w.param("c.b", np.zeros(3, np.float32))
    w.node("conv2d", ["input", "c.w", "c.b"], ["c"], pad=[1, 1, 1, 1], act=1)
    w.node("flatten", ["c"], ["f"])
    w.param("d.w", np.ones((2, 48), np.float32))
    w.node("dense", ["f", "d.w"], ["d"])
    w.output("d")
    return w


def fix_crc(buf):
    buf = bytearray(buf)
    buf[56:60] = struct.pack("<I", zlib.crc32(bytes(buf[64:])) & 0xffffffff)
    return bytes(buf)


def patch_param(buf, name, field, value):
    """Rewrites the scale/zero/offset/size field of parameter `name` in the index."""
    key = struct.pack("<I", len(name)) + name.encode()
    at = buf.index(key) + len(key)
    ndim = buf[at + 2]
    at += 4 + 4 * ndim
    fmt, off = {"scale": ("<f", 0), "zero": ("<i", 4), "offset": ("<Q", 8), "size": ("<Q", 16)}[field]
    buf = bytearray(buf)
    struct.pack_into(fmt, buf, at + off, value)
    return fix_crc(buf)


def cases():
    out = []

    def add(name, data, status, phrase):
        out.append((name, data, status, phrase))

    good = base().tobytes()
    add("valid", good, "ok", "")
    add("empty", b"", "format", "shorter than the 64-byte header")
    add("not_ferc", b"GIF89a" + b"\0" * 100, "format", "bad magic")
    add("truncated", good[:-10], "format", "header says")
    bad = bytearray(good)
    bad[200] ^= 0x40
    add("bit_flip", bytes(bad), "format", "checksum mismatch")
    bad = bytearray(good)
    bad[8] = 3
    add("future_version", bytes(bad), "unsupported", "format version 3")

    w = base()
    w.nodes[0] = ("conv2d", ["d", "c.w", "c.b"], ["c"], {"pad": [1, 1, 1, 1]})  # conv reads the dense output
    add("cycle", w.tobytes(), "format", "cycle")

    w = base()
    w.act("ghost", ())
    w.nodes[1] = ("flatten", ["ghost"], ["f"], {})
    add("dangling_edge", w.tobytes(), "format", "never written")

    w = base()
    w.nodes[1] = ("frobnicate", ["c"], ["f"], {})
    add("unknown_op", w.tobytes(), "unsupported", "unknown op 'frobnicate'")

    w = base()
    w.nodes.append(("flatten", ["c"], ["f"], {}))
    add("two_producers", w.tobytes(), "format", "written by two nodes")

    w = base()
    w.values[w.index["c.w"]]["data"] = np.ones((3, 3, 3, 5), np.float32)
    w.values[w.index["c.w"]]["shape"] = (3, 3, 3, 5)
    add("channel_mismatch", w.tobytes(), "format", "with 5 channels")

    w = base()
    w.set_shape("c", (1, 4, 4, 7))
    add("stored_shape_wrong", w.tobytes(), "format", "file says [1, 4, 4, 7]")

    w = base()
    w.values[w.index["d.w"]]["data"] = np.ones((2, 47), np.float32)
    w.values[w.index["d.w"]]["shape"] = (2, 47)
    add("dense_mismatch", w.tobytes(), "format", "input must be [N, 47]")

    w = base()
    w.values[w.index["input"]]["shape"] = (1, 65536, 65536, 2)
    add("huge_input", w.tobytes(), "format", "more than")

    w = fercfile.Writer()  # a legal input whose conv output would take 2 GiB
    w.input("input", (1, 8192, 8192, 1))
    w.param("c.w", np.ones((8, 1, 1, 1), np.float32))
    w.node("conv2d", ["input", "c.w"], ["c"])
    w.output("c")
    add("huge_activation", w.tobytes(), "nomem", "elements, limit")

    w = base()
    w.nodes[0] = ("conv2d", ["input", "c.w", "c.b"], ["c"], {"groups": [0]})
    add("zero_groups", w.tobytes(), "format", "groups")

    w = base()
    w.nodes[0] = ("conv2d", ["input", "c.w", "c.b"], ["c"], {"stride": [1]})
    add("attr_wrong_count", w.tobytes(), "format", "attribute 'stride' must be 2 integer(s)")

    w = base()
    w.nodes[0] = ("conv2d", ["input", "c.w", "c.b"], ["c"], {"pad": [1, 1, 1, 1], "act": [9]})
    add("unknown_activation", w.tobytes(), "format", "unknown activation 9")

    w = base()
    w.nodes.insert(1, ("maxpool2d", ["c"], ["p"], {"kernel": [2, 2], "pad": [2, 2, 2, 2]}))
    w.act("p")
    add("pool_pad_too_big", w.tobytes(), "format", "half the kernel")

    w = base()
    w.nodes[0] = ("conv2d", ["input", "input", "c.b"], ["c"], {})
    add("weight_not_param", w.tobytes(), "format", "must be a parameter")

    w = base()
    w.outputs = ["c.w"]
    add("output_is_param", w.tobytes(), "format", "not an activation")

    w = base()
    w._add("c.b2", "param", (3,), data=np.zeros(3, np.float32))
    w.values[-1]["name"] = "c.b"
    add("duplicate_name", w.tobytes(), "format", "used twice")

    add("misaligned_tensor", patch_param(good, "c.w", "offset", 8), "format", "not 64-byte aligned")
    add("tensor_out_of_bounds", patch_param(good, "d.w", "offset", 1 << 40), "format", "outside the data section")
    add("tensor_size_wrong", patch_param(good, "c.b", "size", 4), "format", "shape needs")

    w = base()
    w.param("q", np.zeros(4, np.uint8), dtype="q8", scale=1.0, zero_point=0)
    add("q8_bad_scale", patch_param(w.tobytes(), "q", "scale", -1.0), "format", "quantisation scale")

    bad = bytearray(good)
    struct.pack_into("<I", bad, 64, 0xFFFFFFFF)  # metadata count
    add("count_overflow", fix_crc(bad), "format", "cannot fit")

    key = struct.pack("<I", 4) + b"name"
    at = good.index(key)
    bad = bytearray(good)
    struct.pack_into("<I", bad, at, 0x7FFFFFF0)  # a string longer than the file
    add("string_too_long", fix_crc(bad), "format", "limit")

    bad = bytearray(good)
    at = good.index(struct.pack("<I", 5) + b"input") + 4 + 5
    bad[at + 1] = 7  # dtype of the input
    add("unknown_dtype", fix_crc(bad), "format", "unknown dtype 7")
    int8_cases(add)
    return out


def q8_base(wq=None, bias_dtype="i32", mult=None, out_u8=False, **conv_attrs):
    """input -> quantize -> conv2d_q8 -> dequantize: the int8 model to break one way at a time."""
    w = fercfile.Writer()
    w.meta.update(name="tiny_q8", task="test")
    w.input("input", (1, 4, 4, 4))
    w.act("q", dtype="u8")
    w.node("quantize", ["input"], ["q"], scale=0.1, zero=3)
    wq = np.ones((2, 3, 3, 4), np.int8) if wq is None else wq
    oc = wq.shape[0]
    w.param("c.w", wq, dtype="i8")
    w.param("c.b", np.zeros(oc, np.int32) if bias_dtype == "i32" else np.zeros(oc, np.float32), dtype=bias_dtype)
    w.param("c.m", np.full(oc, 0.01, np.float32) if mult is None else mult)
    w.act("c", dtype="u8")
    attrs = dict(pad=[1, 1, 1, 1], x_zero=3, y_zero=0)
    attrs.update(conv_attrs)
    w.node("conv2d_q8", ["q", "c.w", "c.b", "c.m"], ["c"], **attrs)
    if out_u8:
        w.output("c")
    else:
        w.node("dequantize", ["c"], ["y"], scale=0.1, zero=0)
        w.output("y")
    return w


def int8_cases(add):
    add("q8_valid", q8_base().tobytes(), "ok", "")
    bad = bytearray(q8_base().tobytes())
    bad[8] = 1
    add("q8_in_version1", fix_crc(bad), "format", "needs format version 2")
    wq = np.ones((2, 3, 3, 4), np.int8)
    wq[1, 2, 2, 3] = 65
    add("q8_weight_range", q8_base(wq).tobytes(), "format", "int8 weights must lie in -64..64")
    wq = np.full((4, 3, 3, 1), 127, np.int8)  # depthwise filters may use -127..127 (kernels/q8.h)
    wq[0, 0, 0, 0] = -127
    add("q8_depthwise_full_range", q8_base(wq, groups=4).tobytes(), "ok", "")
    wq[3, 1, 2, 0] = -128
    add("q8_depthwise_weight_range", q8_base(wq, groups=4).tobytes(), "format", "must lie in -127..127 (depthwise)")
    add("q8_u8_output", q8_base(out_u8=True).tobytes(), "format", "must be f32 (dequantise it)")
    add("q8_float_bias", q8_base(bias_dtype="f32").tobytes(), "format", "must be a 1-D i32 parameter")
    add("q8_mult_zero", q8_base(mult=np.array([0.01, 0.0], np.float32)).tobytes(), "format", "multiplier 1 is 0")
    add("q8_mult_nan", q8_base(mult=np.array([np.nan, 0.01], np.float32)).tobytes(), "format", "multiplier 0 is nan")
    add("q8_zero_point", q8_base(x_zero=300).tobytes(), "format", "must lie in 0..255")
    add("q8_clamp_order", q8_base(clamp=[200, 100]).tobytes(), "format", "clamp [200, 100]")
    w = q8_base()
    w.values[w.index["q"]]["dtype"] = "f32"  # conv2d_q8 fed floats
    add("q8_float_into_int8", w.tobytes(), "format", "must be u8, is f32")
    w = q8_base()
    w.values[w.index["input"]]["dtype"] = "u8"
    add("q8_u8_input", w.tobytes(), "format", "input 'input' must be f32")
    w = q8_base()
    w.node("relu", ["c"], ["r"])  # a float op reading codes
    add("q8_codes_into_float_op", w.tobytes(), "format", "integer tensor, the op takes floats")
    w = q8_base()
    w.nodes[0] = ("quantize", ["input"], ["q"], {"scale": 0.0, "zero": 3})
    add("q8_quantize_scale", w.tobytes(), "format", "bad scale 0")
    w = base()
    w.values[w.index["c.w"]]["dtype"] = "i8"
    w.values[w.index["c.w"]]["data"] = np.ones((3, 3, 3, 2), np.int8)
    add("q8_int_weight_in_float_conv", w.tobytes(), "format", "integer tensor, the op takes floats")


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = []
    for name, data, status, phrase in cases():
        with open(os.path.join(OUT, name + ".ferc"), "wb") as f:
            f.write(data)
        lines.append(f"{name}\t{status}\t{phrase}\n")
    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        f.writelines(lines)
    print(f"wrote {len(lines)} files to {OUT}")


if __name__ == "__main__":
    main()
