#!/usr/bin/python3
"""YuNet reference in Python: cv2.dnn runs the ONNX file, NumPy decodes its raw outputs as
../shared/models/yunet/README.md describes. Written from that README alone (not from ferc's C),
so that detect/yunet.c (and detect/yunet_tiles.c: detect_tiled) can be checked against it
(tests/gen/make_yunet_refs.py, bench/detect_eval.py).

Decoding, per stride S in (8, 16, 32), for the cell at column c, row r of a W x H input
(anchor (c*S, r*S), cells row-major):
    score    = cls * obj
    centre   = bbox[0:2] * S + anchor,  size = exp(bbox[2:4]) * S
    landmark = kps[2k:2k+2] * S + anchor  (k = 0..4: right eye, left eye, nose, right and
               left mouth corner, "right" being the person's)
then, over all strides together, OpenCV's NMSBoxes: scores > threshold, stable sort by score
(descending), the first top_k, greedy suppression keeping a box when its IoU with every kept
box is <= nms. All arithmetic in float32, as the C does it.

The pipeline (ferc's "yunet" detector): the image is scaled so that its long side is the
detector size (size_rule), resized as cv2.resize does (INTER_AREA to shrink, INTER_LINEAR to
enlarge), zero-padded right and bottom to multiples of 32, BGR 0..255 floats, and the boxes
mapped back by the scale of each axis.

    /usr/bin/python3 bench/yunet_ref.py PHOTO [--size N] [--threshold T] [--model ONNX]
prints the faces as JSON.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "shared", "models", "yunet")
DEFAULT_MODEL = os.path.join(MODELS, "yunet_n_640_640.onnx")
STRIDES = (8, 16, 32)
# Ask for all twelve by name: getUnconnectedOutLayersNames() omits the obj_* outputs.
OUT_NAMES = [f"{k}_{s}" for k in ("cls", "obj", "bbox", "kps") for s in STRIDES]
SCORE, NMS, TOP_K = 0.6, 0.3, 5000
# ferc's default input-size rule: twice the image's long side, kept within these bounds.
AUTO_SCALE, AUTO_MIN, AUTO_MAX = 2, 640, 2048


def load(path=DEFAULT_MODEL):
    return cv2.dnn.readNetFromONNX(path)


def raw_outputs(net, bgr):
    """bgr: H x W x 3 (H, W multiples of 32), uint8 or float. Returns {name: array}."""
    blob = bgr.astype(np.float32).transpose(2, 0, 1)[None].copy()
    net.setInput(blob)
    outs = net.forward(OUT_NAMES)
    return {n: np.asarray(o, np.float32).reshape(o.shape[1], o.shape[2]) for n, o in zip(OUT_NAMES, outs)}


def iou(a, b):
    """a, b: x, y, w, h (float32)."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if not (w > 0 and h > 0):
        return np.float32(0)
    inter = np.float32(w * h)
    return inter / (np.float32(a[2] * a[3]) + np.float32(b[2] * b[3]) - inter)


