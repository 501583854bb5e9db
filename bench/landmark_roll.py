#!/usr/bin/python3
"""Why one pass of YuNet's landmarks levels a turned face only part of the way, and what fixes
it: the roll of FER2013 faces turned by known angles (as bench/measure_alignment.py turns
them), estimated from ferc's YuNet (libferc.so, ferc_yunet_detect) by several strategies.

    nice -n 10 /usr/bin/python3 bench/landmark_roll.py [--fer 20] [--strategies ...]

Strategies (comma-separated):
  full:S        the rotated image at YuNet input long side S (0: the automatic size), one pass
  crop:K:N      one pass on a K x box square around the known box, resampled to N x N
  iter:K:N:P    P passes; each turns a K x box square (known box) upright by the previous
                pass's eye line and detects again (the first pass is the whole image at the
                automatic size, as the analyzer's detector gives it)
Each strategy's landmarks are read five ways: the eye line, the mouth-corner line, their mean
direction, the perpendicular of the eye-midpoint to mouth-midpoint line, and the rotation of
a least-squares similarity fit of all five points to a frontal template (ArcFace's 112x112
five points). The residual is |r(a) - (r(0) - a)| as in bench/measure_alignment.py, over the
faces found unrotated, angles -30..30 (0 included, as there).

The known box frames the face the same way at every angle, which flatters the iter rows;
ferc_yunet_eyes uses the detected box and re-centres each pass on the box found upright
(bench/measure_alignment.py --eyes yunet measures that).
"""
import argparse
import ctypes
import glob
import os
import sys

import cv2
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
ANGLES = [-30, -20, -10, 0, 10, 20, 30]
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                     [70.7299, 92.2041]])


class Box(ctypes.Structure):  # ferc_box
    _fields_ = [("x", ctypes.c_float), ("y", ctypes.c_float), ("w", ctypes.c_float), ("h", ctypes.c_float),
                ("score", ctypes.c_float), ("n_landmarks", ctypes.c_int), ("landmarks", ctypes.c_float * 10)]


class Image(ctypes.Structure):  # ferc_image
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("channels", ctypes.c_int),
                ("data", ctypes.c_void_p)]


class Options(ctypes.Structure):  # ferc_yunet_options
    _fields_ = [("input_size", ctypes.c_int), ("threshold", ctypes.c_float), ("nms", ctypes.c_float),
                ("threads", ctypes.c_int)]


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 512)]


class Yunet:
    def __init__(self, lib, weights):
        self.lib, self.err = ctypes.CDLL(lib), Error()
        self.d, self.s = ctypes.c_void_p(), ctypes.c_void_p()
        if self.lib.ferc_yunet_load(weights.encode(), ctypes.byref(self.d), ctypes.byref(self.err)) or \
                self.lib.ferc_yunet_state_create(self.d, ctypes.byref(self.s), ctypes.byref(self.err)):
            sys.exit(self.err.message.decode())

    def detect(self, gray, size):
        gray = np.ascontiguousarray(gray)
        found, n = (Box * 16)(), ctypes.c_int()
        im = Image(gray.shape[1], gray.shape[0], 1, gray.ctypes.data)
        if self.lib.ferc_yunet_detect(self.d, self.s, ctypes.byref(im), ctypes.byref(Options(size, 0.6, 0.3, 1)),
                                      found, 16, ctypes.byref(n), ctypes.byref(self.err)):
            sys.exit(self.err.message.decode())
        return [((b.x, b.y, b.w, b.h), np.array(b.landmarks[:10], np.float64).reshape(5, 2))
                for b in found[:min(n.value, 16)]]


def iou(a, b):
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h) if w > 0 and h > 0 else 0.0


def landmarks_near(dets, box):
    """The landmarks of the face overlapping box most (IoU >= 0.2), or None."""
    d = max(dets, key=lambda d: iou(d[0], box), default=None)
    return d[1] if d is not None and iou(d[0], box) >= 0.2 else None


def rolls(lm):
    """The five readings of a face's roll (degrees, y down), or None when the eyes are swapped."""
    e, m = lm[1] - lm[0], lm[4] - lm[3]
    if e[0] <= 0:
        return None
    mid = (lm[3] + lm[4]) / 2 - (lm[0] + lm[1]) / 2
    p, q = lm - lm.mean(0), TEMPLATE - TEMPLATE.mean(0)
    ev, mv = e / np.linalg.norm(e), m / np.linalg.norm(m)
    deg = np.degrees
    return {"eyes": deg(np.arctan2(e[1], e[0])), "mouth": deg(np.arctan2(m[1], m[0])),
            "eyes+mouth": deg(np.arctan2(ev[1] + mv[1], ev[0] + mv[0])),
            "midline": deg(np.arctan2(-mid[0], mid[1])),
            "five-point fit": deg(np.arctan2((q[:, 0] * p[:, 1] - q[:, 1] * p[:, 0]).sum(), (q * p).sum()))}


