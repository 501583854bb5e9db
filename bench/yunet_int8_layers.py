"""Per-layer sensitivity of the int8 YuNet (issue 17): which convolutions move the boxes.

For each convolution the quantiser would make int8, two candidates through the C engine:
"only" (that layer int8, every other fp32) and "all but" (every quantisable layer int8 except
that one); each against the fp32 detector on the photo fixtures (every fp32 face: the best
IoU of an int8 face) and on held-out composites (tools/model/quantize.py's, never the
calibration ones; --heldout 0: the fixtures only, faster). Ranked by the lowest fixture IoU of "only".

    /usr/bin/python3 bench/yunet_int8_layers.py [--calib 200] [--heldout 40] [--rule 99.999]
        [--dw-wmax 127] [--layers 215,220] [--modes only,allbut]

Needs ./ferc built (make).
"""
import argparse
import os
import pickle
import shutil
import sys
import tempfile

import cv2
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
sys.path.insert(0, HERE)
import fercfile  # noqa: E402
import quantize  # noqa: E402
import yunet_int8_check  # noqa: E402


def quantisable(model):
    """Output names of the convolutions quantize_model makes int8 by default."""
    vals = {v["name"]: v for v in model["values"]}
    inputs = {v["name"] for v in model["values"] if v["kind"] == "input"}
    return [outs[0] for op, ins, outs, _ in model["nodes"]
            if op == "conv2d" and ins[0] not in inputs and vals[ins[1]]["shape"][0] >= 16]


def ious(ref, got):
    """Per fp32 face, the best IoU of the other's faces (0 if none)."""
    return [max([quantize.iou(x, y) for y in b] + [0.0]) for a, b in zip(ref, got) for x in a]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "weights", "face_yunet.ferc"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "fer2013"))
    ap.add_argument("--calib", type=int, default=200)
    ap.add_argument("--heldout", type=int, default=40)
    ap.add_argument("--rule", default="99.999")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--dw-wmax", type=int, default=quantize.WMAX_DW, help="64: the grid of the other layers")
    ap.add_argument("--layers", default="", help="only these layers (default: every quantisable one)")
    ap.add_argument("--modes", default="only,allbut")
    ap.add_argument("--ferc", default=os.path.join(ROOT, "ferc"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = fercfile.read(args.model)
    layers = quantisable(model)
    todo = args.layers.split(",") if args.layers else layers
    net = quantize.GraphNet(model)
    cache = os.path.join(tempfile.gettempdir(), f"ferc_yunet_stats_{args.calib}_{args.seed}_{args.rule}.pkl")
    if os.path.exists(cache):  # calibration takes minutes; its result depends only on these
        with open(cache, "rb") as f:
            stats = pickle.load(f)
    else:
        calib = [quantize.detector_input(im, 640) for im in quantize.composites(args.data, args.calib, args.seed)]
        stats = quantize.calibrate(net, calib, [float(args.rule)] if args.rule != "minmax" else [], args.seed)
        for k in stats:
            if args.rule != "minmax":
                stats[k]["p" + args.rule] = stats[k].pop("p" + str(float(args.rule)))
        stats[net.input]["input"] = True
        with open(cache, "wb") as f:
            pickle.dump(stats, f)
    photos = [os.path.join(ROOT, p) for p in yunet_int8_check.PHOTOS]
    tmp = tempfile.mkdtemp(prefix="ferc_yunet_layers_")
    try:
        held = []
        for i, im in enumerate(quantize.composites(args.data, args.heldout, args.seed + 1)):
            held.append(os.path.join(tmp, f"held{i}.png"))
            cv2.imwrite(held[-1], im)
        ref_f = quantize.detections(args.ferc, args.model, photos)
        ref_h = quantize.detections(args.ferc, args.model, held) if held else []

        def measure(label, keep):
            path = os.path.join(tmp, "cand.ferc")
            quantize.quantize_model(model, stats, args.rule, label, keep, dw_wmax=args.dw_wmax).save(path)
            f = ious(ref_f, quantize.detections(args.ferc, path, photos))
            line = f"{label:14s} fixtures min {min(f):.3f} mean {sum(f) / len(f):.4f} | "
            if held:
                h = sorted(ious(ref_h, quantize.detections(args.ferc, path, held)))
                line += (f"held-out ({len(h)} faces) min {h[0]:.3f} 2nd {h[1]:.3f} <0.95: {sum(i < 0.95 for i in h):2d} "
                         f"mean {sum(h) / len(h):.4f} | ")
            print(line + "fixture faces " + " ".join(f"{i:.3f}" for i in f), flush=True)

        print(f"{len(layers)} quantisable convolutions; rule {args.rule}, {args.calib} calibration and "
              f"{args.heldout} held-out composites, depthwise weights within +-{args.dw_wmax}")
        measure("all int8", set())
        for mode in filter(None, args.modes.split(",")):
            for name in todo:
                keep = set(layers) - {name} if mode == "only" else {name}
                measure(f"{mode} {name}", keep)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
