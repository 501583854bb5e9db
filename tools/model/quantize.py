"""Quantise a float ferc emotion CNN to int8 (kernels/q8.h, docs/FORMAT.md "int8").

    /usr/bin/python3 tools/model/quantize.py weights/emotion_cnn.ferc weights/emotion_cnn.q8.ferc

Weights: symmetric int8 per output channel, limited to -64..64 (so AVX2's vpmaddubsw cannot
saturate), bias in int32 at scale s_x * s_w. Activations: uint8 per tensor, scale and zero point
from calibration on --calib (2,000) FER2013 *train* images; ReLU and ReLU6 become the output
clamp. The first convolution (one input channel: little work, most sensitive) and everything
after the last convolution (global pool, dense, softmax) stay fp32; a quantize node sits
before the first int8 convolution and a dequantize after the last.

The activation range rule is chosen, not assumed: each candidate (min/max and percentiles of
the calibration activations) is written and run by the C engine (`ferc eval`) on --heldout
(3,000) other train images, never on val; the best held-out accuracy wins (ties: min/max).
The C engine must be built (`make`): the choice uses ./ferc.
"""
import argparse
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import fercfile  # noqa: E402

WMAX = 64
CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


# ---- the float graph in PyTorch (also used by bench/torch_int8_accuracy.py) ---------------

class FercNet(nn.Module):
    """The chain of a ferc emotion CNN (conv2d with folded BN, max pool, global average pool,
    flatten, identity, dense) as torch modules, NCHW, weights from the file. record=True keeps
    each node's output (NHWC numpy is not needed: statistics are layout-free)."""

    def __init__(self, model):
        super().__init__()
        vals = {v["name"]: v for v in model["values"]}
        self.steps = []  # (module, out name)
        mods = []
        for op, ins, outs, attrs in model["nodes"]:
            if op == "conv2d":
                w = torch.from_numpy(np.array(vals[ins[1]]["data"])).permute(0, 3, 1, 2).contiguous()
                g = attrs.get("groups", [1])[0]
                pad = attrs.get("pad", [0, 0, 0, 0])
                if pad[0] != pad[2] or pad[1] != pad[3]:
                    raise SystemExit(f"{outs[0]}: asymmetric padding is not supported here")
                m = nn.Conv2d(w.shape[1] * g, w.shape[0], tuple(w.shape[2:]), tuple(attrs.get("stride", [1, 1])),
                              (pad[0], pad[1]), tuple(attrs.get("dilation", [1, 1])), g, bias=len(ins) > 2)
                m.weight.data.copy_(w)
                if len(ins) > 2:
                    m.bias.data.copy_(torch.from_numpy(np.array(vals[ins[2]]["data"])))
                act = attrs.get("act", [0])[0]
                if act not in (0, 1, 2):
                    raise SystemExit(f"{outs[0]}: activation {act} is not supported by the int8 path")
                m = nn.Sequential(m, *([nn.ReLU()] if act == 1 else [nn.ReLU6()] if act == 2 else []))
            elif op == "maxpool2d":
                if any(attrs.get("pad", [0])) or attrs.get("ceil_mode", [0])[0]:
                    raise SystemExit(f"{outs[0]}: padded or ceil-mode pooling is not supported here")
                m = nn.MaxPool2d(tuple(attrs["kernel"]), tuple(attrs.get("stride", attrs["kernel"])))
            elif op == "global_avgpool":
                m = nn.AdaptiveAvgPool2d(1)
            elif op == "flatten":
                m = nn.Flatten()
            elif op == "identity":
                m = nn.Identity()
            elif op == "dense":
                w = torch.from_numpy(np.array(vals[ins[1]]["data"]))
                m = nn.Linear(w.shape[1], w.shape[0], bias=len(ins) > 2)
                m.weight.data.copy_(w)
                if len(ins) > 2:
                    m.bias.data.copy_(torch.from_numpy(np.array(vals[ins[2]]["data"])))
                if attrs.get("act", [0])[0]:
                    raise SystemExit(f"{outs[0]}: dense with a fused activation is not supported here")
            elif op == "softmax":
                m = nn.Softmax(dim=1)
            else:
                raise SystemExit(f"op {op} ({outs[0]}) is not supported by tools/model/quantize.py")
            mods.append(m)
            self.steps.append((op, ins[0], outs[0], attrs))
        self.mods = nn.ModuleList(mods)
        self.record = None

    def forward(self, x):
        for m, (op, _, out, _) in zip(self.mods, self.steps):
            if op == "flatten" and x.dim() == 4 and x.shape[2] * x.shape[3] != 1:
                raise SystemExit("flatten of a spatial map: NHWC order would differ from torch's")
            x = m(x)
            if self.record is not None:
                self.record(out, x)
        return x


