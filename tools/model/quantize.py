"""Quantise a float ferc emotion CNN or face detector to int8 (kernels/q8.h, docs/FORMAT.md "int8").

    /usr/bin/python3 tools/model/quantize.py weights/emotion_cnn.ferc weights/emotion_cnn.q8.ferc
    /usr/bin/python3 tools/model/quantize.py weights/face_yunet.ferc weights/face_yunet.q8.ferc --calib 200 --heldout 100 --fp32 212,252,255,256,259,260,263,292,295

(Face detectors, metadata task=face-detection, follow main_detector: calibration on composites,
the rule chosen by agreement with the fp32 detector's faces; docs/performance.md, "YuNet in
int8". What follows describes the emotion CNNs.)

Weights: symmetric int8 per output channel, limited to -64..64 (so AVX2's vpmaddubsw cannot
saturate; depthwise filters -127..127, which AVX2 runs on 16-bit codes), bias in int32 at scale
s_x * s_w. Activations: uint8 per tensor, scale and zero point from calibration on --calib
(2,000) FER2013 *train* images; ReLU and ReLU6 become the output clamp. The first convolution
(reading the input, one channel: little work, most sensitive) and everything after the last
convolution (global pool, dense, softmax) stay fp32; a quantize node sits before the first int8
convolution and a dequantize after the last. An ensemble (tools/model/ensemble.py) is quantised
member by member the same way, the sum of their logits fp32.

The activation range rule is chosen, not assumed: each candidate (min/max and percentiles of
the calibration activations) is written and run by the C engine on --heldout (3,000) other
train images, never on val, beside the fp32 file. The goal is the fp32 model's answer on every
face, so the rule whose largest probability difference to fp32 over the held-out faces is
smallest wins. Top-emotion agreement, the mean difference and accuracy are printed beside it:
held-out accuracy moves between rules by a few faces of 3,000, which is noise (it picked
percentiles that moved single faces' probabilities by 0.2 to 0.3, where min/max stays under 0.05;
weights/emotion_small.md).
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
WMAX_DW = 127  # depthwise filters (kh x kw weights a channel) may use the finer grid: kernels/q8.h
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


def _refuse(msg):
    raise SystemExit(msg)


class GraphNet:
    """Any ferc graph of the ops the face detectors and the emotion CNNs use (conv2d, maxpool2d,
    nearest resize, add, reshape, sigmoid; global average pool, flatten, identity, dense,
    softmax) run in torch, NCHW, for calibration: record(name, x) sees every node's output
    (statistics are layout-free, so reshape only passes its input on). The emotion CNNs that are
    one chain keep FercNet, so their files stay the bytes they were; ensembles
    (tools/model/ensemble.py: members side by side, their logits added) come here."""

    def __init__(self, model):
        vals = {v["name"]: v for v in model["values"]}
        self.steps = []
        for op, ins, outs, attrs in model["nodes"]:
            if op == "conv2d":
                pad = attrs.get("pad", [0, 0, 0, 0])
                if pad[0] != pad[2] or pad[1] != pad[3]:
                    raise SystemExit(f"{outs[0]}: asymmetric padding is not supported here")
                w = torch.from_numpy(np.array(vals[ins[1]]["data"], np.float32)).permute(0, 3, 1, 2).contiguous()
                b = torch.from_numpy(np.array(vals[ins[2]]["data"], np.float32)) if len(ins) > 2 else None
                act = attrs.get("act", [0])[0]
                if act not in (0, 1, 2):
                    raise SystemExit(f"{outs[0]}: activation {act} is not supported by the int8 path")
                fn = (lambda x, w=w, b=b, a=attrs, act=act, pad=pad: (lambda y: y.clamp(0, 6) if act == 2 else
                      y.clamp_min(0) if act == 1 else y)(torch.nn.functional.conv2d(
                          x, w, b, tuple(a.get("stride", [1, 1])), (pad[0], pad[1]), tuple(a.get("dilation", [1, 1])),
                          a.get("groups", [1])[0])))
            elif op == "maxpool2d":
                if any(attrs.get("pad", [0])) or attrs.get("ceil_mode", [0])[0]:
                    raise SystemExit(f"{outs[0]}: padded or ceil-mode pooling is not supported here")
                fn = (lambda x, a=attrs: torch.nn.functional.max_pool2d(x, tuple(a["kernel"]),
                                                                        tuple(a.get("stride", a["kernel"]))))
            elif op == "resize":
                sc = attrs.get("scale", [0, 0])
                if attrs.get("linear", [0])[0] or sc[0] != int(sc[0]) or sc[0] != sc[1]:
                    raise SystemExit(f"{outs[0]}: only nearest resizing by an integer factor is supported here")
                fn = (lambda x, f=int(sc[0]): x.repeat_interleave(f, 2).repeat_interleave(f, 3))
            elif op == "add":
                fn = (lambda x, y: x + y)
            elif op == "reshape":
                fn = (lambda x: x)
            elif op == "sigmoid":
                fn = torch.sigmoid
            elif op == "global_avgpool":
                fn = (lambda x: x.mean((2, 3), keepdim=True))
            elif op == "flatten":
                fn = (lambda x: x.flatten(1) if x.dim() < 4 or x.shape[2] * x.shape[3] == 1 else
                      _refuse("flatten of a spatial map: NHWC order would differ from torch's"))
            elif op == "identity":
                fn = (lambda x: x)
            elif op == "dense":
                if attrs.get("act", [0])[0]:
                    raise SystemExit(f"{outs[0]}: dense with a fused activation is not supported here")
                w = torch.from_numpy(np.array(vals[ins[1]]["data"], np.float32))
                b = torch.from_numpy(np.array(vals[ins[2]]["data"], np.float32)) if len(ins) > 2 else None
                fn = (lambda x, w=w, b=b: torch.nn.functional.linear(x, w, b))
            elif op == "softmax":
                fn = (lambda x: torch.softmax(x, 1))
            else:
                raise SystemExit(f"op {op} ({outs[0]}) is not supported by tools/model/quantize.py")
            acts = [i for i in ins if vals[i]["kind"] != "param"]
            self.steps.append((fn, acts, outs[0]))
        self.input = next(v["name"] for v in model["values"] if v["kind"] == "input")
        self.record = None

    def __call__(self, x):
        env = {self.input: x}
        if self.record:
            self.record(self.input, x)
        for fn, ins, out in self.steps:
            env[out] = fn(*[env[i] for i in ins])
            if self.record:
                self.record(out, env[out])
        return env


def is_chain(model):
    """Every node reads the previous node's output (or the input, first)."""
    prev = next(v["name"] for v in model["values"] if v["kind"] == "input")
    vals = {v["name"]: v for v in model["values"]}
    for _, ins, outs, _ in model["nodes"]:
        if [i for i in ins if vals[i]["kind"] != "param"] != [prev]:
            return False
        prev = outs[0]
    return True


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
        samples.setdefault(name, []).append(rng.choice(a, size=min(a.size, 200000 * (1 if isinstance(faces, list) else 64) // len(faces) + 1)))

    net.record = record
    with torch.no_grad():
        if isinstance(faces, list):  # detector inputs: one image at a time, sizes differ
            for f in faces:
                net(f)
        else:
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
    lo, hi = (st["min"], st["max"]) if rule == "minmax" or st.get("input") else st["p" + rule]
    return min(lo, 0.0), max(hi, 1e-8)


def qparams(lo, hi):
    """uint8 scale and zero point for [lo, hi] (lo <= 0 <= hi): real zero is exact."""
    s = (hi - lo) / 255.0
    z = int(np.clip(np.rint(-lo / s), 0, 255))
    return np.float32(s), z


# ---- the int8 graph --------------------------------------------------------------------------

def quantize_model(model, stats, rule, how, keep_fp32=(), dw_wmax=WMAX_DW):
    vals = {v["name"]: v for v in model["values"]}
    inputs = {v["name"] for v in model["values"] if v["kind"] == "input"}
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
        # fp32 stays: the first convolution (reading the network's input: one gray channel in
        # the emotion CNNs, most sensitive; three BGR channels in the detectors, which the
        # int8 path can only gather into panels, slower than fp32), convolutions with fewer
        # than 16 outputs (the detectors' heads), and those named by --fp32
        if (op == "conv2d" and cur not in inputs and vals[ins[1]]["shape"][0] >= 16 and
                outs[0] not in keep_fp32):
            xin = cur if cur in q else as_u8(cur)
            sx, zx = q[xin]
            wf = np.array(vals[ins[1]]["data"], np.float64)
            oc = wf.shape[0]
            bf = np.array(vals[ins[2]]["data"], np.float64) if len(ins) > 2 else np.zeros(oc)
            g = attrs.get("groups", [1])[0]
            wmax = dw_wmax if g > 1 and g == oc and wf.shape[3] == 1 else WMAX
            sw = np.abs(wf.reshape(oc, -1)).max(axis=1) / wmax
            sw[sw == 0] = 1.0
            wq = np.clip(np.rint(wf / sw[:, None, None, None]), -wmax, wmax).astype(np.int8)
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
            new_ins = []
            for p in ins:
                v = vals[p]
                if v["kind"] != "param":
                    new_ins.append(as_f32(p))
                    continue
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


def ferc_answers(ferc, data, model):
    """{file: (true class, 7 probabilities in CLASSES order)} of every face under data/<class>/,
    from the command's JSON."""
    r = subprocess.run([ferc, "--no-detect", "--model", model, "--threads", "1", data], check=True,
                       capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        o = json.loads(line)
        out[o["file"]] = (os.path.basename(os.path.dirname(o["file"])),
                          np.array([o["faces"][0]["probabilities"][c] for c in CLASSES]))
    return out


def answer_stats(ans, ref):
    """Accuracy of ans; against ref: top-emotion agreement, mean and largest absolute probability
    difference."""
    acc = np.mean([CLASSES[p.argmax()] == c for c, p in ans.values()])
    agree = np.mean([p.argmax() == ref[f][1].argmax() for f, (_, p) in ans.items()])
    d = np.array([np.abs(p - ref[f][1]) for f, (_, p) in ans.items()])
    return acc, agree, float(d.mean()), float(d.max())


# ---- face detectors --------------------------------------------------------------------------

# scikit-image photos the test fixtures do not use (they use astronaut, coffee and camera)
BACKGROUNDS = ["chelsea", "rocket", "immunohistochemistry", "hubble_deep_field", "retina", "horse", "colorwheel",
               "brick", "grass", "gravel", "cat", "page", "text", "checkerboard"]


def composites(data, n, seed):
    """n 640x480 BGR photos: a scikit-image background with 2 to 8 FER2013 *train* faces (gray,
    48x48, enlarged to 40..200 pixels) pasted on it, some mirrored; and the backgrounds alone."""
    import cv2
    import skimage.data as sd
    rng = random.Random(seed)
    faces = sorted(glob.glob(os.path.join(data, "train", "*", "*")))
    rng.shuffle(faces)
    out = []
    for i in range(n):
        a = getattr(sd, BACKGROUNDS[i % len(BACKGROUNDS)])()
        a = np.dstack([a] * 3) if a.ndim == 2 else a[:, :, :3]
        if a.dtype != np.uint8:
            a = (a * 255).astype(np.uint8)
        img = cv2.resize(cv2.cvtColor(a, cv2.COLOR_RGB2BGR), (640, 480), interpolation=cv2.INTER_AREA)
        for _ in range(0 if i < len(BACKGROUNDS) else rng.randint(2, 8)):
            f = cv2.imread(faces.pop(), cv2.IMREAD_GRAYSCALE)
            sz = rng.randint(40, 200)
            f = cv2.resize(f, (sz, sz), interpolation=cv2.INTER_LINEAR)
            if rng.random() < 0.5:
                f = f[:, ::-1]
            x, y = rng.randint(0, 640 - sz), rng.randint(0, 480 - sz)
            img[y:y + sz, x:x + sz] = f[:, :, None]
        out.append(img)
    return out


def detector_input(img, long_side):
    """As detect/yunet.c feeds the network: long side scaled to long_side (cv2.resize, INTER_AREA
    to shrink, INTER_LINEAR to enlarge), zero-padded right and bottom to multiples of 32, BGR
    0..255 floats. NCHW."""
    import cv2
    h, w = img.shape[:2]
    sc = long_side / max(h, w)
    nw, nh = max(1, round(w * sc)), max(1, round(h * sc))
    r = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if sc < 1 else cv2.INTER_LINEAR)
    x = np.zeros(((nh + 31) // 32 * 32, (nw + 31) // 32 * 32, 3), np.float32)
    x[:nh, :nw] = r
    return torch.from_numpy(x.transpose(2, 0, 1)[None].copy())


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return ix * iy / (aw * ah + bw * bh - ix * iy)


def detections(ferc, model, paths):
    """Boxes `ferc` finds with this detector file, per image (default threshold and size)."""
    r = subprocess.run([ferc, "--detector", "yunet", "--detector-model", model, "--classifier", "small",
                        "--threads", "1", "--format", "json"] + paths, check=True, capture_output=True, text=True)
    return [[f["box"] for f in json.loads(line)["faces"]] for line in r.stdout.splitlines()]


def agreement(ref, got):
    """Faces of ref found again with IoU >= 0.95, and faces either side has that the other lacks."""
    same = missing = 0
    for a, b in zip(ref, got):
        m = sum(1 for x in a if any(iou(x, y) >= 0.95 for y in b))
        same += m
        missing += len(a) - m + max(0, len(b) - m)
    return same, missing


def main_detector(args, model):
    """A face detector: calibration on composites and scikit-image photos (never the test
    fixtures); the range rule chosen by agreement with the fp32 detector's faces on other
    composites, run by the C engine."""
    import cv2
    keep = set(filter(None, args.fp32.split(",")))
    stats_imgs = composites(args.data, args.calib, args.seed)
    net = GraphNet(model)
    rules = args.rules.split(",")
    inputs = [detector_input(im, 640) for im in stats_imgs]
    stats = calibrate(net, inputs, [float(r) for r in rules if r != "minmax"], args.seed)
    for k in list(stats):
        for r in rules:
            if r != "minmax":
                stats[k]["p" + r] = stats[k].pop("p" + str(float(r)))
    stats[net.input]["input"] = True  # raw pixels: the whole 0..255, scale 1, exact
    tmp = tempfile.mkdtemp(prefix="ferc_quantize_")
    try:
        held = []
        for i, im in enumerate(composites(args.data, args.heldout, args.seed + 1)):
            held.append(os.path.join(tmp, f"held{i}.png"))
            cv2.imwrite(held[-1], im)
        ref = detections(args.ferc, args.model, held)
        results = {}
        for r in rules:
            path = os.path.join(tmp, f"{r}.ferc")
            quantize_model(model, stats, r, f"candidate {r}", keep).save(path)
            results[r] = agreement(ref, detections(args.ferc, path, held))
            print(f"held-out composites ({len(held)}, {sum(map(len, ref))} fp32 faces): {r:8s} same {results[r][0]}, "
                  f"differing {results[r][1]}", flush=True)
        best = max(rules, key=lambda r: (results[r][0] - results[r][1], r == "minmax"))
        how = (f"int8 weights per output channel (-64..64, depthwise -127..127), uint8 activations per tensor; "
               f"range rule {best} of {args.calib} calibration images (640x480: scikit-image photos the tests do not "
               f"use, and FER2013 train faces pasted on them; seed {args.seed}), chosen among "
               f"{', '.join(f'{r} {results[r][0]} same / {results[r][1]} differing' for r in rules)} faces against fp32 "
               f"(IoU >= 0.95) on {len(held)} other composites ({sum(map(len, ref))} fp32 faces); heads (convolutions "
               f"with fewer than 16 outputs), first convolution{', ' + args.fp32 if keep else ''}, resize and add "
               f"fp32; command: tools/model/quantize.py {os.path.basename(args.model)} {os.path.basename(args.out)} "
               f"--calib {args.calib} --heldout {args.heldout}{' --fp32 ' + args.fp32 if keep else ''}")
        quantize_model(model, stats, best, how, keep).save(args.out)
        print(f"{args.out}: rule {best}")
    finally:
        shutil.rmtree(tmp)


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
    ap.add_argument("--fp32", default="", help="convolutions (output names, comma-separated) to keep fp32")
    ap.add_argument("--ferc", default=os.path.join(ROOT, "ferc"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = fercfile.read(args.model)
    if model["meta"].get("precision") == "int8":
        raise SystemExit(f"{args.model} is already int8")
    if model["meta"].get("task") == "face-detection":
        return main_detector(args, model)
    net = FercNet(model).eval() if is_chain(model) else GraphNet(model)
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
        ref = ferc_answers(args.ferc, os.path.join(tmp, "heldout"), args.model)
        fp32_acc = answer_stats(ref, ref)[0]
        results = {}
        for r in rules:
            w = quantize_model(model, stats, r, f"candidate {r}")
            path = os.path.join(tmp, f"{r}.ferc")
            w.save(path)
            results[r] = answer_stats(ferc_answers(args.ferc, os.path.join(tmp, "heldout"), path), ref)
            print(f"held-out train ({args.heldout} images): {r:8s} |int8 - fp32| probability mean {results[r][2]:.5f} "
                  f"largest {results[r][3]:.4f}, top emotion agrees {results[r][1]:.4f}, accuracy {results[r][0]:.4f} "
                  f"(fp32 {fp32_acc:.4f})", flush=True)
        best = min(rules, key=lambda r: results[r][3])
        how = (f"int8 weights per output channel (-64..64), uint8 activations per tensor; range rule "
               f"{best} of {args.calib} FER2013 train images (seed {args.seed}), chosen by the largest |int8 - fp32| "
               f"probability among "
               f"{', '.join(f'{r} {results[r][3]:.4f} (accuracy {results[r][0]:.4f})' for r in rules)} on "
               f"{args.heldout} other train images (fp32 accuracy {fp32_acc:.4f}); first conv and head fp32; "
               f"command: tools/model/quantize.py {os.path.basename(args.model)} {os.path.basename(args.out)}")
        quantize_model(model, stats, best, how).save(args.out)
        print(f"{args.out}: rule {best}")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