def decode_all(outs, width, height):
    """Every cell of every stride: boxes [N, 4] (x, y, w, h), landmarks [N, 5, 2], scores [N]."""
    boxes, kps, scores = [], [], []
    for s in STRIDES:
        cols, rows = width // s, height // s
        n = cols * rows
        cls, obj = outs[f"cls_{s}"][:, 0], outs[f"obj_{s}"][:, 0]
        bb, kp = outs[f"bbox_{s}"], outs[f"kps_{s}"]
        assert cls.shape[0] == n, (s, cls.shape, cols, rows)
        idx = np.arange(n)
        ax = ((idx % cols) * s).astype(np.float32)
        ay = ((idx // cols) * s).astype(np.float32)
        S = np.float32(s)
        cx, cy = bb[:, 0] * S + ax, bb[:, 1] * S + ay
        w, h = np.exp(bb[:, 2]) * S, np.exp(bb[:, 3]) * S
        boxes.append(np.stack([cx - w * np.float32(0.5), cy - h * np.float32(0.5), w, h], 1))
        lm = kp.reshape(n, 5, 2) * S + np.stack([ax, ay], 1)[:, None, :]
        kps.append(lm)
        scores.append(cls * obj)
    return (np.concatenate(boxes).astype(np.float32), np.concatenate(kps).astype(np.float32),
            np.concatenate(scores).astype(np.float32))


def nms(boxes, scores, threshold=SCORE, nms_thr=NMS, top_k=TOP_K):
    """OpenCV's NMSBoxes: indices kept, best first."""
    cand = np.nonzero(scores > np.float32(threshold))[0]
    cand = cand[np.argsort(-scores[cand], kind="stable")][:top_k]
    kept = []
    for i in cand:
        if all(iou(boxes[i], boxes[k]) <= np.float32(nms_thr) for k in kept):
            kept.append(i)
    return kept


def decode(outs, width, height, threshold=SCORE, nms_thr=NMS, top_k=TOP_K):
    """Faces in network-input pixels: list of dicts box [x, y, w, h], score, landmarks [[x, y]*5]."""
    boxes, kps, scores = decode_all(outs, width, height)
    return [{"box": boxes[i].tolist(), "score": float(scores[i]), "landmarks": kps[i].tolist()}
            for i in nms(boxes, scores, threshold, nms_thr, top_k)]


def size_rule(width, height, size=0):
    """Network input (before padding) for an image: long side = size, or for size 0 twice the
    image's long side kept within AUTO_MIN..AUTO_MAX (rounded half up, as the C)."""
    longest = max(width, height)
    target = size if size > 0 else min(max(AUTO_SCALE * longest, AUTO_MIN), AUTO_MAX)
    k = target / longest
    return max(1, int(np.floor(width * k + 0.5))), max(1, int(np.floor(height * k + 0.5)))


def prepare(bgr, size=0):
    """The padded network input and the (x, y) scale from image to input pixels."""
    h, w = bgr.shape[:2]
    rw, rh = size_rule(w, h, size)
    if (rw, rh) != (w, h):
        interp = cv2.INTER_AREA if rw < w and rh < h else cv2.INTER_LINEAR
        bgr = cv2.resize(bgr, (rw, rh), interpolation=interp)
    pw, ph = (rw + 31) // 32 * 32, (rh + 31) // 32 * 32
    pad = np.zeros((ph, pw, 3), np.uint8)
    pad[:rh, :rw] = bgr
    return pad, (rw / w, rh / h)


def detect(net, bgr, size=0, threshold=SCORE, nms_thr=NMS, top_k=TOP_K):
    """Faces in image pixels, best first (ferc's yunet detector in Python)."""
    inp, (kx, ky) = prepare(bgr, size)
    outs = raw_outputs(net, inp)
    faces = decode(outs, inp.shape[1], inp.shape[0], threshold, nms_thr, top_k)
    for f in faces:
        x, y, w, h = f["box"]
        f["box"] = [x / kx, y / ky, w / kx, h / ky]
        f["landmarks"] = [[px / kx, py / ky] for px, py in f["landmarks"]]
    return faces


# Tiles (detect/yunet_tiles.c): each shares a quarter of itself with its neighbour; a face
# within EDGE pixels of an inner tile edge is cut by it; a tile's input is at most TILE_MAX.
OVERLAP, EDGE, TILE_MAX = 0.25, 2, 2048


def detect_tiled(detect_fn, bgr, grid, scale, size=0, threshold=SCORE, nms_thr=NMS):
    """ferc_yunet_detect_tiled in Python: the whole image at `size`, plus grid x grid tiles
    each at `scale` times its own size (long side at most TILE_MAX); faces cut by an inner
    tile edge dropped, the others shifted to image pixels, all through one NMS (stable sort by
    score: the whole image's faces first, then the tiles' row by row). Tiles under 32 pixels,
    or seen at no larger scale than the whole image, are not run. detect_fn(bgr, size,
    threshold, nms_thr) is one pass (detect() on a cv2.dnn net, or ferc's through libferc.so)."""
    H, W = bgr.shape[:2]
    faces = detect_fn(bgr, size, threshold, nms_thr)
    if grid <= 1:
        return faces
    tw, th = int(W / (grid - (grid - 1) * OVERLAP)), int(H / (grid - (grid - 1) * OVERLAP))
    tsize = min(TILE_MAX, int(round(scale * max(tw, th))))
    if min(tw, th) < 32 or tsize / max(tw, th) <= size_rule(W, H, size)[0] / W:
        return faces
    for gy in range(grid):
        for gx in range(grid):
            x0 = W - tw if gx == grid - 1 else int(gx * tw * (1 - OVERLAP))  # the last flush with the edge
            y0 = H - th if gy == grid - 1 else int(gy * th * (1 - OVERLAP))
            for f in detect_fn(np.ascontiguousarray(bgr[y0:y0 + th, x0:x0 + tw]), tsize, threshold, nms_thr):
                x, y, w, h = (float(np.float32(v)) for v in f["box"])
                if (x0 > 0 and x < EDGE) or (y0 > 0 and y < EDGE) or (x0 + tw < W and x + w > tw - EDGE) or \
                        (y0 + th < H and y + h > th - EDGE):
                    continue
                dx, dy = np.float32(x0), np.float32(y0)
                faces.append({"box": [float(np.float32(x) + dx), float(np.float32(y) + dy), w, h], "score": f["score"],
                              "landmarks": [[float(np.float32(px) + dx), float(np.float32(py) + dy)]
                                            for px, py in f["landmarks"]]})
    faces.sort(key=lambda f: -np.float32(f["score"]))  # stable, as ferc_sort_by_score
    boxes = np.array([f["box"] for f in faces], np.float32).reshape(-1, 4)
    kept = []
    for i in range(len(faces)):
        if all(iou(boxes[i], boxes[k]) <= np.float32(nms_thr) for k in kept):
            kept.append(i)
    return [faces[i] for i in kept]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("photo")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--size", type=int, default=0, help="long side of the network input (0: auto)")
    ap.add_argument("--threshold", type=float, default=SCORE)
    ap.add_argument("--nms", type=float, default=NMS)
    a = ap.parse_args()
    img = cv2.imread(a.photo)
    if img is None:
        sys.exit(f"{a.photo}: cannot read")
    faces = detect(load(a.model), img, a.size, a.threshold, a.nms)
    print(json.dumps(faces, indent=1))


if __name__ == "__main__":
    main()
