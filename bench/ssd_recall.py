"""Recall of the res10 SSD face detector by face size, for several network input sizes, to
choose ferc's automatic input size (ferc_detector_input_size; docs/detection.md).

    /usr/bin/python3 bench/ssd_recall.py [--images 8]

Photos (bench/face_photos.py): FER2013 val faces (many people, 16-128 px) and the astronaut's
head (20-200 px) pasted on a 1280x720 photo, plus 640x480 portraits with one large face
(250-450 px). A true face counts as found if a detection above 0.5 overlaps it with IoU >= 0.4
(FER2013's boxes are the whole crop, the detector's box is ~0.8 x 0.97 of it: IoU ~0.77).
Detections come from cv2.dnn with OpenCV's sample pipeline at each input size; ferc's
detector returns the same boxes at the same input size (bench/compare_res10.py checks that
on these images), and is far slower with scalar kernels, hence cv2 here.
"""
import argparse
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools", "model"))
import face_photos  # noqa: E402
from convert_res10 import load_net  # noqa: E402

BUCKETS = [(0, 24), (24, 40), (40, 64), (64, 128), (128, 256), (256, 1000)]


def iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    i = w * h
    return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i)


def detect(net, img, w, h):
    net.setInput(cv2.dnn.blobFromImage(cv2.resize(img, (w, h)), 1.0, (w, h), (104, 177, 123)))
    o = net.forward()[0, 0]
    o = o[o[:, 2] > 0.5]
    H, W = img.shape[:2]
    return [list(r[3:7] * [W, H, W, H]) + [r[2]] for r in o]


def found(gt, dets):
    used = set()
    hit = []
    for g in gt:
        best, bi = 0.4, -1
        for i, d in enumerate(dets):
            v = iou(g, d)
            if i not in used and v >= best:
                best, bi = v, i
        if bi >= 0:
            used.add(bi)
        hit.append(bi >= 0)
    return np.array(hit)


def capped(W, H, cap):
    k = min(1.0, cap / max(W, H))
    return max(16, round(W * k)), max(16, round(H * k))


def rules(W, H):
    """Candidate passes (input sizes) for a W x H image. "auto" is ferc's default
    (ferc_ssd_auto_sizes): 300x300 plus the image at its size (long side <= 1024)."""
    return {
        "300x300 (OpenCV sample)": [(300, 300)],
        "long side 640": [capped(W, H, 640)],
        "image size, long side <= 1024": [capped(W, H, 1024)],
        "image size (full)": [(W, H)],
        "auto: 300x300 + image size": [(300, 300)] + ([capped(W, H, 1024)] if max(W, H) > 400 else []),
    }


def merge(passes):
    """Union of several passes' detections: by score, dropping boxes with IoU > 0.45 to a
    better one (ferc_ssd_detect's merge)."""
    dets = sorted([d for p in passes for d in p], key=lambda d: -d[4])
    kept = []
    for d in dets:
        if all(iou(d, k) <= 0.45 for k in kept):
            kept.append(d)
    return [k[:4] for k in kept]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--src", default=os.path.join(HERE, "..", "..", "shared", "models", "res10_ssd"))
    args = ap.parse_args()
    net = load_net(args.src)
    photos = []
    files = face_photos.fer_files()
    if files:
        photos += [face_photos.fer_crowd(files, seed=s) for s in range(args.images)]
    else:
        print("FER2013 not found under ../shared: FER2013 crowds skipped")
    photos += [face_photos.astronaut_group(seed=s) for s in range(args.images)]
    portraits = []
    for s in (250, 300, 350, 400, 450):
        canvas = face_photos.background(640, 480)
        src = face_photos.astronaut()
        k = s / (face_photos.FACE[2] - face_photos.FACE[0])
        big = cv2.resize(src, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        fx0, fy0 = face_photos.FACE[0] * k, face_photos.FACE[1] * k
        ox, oy = int(320 - s / 2 - fx0), int(240 - s * 0.65 - fy0)
        # Paste the enlarged photo so the face is centred, clipped to the canvas.
        x0, y0 = max(0, ox), max(0, oy)
        x1, y1 = min(640, ox + big.shape[1]), min(480, oy + big.shape[0])
        canvas[y0:y1, x0:x1] = big[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
        portraits.append((canvas, np.array([face_photos.FACE * k + [ox, oy, ox, oy]])))
    photos += portraits

    names = list(rules(1280, 720))
    stats = {n: np.zeros((len(BUCKETS), 2), int) for n in names}
    for img, gt in photos:
        H, W = img.shape[:2]
        sizes = np.sqrt((gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1]))
        for n, passes in rules(W, H).items():
            hit = found(gt, merge([detect(net, img, w, h) for w, h in passes]))
            for bi, (lo, hi) in enumerate(BUCKETS):
                m = (sizes >= lo) & (sizes < hi)
                stats[n][bi] += [hit[m].sum(), m.sum()]
    print("recall (found / faces) by face size in image pixels; images 1280x720 and 640x480")
    print("%-32s" % "input size" + "".join("%13s" % ("%d-%d px" % b) for b in BUCKETS))
    for n in names:
        print("%-32s" % n + "".join("%13s" % ("%d/%d" % (f, t) if t else "-") for f, t in stats[n]))


if __name__ == "__main__":
    main()
