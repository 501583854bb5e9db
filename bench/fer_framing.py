"""Measures where the res10 SSD face box sits inside FER2013's 48x48 face crops, to frame
the crops ferc hands the classifier like FER2013's (detect/image/face_crop.c uses the medians).

    /usr/bin/python3 bench/fer_framing.py [--fer ../shared/data/fer2013/val] [--limit N]

Each val image is enlarged 3x (bilinear) and centred on a 300x300 canvas of its mean gray
(the detector needs context around a tight crop), then run through cv2.dnn with OpenCV's
sample pipeline (ferc's detector gives the same boxes: bench/compare_res10.py). The best box
above 0.5 is mapped back to crop units (0..1 across the 48x48 crop). Prints the detection
rate and the median and quartiles of the box's centre, width and height.
"""
import argparse
import glob
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "model"))
from convert_res10 import load_net  # noqa: E402

SCALE, CANVAS = 3, 300


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fer", default=os.path.join(HERE, "..", "..", "shared", "data", "fer2013", "val"))
    ap.add_argument("--src", default=os.path.join(HERE, "..", "..", "shared", "models", "res10_ssd"))
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.fer, "*", "*.jpg")))
    if not files:
        sys.exit(f"fer_framing: no FER2013 images under {args.fer} (data absent; nothing measured)")
    if args.limit:
        files = files[:: max(1, len(files) // args.limit)][: args.limit]
    net = load_net(args.src)
    side = 48 * SCALE
    off = (CANVAS - side) // 2
    rows = []
    for f in files:
        g = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
        big = cv2.resize(g, (side, side), interpolation=cv2.INTER_LINEAR)
        canvas = np.full((CANVAS, CANVAS), int(g.mean()), np.uint8)
        canvas[off:off + side, off:off + side] = big
        bgr = cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)
        net.setInput(cv2.dnn.blobFromImage(bgr, 1.0, (CANVAS, CANVAS), (104, 177, 123)))
        det = net.forward()[0, 0]
        det = det[det[:, 2] > 0.5]
        if not len(det):
            continue
        x0, y0, x1, y1 = det[0, 3:7] * CANVAS
        u = lambda v: (v - off) / side  # noqa: E731
        rows.append(((u(x0) + u(x1)) / 2, (u(y0) + u(y1)) / 2, u(x1) - u(x0), u(y1) - u(y0)))
    r = np.array(rows)
    print(f"{len(files)} FER2013 images, face found in {len(r)} ({100 * len(r) / len(files):.1f}%)")
    for i, name in enumerate(("centre x", "centre y", "width", "height")):
        q1, med, q3 = np.percentile(r[:, i], [25, 50, 75])
        print(f"  box {name:8s} (crop units): median {med:.3f}  quartiles {q1:.3f} .. {q3:.3f}")


if __name__ == "__main__":
    main()
