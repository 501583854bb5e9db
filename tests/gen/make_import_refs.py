"""Reference tensors for tests/test_import.c: converted models against the source runtime,
node by node.

  zoo     PyTorch models (every ONNX op the converter handles, an SE block, an upsampling
          neck, a depthwise stack, Flatten+Gemm / MatMul heads, a graph exported with dynamic
          H and W) exported with torch.onnx, converted by tools/model/convert.py, every node
          computed by PyTorch (tests/gen/onnx_torch.py, whose outputs must equal the modules').
  yunet   weights/face_yunet.ferc against cv2.dnn.readNetFromONNX (OpenCV 4.6) on the fixed
          320x320 and 640x640 files, input tests/data/faces_group.png tiled to the size.
  keras   two Keras files written here with h5py (every layer type keras_reader.py handles;
          functional and Sequential) against tests/gen/keras_numpy.py.
  xception weights/mini_xception.ferc, big_xception.ferc against tests/gen/keras_numpy.py on
          ten FER2013 val faces (needs ../shared).

Each case is a model and NAME.ref.ferc holding the input (or, for YuNet, meta naming the
image to tile) and, per activation V: V@shape, V@max (max |ref| over the whole tensor),
V@val (all values up to 2,048, else one from each of 2,048 equal strata, the index drawn by
splitmix64 seeded from V's name, which the C test repeats). Nothing larger is stored: whole YuNet activations would be hundreds of MB.

    /usr/bin/python3 tests/gen/make_import_refs.py [--only zoo|pt|yunet|keras|xception]
"""
import argparse
import io
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [HERE, os.path.join(ROOT, "tools", "model")]
import convert  # noqa: E402
import fercfile  # noqa: E402

OUT = os.path.join(ROOT, "tests", "ref", "import")
SHARED = os.path.join(ROOT, "..", "shared")
SAMPLE = 2048
FER_LABELS = "angry,disgust,fear,happy,sad,surprise,neutral"


M64 = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def fnv1a(s):
    h = 2166136261
    for b in s.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def sample_indices(name, numel):
    """One index from each of min(numel, 2048) equal strata of the flat tensor, drawn by
    splitmix64 seeded with FNV-1a of the name; tests/test_import.c draws the same ones."""
    s = min(numel, SAMPLE)
    seed = fnv1a(name)
    out = []
    for k in range(s):
        lo, hi = k * numel // s, (k + 1) * numel // s
        out.append(lo + splitmix64(seed ^ k) % (hi - lo))
    return np.asarray(out, np.int64)


def sampled(name, a):
    flat = np.ascontiguousarray(a, np.float32).reshape(-1)
    idx = sample_indices(name, flat.size)
    return {f"{name}@shape": np.asarray(a.shape, np.float32), f"{name}@max": np.float32(np.abs(flat).max()),
            f"{name}@val": flat[idx]}


def to_ferc(r, lay):
    """A reference tensor in the graph's layout -> ferc's memory order."""
    r = np.asarray(r, np.float32)
    if lay == "nchw":
        return r.transpose(0, 2, 3, 1)
    if isinstance(lay, tuple):  # ("flat_hwc", c, h, w): ferc flattened (y, x, c)
        _, c, h, w = lay
        return r.reshape(r.shape[0], c, h, w).transpose(0, 2, 3, 1).reshape(r.shape[0], -1)
    return r


def write_ref(case, model_path, refs, layout, input_nhwc=None, meta=None):
    """refs: graph tensor name -> array in the graph's layout; only the model's activations are stored."""
    f = fercfile.read(model_path)
    acts = [v["name"] for v in f["values"] if v["kind"] == "act"]
    tensors = {}
    if input_nhwc is not None:
        tensors["input"] = np.asarray(input_nhwc, np.float32)
    missing = []
    for a in acts:
        if a not in refs:
            missing.append(a)
            continue
        r = to_ferc(refs[a], layout.get(a))
        tensors.update(sampled(a, r))
    fercfile.write_tensors(os.path.join(OUT, case + ".ref.ferc"), tensors, meta)
    print(f"{case}: {len(acts) - len(missing)} of {len(acts)} activations compared"
          + (f" (no reference for {missing})" if missing else ""))
    return missing


