"""Speed of the face detector, ferc against cv2.dnn side by side at equal thread counts.

    /usr/bin/python3 bench/ssd_speed.py [--size 300] [--repeat 15]

Both run OpenCV's sample pipeline on the astronaut photo (512x512): bilinear resize to the
input size, mean subtraction, the network, detection output. cv2: cv2.resize +
blobFromImage + net.forward() with cv2.setNumThreads(t); ferc: bench/detect_faces (ferc_detect
with THREADS t). Each is run `repeat` times after a warm-up, alternating, and the medians are
reported with their ratio. The kernels ferc uses are reported (FERC_ISA); the machine is
shared, so only the ratio in one run means much.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
import face_photos  # noqa: E402
from compare_res10 import MODEL, SRC, build_tools  # noqa: E402
from convert_res10 import load_net  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    net = load_net(SRC)
    img = face_photos.astronaut()
    s = args.size
    with tempfile.TemporaryDirectory() as tmp:
        tools = build_tools(tmp)
        path = os.path.join(tmp, "astronaut.png")
        cv2.imwrite(path, img)
        print("input %dx%d, medians of %d runs" % (s, s, args.repeat))
        for threads in (1, 2):
            cv2.setNumThreads(threads)
            times = []
            for r in range(args.repeat + 1):
                t0 = time.perf_counter()
                net.setInput(cv2.dnn.blobFromImage(cv2.resize(img, (s, s)), 1.0, (s, s), (104, 177, 123)))
                net.forward()
                if r:
                    times.append((time.perf_counter() - t0) * 1e3)
            cv_ms = float(np.median(times))
            out = subprocess.run([tools["detect_faces"], MODEL, path, str(s), str(s), "0.5", str(threads),
                                  str(args.repeat + 1)], capture_output=True, text=True, check=True).stderr
            m = re.search(r"median ([0-9.]+) ms over \d+ runs \((\w+)\)", out)
            ferc_ms = float(m.group(1))
            print("threads %d: cv2.dnn %8.2f ms   ferc [%s kernels] %8.2f ms   cv2/ferc speed ratio %.2f"
                  % (threads, cv_ms, m.group(2), ferc_ms, cv_ms / ferc_ms))


if __name__ == "__main__":
    main()
