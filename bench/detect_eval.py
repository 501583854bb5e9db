#!/usr/bin/python3
"""Face detectors compared on composites we may license: precision and recall at IoU 0.5,
recall by face size, false positives per face-free photo (docs/detection.md has the table).

    nice -n 10 /usr/bin/python3 bench/detect_eval.py [--composites 12] [--ferc ./ferc]
        [--only NAME,...] [--fer ../shared/data/fer2013/val] [--int8 FILE]

Composites (fixed seed): a face-free photo (scikit-image's data, Debian's gnome-backgrounds)
scaled to 640..1280 pixels wide, with 6..10 faces pasted at random places without overlap,
sides log-uniform in 16..200 pixels: FER2013 val crops (gray, each a whole 48x48 crop, which
is the ground-truth box) and scikit-image's astronaut (colour, her face framed alike). The
face-free photos themselves, alone, count false positives.

A box matches a face at IoU >= 0.5 with its crop; the "loose" columns also accept a box
lying 70% inside a crop and covering a fifth of it (inside()).

Detectors: ferc's own (the `ferc` command, JSON boxes): res10 with one 300x300 pass and with
the default two passes, YuNet at several input sizes and thresholds and its int8 file (--int8),
Haar and LBP cascades; and, where ferc cannot run a model, OpenCV (cv2.dnn on the ONNX file
through bench/yunet_ref.py, the same pipeline tests/test_yunet.c checks ferc against).

Small faces: YuNet at the automatic size plus G x G overlapping tiles each run at K times its
size (`ferc --tiles GxK`, detect/yunet_tiles.c). The CPU seconds each YuNet entry took on the
composites are printed after the table (the `ferc` command's children: start-up, decoding and
the classifier included).
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import skimage.data

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
import yunet_ref  # noqa: E402

SKIMAGE = ["coffee", "chelsea", "rocket", "stereo_motorcycle", "brick", "grass", "gravel", "coins",
           "hubble_deep_field", "moon"]
GNOME = ["wood-d", "wood-l", "licorice-l", "pixels-l"]
SIZE_BINS = [(16, 32), (32, 64), (64, 128), (128, 256)]


def backgrounds():
    out = []
    for name in SKIMAGE:
        im = getattr(skimage.data, name)()
        im = im[0] if isinstance(im, tuple) else im  # stereo_motorcycle: the left view
        im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGR) if im.ndim == 2 else cv2.cvtColor(im[..., :3], cv2.COLOR_RGB2BGR)
        out.append((name, im))
    for name in GNOME:
        im = cv2.imread(f"/usr/share/backgrounds/gnome/{name}.webp")
        if im is not None:
            out.append((name, im))
    return out


def astronaut_face():
    """Her face framed as FER2013 frames its faces (a square around the face, chin to brow)."""
    rgb = skimage.data.astronaut()
    return cv2.cvtColor(np.ascontiguousarray(rgb[58:174, 168:284]), cv2.COLOR_RGB2BGR)


def make_composites(n, fer_dir, rng):
    fer = sorted(glob.glob(os.path.join(fer_dir, "*", "*.jpg")))
    if not fer:
        sys.exit(f"detect_eval: no FER2013 images under {fer_dir}")
    head = astronaut_face()
    bgs = backgrounds()
    comps = []
    for i in range(n):
        name, bg = bgs[i % len(bgs)]
        W = int(rng.randint(640, 1281))
        H = int(round(W * bg.shape[0] / bg.shape[1]))
        if H > 1024:
            H = 1024
        img = cv2.resize(bg, (W, H), interpolation=cv2.INTER_AREA if W < bg.shape[1] else cv2.INTER_LINEAR)
        boxes = []
        for _ in range(int(rng.randint(6, 11))):
            for _try in range(50):
                s = int(round(np.exp(rng.uniform(np.log(16), np.log(200)))))
                x, y = int(rng.randint(0, W - s)), int(rng.randint(0, H - s))
                if all(x + s + 4 < bx or bx + bs + 4 < x or y + s + 4 < by or by + bs + 4 < y for bx, by, bs in boxes):
                    break
            else:
                continue
            if rng.rand() < 0.15:
                face = head if rng.rand() < 0.5 else head[:, ::-1]
                interp = cv2.INTER_AREA if s < face.shape[0] else cv2.INTER_LINEAR
                img[y:y + s, x:x + s] = cv2.resize(face, (s, s), interpolation=interp)
                boxes.append((x, y, s))
            else:
                g = cv2.imread(fer[int(rng.randint(len(fer)))], cv2.IMREAD_GRAYSCALE)
                interp = cv2.INTER_AREA if s < 48 else cv2.INTER_LINEAR
                img[y:y + s, x:x + s] = cv2.cvtColor(cv2.resize(g, (s, s), interpolation=interp), cv2.COLOR_GRAY2BGR)
                boxes.append((x, y, s))
        comps.append((f"comp{i:02d}_{name}", img, [(x, y, s, s) for x, y, s in boxes]))
    return comps, bgs


def iou(a, b):
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


def inside(d, g):
    """The loose match: 70% of the box inside the face's crop, and at least a fifth of the
    crop's area (FER2013 crops frame faces more or less tightly; a tight box on a loosely
    framed face has IoU < 0.5 with the crop yet is no false positive)."""
    w = min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0])
    h = min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1])
    if w <= 0 or h <= 0:
        return 0.0
    ok = w * h >= 0.7 * d[2] * d[3] and d[2] * d[3] >= 0.2 * g[2] * g[3]
    return 1.0 if ok else 0.0


def match(dets, gts, thr=0.5, score=iou):
    """Greedy in the detector's order (best first): returns (true positives, matched gt flags)."""
    used = [False] * len(gts)
    tp = 0
    for d in dets:
        best, bi = thr, -1
        for j, g in enumerate(gts):
            if not used[j]:
                v = score(d, g)
                if v >= best:
                    best, bi = v, j
        if bi >= 0:
            used[bi] = True
            tp += 1
    return tp, used