def load_faces(paths, meta):
    """Faces as the C classifier feeds them: gray 48x48, optional CLAHE / equalisation as the
    metadata says, then (pixel / 255 - mean) / std. NCHW float32."""
    import cv2
    mean, std = float(meta["mean"]), float(meta["std"])
    clahe = None
    if meta.get("clahe"):
        clip, grid = meta["clahe"].split(",")
        clahe = cv2.createCLAHE(clipLimit=float(clip), tileGridSize=(int(grid), int(grid)))
    out = np.empty((len(paths), 1, 48, 48), np.float32)
    for i, p in enumerate(paths):
        g = cv2.imread(p, cv2.IMREAD_GRAYSCALE)
        if g.shape != (48, 48):
            g = cv2.resize(g, (48, 48), interpolation=cv2.INTER_AREA)
        if clahe is not None:
            g = clahe.apply(g)
        if meta.get("equalize", "0") not in ("0", ""):
            g = cv2.equalizeHist(g)
        out[i, 0] = (g.astype(np.float32) / 255 - mean) / std
    return torch.from_numpy(out)


def train_split(data, n_calib, n_heldout, seed):
    """Two disjoint random sets of (path, class) from DATA/train/<class>/."""
    items = []
    for c in CLASSES:
        items += [(p, c) for p in sorted(glob.glob(os.path.join(data, "train", c, "*")))]
    if len(items) < n_calib + n_heldout:
        raise SystemExit(f"{data}/train: {len(items)} images, need {n_calib + n_heldout}")
    random.Random(seed).shuffle(items)
    return items[:n_calib], items[n_calib:n_calib + n_heldout]


# ---- calibration -----------------------------------------------------------------------------

