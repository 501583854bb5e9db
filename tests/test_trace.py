"""`ferc trace` and `ferc explain` against PyTorch (pytest, /usr/bin/python3).

    /usr/bin/python3 -m pytest -q tests/test_trace.py     (make test runs it when pytest is there)

The reference is PyTorch computing the graph stored in the .ferc file: each node by its
documented semantics (docs/FORMAT.md) with torch.nn.functional, on the weights read by
tools/model/fercfile.py (batch norm already folded by the exporter), in PyTorch's NCHW layout.
ferc's .npy files (NHWC) are transposed to match. Every ISA this CPU has is checked.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: ferc trace is not compared with it")
F = torch.nn.functional

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
import fercfile  # noqa: E402

BUILD = os.environ.get("FERC_BUILD", "build")
FERC = os.path.join(ROOT, BUILD, "ferc") if not os.path.isabs(BUILD) else os.path.join(BUILD, "ferc")
FACE = os.path.join(ROOT, "tests", "cli", "fer", "happy", "0.png")
ISAS = ["scalar"] + [i for i, flag in (("avx2", " avx2 "), ("avx512", " avx512bw "))
                     if flag in open("/proc/cpuinfo").read()]


def ferc(*args, isa="scalar"):
    if not os.path.exists(FERC):
        pytest.skip(f"{FERC} is not built (make {BUILD}/ferc)")
    env = dict(os.environ, FERC_ISA=isa)
    r = subprocess.run([FERC, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r.stdout


def torch_graph(model, x):
    """Every node's output (NCHW / [N, F]) for input x (NCHW)."""
    vals = {model["values"][0]["name"]: x} if model["values"][0]["kind"] == "input" else {}
    for v in model["values"]:
        if v["kind"] == "input":
            vals[v["name"]] = x
        elif v["kind"] == "param":
            vals[v["name"]] = torch.from_numpy(np.array(v["data"], np.float32))
    acts = {1: F.relu, 2: F.relu6}
    out = []
    for op, ins, outs, a in model["nodes"]:
        t = vals[ins[0]]
        if op == "conv2d":
            w = vals[ins[1]].permute(0, 3, 1, 2)  # [O, KH, KW, I] -> OIHW
            pt, pl, pb, pr = a.get("pad", [0, 0, 0, 0])
            y = F.conv2d(F.pad(t, (pl, pr, pt, pb)), w, vals[ins[2]] if len(ins) > 2 else None,
                         stride=a.get("stride", [1, 1]), dilation=a.get("dilation", [1, 1]),
                         groups=a.get("groups", [1])[0])
        elif op == "maxpool2d":
            assert a.get("pad", [0] * 4) == [0] * 4
            y = F.max_pool2d(t, a["kernel"], a.get("stride", a["kernel"]), ceil_mode=bool(a.get("ceil_mode", [0])[0]))
        elif op == "global_avgpool":
            y = t.mean(dim=(2, 3), keepdim=True)
        elif op == "flatten":
            y = t.permute(0, 2, 3, 1).reshape(t.shape[0], -1)  # ferc flattens NHWC
        elif op == "identity":
            y = t
        elif op == "dense":
            y = F.linear(t, vals[ins[1]], vals[ins[2]] if len(ins) > 2 else None)
        elif op == "softmax":
            y = F.softmax(t, dim=-1)
        else:
            raise NotImplementedError(op)
        act = a.get("act", [0])[0]
        if act == 3:
            y = F.leaky_relu(y, a.get("alpha", [0.01])[0])
        elif act:
            y = acts[act](y)
        vals[outs[0]] = y
        out.append((outs[0], y))
    return out


def nchw(a):
    return a.transpose(0, 3, 1, 2) if a.ndim == 4 else a


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("name", ["emotion_cnn", "emotion_small"])
def test_trace_equals_pytorch(name, isa):
    path = os.path.join(ROOT, "weights", name + ".ferc")
    model = fercfile.read(path)
    with tempfile.TemporaryDirectory() as d:
        ferc("trace", path, FACE, "--out", d, isa=isa)
        summary = json.load(open(os.path.join(d, "summary.json")))
        x = np.load(os.path.join(d, "input.npy"))
        # The input is the classifier's: (pixel / 255 - mean) / std of the 48x48 gray face,
        # equalised first (cv2.equalizeHist) when the model says equalize=1.
        from PIL import Image
        px = np.asarray(Image.open(FACE).convert("L"), np.uint8)
        if model["meta"].get("equalize") == "1":
            import cv2
            px = cv2.equalizeHist(px)
        px = px.astype(np.float32)
        assert np.array_equal(x[0, :, :, 0], ((px / 255 - 0.5) / 0.25).astype(np.float32))
        with torch.no_grad():
            ref = torch_graph(model, torch.from_numpy(nchw(x).copy()))
        assert len(ref) == len(summary["nodes"]) == len(model["nodes"])
        for (rname, r), s in zip(ref, summary["nodes"]):
            assert s["name"] == rname
            got = nchw(np.load(os.path.join(d, s["file"])))
            want = r.numpy()
            assert got.shape == want.shape, rname
            scale = max(1.0, float(np.abs(want).max()))
            err = float(np.abs(got - want).max())
            assert err <= 1e-5 * scale, f"{rname}: max |ferc - torch| = {err:.3g} (scale {scale:.3g})"
            # The summary describes the array it names.
            assert s["min"] == pytest.approx(float(got.min()), rel=1e-6, abs=1e-30)
            assert s["max"] == pytest.approx(float(got.max()), rel=1e-6, abs=1e-30)
            assert s["zeros"] == int((got == 0).sum())
            assert s["mean"] == pytest.approx(float(got.astype(np.float64).mean()), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("isa", ISAS)
def test_explain_equals_pytorch(isa):
    """The occlusion grid of the default CNN: PyTorch on the same 1 + 121 occluded faces."""
    path = os.path.join(ROOT, "weights", "emotion_cnn.ferc")
    r = json.loads(ferc("explain", "--no-detect", "--model", path, "--format", "json", FACE, isa=isa))
    face = r["faces"][0]
    from PIL import Image
    px = np.asarray(Image.open(FACE).convert("L"), np.uint8)
    p, s, fill = r["patch"], r["stride"], r["fill"]
    assert (p, s, fill) == (8, 4, 128)
    batch = [px.copy()]
    for y0 in range(0, 48 - p + 1, s):
        for x0 in range(0, 48 - p + 1, s):
            b = px.copy()
            b[y0:y0 + p, x0:x0 + p] = fill
            batch.append(b)
    model = fercfile.read(path)
    if model["meta"].get("equalize") == "1":  # the classifier equalises every occluded copy
        import cv2
        batch = [cv2.equalizeHist(b) for b in batch]
    mean, std = float(model["meta"]["mean"]), float(model["meta"]["std"])
    x = torch.from_numpy(((np.stack(batch).astype(np.float32) / 255 - mean) / std)[:, None])
    with torch.no_grad():
        probs = F.softmax(torch_graph(model, x)[-1][1], dim=-1).numpy()
    labels = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    win = int(probs[0].argmax())
    assert face["emotion"] == labels[win]
    want = (probs[0, win] - probs[1:, win]).reshape(11, 11)
    got = np.array(face["scores"])
    assert np.abs(got - want).max() <= 2e-5, np.abs(got - want).max()