def check_c(model_path, x_nhwc, refs, layout, atol_frac=1e-5, rtol=1e-4):
    """The C engine (libferc.so) against refs, as the C test will do; returns the worst fraction."""
    import ferc_run
    got = ferc_run.run(model_path, x_nhwc)
    worst = (0.0, "")
    for k, g in got.items():
        if k not in refs:
            continue
        r = to_ferc(refs[k], layout.get(k)).reshape(g.shape)
        tol = rtol * np.abs(r) + atol_frac * np.abs(r).max() + 1e-30
        w = float((np.abs(g - r) / tol).max())
        if w > worst[0]:
            worst = (w, k)
    return worst


# ---- the PyTorch zoo

def zoo_models():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Conv(nn.Module):  # asymmetric zero pad, BN kept by the exporter, groups, dilation, act fusion
        def __init__(self):
            super().__init__()
            self.pad = nn.ZeroPad2d((1, 0, 2, 1))
            self.c1, self.b1 = nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)
            self.c2, self.b2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8), nn.BatchNorm2d(8)
            self.c3 = nn.Conv2d(8, 6, (1, 3), stride=(2, 1), padding=(0, 1), groups=2)
            self.prelu = nn.PReLU(6)

        def forward(self, x):
            x = F.relu(self.b1(self.c1(self.pad(x))))
            x = F.relu6(self.b2(self.c2(x)))
            return self.prelu(F.leaky_relu(self.c3(x), 0.2))

    class Act(nn.Module):  # unary ops, clip, constant broadcasting, channel softmax
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 4, 3, padding=1)
            self.scale = nn.Parameter(torch.randn(1, 16, 1, 1))
            self.shift = nn.Parameter(torch.randn(16, 1, 1))

        def forward(self, x):
            x = self.c(x)
            x = torch.cat([torch.sigmoid(x), torch.tanh(x), F.hardsigmoid(x), F.hardswish(x)], 1)
            x = torch.clamp(x * 3, -0.5, 0.7)
            x = (x * self.scale + self.shift - 0.25) / 1.5
            return torch.softmax(2 - x, 1)

    class Pool(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 5, 3)
            self.fc = nn.Linear(10, 4)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.c(x)), 3, 2, 1, ceil_mode=True)
            a = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
            b = F.avg_pool2d(x, 2, 1, 1, count_include_pad=True)
            b = F.max_pool2d(b, 2, 2)
            x = torch.cat([a, b], 1)
            return self.fc(torch.flatten(F.adaptive_max_pool2d(x, 1), 1))

    class SE(nn.Module):
        def __init__(self, c=16):
            super().__init__()
            self.c = nn.Conv2d(3, c, 3, padding=1)
            self.fc1, self.fc2 = nn.Linear(c, 4), nn.Linear(4, c)

        def forward(self, x):
            x = F.relu(self.c(x))
            s = torch.sigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1).flatten(1)))))
            return F.relu(x * s.view(-1, x.shape[1], 1, 1) + x)

    class Neck(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, 3, padding=1)
            self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
            self.c3 = nn.Conv2d(16, 16, 3, stride=2, padding=1)
            self.l1, self.l2 = nn.Conv2d(8, 8, 1), nn.Conv2d(16, 8, 1)
            self.l3 = nn.Conv2d(16, 8, 1)

        def forward(self, x):
            c1 = F.relu(self.c1(x))
            c2 = F.relu(self.c2(c1))
            c3 = F.relu(self.c3(c2))
            p3 = self.l3(c3)
            p2 = self.l2(c2) + F.interpolate(p3, scale_factor=2, mode="nearest")
            p1 = self.l1(c1) + F.interpolate(p2, scale_factor=2, mode="bilinear", align_corners=False)
            q1 = F.interpolate(p2, scale_factor=2, mode="bilinear", align_corners=True)
            return torch.cat([p1, q1], 1)

    class DW(nn.Module):  # depthwise-separable stack (MobileNet style)
        def __init__(self):
            super().__init__()
            layers, c = [nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU6()], 8
            for i, (co, s) in enumerate([(16, 1), (24, 2), (24, 1)]):
                layers += [nn.Conv2d(c, c, 3, s, 1, groups=c), nn.BatchNorm2d(c), nn.ReLU6(),
                           nn.Conv2d(c, co, 1), nn.BatchNorm2d(co), nn.Hardswish()]
                c = co
            self.f = nn.Sequential(*layers)
            self.fc = nn.Linear(c, 5)

        def forward(self, x):
            return self.fc(self.f(x).mean((2, 3)))

    class Head(nn.Module):  # Flatten of a C x H x W map into Gemm, then MatMul + bias
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(1, 6, 3, padding=1)
            self.fc = nn.Linear(6 * 5 * 6, 12)
            self.w = nn.Parameter(torch.randn(12, 7) * 0.3)
            self.b = nn.Parameter(torch.randn(7))

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.c(x)), 2)
            x = F.dropout(torch.flatten(x, 1), 0.5, self.training)
            return torch.relu(self.fc(x)) @ self.w + self.b

    class Dyn(nn.Module):  # exported with dynamic H, W: Resize by a size taken from Shape, reshaped head
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, 3, padding=1)
            self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
            self.h = nn.Conv2d(8, 4, 1)

        def forward(self, x):
            a = F.relu(self.c1(x))
            b = F.interpolate(F.relu(self.c2(a)), size=a.shape[2:], mode="nearest")
            y = self.h(a + b)
            return torch.sigmoid(y.permute(0, 2, 3, 1).reshape(y.shape[0], -1, 4))

    class Deconv(nn.Module):  # transposed convolutions: stride, padding, output_padding, groups, dilation
        def __init__(self):
            super().__init__()
            torch.manual_seed(5)  # own stream (inside fork_rng below): the other cases stay as they were
            self.c = nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.d1, self.b1 = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1, groups=2), nn.BatchNorm2d(6)
            self.d2 = nn.ConvTranspose2d(6, 4, (2, 3), stride=(1, 2), padding=(0, 1), dilation=2, bias=False)

        def forward(self, x):
            x = F.relu(self.b1(self.d1(F.relu(self.c(x)))))
            return F.leaky_relu(self.d2(x), 0.1)

    with torch.random.fork_rng():
        deconv = Deconv()
    return [  # name, module, input NCHW, opset, keep BN, dynamic H/W, extra sizes
        ("zoo_conv", Conv(), (1, 3, 11, 13), 13, True, False, []),
        ("zoo_act", Act(), (2, 3, 7, 9), 13, False, False, []),
        ("zoo_pool", Pool(), (1, 3, 15, 14), 11, False, False, []),
        ("zoo_se", SE(), (2, 3, 9, 10), 13, False, False, []),
        ("zoo_neck", Neck(), (1, 3, 16, 20), 11, False, False, []),
        ("zoo_dw", DW(), (1, 3, 24, 20), 13, True, False, []),
        ("zoo_head", Head(), (3, 1, 10, 12), 13, False, False, []),
        ("zoo_dyn", Dyn(), (1, 3, 12, 16), 11, False, True, [(20, 10)]),
        ("zoo_deconv", deconv, (1, 3, 10, 9), 13, True, False, []),
    ]


