#!/usr/bin/python3
"""ferc's cascade detector against cv2.CascadeClassifier.detectMultiScale, side by side.

For each cascade and image size (640x480, 1280x720: built from tests/data/faces_group.png,
see make_image) both detectors run REPEAT times in alternation at the same thread count
(cv2.setNumThreads / ferc --threads), the boxes are checked equal, and the medians and their
ratio are printed. ferc is timed inside bench/cascade_run (one process, image loaded once),
OpenCV inside this process; both time detectMultiScale only. OpenCV's timed calls find its
thread pool and buffers from the previous ones; cascade_run starts afresh each time, so it
first runs WARMUP untimed detections (--warmup 0: time ferc's first call in a new process,
thread start and page faults included).

Run: make && /usr/bin/python3 bench/bench_cascade.py [--threads 1] [--repeat 15] [--warmup 1]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CASCADES = [
    "haarcascades/haarcascade_frontalface_default.xml",
    "haarcascades/haarcascade_frontalface_alt2.xml",
    "lbpcascades/lbpcascade_frontalface_improved.xml",
]


def make_image(w, h):
    g = cv2.imread(os.path.join(ROOT, "tests/data/faces_group.png"), cv2.IMREAD_GRAYSCALE)
    if (w, h) == g.shape[::-1]:
        return g
    # 1280x720: the group photo at 1.5x in the middle, its mirror image at the sides
    big = cv2.resize(g, (960, 720), interpolation=cv2.INTER_LINEAR)
    out = np.zeros((h, w), np.uint8)
    out[:, 160:1120] = big
    out[:, :160] = big[:, 160:0:-1][:, :160]
    out[:, 1120:] = big[:, ::-1][:, :160]
    return out


def build_runner():
    exe = os.path.join(ROOT, "build", "bench", "cascade_run")
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    subprocess.run(["gcc", "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-I" + os.path.join(ROOT, "include"),
                    os.path.join(ROOT, "bench", "cascade_run.c"), os.path.join(ROOT, "libferc.a"), "-lm", "-fopenmp",
                    "-o", exe], check=True)
    return exe


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--neighbors", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    exe = build_runner()
    cv2.setNumThreads(args.threads)
    print("threads %d, repeat %d, ferc warmup %d, scale 1.1, min_neighbors %d, CPU %s" % (
        args.threads, args.repeat, args.warmup, args.neighbors, os.uname().machine))
    print("%-45s %-9s %5s %10s %10s %7s" % ("cascade", "image", "faces", "opencv_ms", "ferc_ms", "speedup"))
    with tempfile.TemporaryDirectory() as tmp:
        for w, h in [(640, 480), (1280, 720)]:
            img = make_image(w, h)
            path = os.path.join(tmp, "bench_%dx%d.png" % (w, h))
            cv2.imwrite(path, img)
            for casc in CASCADES:
                cpath = os.path.join("/usr/share/opencv4", casc)
                c = cv2.CascadeClassifier(cpath)
                cv_times, ferc_times = [], []
                for _ in range(args.repeat):  # alternate so that load changes hit both
                    t0 = time.perf_counter()
                    ref = c.detectMultiScale(img, 1.1, args.neighbors)
                    cv_times.append(time.perf_counter() - t0)
                    r = subprocess.run([exe, cpath, path, "--threads", str(args.threads), "--neighbors",
                                        str(args.neighbors), "--repeat", "1", "--warmup", str(args.warmup)],
                                       capture_output=True, text=True, check=True)
                    ferc_times.append(float(r.stderr.split()[-1]) / 1e3)
                mine = sorted(tuple(map(int, l.split())) for l in r.stdout.split("\n") if l)
                want = sorted(map(tuple, np.array(ref).reshape(-1, 4).tolist()))
                same = "same" if mine == want else "DIFFERENT"
                cm, fm = np.median(cv_times) * 1e3, np.median(ferc_times) * 1e3
                print("%-45s %4dx%-4d %5d %10.1f %10.1f %6.2fx  %s" % (casc, w, h, len(want), cm, fm, cm / fm, same))
                if mine != want:
                    print("  opencv %s\n  ferc   %s" % (want, mine), file=sys.stderr)


if __name__ == "__main__":
    main()
