#!/usr/bin/python3
"""YuNet's network, ferc against cv2.dnn on the same ONNX weights, side by side at equal
thread counts.

    /usr/bin/python3 bench/yunet_speed.py [--threads 1] [--repeat 7] [--build build] [--clock cpu|wall]
        [--int8 [FILE]] [--before OTHER_BUILD]

For each input size (320x320, 640x480): cv2.dnn runs yunet_n_640_640.onnx (OpenCV 4.6 takes
any multiple of 32) on the astronaut photo resized to the input, net.forward() of all twelve
outputs timed alone; ferc runs weights/face_yunet.ferc (converted from the same network) with
build/bench/bench_model --size WxH --threads T (median of samples that each fill 20 ms).
The two alternate `repeat` times and the medians are reported with their ratio. The machine
may be shared: only the ratio in one run means much; the load average is printed. --clock
cpu (the default for one thread) times the process's CPU time on both sides (BENCH_CLOCK=cpu
for bench_model), which a loaded machine does not inflate the way it inflates wall time.
--int8 also runs the int8 network (default weights/face_yunet.q8.ferc) in the same alternation
and reports fp32 / int8.
--before runs OTHER_BUILD/bench/bench_model (another checkout's build, e.g. before a change)
in the same alternation, so a change is measured side by side against the same cv2.dnn runs.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import skimage.data

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
import yunet_ref  # noqa: E402

SIZES = [(320, 320), (640, 480)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--model", default=os.path.join(ROOT, "weights", "face_yunet.ferc"))
    ap.add_argument("--clock", choices=("cpu", "wall"))
    ap.add_argument("--int8", nargs="?", const=os.path.join(ROOT, "weights", "face_yunet.q8.ferc"))
    ap.add_argument("--before", help="another build directory whose bench_model runs alongside")
    a = ap.parse_args()
    clock = a.clock or ("cpu" if a.threads == 1 else "wall")
    now = time.process_time if clock == "cpu" else time.perf_counter
    env = dict(os.environ, BENCH_CLOCK=clock)
    tools = [os.path.join(b, "bench", "bench_model") for b in [a.build] + ([a.before] if a.before else [])]
    for tool in tools:
        if not os.path.exists(tool):
            sys.exit(f"yunet_speed: {tool} missing (make {tool})")
    # (bench_model, weight file): this build's fp32, its int8, the other build's fp32
    runs = [(tools[0], a.model)] + ([(tools[0], a.int8)] if a.int8 else []) + ([(tools[1], a.model)] if a.before else [])
    cv2.setNumThreads(a.threads)
    net = yunet_ref.load()
    bgr = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    print(f"threads {a.threads}, {clock} time, load average {os.getloadavg()[0]:.1f}, "
          f"medians of {a.repeat} alternating runs")
    for w, h in SIZES:
        x = cv2.resize(bgr, (w, h)).astype(np.float32)
        blob = x.transpose(2, 0, 1)[None].copy()
        with tempfile.NamedTemporaryFile(suffix=".f32") as f:
            f.write(x.tobytes())  # NHWC BGR, the same pixels
            f.flush()
            cv_ms, ferc_ms = [], [[] for _ in runs]
            net.setInput(blob)
            net.forward(yunet_ref.OUT_NAMES)  # warm-up
            for _ in range(a.repeat):
                t0 = now()
                net.setInput(blob)
                net.forward(yunet_ref.OUT_NAMES)
                cv_ms.append((now() - t0) * 1e3)
                for (tool, model), ms in zip(runs, ferc_ms):
                    out = subprocess.run([tool, model, "--threads", str(a.threads), "--size", f"{w}x{h}", "--reps",
                                          "3", "--input", f.name], capture_output=True, text=True, check=True,
                                         env=env).stdout
                    r = json.loads(out)
                    ms.append(r["ms"])
                    if ms is ferc_ms[0]:
                        isa = r["isa"]
        c, fm = float(np.median(cv_ms)), [float(np.median(ms)) for ms in ferc_ms]
        line = f"{w}x{h}: cv2.dnn {c:8.2f} ms   ferc [{isa}] {fm[0]:8.2f} ms   cv2/ferc {c / fm[0]:.2f}x"
        if a.int8:
            line += f"   ferc int8 {fm[1]:8.2f} ms   fp32/int8 {fm[0] / fm[1]:.2f}x"
        if a.before:
            line += f"   before: {fm[-1]:8.2f} ms, cv2/before {c / fm[-1]:.2f}x, before/ferc {fm[-1] / fm[0]:.3f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
