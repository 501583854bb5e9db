"""int8 against fp32, and against PyTorch's own int8, on the shipped emotion CNNs.

    /usr/bin/python3 bench/bench_int8.py [--build build] [--rounds 15] [--reps 15]

For each weights/NAME.q8.ferc beside weights/NAME.ferc (the emotion CNNs and YuNet):
  1. build/bench/bench_q8 (C): the int8 peak of this CPU, each int8 layer's GMAC/s and % of
     it, and ferc fp32 against ferc int8 at batch 1 / 1 thread and batch 64 / 2 threads,
     ratios per round, wall and process CPU time;
  2. PyTorch FX graph mode int8 of the same float model on the onednn quantised engine
     (bench/torch_int8_accuracy.py's recipe, random calibration: speed only), timed in a
     process of its own at the same two configurations, wall and CPU medians; emotion CNNs
     only (bench_models.FercGraph rebuilds their ops, not YuNet's resize).
Figures go to the screen and into build/bench.json: "models" gains one entry per
configuration with "precision": "int8" (bench_models.py writes the fp32 ones), plus
"int8_layers" and "int8_peak_gmacs_1thread". The machine is shared during this session:
the load average is printed beside the figures; CPU time is the steadier measure.
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
import bench_models  # noqa: E402
import fercfile  # noqa: E402


def torch_worker(model, batch, threads, reps):
    from torch_int8_accuracy import torch_int8
    torch.set_num_threads(threads)
    net = bench_models.FercGraph(fercfile.read(model)).eval()
    h, w, c = net.in_shape[1:]
    rng = np.random.default_rng(0)
    calib = torch.from_numpy(rng.standard_normal((64, c, h, w)).astype(np.float32))
    q = torch_int8(net, calib)
    x = calib[:batch].contiguous()
    with torch.inference_mode():
        q(x)
        t0, c0 = time.perf_counter(), time.process_time()
        q(x)
        once = time.perf_counter() - t0
        runs = 1 if once > 0.02 else int(0.02 / max(once, 1e-7)) + 1
        wall, cpu = [], []
        for _ in range(reps):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(runs):
                q(x)
            wall.append((time.perf_counter() - t0) / runs * 1e3)
            cpu.append((time.process_time() - c0) / runs * 1e3)
    print(json.dumps({"ms": float(np.median(wall)), "cpu_ms": float(np.median(cpu))}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return torch_worker(a.worker, a.batch, a.threads, a.reps)
    print(f"torch {torch.__version__} (quantized engine onednn), load average {os.getloadavg()[0]:.1f}")
    rows, layers, peak = [], {}, None
    for q8 in sorted(glob.glob(os.path.join(ROOT, "weights", "*.q8.ferc"))):
        fp32 = q8[:-len(".q8.ferc")] + ".ferc"
        meta = fercfile.read(fp32)["meta"]
        name, peer = meta.get("name", os.path.basename(fp32)), meta.get("task") != "face-detection"
        with tempfile.TemporaryDirectory() as tmp:
            js = os.path.join(tmp, "q8.json")
            r = subprocess.run([os.path.join(a.build, "bench", "bench_q8"), fp32, q8, "--rounds", str(a.rounds),
                                "--json", js], capture_output=True, text=True, check=True)
            print(f"== {name}\n{r.stdout}", flush=True)
            res = json.load(open(js))
        peak = res["int8_peak_gmacs_1thread"]
        layers[name] = res["layers"]
        for m in res["models"]:
            row = dict(name=name, precision="int8", int8_isa=res["int8_isa"], batch=m["batch"], threads=m["threads"],
                       ms_ferc=m["ms_int8"], cpu_ms_ferc=m["cpu_ms_int8"], ms_ferc_fp32=m["ms_fp32"],
                       cpu_ms_ferc_fp32=m["cpu_ms_fp32"], x_fp32=m["x_int8"], x_fp32_cpu=m["x_int8_cpu"],
                       load_average=os.getloadavg()[0])
            rows.append(row)
            if not peer:
                continue
            t = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", fp32, "--batch", str(m["batch"]),
                                "--threads", str(m["threads"]), "--reps", str(a.reps)], capture_output=True, text=True)
            if t.returncode:
                raise SystemExit(f"torch worker failed: {t.stderr.strip()}")
            tq = json.loads(t.stdout)
            row.update(ms_torch_int8=tq["ms"], cpu_ms_torch_int8=tq["cpu_ms"], x_torch_int8=tq["ms"] / m["ms_int8"],
                       x_torch_int8_cpu=tq["cpu_ms"] / m["cpu_ms_int8"])
            print(f"{name} batch {m['batch']} / {m['threads']} threads: ferc int8 {m['ms_int8']:.3f} ms "
                  f"(cpu {m['cpu_ms_int8']:.3f}), fp32 {m['x_int8']:.2f}x slower (cpu {m['x_int8_cpu']:.2f}x); "
                  f"PyTorch onednn int8 {tq['ms']:.3f} ms (cpu {tq['cpu_ms']:.3f}): ferc int8 "
                  f"{row['x_torch_int8']:.2f}x faster (cpu {row['x_torch_int8_cpu']:.2f}x); load {row['load_average']:.1f}",
                  flush=True)
    path = os.path.join(a.build, "bench.json")
    out = json.load(open(path)) if os.path.exists(path) else {"models": []}
    out["models"] = [dict(r, precision=r.get("precision", "fp32")) for r in out.get("models", [])
                     if r.get("precision") != "int8"] + rows
    out["int8_layers"] = layers
    out["int8_peak_gmacs_1thread"] = peak
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