def make_zoo(cases):
    import onnx
    import torch
    import onnx_torch
    torch.manual_seed(0)
    for name, mod, shape, opset, keep_bn, dyn, extra in zoo_models():
        mod.eval()
        for m in mod.modules():  # non-trivial batch-norm statistics
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.data.uniform_(0.5, 1.5)
        x = torch.randn(*shape)
        buf = io.BytesIO()
        kw = dict(opset_version=opset, input_names=["input"], output_names=["output"])
        if keep_bn:
            kw.update(do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
        if dyn:
            kw["dynamic_axes"] = {"input": {0: "batch", 2: "h", 3: "w"}}
        torch.onnx.export(mod, x, buf, **kw)
        model = onnx.load_from_string(buf.getvalue())
        src = os.path.join("/tmp", name + ".onnx")
        with open(src, "wb") as f:
            f.write(buf.getvalue())
        dst = os.path.join(OUT, name + ".ferc")
        low, _ = convert.convert(src, dst, name, "generic", input_size=shape[2:] if dyn else None)
        for k, (h, w) in enumerate([tuple(shape[2:])] + list(extra)):
            xi = torch.randn(shape[0], shape[1], h, w) if k else x
            vals = onnx_torch.run(model, xi.numpy())
            with torch.no_grad():
                want = mod(xi).numpy()
            got = vals[model.graph.output[0].name]
            assert np.abs(got - want).max() <= 1e-5 * (1 + np.abs(want).max()), f"{name}: interpreter != module"
            xn = xi.numpy().transpose(0, 2, 3, 1)
            case = name if not k else f"{name}_{h}x{w}"
            worst = check_c(dst, xn, vals, low.layout)
            print(f"  {case}: C engine worst {worst[0]:.3f} of the tolerance at {worst[1]}")
            write_ref(case, dst, vals, low.layout, xn)
            cases.append(("ref/import/" + name + ".ferc", "ref/import/" + case + ".ref.ferc"))


def make_pt(cases):
    """A train.py checkpoint (the 'small' model, random weights and batch-norm statistics,
    saved with train.py's keys) through convert.py's .pt path."""
    import onnx
    import torch
    import models
    import onnx_torch
    torch.manual_seed(1)
    m = models.build("small")
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.3, 0.3)
            mod.running_var.uniform_(0.5, 2.0)
    m.eval()
    ck = "/tmp/pt_small.pt"
    torch.save(dict(model="small", epoch=3, metrics={"val_acc": 0.5, "val_acc_tta": 0.51}, mean=models.MEAN,
                    std=models.STD, clahe=None, equalize=False, classes=FER_LABELS.split(","),
                    state_dict=m.state_dict()), ck)
    dst = os.path.join(OUT, "pt_small.ferc")
    low, _ = convert.convert(ck, dst, "pt_small")
    x = torch.randn(2, 1, models.INPUT_SIZE, models.INPUT_SIZE)
    buf = io.BytesIO()  # the export pt_reader makes, for the per-node values
    torch.onnx.export(m, torch.zeros(1, 1, models.INPUT_SIZE, models.INPUT_SIZE), buf, opset_version=13,
                      input_names=["input"], output_names=["logits"])
    vals = onnx_torch.run(onnx.load_from_string(buf.getvalue()), x.numpy())
    with torch.no_grad():
        want = m(x).numpy()
    assert np.abs(vals["logits"] - want).max() <= 1e-5 * (1 + np.abs(want).max())
    xn = x.numpy().transpose(0, 2, 3, 1)
    worst = check_c(dst, xn, vals, low.layout)
    print(f"  pt_small: C engine worst {worst[0]:.3f} of the tolerance at {worst[1]}")
    write_ref("pt_small", dst, vals, low.layout, xn)
    cases.append(("ref/import/pt_small.ferc", "ref/import/pt_small.ref.ferc"))


