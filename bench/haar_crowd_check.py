#!/usr/bin/python3
"""Looks for the reported one-face difference between ferc's Haar detector and
cv2.CascadeClassifier.detectMultiScale on crowded photos: composites with many faces of
varied sizes (bench/detect_eval.py's, plus denser ones), and the bundled group photos
(tests/data/faces_group.png, faces_astronaut.png) as 2x2 mosaics of themselves at 1, 1/2 and
1/4 scale (tests/gen/make_yunet_refs.py's mosaic) and enlarged 1.3 to 3 times; and crops of
the bundled photos and the crowd fixture (tests/data/faces_crowd.png) whose bottom edge cuts
through a face (the last rows of each face cv2 finds, at four widths): where OpenCV leaves
out the last row of windows at some scales and ferc once did not (docs/cascades.md). Scale
1.1, minNeighbors 3 and 5. Prints every image whose boxes differ.

    nice -n 10 /usr/bin/python3 bench/haar_crowd_check.py [--composites 12] [--dense 8] [--ferc ./ferc]

ferc runs as the command does (`--detector haar`: equalised gray); cv2 on
cv2.equalizeHist(cv2.cvtColor(img, COLOR_BGR2GRAY)). Boxes are compared as sets.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import detect_eval  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "tests", "gen"))
from make_yunet_refs import mosaic  # noqa: E402

CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"


def dense(n, fer_dir, rng):
    """Composites with 20..40 faces of 24..160 px on a gray gradient with noise."""
    import glob
    fer = sorted(glob.glob(os.path.join(fer_dir, "*", "*.jpg")))
    out = []
    for i in range(n):
        W, H = 1024, 768
        img = (np.linspace(60, 200, W)[None, :] + rng.normal(0, 12, (H, W))).clip(0, 255).astype(np.uint8)
        boxes = []
        for _ in range(int(rng.randint(20, 41))):
            for _try in range(50):
                s = int(rng.randint(24, 161))
                x, y = int(rng.randint(0, W - s)), int(rng.randint(0, H - s))
                if all(x + s < bx or bx + bs < x or y + s < by or by + bs < y for bx, by, bs in boxes):
                    g = cv2.imread(fer[int(rng.randint(len(fer)))], cv2.IMREAD_GRAYSCALE)
                    img[y:y + s, x:x + s] = cv2.resize(g, (s, s), interpolation=cv2.INTER_AREA if s < 48 else cv2.INTER_LINEAR)
                    boxes.append((x, y, s))
                    break
        out.append((f"dense{i:02d}", cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)))
    return out


def edge_crops(casc):
    """Crops whose bottom edge runs through the lower part of a face: for each face cv2 finds
    (minNeighbors 3, equalised), heights from 80% of the face down to 2 px below it, widths
    the whole photo and 1, 17 and 33 px past the face's right side."""
    out = []
    for photo in ("faces_crowd", "faces_group", "faces_astronaut"):
        im = cv2.imread(os.path.join(HERE, "..", "tests", "data", photo + ".png"))
        H, W = im.shape[:2]
        for x, y, w, h in casc.detectMultiScale(cv2.equalizeHist(cv2.cvtColor(im, cv2.COLOR_BGR2GRAY)), 1.1, 3):
            for cut in range(y + int(0.8 * h), min(H, y + h + 2) + 1):
                for cw in sorted({W, min(W, x + w + 1), min(W, x + w + 17), min(W, x + w + 33)}):
                    out.append((f"{photo}_{cw}x{cut}", np.ascontiguousarray(im[:cut, :cw])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--composites", type=int, default=12)
    ap.add_argument("--dense", type=int, default=8)
    ap.add_argument("--fer", default=os.path.join(HERE, "..", "..", "shared", "data", "fer2013", "val"))
    ap.add_argument("--ferc", default=os.path.join(HERE, "..", "ferc"))
    a = ap.parse_args()
    rng = np.random.RandomState(6)
    comps, _ = detect_eval.make_composites(a.composites, a.fer, rng)
    imgs = [(n, im) for n, im, _ in comps] + dense(a.dense, a.fer, rng)
    for photo in ("faces_group", "faces_astronaut"):
        im = cv2.imread(os.path.join(HERE, "..", "tests", "data", photo + ".png"))
        imgs.append((photo + "_mosaic", mosaic(im)))
        imgs += [(f"{photo}_x{s}", cv2.resize(im, None, fx=s, fy=s)) for s in (1.0, 1.3, 1.7, 2.2, 3.0)]
    casc = cv2.CascadeClassifier(CASCADE)
    imgs += edge_crops(casc)
    differ = compared = faces = 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, im in imgs:
            p = os.path.join(tmp, name + ".png")
            cv2.imwrite(p, im)
            paths.append(p)
        for mn in (3, 5):
            out = subprocess.run([a.ferc, "--format", "json", "--threads", "1", "--detector", "haar",
                                  "--min-neighbors", str(mn)] + paths, capture_output=True, text=True, check=True)
            got = {json.loads(l)["file"]: sorted(tuple(round(v) for v in f["box"]) for f in json.loads(l)["faces"])
                   for l in out.stdout.splitlines()}
            for (name, im), p in zip(imgs, paths):
                g = cv2.equalizeHist(cv2.cvtColor(im, cv2.COLOR_BGR2GRAY))
                want = sorted(tuple(int(v) for v in r) for r in casc.detectMultiScale(g, 1.1, mn))
                compared += 1
                faces += len(want)
                if got[p] != want:
                    differ += 1
                    print(f"{name} minNeighbors {mn}: ferc {len(got[p])} boxes, cv2 {len(want)}; "
                          f"only ferc {sorted(set(got[p]) - set(want))}, only cv2 {sorted(set(want) - set(got[p]))}")
    print(f"{compared} detections compared ({len(imgs)} images x minNeighbors 3, 5; {faces} cv2 boxes): "
          f"{differ} differ")


if __name__ == "__main__":
    main()
