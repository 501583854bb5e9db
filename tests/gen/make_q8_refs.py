"""Writes tests/data/q8/tiny.ferc, a small graph with every int8 op on odd shapes (zero
points other than 0, padding, stride, dilation, groups, ceil-mode pooling, channel counts
that are not multiples of 4 or 16, the direct 1x1 path, a dense layer), and tiny.ref.ferc
with its batch-3 input and every activation as computed here by NumPy in int64 (u8 codes
stored as floats). tests/test_q8.c requires the C engine to match it exactly.

    /usr/bin/python3 tests/gen/make_q8_refs.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "model"))
import fercfile  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "q8")


def requant(acc, mult, zy, lo, hi):
    """kernels/q8.h: (float)acc * m in float32, clamped, rounded half to even, + zy."""
    f = acc.astype(np.float32) * mult.astype(np.float32)
    f = np.clip(f, np.float32(lo - zy), np.float32(hi - zy))
    return (np.rint(f).astype(np.int64) + zy).astype(np.uint8)


def quantize(x, s, z):
    return np.clip(np.rint(x / np.float32(s)) + z, 0, 255).astype(np.uint8)


def dequantize(q, s, z):
    return (np.float32(s) * (q.astype(np.float32) - np.float32(z))).astype(np.float32)


def conv_q8(x, w, b, m, stride, pad, dil, groups, zx, zy, clamp):
    n, h, wd, c = x.shape
    oc, kh, kw, cig = w.shape
    xp = np.full((n, h + pad[0] + pad[2], wd + pad[1] + pad[3], c), zx, np.int64)
    xp[:, pad[0]:pad[0] + h, pad[1]:pad[1] + wd] = x
    eh, ew = dil[0] * (kh - 1) + 1, dil[1] * (kw - 1) + 1
    oh, ow = (xp.shape[1] - eh) // stride[0] + 1, (xp.shape[2] - ew) // stride[1] + 1
    acc = np.zeros((n, oh, ow, oc), np.int64) + b.astype(np.int64)
    cog = oc // groups
    for g in range(groups):
        for ky in range(kh):
            for kx in range(kw):
                y0, x0 = ky * dil[0], kx * dil[1]
                patch = xp[:, y0:y0 + stride[0] * (oh - 1) + 1:stride[0], x0:x0 + stride[1] * (ow - 1) + 1:stride[1],
                           g * cig:(g + 1) * cig] - zx
                acc[..., g * cog:(g + 1) * cog] += patch @ w[g * cog:(g + 1) * cog, ky, kx, :].astype(np.int64).T
    assert np.abs(acc).max() < 2**31
    return requant(acc, m, zy, *clamp)


def maxpool_ceil(x, k, s):
    n, h, w, c = x.shape
    oh, ow = (h - k + s - 1) // s + 1, (w - k + s - 1) // s + 1
    y = np.zeros((n, oh, ow, c), x.dtype)
    for i in range(oh):
        for j in range(ow):
            y[:, i, j] = x[:, i * s:i * s + k, j * s:j * s + k].max(axis=(1, 2))
    return y


def main():
    rng = np.random.default_rng(17)
    os.makedirs(OUT, exist_ok=True)
    w = fercfile.Writer()
    w.meta.update(name="q8_tiny", task="test")
    w.input("input", (1, 7, 9, 5))
    # multiples of 1/8 with scale 1/4: x / s hits exact halves, which must round to even
    x = (rng.integers(-150, 150, (3, 7, 9, 5)) / 8.0).astype(np.float32)
    x[0, 0, 0, :5] = [0.125, 0.375, -0.125, -0.375, 1e9]
    ref = {"input": x}
    s0, z0 = 0.25, 100
    w.act("q0", dtype="u8")
    w.node("quantize", ["input"], ["q0"], scale=s0, zero=z0)
    cur, name_in, zx = quantize(x, s0, z0), "q0", z0
    ref["q0"] = cur

    layers = [  # name, oc, kh, kw, stride, pad [t,l,b,r], dilation, groups, y_zero, clamp
        ("c1", 19, 3, 3, [2, 1], [1, 0, 1, 1], [1, 1], 1, 7, [7, 255]),
        "pool",
        ("c2", 20, 1, 1, [1, 1], [0, 0, 0, 0], [1, 1], 1, 128, [0, 255]),
        ("c3", 24, 1, 1, [1, 1], [0, 0, 0, 0], [1, 1], 1, 0, [0, 200]),
        ("c4", 36, 3, 2, [1, 1], [1, 1, 2, 1], [2, 1], 4, 3, [3, 255]),
    ]
    for L in layers:
        if L == "pool":
            w.act("pool", dtype="u8")
            w.node("maxpool2d_q8", [name_in], ["pool"], kernel=[2, 2], stride=[2, 2], ceil_mode=1)
            cur, name_in = maxpool_ceil(cur, 2, 2), "pool"
            ref["pool"] = cur
            continue
        name, oc, kh, kw, stride, pad, dil, groups, zy, clamp = L
        cin = cur.shape[3]
        wq = rng.integers(-64, 65, (oc, kh, kw, cin // groups)).astype(np.int8)
        bq = rng.integers(-3000, 3000, oc).astype(np.int32)
        # spread the outputs over roughly +-40 codes
        mq = (rng.uniform(0.5, 2.0, oc) * 40 / (np.sqrt(kh * kw * cin // groups) * max(cur.std(), 1) * 37)).astype(np.float32)
        w.param(name + ".w", wq, dtype="i8")
        w.param(name + ".b", bq, dtype="i32")
        w.param(name + ".m", mq)
        w.act(name, dtype="u8")
        w.node("conv2d_q8", [name_in, name + ".w", name + ".b", name + ".m"], [name], stride=stride, pad=pad,
               dilation=dil, groups=groups, x_zero=zx, y_zero=zy, clamp=clamp)
        cur = conv_q8(cur, wq, bq, mq, stride, pad, dil, groups, zx, zy, clamp)
        ref[name], name_in, zx = cur, name, zy
    w.node("dequantize", [name_in], ["dq"], scale=0.05, zero=zx)
    ref["dq"] = dequantize(cur, 0.05, zx)
    w.node("flatten", ["dq"], ["flat"])
    ref["flat"] = ref["dq"].reshape(3, -1)
    w.act("qf", dtype="u8")
    w.node("quantize", ["flat"], ["qf"], scale=0.05, zero=zx)
    ref["qf"] = quantize(ref["flat"], 0.05, zx)
    kd = ref["flat"].shape[1]
    wd = rng.integers(-64, 65, (10, kd)).astype(np.int8)
    bd = rng.integers(-3000, 3000, 10).astype(np.int32)
    md = (rng.uniform(0.5, 2.0, 10) * 40 / (np.sqrt(kd) * max(ref['qf'].std(), 1) * 37)).astype(np.float32)
    w.param("d.w", wd, dtype="i8")
    w.param("d.b", bd, dtype="i32")
    w.param("d.m", md)
    w.act("d", dtype="u8")
    w.node("dense_q8", ["qf", "d.w", "d.b", "d.m"], ["d"], x_zero=zx, y_zero=50, clamp=[0, 255])
    ref["d"] = conv_q8(ref["qf"][:, None, None, :], wd[:, None, None, :], bd, md, [1, 1], [0, 0, 0, 0], [1, 1], 1, zx,
                       50, [0, 255])[:, 0, 0, :]
    w.node("dequantize", ["d"], ["out"], scale=0.1, zero=50)
    ref["out"] = dequantize(ref["d"], 0.1, 50)
    w.output("out")
    w.save(os.path.join(OUT, "tiny.ferc"))
    for k, v in ref.items():
        # spread of codes, so a test on all-0 or all-255 outputs cannot pass by accident
        if v.dtype == np.uint8:
            print(f"{k:6s} {str(v.shape):18s} codes {v.min()}..{v.max()}, {len(np.unique(v))} distinct")
    fercfile.write_tensors(os.path.join(OUT, "tiny.ref.ferc"), {k: v.astype(np.float32) for k, v in ref.items()})


if __name__ == "__main__":
    main()
