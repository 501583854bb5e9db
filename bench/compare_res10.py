"""ferc's res10 SSD face detector against OpenCV 4.6's cv2.dnn on real photos, at the end
and layer by layer.

    /usr/bin/python3 bench/compare_res10.py

For each photo (bench/face_photos.py: the astronaut, the astronaut group, and a FER2013
crowd when ../shared has FER2013) and each input size (300x300 as OpenCV's sample, and the
image at its own size with the long side at most 1024):
  - final: OpenCV's sample pipeline (cv2.resize, blobFromImage with mean (104, 177, 123),
    forward) against bench/detect_faces (ferc_detect at the same input size): the same
    detections above 0.5, each box with IoU >= 0.99 and confidence within 1e-3;
  - layers: every layer of cv2.dnn (fusion off, so each layer's own output) against the same
    activation in ferc (bench/layer_diff), max |diff| / max |cv2| <= 1e-4.
Exit status 1 if anything is off.
"""
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
import face_photos  # noqa: E402
import fercfile  # noqa: E402
from convert_res10 import load_net  # noqa: E402
from ssd_recall import capped, iou  # noqa: E402

SRC = os.path.join(ROOT, "..", "shared", "models", "res10_ssd")
MODEL = os.path.join(ROOT, "weights", "face_res10.ferc")
MEAN = (104, 177, 123)


def build_tools(out):
    subprocess.check_call(["make", "-s", "-C", ROOT, "libferc.a"])
    tools = {}
    for name in ("detect_faces", "layer_diff"):
        exe = os.path.join(out, name)
        subprocess.check_call(["gcc", "-std=c11", "-O2", "-D_POSIX_C_SOURCE=200809L", "-I" + os.path.join(ROOT, "include"),
                               os.path.join(HERE, name + ".c"), os.path.join(ROOT, "libferc.a"), "-lm", "-fopenmp",
                               "-o", exe])
        tools[name] = exe
    return tools


def cv2_faces(net, img, w, h):
    net.setInput(cv2.dnn.blobFromImage(cv2.resize(img, (w, h)), 1.0, (w, h), MEAN))
    o = net.forward()[0, 0]
    o = o[o[:, 2] > 0.5]
    H, W = img.shape[:2]
    return [[r[2]] + list(r[3:7] * [W, H, W, H]) for r in o]


def ferc_faces(tools, path, w, h):
    out = subprocess.check_output([tools["detect_faces"], MODEL, path, str(w), str(h), "0.5"], text=True)
    return [[float(v) for v in line.split()] for line in out.splitlines()]


def layer_refs(net_unfused, img, w, h, path):
    blob = cv2.dnn.blobFromImage(cv2.resize(img, (w, h)), 1.0, (w, h), MEAN)
    net_unfused.setInput(blob)
    names = [n for n in net_unfused.getLayerNames() if not n.startswith("PriorBox")
             and n not in ("detection_out", "mbox_priorbox")]
    t = {"data": blob.transpose(0, 2, 3, 1)}
    for n, o in zip(names, net_unfused.forward(names)):
        o = o.transpose(0, 2, 3, 1) if o.ndim == 4 else o
        if max(o.shape) > 65536:  # the file format's dimension limit; layer_diff compares values only
            o = o.reshape(o.shape[0], -1, 8)
        t[n] = o
    fercfile.write_tensors(path, t)


def main():
    if not os.path.exists(os.path.join(SRC, "opencv_face_detector_uint8.pb")):
        sys.exit("compare_res10: OpenCV's model not found under ../shared/models/res10_ssd (nothing compared)")
    net = load_net(SRC)
    unfused = load_net(SRC)
    unfused.enableFusion(False)
    photos = [("astronaut", face_photos.astronaut()), ("astronaut group", face_photos.astronaut_group()[0])]
    files = face_photos.fer_files()
    if files:
        photos.append(("FER2013 crowd", face_photos.fer_crowd(files)[0]))
    else:
        print("FER2013 not found under ../shared: the crowd photo is skipped")
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        tools = build_tools(tmp)
        for name, img in photos:
            path = os.path.join(tmp, "photo.png")
            cv2.imwrite(path, img)
            H, W = img.shape[:2]
            for w, h in ((300, 300), capped(W, H, 1024)):
                want, got = cv2_faces(net, img, w, h), ferc_faces(tools, path, w, h)
                ok = len(want) == len(got)
                worst_iou, worst_conf = 1.0, 0.0
                for a in want:
                    best = max(got, key=lambda b: iou(a[1:], b[1:]), default=None)
                    if best is None:
                        ok = False
                        continue
                    worst_iou = min(worst_iou, iou(a[1:], best[1:]))
                    worst_conf = max(worst_conf, abs(a[0] - best[0]))
                ok = ok and worst_iou >= 0.99 and worst_conf <= 1e-3
                ref = os.path.join(tmp, "ref.ferc")
                layer_refs(unfused, img, w, h, ref)
                r = subprocess.run([tools["layer_diff"], MODEL, ref, "1e-4"], capture_output=True, text=True)
                rows = [ln.split() for ln in r.stdout.splitlines() if "rel" in ln]
                worst = max(rows, key=lambda ln: float(ln[ln.index("rel") + 1]))
                print("%-16s %4dx%-4d  faces cv2 %2d ferc %2d  min IoU %.5f  max |dconf| %.2e  %s | "
                      "%d layers, worst rel diff %.2e (%s) %s" % (
                          name, w, h, len(want), len(got), worst_iou, worst_conf, "ok" if ok else "MISMATCH",
                          len(rows), float(worst[worst.index("rel") + 1]), worst[0],
                          "ok" if r.returncode == 0 else "MISMATCH"))
                bad += (not ok) + (r.returncode != 0)
    print("all match" if not bad else "%d mismatches" % bad)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
