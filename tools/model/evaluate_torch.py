"""Evaluate a training checkpoint on FER2013 val (PublicTest); prints JSON.

    /usr/bin/python3 tools/model/evaluate_torch.py runs/vggbn/best.pt [--data DIR | --csv FILE] [--threads 2]

Reports accuracy without TTA and with flip-TTA (mean of the softmax
probabilities of the image and its horizontal mirror), per-class accuracy
(recall) for both, and 7x7 confusion matrices (rows true class, columns
predicted class).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fer2013  # noqa: E402
import models  # noqa: E402
import train  # noqa: E402


def confusion(y, p, k=len(fer2013.CLASSES)):
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (y, p), 1)
    return cm


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--data", default=None)
    src.add_argument("--csv", default=None)
    ap.add_argument("--split", default="val")
    ap.add_argument("--cache", default=".cache")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.data is None and a.csv is None:
        a.data = fer2013.DEFAULT_DATA

    ck = torch.load(a.checkpoint, map_location="cpu")
    model = models.build(ck["model"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    if abs(ck.get("mean", models.MEAN) - models.MEAN) > 1e-9 or abs(ck.get("std", models.STD) - models.STD) > 1e-9:
        raise SystemExit("checkpoint MEAN/STD differ from models.py")
    x, y, _ = fer2013.load_split(a.split, a.data, a.csv, a.cache)
    yt = torch.from_numpy(y)
    ev = train.evaluate(model, torch.from_numpy(x), yt)
    out = {
        "checkpoint": a.checkpoint, "model": ck["model"], "epoch": ck.get("epoch"),
        "split": a.split, "n": int(len(y)),
        "params": models.count_params(model), "macs": models.count_macs(model),
        "mean": models.MEAN, "std": models.STD, "classes": fer2013.CLASSES,
        "acc": ev["val_acc"], "acc_tta": ev["val_acc_tta"],
        "loss": ev["val_loss"], "loss_tta": ev["val_loss_tta"],
    }
    for tag, pred in (("", ev["pred"]), ("_tta", ev["pred_tta"])):
        cm = confusion(y, pred.numpy())
        out["per_class_acc" + tag] = {c: float(cm[i, i] / max(1, cm[i].sum())) for i, c in enumerate(fer2013.CLASSES)}
        out["confusion" + tag] = cm.tolist()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