# ---- YuNet against OpenCV

def tiled_bgr(h, w):
    import cv2
    img = cv2.imread(os.path.join(ROOT, "tests", "data", "faces_group.png"), cv2.IMREAD_COLOR)
    ys, xs = np.arange(h) % img.shape[0], np.arange(w) % img.shape[1]
    return img[ys][:, xs].astype(np.float32)


def make_yunet(cases):
    import cv2
    import onnx
    model = os.path.join(ROOT, "weights", "face_yunet.ferc")
    f = fercfile.read(model)
    acts = [v["name"] for v in f["values"] if v["kind"] == "act"]
    layout = {a: "nchw" for a in acts if len(v_shape(f, a)) == 4}
    for size in (320, 640):
        src = os.path.join(SHARED, "models", "yunet", f"yunet_n_{size}_{size}.onnx")
        m = onnx.load(src)
        prod = {o: n.name for n in m.graph.node for o in n.output}
        net = cv2.dnn.readNetFromONNX(src)
        img = tiled_bgr(size, size)
        net.setInput(img.transpose(2, 0, 1)[None].copy())
        names = [a for a in acts if a in prod]
        outs = net.forward(["onnx_node!" + prod[a] for a in names])
        refs = {a: np.asarray(r) for a, r in zip(names, outs)}
        for a in names:  # cv2 gives 3-D heads as stored; 4-D maps NCHW
            if refs[a].ndim != 4:
                layout.pop(a, None)
        worst = check_c(model, img[None], refs, layout)
        print(f"  yunet_{size}: C engine worst {worst[0]:.3f} of the tolerance at {worst[1]}")
        write_ref(f"yunet_{size}", model, refs, layout, None,
                  {"input_image": "data/faces_group.png", "input_size": f"{size}x{size}", "input_order": "bgr"})
        cases.append(("../weights/face_yunet.ferc", f"ref/import/yunet_{size}.ref.ferc"))


def v_shape(f, name):
    for v in f["values"]:
        if v["name"] == name:
            return v["shape"]
    return ()


