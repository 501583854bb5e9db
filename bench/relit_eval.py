#!/usr/bin/env python3
"""What a classifier makes of the same faces under other lighting, through the C engine.

FER2013's faces are histogram-equalised; faces cropped from real photos are not. This re-lights
every val face (gamma, contrast, a shadow on one side, dimming), runs `ferc --no-detect` with each
model on every version, and prints per model and lighting: accuracy, and agreement of the top
emotion with the model's own answer on the stored face.

    /usr/bin/python3 bench/relit_eval.py --model weights/emotion_cnn.ferc --model NEW.ferc \
        [--data ../shared/data/fer2013/val] [--limit N] [--threads 2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def relight(name, f):
    x = f.astype(np.float32) / 255.0
    if name == "stored":
        y = x
    elif name == "gamma 2 (darker midtones)":
        y = x ** 2.0
    elif name == "gamma 0.5 (lighter midtones)":
        y = x ** 0.5
    elif name == "contrast halved":
        y = (x - x.mean()) * 0.5 + x.mean()
    elif name == "dim (x0.4)":
        y = x * 0.4
    elif name == "shadow on one side":
        ramp = np.linspace(0.35, 1.0, x.shape[1], dtype=np.float32)[None, :]
        y = x * ramp
    else:
        raise ValueError(name)
    return np.clip(np.round(y * 255.0), 0, 255).astype(np.uint8)


LIGHTINGS = ["stored", "gamma 2 (darker midtones)", "gamma 0.5 (lighter midtones)", "contrast halved",
             "dim (x0.4)", "shadow on one side"]


def run_ferc(ferc, model, folder, threads):
    out = subprocess.run([ferc, "--no-detect", "--model", model, "--threads", str(threads), folder],
                         check=True, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        r = json.loads(line)
        res[os.path.relpath(r["file"], folder)] = r["faces"][0]["emotion"]
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--data", default=os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "fer2013", "val")))
    ap.add_argument("--ferc", default=os.path.join(ROOT, "ferc"))
    ap.add_argument("--limit", type=int, default=0, help="faces per class (0: all)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if not os.path.isdir(a.data):
        sys.exit(f"relit_eval: no data set at {a.data} (FER2013 val in image-folder layout)")
    with tempfile.TemporaryDirectory() as tmp:
        truth = {}
        for li, lname in enumerate(LIGHTINGS):
            for c in CLASSES:
                names = sorted(os.listdir(os.path.join(a.data, c)))
                if a.limit:
                    names = names[:a.limit]
                os.makedirs(os.path.join(tmp, str(li), c))
                for n in names:
                    f = cv2.imread(os.path.join(a.data, c, n), cv2.IMREAD_GRAYSCALE)
                    rel = os.path.join(c, os.path.splitext(n)[0] + ".png")
                    cv2.imwrite(os.path.join(tmp, str(li), rel), relight(lname, f))
                    truth[rel] = c
        print(f"{len(truth)} faces per lighting, from {a.data}")
        print(f"| lighting | " + " | ".join(f"{os.path.basename(m)} acc | agree" for m in a.model) + " |")
        print("|---|" + "---:|---:|" * len(a.model))
        base = {}
        for li, lname in enumerate(LIGHTINGS):
            cells = []
            for m in a.model:
                res = run_ferc(a.ferc, m, os.path.join(tmp, str(li)), a.threads)
                if li == 0:
                    base[m] = res
                acc = np.mean([res[k] == truth[k] for k in truth])
                agree = np.mean([res[k] == base[m][k] for k in truth])
                cells.append(f"{100 * acc:.2f}% | {100 * agree:.1f}%")
            print(f"| {lname} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
