"""End-to-end model benchmark: ferc against PyTorch and OpenCV DNN on the same weights.

    /usr/bin/python3 bench/bench_models.py [--build build] [--reps 15] [MODEL.ferc ...]

For each model (default: weights/*.ferc; when there are none, the article's emotion CNN at
full width with random weights, exported by tools/model/export_torch.py so the pipeline is proven):
  1. the ferc graph is read with tools/model/fercfile.py and rebuilt as a PyTorch module (NCHW,
     conv weights back to OIHW, the dense layer after a flatten given its CHW column order
     back), which is also exported to ONNX for cv2.dnn.readNetFromONNX;
  2. ferc (build/bench/bench_model, a C program), PyTorch and OpenCV run the same random
     input, each in a process of its own (idle worker threads of one engine must not take
     the cores from the next); outputs must agree within 1e-4 (abs + rel) before anything
     is timed;
  3. each is timed at batch 1 (1 and 2 threads) and batch 64 (1 and 2 threads): the median
     of --reps samples, each a loop of runs lasting at least 20 ms.
A table is printed and the figures are written to build/bench.json ("models"), next to the
kernel figures that bench_kernels left in build/bench_layers.json ("peak_gflops", "layers").
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
import fercfile  # noqa: E402

ACTS = {1: nn.ReLU, 2: nn.ReLU6}


def _act(attrs):
    a = attrs.get("act", [0])[0]
    if a == 3:
        return nn.LeakyReLU(attrs.get("alpha", [0.01])[0])
    return ACTS[a]() if a in ACTS else None


class FercGraph(nn.Module):
    """The ferc graph as a PyTorch module working in NCHW."""

    def __init__(self, g):
        super().__init__()
        vals = {v["name"]: v for v in g["values"]}
        self.input = [v["name"] for v in g["values"] if v["kind"] == "input"][0]
        self.in_shape = vals[self.input]["shape"]  # NHWC, batch 1
        self.outputs = g["outputs"]
        self.steps = []
        self.mods = nn.ModuleList()
        flat_hwc = {}  # value -> (H, W, C) of the map it flattens (NHWC order in ferc)
        shapes = {self.input: tuple(self.in_shape[1:])}  # NHWC without batch, for flatten
        for op, ins, outs, attrs in g["nodes"]:
            p = lambda i: torch.from_numpy(np.array(vals[ins[i]]["data"], dtype=np.float32))  # noqa: E731
            mod = None
            if op == "conv2d":
                w = p(1).permute(0, 3, 1, 2).contiguous()  # OHWI -> OIHW
                pt, pl, pb, pr = attrs.get("pad", [0, 0, 0, 0])
                groups = attrs.get("groups", [1])[0]
                conv = nn.Conv2d(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]), attrs.get("stride", [1, 1]),
                                 0, attrs.get("dilation", [1, 1]), groups, bias=len(ins) > 2)
                conv.weight.data.copy_(w)
                if len(ins) > 2:
                    conv.bias.data.copy_(p(2))
                layers = []
                if (pt, pl) == (pb, pr):
                    conv.padding = (pt, pl)
                else:
                    layers.append(nn.ZeroPad2d((pl, pr, pt, pb)))
                layers.append(conv)
                h, wd, _ = shapes[ins[0]]
                eh, ew = conv.dilation[0] * (w.shape[2] - 1) + 1, conv.dilation[1] * (w.shape[3] - 1) + 1
                shapes[outs[0]] = ((h + pt + pb - eh) // conv.stride[0] + 1, (wd + pl + pr - ew) // conv.stride[1] + 1,
                                   w.shape[0])
                mod = layers
            elif op == "dense":
                w = p(1)
                src = ins[0]
                if src in flat_hwc:  # ferc's columns are in H, W, C order; PyTorch flattens C, H, W
                    h, wd, c = flat_hwc[src]
                    w = w.view(w.shape[0], h, wd, c).permute(0, 3, 1, 2).reshape(w.shape[0], -1)
                lin = nn.Linear(w.shape[1], w.shape[0], bias=len(ins) > 2)
                lin.weight.data.copy_(w)
                if len(ins) > 2:
                    lin.bias.data.copy_(p(2))
                mod = [lin]
                shapes[outs[0]] = (w.shape[0],)
            elif op in ("maxpool2d", "avgpool2d"):
                k = attrs["kernel"]
                pt, pl, pb, pr = attrs.get("pad", [0, 0, 0, 0])
                if (pt, pl) != (pb, pr):
                    raise NotImplementedError(f"{op} with asymmetric padding")
                cm = bool(attrs.get("ceil_mode", [0])[0])
                s = attrs.get("stride", k)
                if op == "maxpool2d":
                    mod = [nn.MaxPool2d(k, s, (pt, pl), ceil_mode=cm)]
                else:
                    mod = [nn.AvgPool2d(k, s, (pt, pl), ceil_mode=cm,
                                        count_include_pad=bool(attrs.get("count_include_pad", [1])[0]))]
                h, wd, c = shapes[ins[0]]
                with torch.no_grad():
                    o = mod[0](torch.zeros(1, c, h, wd))
                shapes[outs[0]] = (o.shape[2], o.shape[3], c)
            elif op == "global_avgpool":
                mod = [nn.AdaptiveAvgPool2d(1)]
                shapes[outs[0]] = (1, 1, shapes[ins[0]][2])
            elif op == "batchnorm":
                bn = nn.BatchNorm2d(vals[ins[1]]["shape"][0], eps=attrs.get("eps", [1e-5])[0])
                for i, t in enumerate([bn.weight, bn.bias, bn.running_mean, bn.running_var]):
                    t.data.copy_(p(i + 1))
                mod = [bn]
                shapes[outs[0]] = shapes[ins[0]]
            elif op in ("relu", "relu6", "leaky_relu", "identity"):
                mod = [{"relu": nn.ReLU(), "relu6": nn.ReLU6(), "identity": nn.Identity(),
                        "leaky_relu": nn.LeakyReLU(attrs.get("alpha", [0.01])[0])}[op]]
                shapes[outs[0]] = shapes[ins[0]]
                if ins[0] in flat_hwc:
                    flat_hwc[outs[0]] = flat_hwc[ins[0]]
            elif op == "flatten":
                mod = [nn.Flatten()]
                flat_hwc[outs[0]] = shapes[ins[0]]
                shapes[outs[0]] = (int(np.prod(shapes[ins[0]])),)
            elif op == "softmax":
                mod = [nn.Softmax(dim=-1)]
                shapes[outs[0]] = shapes[ins[0]]
            elif op in ("add", "concat"):
                shapes[outs[0]] = shapes[ins[0]]
                if op == "concat":
                    if len(shapes[ins[0]]) != 3 or attrs.get("axis", [-1])[0] not in (-1, 3):
                        raise NotImplementedError("concat other than over channels")
                    shapes[outs[0]] = shapes[ins[0]][:2] + (sum(shapes[i][2] for i in ins),)
            else:
                raise NotImplementedError(f"op {op}")
            if op in ("conv2d", "dense", "add"):
                a = _act(attrs)
                if a is not None:
                    mod = (mod or []) + [a]
            seq = nn.Sequential(*mod) if mod else None
            if seq is not None:
                self.mods.append(seq)
            self.steps.append((op, ins, outs[0], len(self.mods) - 1 if seq is not None else -1))

    def forward(self, x):
        env = {self.input: x}
        for op, ins, out, mi in self.steps:
            if op == "add":
                y = env[ins[0]] + env[ins[1]]
                env[out] = self.mods[mi](y) if mi >= 0 else y
            elif op == "concat":
                env[out] = torch.cat([env[i] for i in ins], 1)
            else:
                env[out] = self.mods[mi](env[ins[0]])
        return env[self.outputs[0]]


def article_cnn_full(path):
    """The article's emotion CNN at full width (tests/ref has it at a quarter), random weights."""
    from export_torch import export
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(64, 128, 3), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Dropout(0.5), nn.Flatten(), nn.Linear(128 * 10 * 10, 256), nn.ReLU(),
                      nn.Linear(256, 7))
    export(m, torch.randn(1, 1, 48, 48), path, {"name": "article_cnn_full (random weights)", "task": "bench"})