# ---- Keras against the NumPy forward pass

def fer_faces(n=10):
    """Ten val faces, two or so per class, in a fixed order; 64x64 as the models' README."""
    import cv2
    val = os.path.join(SHARED, "data", "fer2013", "val")
    faces = []
    for k, cls in enumerate(FER_LABELS.split(",")):
        files = sorted(os.listdir(os.path.join(val, cls)))[: 2 if k < 3 else 1]
        for fn in files:
            g = cv2.imread(os.path.join(val, cls, fn), cv2.IMREAD_GRAYSCALE)
            faces.append(cv2.resize(g, (64, 64)).astype(np.float32))
    x = np.stack(faces[:n])[..., None]
    return (x / 255.0 - 0.5) / 0.5


def keras_synthetic(path, kind):
    """A Keras 2 HDF5 file written with h5py (random weights): 'layers' is a functional model
    with every layer type keras_reader.py handles that the FER files lack; 'sequential' a
    Sequential one."""
    import json
    import h5py
    rng = np.random.default_rng(11)

    def L(cls, name, ins, **cfg):
        return {"class_name": cls, "name": name, "config": dict(name=name, **cfg),
                "inbound_nodes": [[[i, 0, 0, {}] for i in ins]] if ins is not None else []}
    W = {}
    if kind == "sequential":
        layers = [L("Conv2D", "c1", None, filters=4, kernel_size=[3, 3], strides=[1, 1], padding="valid",
                    activation="relu", use_bias=True, batch_input_shape=[None, 9, 8, 1]),
                  L("MaxPooling2D", "p1", None, pool_size=[2, 2], strides=[2, 2], padding="valid"),
                  L("Flatten", "f", None), L("Dense", "d", None, units=3, activation="softmax", use_bias=True)]
        for x in layers:
            del x["inbound_nodes"]
        W = {"c1": {"kernel": rng.normal(size=(3, 3, 1, 4)), "bias": rng.normal(size=4) * 0.1},
             "d": {"kernel": rng.normal(size=(36, 3)) * 0.3, "bias": rng.normal(size=3) * 0.1}}
        cfg = {"class_name": "Sequential", "config": layers}
    else:
        layers = [
            L("InputLayer", "in", None, batch_input_shape=[None, 12, 10, 3]),
            L("ZeroPadding2D", "zp", ["in"], padding=[[1, 2], [0, 1]]),
            L("Conv2D", "c1", ["zp"], filters=6, kernel_size=[3, 3], strides=[2, 2], padding="same", activation="relu",
              use_bias=True),
            L("DepthwiseConv2D", "dw", ["c1"], kernel_size=[3, 3], strides=[1, 1], padding="same", depth_multiplier=2,
              activation="linear", use_bias=True),
            L("BatchNormalization", "bn", ["dw"], axis=-1, epsilon=1e-3, center=True, scale=True),
            L("LeakyReLU", "lr", ["bn"], alpha=0.2),
            L("SeparableConv2D", "sep", ["lr"], filters=8, kernel_size=[3, 3], strides=[1, 1], padding="same",
              depth_multiplier=1, activation="tanh", use_bias=True),
            L("ReLU", "r6", ["sep"], max_value=6.0),
            L("AveragePooling2D", "ap", ["lr"], pool_size=[3, 3], strides=[1, 1], padding="same"),
            L("Conv2D", "c2", ["ap"], filters=8, kernel_size=[1, 1], strides=[1, 1], padding="valid",
              activation="sigmoid", use_bias=False),
            L("Add", "add", ["r6", "c2"]),
            L("MaxPooling2D", "mp", ["add"], pool_size=[2, 2], strides=[2, 2], padding="same"),
            L("AveragePooling2D", "ap2", ["add"], pool_size=[2, 2], strides=[2, 2], padding="valid"),
            L("Concatenate", "cat", ["mp", "ap2"], axis=-1),
            L("Activation", "hs", ["cat"], activation="hard_sigmoid"),
            L("GlobalMaxPooling2D", "gmp", ["hs"]),
            L("Flatten", "fl", ["cat"]),
            L("Dense", "d1", ["fl"], units=10, activation="relu", use_bias=True),
            L("Dropout", "do", ["d1"], rate=0.5),
            L("Concatenate", "cat2", ["do", "gmp"], axis=-1),
            L("Dense", "d2", ["cat2"], units=5, activation="softmax", use_bias=True),
        ]
        W = {"c1": {"kernel": rng.normal(size=(3, 3, 3, 6)) * 0.5, "bias": rng.normal(size=6) * 0.1},
             "dw": {"depthwise_kernel": rng.normal(size=(3, 3, 6, 2)) * 0.5, "bias": rng.normal(size=12) * 0.1},
             "bn": {"gamma": rng.uniform(0.5, 1.5, 12), "beta": rng.normal(size=12) * 0.1,
                    "moving_mean": rng.normal(size=12) * 0.2, "moving_variance": rng.uniform(0.5, 2, 12)},
             "sep": {"depthwise_kernel": rng.normal(size=(3, 3, 12, 1)) * 0.5,
                     "pointwise_kernel": rng.normal(size=(1, 1, 12, 8)) * 0.5, "bias": rng.normal(size=8) * 0.1},
             "c2": {"kernel": rng.normal(size=(1, 1, 12, 8)) * 0.5},
             "d1": {"kernel": rng.normal(size=(4 * 3 * 16, 10)) * 0.2, "bias": rng.normal(size=10) * 0.1},
             "d2": {"kernel": rng.normal(size=(26, 5)) * 0.3, "bias": rng.normal(size=5) * 0.1}}
        cfg = {"class_name": "Model", "config": {"name": "m", "layers": layers, "input_layers": [["in", 0, 0]],
                                                 "output_layers": [["d2", 0, 0]]}}
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(cfg).encode()
        f.attrs["keras_version"] = b"2.0.5"
        mw = f.create_group("model_weights")
        for lname, ws in W.items():
            g = mw.create_group(lname)
            g.attrs["weight_names"] = [f"{lname}_1/{k}:0".encode() for k in ws]
            for k, a in ws.items():
                g.create_dataset(f"{lname}_1/{k}:0", data=np.asarray(a, np.float32))