def calibrate(net, faces, percentiles, seed):
    """Per activation: min, max, and the given percentiles of a random sample of its values
    (200,000 per tensor: 64 images' worth keeps memory small; the tails are the point)."""
    rng = np.random.default_rng(seed)
    samples, lo, hi = {}, {}, {}

    def record(name, x):
        a = x.detach().numpy().ravel()
        lo[name] = min(lo.get(name, np.inf), float(a.min()))
        hi[name] = max(hi.get(name, -np.inf), float(a.max()))
        samples.setdefault(name, []).append(rng.choice(a, size=min(a.size, 200000 * 64 // len(faces) + 1)))

    net.record = record
    with torch.no_grad():
        for i in range(0, len(faces), 64):
            net(faces[i:i + 64])
    net.record = None
    stats = {}
    for name in samples:
        s = np.concatenate(samples[name])
        stats[name] = {"min": lo[name], "max": hi[name]}
        for p in percentiles:
            stats[name][f"p{p}"] = (float(np.percentile(s, 100 - p)), float(np.percentile(s, p)))
    return stats


def act_range(stats, name, rule):
    st = stats[name]
    lo, hi = (st["min"], st["max"]) if rule == "minmax" else st["p" + rule]
    return min(lo, 0.0), max(hi, 1e-8)


def qparams(lo, hi):
    """uint8 scale and zero point for [lo, hi] (lo <= 0 <= hi): real zero is exact."""
    s = (hi - lo) / 255.0
    z = int(np.clip(np.rint(-lo / s), 0, 255))
    return np.float32(s), z


# ---- the int8 graph --------------------------------------------------------------------------

def quantize_model(model, stats, rule, how):
    vals = {v["name"]: v for v in model["values"]}
    w = fercfile.Writer()
    w.meta.update(model["meta"])
    w.meta["precision"] = "int8"
    w.meta["quantization"] = how
    if "accuracy" in w.meta:
        w.meta["accuracy"] = "fp32 source model: " + w.meta["accuracy"]
    for v in model["values"]:
        if v["kind"] == "input":
            w.input(v["name"], v["shape"])
    q = {}  # activation name -> (scale, zero) of the u8 codes it holds

    def as_u8(name):
        if name + ".q" in q:
            return name + ".q"
        s, z = qparams(*act_range(stats, name, rule))
        w.act(name + ".q", dtype="u8")
        w.node("quantize", [name], [name + ".q"], scale=float(s), zero=z)
        q[name + ".q"] = (s, z)
        return name + ".q"

    def as_f32(name):
        if name not in q:
            return name
        s, z = q[name]
        if name + ".f" not in w.index:
            w.node("dequantize", [name], [name + ".f"], scale=float(s), zero=z)
        return name + ".f"

    for op, ins, outs, attrs in model["nodes"]:
        cur = ins[0]
        if op == "conv2d" and vals[ins[1]]["shape"][3] * attrs.get("groups", [1])[0] > 1:
            xin = cur if cur in q else as_u8(cur)
            sx, zx = q[xin]
            wf = np.array(vals[ins[1]]["data"], np.float64)
            oc = wf.shape[0]
            bf = np.array(vals[ins[2]]["data"], np.float64) if len(ins) > 2 else np.zeros(oc)
            sw = np.abs(wf.reshape(oc, -1)).max(axis=1) / WMAX
            sw[sw == 0] = 1.0
            wq = np.clip(np.rint(wf / sw[:, None, None, None]), -WMAX, WMAX).astype(np.int8)
            sy, zy = qparams(*act_range(stats, outs[0], rule))
            bq = np.clip(np.rint(bf / (float(sx) * sw)), -2**31, 2**31 - 1).astype(np.int32)
            mult = (float(sx) * sw / float(sy)).astype(np.float32)
            act = attrs.get("act", [0])[0]
            lo = zy if act in (1, 2) else 0
            hi = min(255, zy + int(np.rint(6.0 / float(sy)))) if act == 2 else 255
            name = outs[0]
            w.param(name + ".wq", wq, dtype="i8")
            w.param(name + ".bq", bq, dtype="i32")
            w.param(name + ".m", mult)
            w.act(name, dtype="u8")
            w.node("conv2d_q8", [xin, name + ".wq", name + ".bq", name + ".m"], [name],
                   stride=attrs.get("stride", [1, 1]), pad=attrs.get("pad", [0, 0, 0, 0]),
                   dilation=attrs.get("dilation", [1, 1]), groups=attrs.get("groups", [1])[0], x_zero=zx, y_zero=zy,
                   clamp=[lo, hi])
            q[name] = (sy, zy)
        elif op == "maxpool2d" and cur in q:
            w.act(outs[0], dtype="u8")
            w.node("maxpool2d_q8", [cur], [outs[0]], **attrs)
            q[outs[0]] = q[cur]
        else:
            xin = as_f32(cur)
            new_ins = [xin]
            for p in ins[1:]:
                v = vals[p]
                if p not in w.index:
                    w.param(p, np.array(v["data"], np.float32))
                new_ins.append(p)
            w.node(op, new_ins, outs, **attrs)
    for o in model["outputs"]:
        w.output(o)
    return w


def heldout_dir(items, root):
    """DIR/<class>/ of symlinks, the layout `ferc eval` reads."""
    for p, c in items:
        os.makedirs(os.path.join(root, c), exist_ok=True)
        os.symlink(os.path.abspath(p), os.path.join(root, c, os.path.basename(p)))


def ferc_eval(ferc, data, model):
    r = subprocess.run([ferc, "eval", "--data", data, "--model", model, "--threads", "1"], check=True,
                       capture_output=True, text=True)
    return json.loads(r.stdout)["accuracy"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="float .ferc emotion CNN")
    ap.add_argument("out", help="int8 .ferc to write")
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "fer2013"),
                    help="FER2013 with train/<class>/ (only train is read)")
    ap.add_argument("--calib", type=int, default=2000, help="train images for the activation ranges")
    ap.add_argument("--heldout", type=int, default=3000, help="other train images to choose the range rule on")
    ap.add_argument("--rules", default="minmax,99.999,99.99,99.9", help="candidate range rules")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--ferc", default=os.path.join(ROOT, "ferc"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = fercfile.read(args.model)
    if model["meta"].get("precision") == "int8":
        raise SystemExit(f"{args.model} is already int8")
    net = FercNet(model).eval()
    calib, held = train_split(args.data, args.calib, args.heldout, args.seed)
    rules = args.rules.split(",")
    stats = calibrate(net, load_faces([p for p, _ in calib], model["meta"]),
                      [float(r) for r in rules if r != "minmax"], args.seed)
    for k in list(stats):  # percentile keys as the rule strings
        for r in rules:
            if r != "minmax":
                stats[k]["p" + r] = stats[k].pop("p" + str(float(r)))
    tmp = tempfile.mkdtemp(prefix="ferc_quantize_")
    try:
        heldout_dir(held, os.path.join(tmp, "heldout"))
        results = {"fp32": ferc_eval(args.ferc, os.path.join(tmp, "heldout"), args.model)}
        for r in rules:
            w = quantize_model(model, stats, r, f"candidate {r}")
            path = os.path.join(tmp, f"{r}.ferc")
            w.save(path)
            results[r] = ferc_eval(args.ferc, os.path.join(tmp, "heldout"), path)
            print(f"held-out train ({args.heldout} images): {r:8s} {results[r]:.4f}  (fp32 {results['fp32']:.4f})",
                  flush=True)
        best = max(rules, key=lambda r: (results[r], r == "minmax"))
        how = (f"int8 weights per output channel (-64..64), uint8 activations per tensor; range rule "
               f"{best} of {args.calib} FER2013 train images (seed {args.seed}), chosen among "
               f"{', '.join(f'{r} {results[r]:.4f}' for r in rules)} on {args.heldout} other train images "
               f"(fp32 {results['fp32']:.4f}); first conv and head fp32; "
               f"command: tools/model/quantize.py {os.path.basename(args.model)} {os.path.basename(args.out)}")
        quantize_model(model, stats, best, how).save(args.out)
        print(f"{args.out}: rule {best}")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