def run_ferc(ferc, args, files):
    """Boxes per file from the ferc command (JSON lines, input order)."""
    out = subprocess.run([ferc, "--format", "json", "--threads", "1"] + args + files, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr.strip()[:300])
    res = {}
    for line in out.stdout.splitlines():
        r = json.loads(line)
        res[r["file"]] = [f["box"] for f in r["faces"]]
    return [res[f] for f in files]


def detectors(ferc, have_yunet_ferc, only, q8):
    """name -> function(list of (path, image)) -> list of box lists."""
    def ferc_det(args):
        return lambda items: run_ferc(ferc, args, [p for p, _ in items])

    def cv_yunet(model, size, thr):
        net = yunet_ref.load(model)
        return lambda items: [[f["box"] for f in yunet_ref.detect(net, im, size, thr)] for _, im in items]

    d = {
        "res10 300x300 (one pass)": ferc_det(["--detector", "ssd", "--ssd-size", "300"]),
        "res10 two passes (300x300 + own size)": ferc_det(["--detector", "ssd"]),
        "haar (scale 1.1, minNeighbors 3)": ferc_det(["--detector", "haar"]),
        "lbp (scale 1.1, minNeighbors 3)": ferc_det(["--detector", "lbp"]),
    }
    n640 = os.path.join(yunet_ref.MODELS, "yunet_n_640_640.onnx")
    s640 = os.path.join(yunet_ref.MODELS, "yunet_s_640_640.onnx")
    for size, label in ((0, "auto: 2x the long side, in 640..2048"), (320, "long side 320"), (640, "long side 640"),
                        (1280, "long side 1280"), (2048, "long side 2048")):
        for thr in (0.6, 0.5, 0.7):
            if size != 0 and thr != 0.6:
                continue
            name = f"yunet_n {label}, threshold {thr}"
            if have_yunet_ferc:
                d[name] = ferc_det(["--detector", "yunet", "--detector-size", str(size), "--threshold", str(thr)]
                                   if size else ["--detector", "yunet", "--threshold", str(thr)])
            else:
                d[name + " (cv2.dnn)"] = cv_yunet(n640, size, thr)
    if have_yunet_ferc and os.path.exists(q8):
        d[f"yunet_n int8 ({os.path.basename(q8)}) auto, threshold 0.6"] = \
            ferc_det(["--detector", "yunet", "--detector-model", q8, "--threshold", "0.6"])
    if have_yunet_ferc:
        for grid, scale in ((2, 3), (2, 4), (3, 4)):
            d[f"yunet_n auto + {grid}x{grid} tiles at {scale}x, threshold 0.6 (--tiles {grid}x{scale})"] = \
                ferc_det(["--detector", "yunet", "--threshold", "0.6", "--tiles", f"{grid}x{scale}"])
    d["yunet_s auto, threshold 0.6 (cv2.dnn: ferc ships yunet_n only)"] = cv_yunet(s640, 0, 0.6)
    d["yunet_s long side 640, threshold 0.6 (cv2.dnn)"] = cv_yunet(s640, 640, 0.6)
    if only:
        d = {k: v for k, v in d.items() if any(o in k for o in only)}
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--composites", type=int, default=12)
    ap.add_argument("--fer", default=os.path.join(ROOT, "..", "shared", "data", "fer2013", "val"))
    ap.add_argument("--ferc", default=os.path.join(ROOT, "ferc"))
    ap.add_argument("--only", default="", help="comma-separated substrings of detector names")
    ap.add_argument("--keep", help="write the composites into this folder")
    ap.add_argument("--int8", default=os.path.join(ROOT, "weights", "face_yunet.q8.ferc"),
                    help="YuNet's int8 file (--int8 uses weights/face_yunet.q8.ferc)")
    a = ap.parse_args()
    rng = np.random.RandomState(14)
    comps, bgs = make_composites(a.composites, a.fer, rng)
    tmp = a.keep or tempfile.mkdtemp(prefix="detect_eval_")
    os.makedirs(tmp, exist_ok=True)
    items, free = [], []
    for name, img, _ in comps:
        p = os.path.join(tmp, name + ".png")
        cv2.imwrite(p, img)
        items.append((p, img))
    for name, img in bgs:
        if max(img.shape[:2]) > 1280:  # as large as the composites
            k = 1280 / max(img.shape[:2])
            img = cv2.resize(img, (round(img.shape[1] * k), round(img.shape[0] * k)), interpolation=cv2.INTER_AREA)
        p = os.path.join(tmp, "free_" + name + ".png")
        cv2.imwrite(p, img)
        free.append((p, img))
    gts = [g for _, _, g in comps]
    n_faces = sum(len(g) for g in gts)
    sizes = np.array([b[2] for g in gts for b in g])
    print(f"{len(comps)} composites, {n_faces} faces (sides {sizes.min()}..{sizes.max()} px), "
          f"{len(free)} face-free photos; IoU 0.5")
    have = os.path.exists(os.path.join(ROOT, "weights", "face_yunet.ferc"))
    bins = " ".join(f"{lo}-{hi}" for lo, hi in SIZE_BINS)
    print(f"| detector | precision | recall | F1 | loose precision / recall | false positives per face-free photo "
          f"| recall by side {bins} |")
    print("|---|---:|---:|---:|---:|---:|---|")
    cpu = []
    for name, fn in detectors(a.ferc, have, [o for o in a.only.split(",") if o], a.int8).items():
        try:
            t0 = os.times()
            dets = fn(items)
            t1 = os.times()
            cpu.append((name, t1.user + t1.system + t1.children_user + t1.children_system -
                        (t0.user + t0.system + t0.children_user + t0.children_system)))
            fdets = fn(free)
        except RuntimeError as e:
            print(f"| {name} | failed: {e} |")
            continue
        tp = n_det = ltp = 0
        found = []
        for d, g in zip(dets, gts):
            t, used = match(d, g)
            tp += t
            n_det += len(d)
            found += used
            ltp += match(d, g, 1.0, inside)[0]
        found = np.array(found)
        prec = tp / n_det if n_det else 1.0
        rec = tp / n_faces
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0
        fp = sum(len(d) for d in fdets) / len(free)
        by = " / ".join(f"{found[(sizes >= lo) & (sizes < hi)].mean():.2f}" for lo, hi in SIZE_BINS)
        loose = f"{ltp / n_det if n_det else 1.0:.3f} / {ltp / n_faces:.3f}"
        print(f"| {name} | {prec:.3f} | {rec:.3f} | {f1:.3f} | {loose} | {fp:.2f} | {by} |", flush=True)
    print("\nCPU seconds on the composites (one thread; includes the command's start-up and decoding):")
    for name, t in cpu:
        if "yunet_n" in name:
            print(f"  {t:7.1f}  {name}")
    if not a.keep:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
