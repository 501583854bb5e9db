"""Which test-time augmentation pays? Accuracy on FER2013 val of checkpoints in PyTorch with no
TTA, flip, and ten crops (five crops of C px, four corners and the centre, and their mirrors)
for C = 44, 42, 40: used at their own size ("direct"), resized back to 48 with F.interpolate
(bilinear, "resized"), and resized plus the face and its mirror ("resized+full", what
`--tta crops` ships with C = 44, resized by cv2.resize instead: compare_c_torch.py's views()).

    /usr/bin/python3 tools/model/tta_sweep.py tools/model/runs/vggbn_eq_wr24/best.pt [...]

One JSON line per checkpoint. Faces are equalised as in training (train.equalize_batch) when the
checkpoint was trained with --equalize.

    /usr/bin/python3 tools/model/tta_sweep.py --ensemble A/best.pt B/best.pt [...]

instead scores the checkpoints alone and their ensemble (the mean of their probabilities) in the
three modes the C classifier ships (none, flip, crops: compare_c_torch.py's definitions): how
much a set of teachers knows beyond its best member, before distilling it.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fer2013  # noqa: E402
import models  # noqa: E402
import train  # noqa: E402


def probs(model, x):
    out = []
    with torch.no_grad():
        for i in range(0, len(x), 256):
            out.append(F.softmax(model(x[i:i + 256]), 1))
    return torch.cat(out)


def ensemble(paths):
    from compare_c_torch import torch_probs  # the shipped TTA modes, as the C classifier runs them
    xva, yva, _ = fer2013.load_split("val", fer2013.DEFAULT_DATA, None, ".cache")
    total = {}
    for path in paths:
        ck = torch.load(path, map_location="cpu")
        res = {}
        for mode in ("none", "flip", "crops"):
            p = torch_probs(ck, xva, mode)
            total[mode] = total.get(mode, 0) + p
            res[mode] = round(float((p.argmax(1) == yva).mean()) * 100, 2)
        print(path, json.dumps(res), flush=True)
    print("ensemble", json.dumps({m: round(float((p.argmax(1) == yva).mean()) * 100, 2) for m, p in total.items()}))


def main():
    torch.set_num_threads(1)
    if sys.argv[1:2] == ["--ensemble"]:
        return ensemble(sys.argv[2:])
    xva, yva, _ = fer2013.load_split("val", fer2013.DEFAULT_DATA, None, ".cache")
    y = torch.from_numpy(yva)
    for path in sys.argv[1:]:
        ck = torch.load(path, map_location="cpu")
        x = torch.from_numpy(xva).float().div(255).unsqueeze(1)
        if ck.get("equalize"):
            x = train.equalize_batch(x)
        x = (x - ck["mean"]) / ck["std"]
        m = models.build(ck["model"])
        m.load_state_dict(ck["state_dict"])
        m.eval()
        p0, pf = probs(m, x), probs(m, torch.flip(x, [3]))
        acc = lambda p: round((p.argmax(1) == y).float().mean().item() * 100, 2)  # noqa: E731
        res = {"plain": acc(p0), "flip": acc(p0 + pf)}
        for c in (44, 42, 40):
            o = 48 - c
            direct = resized = 0
            for dy, dx in ((0, 0), (0, o), (o, 0), (o, o), (o // 2, o // 2)):
                crop = x[:, :, dy:dy + c, dx:dx + c]
                for view in (crop, torch.flip(crop, [3])):
                    direct = direct + probs(m, view)
                    resized = resized + probs(m, F.interpolate(view, size=48, mode="bilinear", align_corners=False))
            res[f"10crop{c}_direct"] = acc(direct)
            res[f"10crop{c}_resized"] = acc(resized)
            res[f"10crop{c}_resized+full"] = acc(resized + p0 + pf)
        print(path, json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
