"""PyTorch's own int8 beside ferc's: FX graph mode post-training quantisation of the same
float model (rebuilt from its .ferc by bench/bench_models.py's FercGraph) on the onednn
quantised engine, calibrated on the same 2,000 train images tools/model/quantize.py uses,
then accuracy on FER2013 val for the float and int8 PyTorch models.

    /usr/bin/python3 bench/torch_int8_accuracy.py weights/emotion_cnn.ferc weights/emotion_small.ferc

ferc's own figures for comparison: ./ferc eval --data ../shared/data/fer2013/val --model F.
"""
import argparse
import glob
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
import bench_models  # noqa: E402
import fercfile  # noqa: E402
import quantize  # noqa: E402


def torch_int8(net, calib):
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = "onednn"
    prepared = prepare_fx(net, get_default_qconfig_mapping("onednn"), (calib[:1],))
    with torch.no_grad():
        for i in range(0, len(calib), 64):
            prepared(calib[i:i + 64])
    return convert_fx(prepared)


def accuracy(net, x, y):
    with torch.no_grad():
        pred = torch.cat([net(x[i:i + 256]).argmax(1) for i in range(0, len(x), 256)])
    return float((pred.numpy() == y).mean())


def val_set(data, meta):
    paths, labels = [], []
    for i, c in enumerate(quantize.CLASSES):
        p = sorted(glob.glob(os.path.join(data, "val", c, "*")))
        paths += p
        labels += [i] * len(p)
    return quantize.load_faces(paths, meta).permute(0, 2, 3, 1).contiguous(), np.array(labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "fer2013"))
    ap.add_argument("--calib", type=int, default=2000)
    ap.add_argument("--heldout", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=17)
    a = ap.parse_args()
    torch.set_num_threads(1)
    for path in a.models:
        g = fercfile.read(path)
        calib_items, _ = quantize.train_split(a.data, a.calib, a.heldout, a.seed)
        # FercGraph takes NCHW; its labels come from the file's metadata order
        labels = g["meta"]["labels"].split(",")
        net = bench_models.FercGraph(g).eval()
        calib = quantize.load_faces([p for p, _ in calib_items], g["meta"])
        xv, yv = val_set(a.data, g["meta"])
        xv = xv.permute(0, 3, 1, 2).contiguous()
        remap = np.array([labels.index(c) for c in quantize.CLASSES])
        yv = remap[yv]
        fp32 = accuracy(net, xv, yv)
        q = torch_int8(net, calib)
        i8 = accuracy(q, xv, yv)
        print(f"{os.path.basename(path)}: PyTorch fp32 {fp32:.4f}, PyTorch FX int8 (onednn) {i8:.4f} on {len(yv)} "
              f"val images (torch {torch.__version__})", flush=True)


if __name__ == "__main__":
    main()
