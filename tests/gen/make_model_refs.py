"""PyTorch's probabilities for the shipped emotion CNNs on the FER2013 face fixtures in
tests/cli/fer/ (with and without flip TTA), for tests/test_models.c.

    /usr/bin/python3 tests/gen/make_model_refs.py [--cnn CHECKPOINT] [--small CHECKPOINT]

A model not named keeps the references already stored, so one model can be retrained alone.
Checkpoints of models trained with --equalize (or --clahe) get the same cv2 preprocessing
that the C classifier applies from the exported file's metadata.
"""
import argparse
import glob
import os
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "model"))
import fercfile  # noqa: E402
from models import build  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnn", help="checkpoint of weights/emotion_cnn.ferc")
    ap.add_argument("--small", help="checkpoint of weights/emotion_small.ferc")
    a = ap.parse_args()
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "cli", "fer", "*", "*.png")))
    faces = np.stack([cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in files])
    out = {"faces": faces.astype(np.float32)}
    ref_path = os.path.join(ROOT, "tests", "ref", "emotion_models.ref.ferc")
    if os.path.exists(ref_path):
        out.update({v["name"]: v["data"] for v in fercfile.read(ref_path)["values"] if v["name"] != "faces"})
    for name, path in (("emotion_cnn", a.cnn), ("emotion_small", a.small)):
        if not path:
            continue
        ck = torch.load(path, map_location="cpu")
        m = build(ck["model"])
        m.load_state_dict(ck["state_dict"])
        m.eval()
        seen = faces
        if ck.get("clahe"):
            c = cv2.createCLAHE(clipLimit=ck["clahe"][0], tileGridSize=(ck["clahe"][1], ck["clahe"][1]))
            seen = np.stack([c.apply(f) for f in seen])
        if ck.get("equalize"):
            seen = np.stack([cv2.equalizeHist(f) for f in seen])
        x = (torch.from_numpy(seen).float().unsqueeze(1) / 255 - ck["mean"]) / ck["std"]
        with torch.no_grad():
            p = torch.softmax(m(x), 1)
            pf = torch.softmax(m(torch.flip(x, [3])), 1)
        out[name] = p.numpy()
        out[name + ".tta"] = ((p + pf) / 2).numpy()
    fercfile.write_tensors(ref_path, out,
                           {"files": ",".join(os.path.relpath(f, ROOT) for f in files)})
    print(f"{len(files)} faces")


if __name__ == "__main__":
    main()
