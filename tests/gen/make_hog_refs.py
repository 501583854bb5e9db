"""Reference outputs for tests/test_hog.c, from scikit-image (Debian python3-skimage 0.19.3).

Writes to tests/hog/:
  hog_model.ferc   a graph of hog nodes (several orientations, cell and block shapes, all four
                   block norms, one block of more than 128 values) joined by concat
  bad_*.ferc       single nodes with an out-of-range attribute
  hog.ref.ferc     per image: the float32 input (the FER2013 faces of tests/lbp/face*.png as
                   pixel / 255, the way the classifier feeds a model with mean 0, std 1, plus a
                   signed non-integral image) and skimage.feature.hog's outputs for the nodes
Run: /usr/bin/python3 tests/gen/make_hog_refs.py
"""
import os
import sys

import cv2
import numpy as np
from skimage.feature import hog

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "model"))
import fercfile  # noqa: E402

OUT = os.path.join(HERE, "..", "hog")
NORMS = ["L1", "L1-sqrt", "L2", "L2-Hys"]
# orientations, cell (h, w), block (h, w), norm (index into NORMS)
NODES = [(9, (8, 8), (3, 3), 3), (9, (6, 6), (2, 2), 3), (12, (8, 8), (2, 2), 2), (8, (5, 7), (2, 3), 0),
         (7, (6, 6), (4, 4), 1), (5, (8, 8), (6, 6), 3)]


def images():
    faces = [cv2.imread(os.path.join(HERE, "..", "lbp", f"face{k}.png"), cv2.IMREAD_GRAYSCALE) for k in range(3)]
    out = [f.astype(np.float32) * (np.float32(1) / np.float32(255)) for f in faces]
    # signed, non-integral values, flat areas (zero gradients) and exact diagonals
    y, x = np.mgrid[0:48, 0:48].astype(np.float32)
    img = np.sin(x / np.float32(5)) * np.cos(y / np.float32(7)) - np.float32(0.25)
    img[5:20, 5:20] = 0.5
    img[30:46, 30:46] = ((x[30:46, 30:46] - y[30:46, 30:46]) / 16).astype(np.float32)
    out.append(img.astype(np.float32))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    ref = fercfile.Writer()
    imgs = images()
    ref.meta.update(task="reference", images=str(len(imgs)))
    for k, img in enumerate(imgs):
        ref.param(f"img{k}", img.reshape(1, 48, 48, 1))
        feats = [hog(img, o, cell, block, NORMS[n]) for o, cell, block, n in NODES]
        ref.param(f"features{k}", np.concatenate(feats).astype(np.float32)[None, :])
    ref.save(os.path.join(OUT, "hog.ref.ferc"))

    w = fercfile.Writer()
    w.meta["name"] = "hog_test"
    w.input("image", (1, 48, 48, 1))
    outs = []
    for i, (o, cell, block, n) in enumerate(NODES):
        w.node("hog", ["image"], [f"hog{i}"], orientations=o, cell=list(cell), block=list(block), norm=n)
        outs.append(f"hog{i}")
    w.node("concat", outs, ["features"], axis=-1)
    w.output("features")
    w.save(os.path.join(OUT, "hog_model.ferc"))
    for name, attrs in [("orientations", dict(orientations=0)), ("cell", dict(cell=[0, 8])),
                        ("block", dict(block=[2, 17])), ("norm", dict(norm=4))]:
        bad = fercfile.Writer()
        bad.input("image", (1, 48, 48, 1))
        bad.node("hog", ["image"], ["f"], **attrs)
        bad.output("f")
        bad.save(os.path.join(OUT, f"bad_{name}.ferc"))
    print(f"wrote {len(imgs)} images, {len(NODES)} hog nodes to {OUT}")


if __name__ == "__main__":
    main()