def median_ms(fn, reps):
    fn()
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    runs = 1 if once > 0.02 else int(0.02 / max(once, 1e-7)) + 1
    s = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(runs):
            fn()
        s.append((time.perf_counter() - t0) / runs * 1e3)
    return float(np.median(s))


def ferc_run(build, model, batch, threads, x, reps, tmp):
    inp, outp = os.path.join(tmp, "x.f32"), os.path.join(tmp, "y.f32")
    x.astype(np.float32).tofile(inp)
    r = subprocess.run([os.path.join(build, "bench", "bench_model"), model, "--batch", str(batch), "--threads",
                        str(threads), "--input", inp, "--output", outp, "--reps", str(reps)],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout), np.fromfile(outp, np.float32)


def close(a, b, what):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    err = np.abs(a - b) - (1e-4 + 1e-4 * np.abs(b))
    if a.shape != b.shape or err.max() > 0:
        raise SystemExit(f"{what}: outputs differ (max abs diff {np.abs(a - b).max():.3g}); nothing timed")


def peer_run(engine, model, onnx, batch, threads, reps, tmp):
    """Times PyTorch or OpenCV in a process of its own: an engine's idle worker threads
    (OpenMP spinning after a parallel region) must not steal the two cores from the next
    engine measured, which in one process made PyTorch's figures swing by 3x between runs."""
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", engine, "--onnx", onnx, "--batch",
                        str(batch), "--threads", str(threads), "--reps", str(reps), "--tmp", tmp, model],
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{engine} worker failed: {r.stderr.strip()}")
    return json.loads(r.stdout)["ms"]


