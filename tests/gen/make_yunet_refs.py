#!/usr/bin/python3
"""References for tests/test_yunet.c, from OpenCV 4.6's cv2.dnn running the YuNet ONNX file and
bench/yunet_ref.py's NumPy decoder (written from ../shared/models/yunet/README.md).

    /usr/bin/python3 tests/gen/make_yunet_refs.py [--onnx ../shared/models/yunet/yunet_n_640_640.onnx]

Writes tests/ref/yunet.ref.ferc (about 0.4 MB):
  net/<photo>_<S>/<output>/idx, .../val  raw outputs of cv2.dnn on the photo resized to S x S
      (S = 320, 640; cv2.resize INTER_AREA to shrink, INTER_LINEAR to enlarge): every
      element of outputs up to 1,024 values, else 1,024 fixed-seed samples; .../max is
      max|output| over the whole tensor;
  dec/<output>           all raw outputs of faces_group.png through the pipeline at input
      size 320 (320x240, padded to 320x256);
  dec/faces_<case>       the Python decoder on them: rows x, y, w, h, score, 10 landmark
      coordinates (network pixels), cases t60 (threshold 0.6), t05 (0.05), t05k3 (0.05, top 3);
  pipe/<photo>_<S>       the whole Python pipeline (bench/yunet_ref.detect, size S, 0 = the
      automatic rule) in image pixels, same rows.
The photos are tests/data/faces_group.png (gray composite) and astronaut_face.png (colour).

Writes tests/ref/yunet_tiles.ref.ferc (about 10 kB): tile/mosaic_<S>_<G>x<K>, the faces of
bench/yunet_ref.detect_tiled (the whole image at size S plus G x G tiles at K times their
size, each pass on cv2.dnn) on mosaic(faces_group): same rows as above. S and K are small to
keep the test quick on the scalar kernels (6.7 and 7.4 megapixels of network input).
"""
import argparse
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import fercfile  # noqa: E402
import yunet_ref  # noqa: E402

PHOTOS = ["faces_group", "astronaut_face"]
SAMPLES = 1024
TILE_SIZE, TILES = 640, [(2, 2), (3, 2)]


def mosaic(g):
    """2W x 2H from a W x H photo, with faces at 1, 1/2 and 1/4 of their size for the tiles:
    quadrants g, g mirrored, 2 x 2 and 4 x 4 cells; cell (r, c) of a quadrant subsampled by f
    is g[r::f, c::f], mirrored when r + c (+ 1 in the second quadrant) is odd. No resizing,
    so tests/test_yunet.c builds the same pixels."""
    H, W = g.shape[:2]
    out = np.zeros((2 * H, 2 * W, 3), np.uint8)
    for q, (f, flip) in enumerate(((1, 0), (1, 1), (2, 0), (4, 0))):
        ch, cw = H // f, W // f
        for r in range(f):
            for c in range(f):
                cell = g[r::f, c::f][:ch, :cw]
                oy, ox = (q // 2) * H + r * ch, (q % 2) * W + c * cw
                out[oy:oy + ch, ox:ox + cw] = cell[:, ::-1] if (r + c + flip) % 2 else cell
    return out


def rows(faces):
    return np.array([f["box"] + [f["score"]] + [v for p in f["landmarks"] for v in p] for f in faces],
                    np.float32).reshape(-1, 15)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default=yunet_ref.DEFAULT_MODEL)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "ref", "yunet.ref.ferc"))
    ap.add_argument("--tiles-out", default=os.path.join(ROOT, "tests", "ref", "yunet_tiles.ref.ferc"))
    a = ap.parse_args()
    net = yunet_ref.load(a.onnx)
    rng = np.random.RandomState(14)
    t = {}
    imgs = {p: cv2.imread(os.path.join(ROOT, "tests", "data", p + ".png")) for p in PHOTOS}
    for p, img in imgs.items():
        for S in (320, 640):
            h, w = img.shape[:2]
            interp = cv2.INTER_AREA if S < w and S < h else cv2.INTER_LINEAR
            outs = yunet_ref.raw_outputs(net, cv2.resize(img, (S, S), interpolation=interp))
            for name, o in outs.items():
                flat = o.reshape(-1)
                idx = np.arange(flat.size) if flat.size <= SAMPLES else np.sort(rng.choice(flat.size, SAMPLES, False))
                key = f"net/{p}_{S}/{name}"
                t[key + "/idx"] = idx.astype(np.float32)  # exact below 2^24
                t[key + "/val"] = flat[idx]
                t[key + "/max"] = np.abs(flat).max(keepdims=True)
    inp, _ = yunet_ref.prepare(imgs["faces_group"], 320)
    H, W = inp.shape[:2]
    outs = yunet_ref.raw_outputs(net, inp)
    for name, o in outs.items():
        t["dec/" + name] = o
    t["dec/size"] = np.array([W, H], np.float32)
    t["dec/faces_t60"] = rows(yunet_ref.decode(outs, W, H, 0.6))
    t["dec/faces_t05"] = rows(yunet_ref.decode(outs, W, H, 0.05))
    t["dec/faces_t05k3"] = rows(yunet_ref.decode(outs, W, H, 0.05, top_k=3))
    for p, img in imgs.items():
        for S in (0, 320):
            t[f"pipe/{p}_{S}"] = rows(yunet_ref.detect(net, img, S))
    for k in ("dec/faces_t60", "dec/faces_t05", "dec/faces_t05k3") + tuple(f"pipe/{p}_{S}" for p in PHOTOS for S in (0, 320)):
        print(k, len(t[k]), "faces")
    fercfile.write_tensors(a.out, t, {"source": os.path.basename(a.onnx)})
    print(a.out, os.path.getsize(a.out), "bytes")
    m = mosaic(imgs["faces_group"])
    one_pass = lambda bgr, size, thr, nms: yunet_ref.detect(net, bgr, size, thr, nms)  # noqa: E731
    tt = {f"tile/mosaic_{TILE_SIZE}_{g}x{k}": rows(yunet_ref.detect_tiled(one_pass, m, g, k, TILE_SIZE))
          for g, k in TILES}
    for key, v in tt.items():
        print(key, len(v), "faces")
    fercfile.write_tensors(a.tiles_out, tt, {"source": os.path.basename(a.onnx)})
    print(a.tiles_out, os.path.getsize(a.tiles_out), "bytes")


if __name__ == "__main__":
    main()
