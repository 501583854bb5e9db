"""Cross-checks tools/model/train_svm against scikit-learn's LinearSVC (LIBLINEAR) on the same features.

    build/tools/model/train_svm --data FER2013 --out build/lbp_svm [--feat ...] --C <best C> [--flip] --dump DIR
    /usr/bin/python3 tools/model/svm_crosscheck.py DIR build/lbp_svm

DIR holds the features train_svm dumped (train.x.f32 [N, D], train.y.i32, val.x.f32, val.y.i32);
PREFIX.txt gives C and train_svm's val accuracy. LinearSVC solves the same problem
(one-vs-rest, L2 regularisation, squared hinge, dual coordinate descent, bias as a regularised
constant feature), so both val accuracies must agree within 1 point; exits 1 otherwise.
Also reports how often the two models predict the same class. The dumped features are those
the SVM saw: HOG nodes times their weight (PREFIX.txt's last "hog" field), which train_svm folded
into the written weights, so the check of those weights divides it out again.
"""
import sys
import time

import numpy as np
from sklearn.svm import LinearSVC


def load(d, split, dim):
    x = np.fromfile(f"{d}/{split}.x.f32", "<f4")
    y = np.fromfile(f"{d}/{split}.y.i32", "<i4")
    return x.reshape(len(y), dim), y


def node_dims(lines):
    """Length and weight of each feature node, in order (kernels/lbp.h, kernels/hog.h on 48x48)."""
    out = []
    for key, vals in lines:
        if key == "feat":
            p, _, ch, cw, sh, sw, _ = vals
            p, ch, cw, sh, sw = map(int, (p, ch, cw, sh, sw))
            out.append((((48 - ch) // sh + 1) * ((48 - cw) // sw + 1) * (p * (p - 1) + 3), 1.0))
        else:
            o, ch, cw, bh, bw, _ = map(int, vals[:6])
            out.append(((48 // ch - bh + 1) * (48 // cw - bw + 1) * bh * bw * o, float(vals[6])))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: svm_crosscheck.py DUMP_DIR PREFIX")
    d, prefix = sys.argv[1:]
    info, nodes = {}, []
    for line in open(prefix + ".txt"):
        key, *vals = line.split()
        if key in ("feat", "hog"):
            nodes.append((key, vals))
        else:
            info[key] = vals[0]
    dim, c, ours = int(info["dim"]), float(info["C"]), float(info["val_accuracy"])
    xtr, ytr = load(d, "train", dim)
    xva, yva = load(d, "val", dim)
    t = time.time()
    svc = LinearSVC(C=c, loss="squared_hinge", dual=True, fit_intercept=True, intercept_scaling=1.0, tol=1e-4,
                    max_iter=1000).fit(xtr, ytr)
    theirs = (svc.predict(xva) == yva).mean()
    # train_svm's own predictions, from the packed weights (scale folded in: same argmax)
    w = np.fromfile(prefix + ".w.f32", "<f4").reshape(7, dim)
    b = np.fromfile(prefix + ".b.f32", "<f4")
    unweight = np.concatenate([np.full(n, 1 / wt, np.float32) for n, wt in node_dims(nodes)])
    assert unweight.size == dim, "feature lines do not add up to dim"
    pred = ((xva * unweight) @ w.T + b).argmax(1)
    agree = (pred == svc.predict(xva)).mean()
    print(f"C={c}: train_svm val accuracy {ours:.4f} (recomputed from its weights {(pred == yva).mean():.4f}), "
          f"sklearn LinearSVC {theirs:.4f} ({time.time() - t:.0f} s); same prediction on {agree:.4f} of val")
    if abs(ours - theirs) > 0.01:
        print("FAILED: accuracies differ by more than 1 point")
        sys.exit(1)
    print("OK: within 1 point")


if __name__ == "__main__":
    main()
