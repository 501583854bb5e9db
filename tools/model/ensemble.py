"""Join trained checkpoints into one ensemble checkpoint: the mean of the members' logits as one
network (models.Ensemble), which export_model.py writes as one ferc file and the C classifier
runs like any other model (and train.py accepts as a --teacher).

    /usr/bin/python3 tools/model/ensemble.py A/best.pt B/best.pt [...] --out tools/model/runs/ens_ab/best.pt

The members must share their preprocessing (mean, std, equalisation, CLAHE, classes). Each
member's last Linear is divided by the number of members, so the network's sum of logits is
their mean. The mean of the logits, not of the probabilities (tta_sweep.py --ensemble): it is
what a single graph with a softmax outside computes; both are printed. Every figure is on
FER2013 val (PublicTest) in PyTorch, in the TTA modes the C classifier ships
(compare_c_torch.py's views); the checkpoint's metrics hold them as train.py's do (val_acc,
val_acc_tta) plus val_acc_crops.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fer2013  # noqa: E402
import models  # noqa: E402
from compare_c_torch import torch_probs  # noqa: E402

SHARED = ("mean", "std", "equalize", "clahe", "classes")


def join(cks):
    """The ensemble checkpoint of the loaded member checkpoints."""
    for key in SHARED:
        vals = [ck.get(key) for ck in cks]
        if any(v != vals[0] for v in vals):
            raise SystemExit(f"members differ in {key}: {vals}")
    k = len(cks)
    sd = {}
    for i, ck in enumerate(cks):
        m = models.build(ck["model"])  # for the name of its last Linear; net checks the weights
        last = [name for name, mod in m.named_modules() if isinstance(mod, nn.Linear)][-1]
        for key, v in ck["state_dict"].items():
            sd[f"members.{i}.{key}"] = v / k if key in (last + ".weight", last + ".bias") else v
    name = models.ENSEMBLE + "+".join(ck["model"] for ck in cks)
    net = models.build(name)
    net.load_state_dict(sd)
    out = {key: cks[0].get(key) for key in SHARED}
    out.update(model=name, state_dict=sd, epoch="+".join(str(ck.get("epoch")) for ck in cks),
               params=models.count_params(net), macs=models.count_macs(net))
    return out


def accuracy(p, y):
    return round(float((p.argmax(1) == y).mean()) * 100, 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("members", nargs="+", help="train.py checkpoints (best.pt)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=fer2013.DEFAULT_DATA)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    if len(a.members) < 2:
        raise SystemExit("an ensemble needs two or more members")
    torch.set_num_threads(a.threads)
    cks = [torch.load(p, map_location="cpu") for p in a.members]
    ens = join(cks)
    images, y, _ = fer2013.load_split("val", a.data, None, ".cache")
    res, mean_p = {}, {}
    for path, ck in zip(a.members, cks):
        r = {}
        for mode in ("none", "flip", "crops"):
            p = torch_probs(ck, images, mode)
            mean_p[mode] = mean_p.get(mode, 0) + p / len(cks)
            r[mode] = accuracy(p, y)
        print(path, json.dumps(r), flush=True)
    for mode in ("none", "flip", "crops"):
        res[mode] = accuracy(torch_probs(ens, images, mode), y)
    print("mean of the probabilities", json.dumps({m: accuracy(p, y) for m, p in mean_p.items()}))
    print("mean of the logits (this checkpoint)", json.dumps(res))
    ens.update(members=[os.path.relpath(p) for p in a.members],
               metrics=dict(val_acc=res["none"] / 100, val_acc_tta=res["flip"] / 100, val_acc_crops=res["crops"] / 100))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(ens, a.out)
    print(f"{a.out}: {ens['model']}, {ens['params']:,} params, {ens['macs'] / 1e6:.1f}M MACs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
