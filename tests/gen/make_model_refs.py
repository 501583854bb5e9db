"""PyTorch's probabilities for the shipped emotion CNNs on the FER2013 face fixtures in
tests/cli/fer/ (with and without flip TTA), for tests/test_models.c.

    /usr/bin/python3 tests/gen/make_model_refs.py runs/vggbn/best.pt runs/small/best.pt
"""
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
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "cli", "fer", "*", "*.png")))
    faces = np.stack([cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in files])
    out = {"faces": faces.astype(np.float32)}
    for name, path in zip(("emotion_cnn", "emotion_small"), sys.argv[1:3]):
        ck = torch.load(path, map_location="cpu")
        m = build(ck["model"])
        m.load_state_dict(ck["state_dict"])
        m.eval()
        x = (torch.from_numpy(faces).float().unsqueeze(1) / 255 - ck["mean"]) / ck["std"]
        with torch.no_grad():
            p = torch.softmax(m(x), 1)
            pf = torch.softmax(m(torch.flip(x, [3])), 1)
        out[name] = p.numpy()
        out[name + ".tta"] = ((p + pf) / 2).numpy()
    fercfile.write_tensors(os.path.join(ROOT, "tests", "ref", "emotion_models.ref.ferc"), out,
                           {"files": ",".join(os.path.relpath(f, ROOT) for f in files)})
    print(f"{len(files)} faces")


if __name__ == "__main__":
    main()