def square(img, box, k, n, roll):
    """The k x box square around the box centre turned by roll (upright for a face of that roll),
    n x n; and the matrix from image to square."""
    cx, cy = box[0] + box[2] / 2 - 0.5, box[1] + box[3] / 2 - 0.5
    s = n / (k * max(box[2], box[3]))
    m = cv2.getRotationMatrix2D((cx, cy), roll, s)
    m[:, 2] += [n / 2 - 0.5 - cx, n / 2 - 0.5 - cy]
    return cv2.warpAffine(img, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), m, s


def estimate(yn, img, box, strategy):
    kind, *p = strategy.split(":")
    if kind == "full":
        return landmarks_near(yn.detect(img, int(p[0])), box)
    k, n = float(p[0]), int(p[1])
    passes = int(p[2]) if kind == "iter" else 1
    lm = landmarks_near(yn.detect(img, 0), box) if kind == "iter" else None
    for _ in range(passes):
        r = rolls(lm) if lm is not None else None
        if kind == "iter" and r is None:
            return lm
        sq, m, s = square(img, box, k, n, r["eyes"] if r else 0.0)
        inner = (n / 2 - s * box[2] / 2, n / 2 - s * box[3] / 2, s * box[2], s * box[3])
        got = landmarks_near(yn.detect(sq, n), inner)
        if got is None:
            return lm
        mi = cv2.invertAffineTransform(m)
        lm = got @ mi[:, :2].T + mi[:, 2]
    return lm


def faces(n_fer):
    files = sorted(glob.glob(os.path.join(ROOT, "../shared/data/fer2013/val/*/*.jpg")))
    if not files:
        sys.exit("landmark_roll: FER2013 not found under ../shared/data")
    out = []
    for f in files[::max(1, len(files) // n_fer)][:n_fer]:
        g = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
        if g is not None and g.std() >= 10:  # as bench/measure_alignment.py
            big = cv2.resize(g, (192, 192), interpolation=cv2.INTER_CUBIC)
            out.append((cv2.copyMakeBorder(big, 96, 96, 96, 96, cv2.BORDER_REFLECT_101), (96, 96, 192, 192)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fer", type=int, default=20)
    ap.add_argument("--strategies", default="full:0,full:384,full:320,crop:2:320,crop:1.5:320,iter:1.5:320:1,"
                                           "iter:1.5:320:2,iter:1.5:320:3")
    ap.add_argument("--lib", default=os.path.join(ROOT, "libferc.so"))
    args = ap.parse_args()
    yn = Yunet(args.lib, os.path.join(ROOT, "weights", "face_yunet.ferc"))
    strategies = args.strategies.split(",")
    got = {}  # (face, angle, strategy) -> landmarks
    data = faces(args.fer)
    for i, (img, box) in enumerate(data):
        cx, cy = box[0] + box[2] / 2 - 0.5, box[1] + box[3] / 2 - 0.5
        for a in ANGLES:
            rot = cv2.warpAffine(img, cv2.getRotationMatrix2D((cx, cy), a, 1.0), (img.shape[1], img.shape[0]),
                                 flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            for st in strategies:
                got[(i, a, st)] = estimate(yn, rot, box, st)
    print(f"{len(data)} FER2013 faces turned by {ANGLES}; |residual roll| in degrees")
    print("| strategy | reading | faces | median | p90 | share < 5 | median at -30 / -10 / +10 / +30 |")
    print("|---|---|---:|---:|---:|---:|---|")
    for st in strategies:
        for reading in ("eyes", "mouth", "eyes+mouth", "midline", "five-point fit"):
            res, per, n0 = [], {}, 0
            for i in range(len(data)):
                r0 = rolls(got[(i, 0, st)]) if got[(i, 0, st)] is not None else None
                if r0 is None:
                    continue
                n0 += 1
                for a in ANGLES:
                    r = rolls(got[(i, a, st)]) if got[(i, a, st)] is not None else None
                    if r is not None:
                        v = abs(r[reading] - (r0[reading] - a))
                        res.append(v)
                        per.setdefault(a, []).append(v)
            r = np.array(res)
            by = " / ".join(f"{np.median(per[a]):.1f}" if a in per else "-" for a in (-30, -10, 10, 30))
            print(f"| {st} | {reading} | {n0} | {np.median(r):.2f} | {np.percentile(r, 90):.2f} | "
                  f"{100 * (r < 5).mean():.0f}% | {by} |", flush=True)


if __name__ == "__main__":
    main()
