"""Reference outputs for tests/test_lbp.c, from scikit-image (Debian python3-skimage).

Writes to tests/lbp/:
  face<k>.png         a few FER2013 val faces (lossless PNG, so the C test decodes the very
                      pixels skimage saw) plus one synthetic image with flat areas and exact
                      ties (the >= rule) and non-integer values
  lbp_model.ferc      a graph of lbp_histogram nodes joined by concat
  bad_*.ferc          single nodes with an out-of-range attribute
  lbp.ref.ferc        per image: skimage's code images for each (P, R) and the model's
                      expected output, histograms computed with numpy from skimage's codes
Run: /usr/bin/python3 tests/gen/make_lbp_refs.py [/path/to/fer2013]
"""
import os
import sys

import cv2
import numpy as np
from skimage.feature import local_binary_pattern

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "model"))
import fercfile  # noqa: E402

ROOT = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/fer2013"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lbp")
FACES = ["val/happy/PublicTest_10130075.jpg", "val/angry/PublicTest_10116449.jpg",
         "val/surprise/PublicTest_10709121.jpg"]
# (P, R) pairs whose code images are checked
CODES = [(8, 1.0), (8, 2.0), (8, 1.5), (16, 2.0), (4, 1.0), (12, 3.0)]
# histogram nodes of the test model: P, R, cell, stride, norm (0 none, 1 l1sqrt, 2 l2)
NODES = [(8, 1.0, (6, 6), (6, 6), 0), (8, 1.0, (8, 8), (4, 4), 1), (8, 2.0, (16, 16), (8, 8), 2),
         (16, 2.0, (24, 24), (24, 24), 1), (8, 1.5, (10, 7), (5, 9), 0)]


def synthetic():
    """Flat blocks (exact ties), steps, and a ramp that is not integral after sampling."""
    img = np.zeros((48, 48), np.uint8)
    img[:, 24:] = 200
    img[10:30, 5:20] = 255
    img[30:, :] = (np.arange(48)[None, :] * 5) % 256
    img[40:44, 40:44] = 7
    return img


def histograms(codes, p, cell, stride, norm):
    bins = p * (p - 1) + 3
    (ch, cw), (sh, sw) = cell, stride
    h, w = codes.shape
    out = []
    for y in range(0, h - ch + 1, sh):
        for x in range(0, w - cw + 1, sw):
            c = np.bincount(codes[y:y + ch, x:x + cw].ravel().astype(np.int64), minlength=bins).astype(np.float64)
            if norm == 1:
                c = np.sqrt(c / c.sum())
            elif norm == 2:
                c = c / np.sqrt((c * c).sum())
            out.append(c)
    return np.concatenate(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    imgs = [cv2.imread(os.path.join(ROOT, f), cv2.IMREAD_GRAYSCALE) for f in FACES] + [synthetic()]
    refs = {}
    for k, img in enumerate(imgs):
        assert img is not None and img.shape == (48, 48)
        cv2.imwrite(os.path.join(OUT, f"face{k}.png"), img)
        refs[f"img{k}"] = img.astype(np.float32).reshape(1, 48, 48, 1)
        for p, r in CODES:
            refs[f"codes{k}_P{p}_R{r:g}"] = local_binary_pattern(img, p, r, method="nri_uniform").astype(np.float32)
        feats = [histograms(local_binary_pattern(img, p, r, method="nri_uniform"), p, cell, stride, norm)
                 for p, r, cell, stride, norm in NODES]
        refs[f"features{k}"] = np.concatenate(feats).astype(np.float32)[None, :]
    # codes (at most 242) are exact in float16, which halves the fixture
    ref = fercfile.Writer()
    ref.meta.update(task="reference", images=str(len(imgs)))
    for name, a in refs.items():
        ref.param(name, a, dtype="f16" if name.startswith("codes") else "f32")
    ref.save(os.path.join(OUT, "lbp.ref.ferc"))

    w = fercfile.Writer()
    w.meta["name"] = "lbp_test"
    w.input("image", (1, 48, 48, 1))
    outs = []
    for i, (p, r, cell, stride, norm) in enumerate(NODES):
        w.node("lbp_histogram", ["image"], [f"lbp{i}"], points=p, radius=float(r), cell=list(cell),
               stride=list(stride), norm=norm)
        outs.append(f"lbp{i}")
    w.node("concat", outs, ["features"], axis=-1)
    w.output("features")
    w.save(os.path.join(OUT, "lbp_model.ferc"))
    # malformed nodes the loader must refuse with a message naming the attribute
    for name, attrs in [("points", dict(points=40)), ("radius", dict(radius=0.0)), ("norm", dict(norm=7)),
                        ("stride", dict(stride=[0, 2]))]:
        bad = fercfile.Writer()
        bad.input("image", (1, 48, 48, 1))
        bad.node("lbp_histogram", ["image"], ["f"], **attrs)
        bad.output("f")
        bad.save(os.path.join(OUT, f"bad_{name}.ferc"))
    print(f"wrote {len(imgs)} images, {len(refs)} reference tensors to {OUT}")


if __name__ == "__main__":
    main()