def worker(engine, model, onnx, batch, threads, reps, tmp):
    """One peer, one configuration: check its output against PyTorch's, then time it."""
    x = np.load(os.path.join(tmp, "x.npy"))[:batch]
    want = np.load(os.path.join(tmp, f"want_b{batch}.npy"))
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    if engine == "torch":
        torch.set_num_threads(threads)
        net = FercGraph(fercfile.read(model)).eval()
        with torch.inference_mode():
            close(net(xt).numpy(), want, f"{model} torch, batch {batch}")
            ms = median_ms(lambda: net(xt), reps)
    else:
        import cv2
        cv2.setNumThreads(threads)
        cvnet = cv2.dnn.readNetFromONNX(onnx)
        cvnet.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        cvnet.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        blob = np.ascontiguousarray(xt.numpy())

        def run_cv():
            cvnet.setInput(blob)
            return cvnet.forward()

        close(run_cv(), want, f"{model} OpenCV vs torch, batch {batch}")
        ms = median_ms(run_cv, reps)
    print(json.dumps({"ms": ms}))


def bench_model(build, path, reps, tmp):
    g = fercfile.read(path)
    name = g["meta"].get("name", os.path.basename(path))
    net = FercGraph(g).eval()
    h, w, c = net.in_shape[1:]
    rng = np.random.default_rng(0)
    x64 = rng.random((64, h, w, c), dtype=np.float32)
    np.save(os.path.join(tmp, "x.npy"), x64)
    onnx = {}
    for b in (1, 64):
        onnx[b] = os.path.join(tmp, f"model_b{b}.onnx")
        xt = torch.from_numpy(x64[:b]).permute(0, 3, 1, 2).contiguous()
        with torch.inference_mode():
            np.save(os.path.join(tmp, f"want_b{b}.npy"), net(xt).numpy())
        with torch.no_grad():
            torch.onnx.export(net, xt, onnx[b], opset_version=11, input_names=["input"], output_names=["output"])
    rows = []
    for batch, threads in ((1, 1), (1, 2), (64, 1), (64, 2)):
        x = x64[:batch]
        want = np.load(os.path.join(tmp, f"want_b{batch}.npy"))
        stats, got = ferc_run(build, path, batch, threads, x, reps, tmp)
        close(got, want, f"{name} ferc vs torch, batch {batch}")
        ms_torch = peer_run("torch", path, onnx[batch], batch, threads, reps, tmp)
        ms_cv = peer_run("opencv", path, onnx[batch], batch, threads, reps, tmp)
        rows.append(dict(name=name, batch=batch, threads=threads, ms_ferc=stats["ms"], ms_torch=ms_torch,
                         ms_opencv=ms_cv, x_torch=ms_torch / stats["ms"], x_opencv=ms_cv / stats["ms"],
                         isa=stats["isa"], ferc_context_bytes=stats["context_bytes"],
                         ferc_maxrss_kb=stats["maxrss_kb"], params=stats["params"]))
        r = rows[-1]
        print(f"{name[:34]:34s} {batch:5d} {threads:3d} {r['ms_ferc']:9.3f} {ms_torch:9.3f} {ms_cv:9.3f} "
              f"{r['x_torch']:8.2f} {r['x_opencv']:8.2f} {batch / r['ms_ferc'] * 1e3:10.0f} "
              f"{stats['context_bytes'] / 2**20:7.2f}", flush=True)
    b64 = {r["threads"]: r["ms_ferc"] for r in rows if r["batch"] == 64}
    print(f"{'':34s} batch 64: 2 threads are {b64[1] / b64[2]:.2f}x one thread")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("models", nargs="*")
    ap.add_argument("--worker", choices=["torch", "opencv"], help=argparse.SUPPRESS)
    for k in ("--onnx", "--tmp"):
        ap.add_argument(k, help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker(a.worker, a.models[0], a.onnx, a.batch, a.threads, a.reps, a.tmp)
    models = a.models or sorted(glob.glob(os.path.join(ROOT, "weights", "*.ferc")))
    os.makedirs(os.path.join(a.build, "bench"), exist_ok=True)
    if not models:
        path = os.path.join(a.build, "bench", "article_cnn_full.ferc")
        print("no weights/*.ferc yet: benchmarking the article's CNN at full width with random weights")
        article_cnn_full(path)
        models = [path]
    import cv2
    print(f"torch {torch.__version__}, OpenCV {cv2.__version__}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'model':34s} {'batch':>5s} {'thr':>3s} {'ferc ms':>9s} {'torch ms':>9s} {'cv ms':>9s} {'x torch':>8s} "
          f"{'x opencv':>8s} {'ferc img/s':>10s} {'ctx MiB':>7s}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in models:
            try:
                rows += bench_model(a.build, m, a.reps, tmp)
            except NotImplementedError as e:  # an op the PyTorch rebuild does not know yet
                print(f"{m}: skipped, cannot rebuild it in PyTorch ({e})")
    out = {}
    layers = os.path.join(a.build, "bench_layers.json")
    if os.path.exists(layers):
        out = json.load(open(layers))
    skx = os.path.join(a.build, "bench_layers_skylakex.json")
    if os.path.exists(skx):  # the same layers against OpenBLAS's AVX-512 kernel
        out["layers_openblas_skylakex"] = [{k: r[k] for k in ("name", "threads", "ms", "ms_openblas", "x_openblas")}
                                           for r in json.load(open(skx))["layers"]]
    out["models"] = rows
    out["load_average"] = os.getloadavg()
    out["date_utc"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    with open(os.path.join(a.build, "bench.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {os.path.join(a.build, 'bench.json')}")


if __name__ == "__main__":
    main()
