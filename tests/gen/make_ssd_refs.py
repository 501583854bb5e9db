"""Fixtures for tests/test_ssd.c and tests/test_preprocess.c: OpenCV 4.6's outputs on a real
photo (scikit-image's astronaut.png, a public-domain NASA photo of Eileen Collins).

    /usr/bin/python3 tests/gen/make_ssd_refs.py [--src ../shared/models/res10_ssd]

Writes tests/data/astronaut_face.png (a 128x128 crop around the face), and
tests/ref/res10_96.ref.ferc (cv2.dnn per-layer outputs, prior boxes and detection output
at a 96x96 input; the face image at 150x150 through OpenCV's sample pipeline),
tests/ref/preprocess.ref.ferc (cv2.cvtColor / cv2.resize outputs).
"""
import argparse
import os
import sys

import cv2
import numpy as np
import skimage.data

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "model"))
import fercfile  # noqa: E402
from convert_res10 import load_net  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")
MEAN = (104, 177, 123)
# Layers kept in the fixture (the early, large maps are covered by their successors).
LAYERS = ["add_1", "conv4_3_norm/mul_1", "add_3", "last_relu", "conv6_2_h/Relu",
          "conv7_2_h/Relu", "conv8_2_h/Relu", "conv9_2_h/Relu", "mbox_loc", "mbox_conf_flatten"]
DET_THRESHOLD = 0.1


def face_crop():
    rgb = skimage.data.astronaut()
    return np.ascontiguousarray(cv2.resize(rgb[0:256, 100:356], (128, 128), interpolation=cv2.INTER_AREA))


def sample_detect(net, bgr, w, h):
    """OpenCV's face detector sample: detections as (score, x0, y0, x1, y1) in pixels."""
    net.setInput(cv2.dnn.blobFromImage(cv2.resize(bgr, (w, h)), 1.0, (w, h), MEAN))
    out = net.forward()[0, 0]
    H, W = bgr.shape[:2]
    return np.array([[r[2], r[3] * W, r[4] * H, r[5] * W, r[6] * H] for r in out if r[2] > DET_THRESHOLD], np.float32)


def fer_crop(rgb, box, size=48):
    """FER2013-framed gray crop as detect/image/face_crop.c makes it, done with cv2."""
    f = np.float32
    x0, y0, x1, y1 = [f(v) for v in box]
    s = (f(x1 - x0) / f(0.787) + f(y1 - y0) / f(0.971)) * f(0.5)
    cx = (x0 + x1) * f(0.5) - (f(0.502) - f(0.5)) * s
    cy = (y0 + y1) * f(0.5) - (f(0.509) - f(0.5)) * s
    side = max(1, int(np.rint(s)))
    x, y = int(np.rint(cx - f(0.5) * f(side))), int(np.rint(cy - f(0.5) * f(side)))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    H, W = gray.shape
    pad = max(0, -x, -y, x + side - W, y + side - H)
    g = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    sq = g[y + pad:y + pad + side, x + pad:x + pad + side]
    return cv2.resize(sq, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


def bad_detectors():
    """Tiny files with the detector's metadata but a broken head: an unknown feature map, and
    heads whose priors do not match the outputs (tests/test_ssd.c expects clear errors)."""
    real = fercfile.read(os.path.join(ROOT, "weights", "face_res10.ferc"))["meta"]
    for name, head in (("ssd_bad_head", "no_such_value 30 60 8 0.5 2"), ("ssd_bad_priors", "data 30 60 8 0.5 2")):
        w = fercfile.Writer()
        w.meta.update({k: v for k, v in real.items() if not k.startswith("ssd.head")})
        w.meta["ssd.heads"] = "1"
        w.meta["ssd.head0"] = head
        w.input("data", (1, 32, 32, 3))
        w.node("flatten", ["data"], ["mbox_loc"])
        w.node("flatten", ["data"], ["mbox_conf_flatten"])
        w.output("mbox_loc")
        w.output("mbox_conf_flatten")
        w.save(os.path.join(ROOT, "tests", "ref", name + ".ferc"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default=os.path.join(ROOT, "..", "shared", "models", "res10_ssd"))
    args = ap.parse_args()
    bad_detectors()
    rgb = face_crop()
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    cv2.imwrite(os.path.join(ROOT, "tests", "data", "astronaut_face.png"), bgr)
    # What ferc will decode from the PNG (lossless), to be safe against any colour handling.
    bgr = cv2.imread(os.path.join(ROOT, "tests", "data", "astronaut_face.png"))

    net = load_net(args.src)
    net.enableFusion(False)
    blob = cv2.dnn.blobFromImage(cv2.resize(bgr, (96, 96)), 1.0, (96, 96), MEAN)
    net.setInput(blob)
    names = LAYERS + ["mbox_priorbox", "detection_out"]
    outs = dict(zip(names, net.forward(names)))
    t = {"data": blob.transpose(0, 2, 3, 1)}
    for n in LAYERS:
        o = outs[n]
        t[n] = o.transpose(0, 2, 3, 1) if o.ndim == 4 else o
    t["mbox_priorbox"] = outs["mbox_priorbox"]
    det = outs["detection_out"][0, 0]
    det = det[det[:, 2] > 0]  # OpenCV pads its output with zero rows up to keep_top_k
    t["detection_out"] = det[:, 1:7]  # label, score, x0, y0, x1, y1 (normalised)
    scores = np.sort(det[:, 2])
    assert np.all(np.diff(scores) != 0), "tied scores: order would be arbitrary"
    faces = sample_detect(net, bgr, 150, 150)
    assert len(faces) and np.abs(faces[:, 0] - DET_THRESHOLD).min() > 1e-3
    t["faces_150"] = faces
    t["faces_threshold"] = np.array([DET_THRESHOLD], np.float32)
    fercfile.write_tensors(os.path.join(ROOT, "tests", "ref", "res10_96.ref.ferc"), t,
                           meta={"source": "cv2.dnn %s on tests/data/astronaut_face.png" % cv2.__version__})
    print("res10_96: %d detections, faces_150 %s" % (len(det), faces[:2]))

    # Preprocessing: 8-bit results stored as q8 with scale 1 (exactly the uint8 values).
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    p = {"gray": gray}
    for (w, h) in [(48, 48), (61, 47), (37, 53), (64, 64), (100, 100), (150, 140)]:
        for name, interp in (("linear", cv2.INTER_LINEAR), ("area", cv2.INTER_AREA)):
            p["%s_gray_%dx%d" % (name, w, h)] = cv2.resize(gray, (w, h), interpolation=interp)
            if (w, h) in ((48, 48), (61, 47), (150, 140)):
                p["%s_rgb_%dx%d" % (name, w, h)] = cv2.resize(rgb, (w, h), interpolation=interp)
    boxes = {"face": faces[0, 1:5], "edge": np.array([-20, -10, 40, 60], np.float32),
             "small": np.array([50, 50, 70, 72], np.float32)}
    for k, b in boxes.items():
        p["%s_crop_48" % k] = fer_crop(rgb, b)
    w = fercfile.Writer()
    for k, b in boxes.items():
        w.param("%s_box" % k, b.astype(np.float32))
    w.meta.update(task="reference", source="cv2 %s on tests/data/astronaut_face.png" % cv2.__version__)
    for k, v in p.items():
        w.param(k, v, dtype="q8", scale=1.0, zero_point=0)
    w.save(os.path.join(ROOT, "tests", "ref", "preprocess.ref.ferc"))


if __name__ == "__main__":
    main()
