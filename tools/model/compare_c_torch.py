"""Does the C engine reproduce PyTorch image for image? Runs a trained checkpoint in PyTorch
and its exported weight file in `./ferc` over all of FER2013 val, on the same pixels, and
compares accuracy, argmax and probabilities, for each test-time augmentation the C classifier
offers (none, flip, crops: `views()` below is the reference definition of each).

    /usr/bin/python3 tools/model/compare_c_torch.py runs/vggbn_r2/best.pt weights/emotion_cnn.ferc

Both sides must see identical pixels: JPEG decoders differ by a gray level here and there
(stb_image vs libjpeg), so the images are decoded once (tools/model/fer2013.py) and handed to ferc
as lossless PNGs. A checkpoint trained with CLAHE gets cv2's CLAHE here and ferc's own
(from the exported file's metadata) on the C side. Pass criteria (issue 3): accuracy equal within 0.05 points, argmax equal on
at least 99.9% of images, max |probability difference| at most 1e-4. Exit 1 if any fails.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fer2013 import load_split  # noqa: E402
from models import build  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


TTA_VIEWS = {"none": 1, "flip": 2, "centre": 4, "crops": 12}


def views(images, tta):
    """The views the classifier averages, as uint8 N x V x H x W. none: the face; flip: the face
    and its mirror; crops: those two, then five crops of 11/12 of the side (44 of 48 px: the four
    corners and the centre, offset half the margin rounded down) resized back to the full size by
    cv2.resize (bilinear), each followed by its mirror; centre: as crops with the last crop only."""
    out = [images]
    if tta != "none":
        out.append(images[:, :, ::-1])
    if tta in ("crops", "centre"):
        h, w = images.shape[1:]
        ch, cw = (h * 11 + 6) // 12, (w * 11 + 6) // 12
        corners = ((0, 0), (0, w - cw), (h - ch, 0), (h - ch, w - cw)) if tta == "crops" else ()
        for oy, ox in corners + (((h - ch) // 2, (w - cw) // 2),):
            c = np.stack([cv2.resize(np.ascontiguousarray(f[oy:oy + ch, ox:ox + cw]), (w, h),
                                     interpolation=cv2.INTER_LINEAR) for f in images])
            out += [c, c[:, :, ::-1]]
    return np.ascontiguousarray(np.stack(out, 1))


def torch_probs(ck, images, tta):
    if ck.get("clahe"):  # trained with tools/model/train.py --clahe: the same cv2 CLAHE first
        c = cv2.createCLAHE(clipLimit=ck["clahe"][0], tileGridSize=(ck["clahe"][1], ck["clahe"][1]))
        images = np.stack([c.apply(f) for f in images])
    if ck.get("equalize"):  # trained with tools/train.py --equalize: cv2.equalizeHist first
        images = np.stack([cv2.equalizeHist(f) for f in images])
    model = build(ck["model"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    v = views(images, tta)
    n, nv, h, w = v.shape
    x = (torch.from_numpy(v).float().reshape(n * nv, 1, h, w) / 255.0 - ck["mean"]) / ck["std"]
    out = []
    with torch.no_grad():
        for i in range(0, len(x), 256 * nv):
            out.append(torch.softmax(model(x[i:i + 256 * nv]), 1).reshape(-1, nv, 7).mean(1).numpy())
    return np.concatenate(out)


def ferc_probs(model_path, folder, n, tta, classes):
    cmd = [os.path.join(ROOT, "ferc"), "--no-detect", "--model", model_path, "--tta=" + tta, folder]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    probs = np.zeros((n, 7), np.float64)
    for line in res.stdout.splitlines():
        o = json.loads(line)
        i = int(os.path.splitext(os.path.basename(o["file"]))[0])
        probs[i] = [o["faces"][0]["probabilities"][c] for c in classes]
    return probs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("model")
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "fer2013"))
    ap.add_argument("--tta", default="none,flip,centre,crops", help="the modes to compare (comma-separated)")
    args = ap.parse_args()
    if set(args.tta.split(",")) - set(TTA_VIEWS):
        raise SystemExit(f"--tta {args.tta}: modes are " + ", ".join(TTA_VIEWS))
    if not os.path.isdir(args.data):
        raise SystemExit(f"FER2013 not found at {args.data} (--data DIR)")
    ck = torch.load(args.checkpoint, map_location="cpu")
    images, labels, _ = load_split("val", data=args.data)
    classes = ck["classes"]
    ok = True
    report = {"images": len(images)}
    with tempfile.TemporaryDirectory() as tmp:
        for i, img in enumerate(images):
            cv2.imwrite(os.path.join(tmp, f"{i:05d}.png"), img)
        for tta in args.tta.split(","):
            pt, pc = torch_probs(ck, images, tta), ferc_probs(args.model, tmp, len(images), tta, classes)
            acc_t = float((pt.argmax(1) == labels).mean())
            acc_c = float((pc.argmax(1) == labels).mean())
            agree = float((pt.argmax(1) == pc.argmax(1)).mean())
            diff = float(np.abs(pt - pc).max())
            r = {"accuracy_torch": round(acc_t, 5), "accuracy_ferc": round(acc_c, 5), "argmax_agreement": round(agree, 5),
                 "max_abs_prob_diff": diff}
            report["tta_" + tta] = r
            ok &= abs(acc_t - acc_c) <= 0.0005 and agree >= 0.999 and diff <= 1e-4
    report["pass"] = bool(ok)
    print(json.dumps(report, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
