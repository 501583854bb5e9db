"""Export a checkpoint saved by tools/model/train.py to a ferc weight file for the `ferc` command.

    /usr/bin/python3 tools/model/export_model.py runs/vggbn_r2/best.pt weights/emotion_cnn.ferc \
        --name emotion_cnn --train-command "..."

The file carries what the C classifier needs (labels, mean, std, input size) and the
provenance the model card repeats (data set, command, epoch, val accuracy).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import export  # noqa: E402
from models import INPUT_SIZE, build  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--name", required=True)
    ap.add_argument("--train-command", default="")
    args = ap.parse_args()
    ck = torch.load(args.checkpoint, map_location="cpu")
    model = build(ck["model"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    m = ck["metrics"]
    meta = {
        "name": args.name, "task": "emotion", "architecture": ck["model"],
        "labels": ",".join(ck["classes"]), "input": f"{INPUT_SIZE}x{INPUT_SIZE} gray",
        "mean": ck["mean"], "std": ck["std"],
        **({"clahe": "%g,%d" % tuple(ck["clahe"])} if ck.get("clahe") else {}),
        **({"equalize": "1"} if ck.get("equalize") else {}),
        "dataset": "FER2013 Training (28,709); selected on PublicTest (val)",
        "train_command": args.train_command, "epoch": ck["epoch"],
        "accuracy": f"val {m['val_acc']:.4f}, val with flip TTA {m['val_acc_tta']:.4f} (PyTorch)",
    }
    info = export(model, torch.zeros(1, 1, INPUT_SIZE, INPUT_SIZE), args.out, meta)
    print(f"{args.out}: {info['params']} params, {info['macs']} MACs")


if __name__ == "__main__":
    main()