def make_keras_synthetic(cases):
    import keras_numpy
    rng = np.random.default_rng(12)
    for kind, shape in (("layers", (3, 12, 10, 3)), ("sequential", (2, 9, 8, 1))):
        src = f"/tmp/keras_{kind}.h5"
        keras_synthetic(src, kind)
        dst = os.path.join(OUT, f"keras_{kind}.ferc")
        convert.convert(src, dst, f"keras_{kind}")
        x = rng.normal(size=shape).astype(np.float32)
        refs = keras_numpy.forward(src, x)
        worst = check_c(dst, x, refs, {})
        print(f"  keras_{kind}: C engine worst {worst[0]:.3f} of the tolerance at {worst[1]}")
        write_ref(f"keras_{kind}", dst, refs, {}, x)
        cases.append((f"ref/import/keras_{kind}.ferc", f"ref/import/keras_{kind}.ref.ferc"))


def make_keras(cases):
    import keras_numpy
    x = fer_faces()
    for name in ("mini_xception", "big_xception"):
        model = os.path.join(ROOT, "weights", name + ".ferc")
        src = keras_source(name)
        refs = keras_numpy.forward(src, x)
        worst = check_c(model, x, refs, {})
        print(f"  {name}: C engine worst {worst[0]:.3f} of the tolerance at {worst[1]}")
        write_ref(name, model, refs, {}, x)
        cases.append((f"../weights/{name}.ferc", f"ref/import/{name}.ref.ferc"))


def keras_source(name):
    d = os.path.join(SHARED, "models", "mini_xception")
    key = {"mini_xception": "mini_XCEPTION", "big_xception": "big_XCEPTION"}[name]
    return os.path.join(d, [f for f in os.listdir(d) if key in f][0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["zoo", "pt", "yunet", "keras", "xception"])
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    listing = os.path.join(OUT, "cases.txt")
    old = [ln.split() for ln in open(listing)] if os.path.exists(listing) else []
    cases = []
    for part, fn in (("zoo", make_zoo), ("pt", make_pt), ("yunet", make_yunet), ("keras", make_keras_synthetic),
                     ("xception", make_keras)):
        if a.only in (None, part):
            fn(cases)
        else:
            cases += [tuple(c) for c in old if part in os.path.basename(c[1])]
    with open(listing, "w") as f:
        for m, r in cases:
            f.write(f"{m} {r}\n")


if __name__ == "__main__":
    main()
