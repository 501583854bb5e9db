"""Packs the LBP (+ HOG) + linear SVM classifier trained by tools/model/train_svm into a ferc weight file.

    /usr/bin/python3 tools/model/pack_lbp_svm.py build/lbp_svm weights/emotion_lbp_svm.ferc

Reads <prefix>.txt (feature configs, preprocessing, C, softmax scale, ...), <prefix>.w.f32
([7, D] float32, scale already folded in) and <prefix>.b.f32 ([7]). The graph: one
lbp_histogram or hog node per feature config ("feat" and "hog" lines, in their order) on the
gray input [1, 48, 48, 1] (pixel / 255: mean 0, std 1), concat (when more than one), dense
(the SVM), softmax. Metadata: name, task, labels, input size, mean 0 / std 1, equalize or clahe
when the trainer preprocessed the faces (the classifier then does the same to every crop), and
how it was trained.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import fercfile  # noqa: E402

LABELS = "angry,disgust,fear,happy,sad,surprise,neutral"


def describe(kind, vals):
    if kind == "hog":
        o, ch, cw, bh, bw, n, _ = vals  # the weight is folded into the dense weights
        return f"hog orientations={o} cell={ch}x{cw} block={bh}x{bw} norm={'L1 L1-sqrt L2 L2-Hys'.split()[int(n)]}"
    p, r, ch, cw, sh, sw, n = vals
    return f"lbp P={p} R={r} cell={ch}x{cw} stride={sh}x{sw} norm={'none l1sqrt l2'.split()[int(n)]}"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: pack_lbp_svm.py PREFIX OUT.ferc")
    prefix, out = sys.argv[1:]
    feats, info = [], {}
    for line in open(prefix + ".txt"):
        key, *vals = line.split()
        if key in ("feat", "hog"):
            feats.append((key, vals))
        else:
            info[key] = vals[0]
    dim = int(info["dim"])
    w = np.fromfile(prefix + ".w.f32", "<f4")
    b = np.fromfile(prefix + ".b.f32", "<f4")
    if w.size != 7 * dim or b.size != 7:
        sys.exit(f"{prefix}: weights have {w.size} values, bias {b.size}; expected 7 x {dim} and 7")

    f = fercfile.Writer()
    f.meta.update({
        "name": "emotion_lbp_svm",
        "task": "emotion",
        "labels": LABELS,
        "input": "gray",
        "input_size": "48x48",
        "mean": "0",
        "std": "1",
        "classifier": "lbp-svm",
        "features": "; ".join(describe(kind, vals) for kind, vals in feats),
        "svm": f"linear, one-vs-rest, squared hinge, C={info['C']}, softmax scale {info['scale']} folded in",
        "val_accuracy": info["val_accuracy"],
    })
    if "equalize" in info:
        f.meta["equalize"] = "1"
    if "clahe" in info:
        f.meta["clahe"] = info["clahe"]
    f.input("image", (1, 48, 48, 1))
    parts = []
    for i, (kind, vals) in enumerate(feats):
        if kind == "hog":
            o, ch, cw, bh, bw, n = map(int, vals[:6])
            f.node("hog", ["image"], [f"hog{i}"], orientations=o, cell=[ch, cw], block=[bh, bw], norm=n)
            parts.append(f"hog{i}")
        else:
            p, r, ch, cw, sh, sw, n = vals
            f.node("lbp_histogram", ["image"], [f"lbp{i}"], points=int(p), radius=float(r), cell=[int(ch), int(cw)],
                   stride=[int(sh), int(sw)], norm=int(n))
            parts.append(f"lbp{i}")
    if len(parts) > 1:
        f.node("concat", parts, ["features"], axis=-1)
        parts = ["features"]
    # f16 halves the file (f32 again at load); on val the predictions did not change (docs/LBP_SVM.md)
    f.param("svm.w", w.reshape(7, dim), dtype="f16")
    f.param("svm.b", b)
    f.node("dense", [parts[0], "svm.w", "svm.b"], ["scores"])
    f.node("softmax", ["scores"], ["probs"])
    f.output("probs")
    f.save(out)
    print(f"wrote {out}: {len(feats)} feature node(s), D={dim}, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
