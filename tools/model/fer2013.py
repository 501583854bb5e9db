"""FER2013 loader for both common distributions of the data set.

* image-folder layout: ``ROOT/<split>/<class>/*.jpg`` with split names
  ``train``/``val`` (or ``Training``/``PublicTest``/``PrivateTest`` and a
  ``test`` alias) and class folder names angry, disgust, fear, happy, sad,
  surprise, neutral (case-insensitive; numeric folder names ``0``..``6`` are
  accepted too);
* the original ``fer2013.csv`` with columns ``emotion,pixels,Usage`` where
  Usage is Training / PublicTest / PrivateTest.

``load_split`` returns ``(images, labels, keys)``: images uint8 N x 48 x 48,
labels int64 N (FER2013 numbering), keys a list of unique sample keys (the
relative path for the folder layout, ``csv:<row>`` for the CSV). Decoded
arrays are cached as .npz under a cache dir (default ``.cache/``) keyed by
the source path, its size and mtime, so later runs load in about a second.
"""
import argparse
import csv
import hashlib
import os
import sys
import warnings

import numpy as np

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
CLASS_TO_LABEL = {c: i for i, c in enumerate(CLASSES)}

# split name -> accepted folder names (image layout) / Usage value (CSV)
SPLIT_ALIASES = {
    "train": ["train", "Training", "training"],
    "val": ["val", "PublicTest", "publictest", "valid", "validation"],
    "test": ["test", "PrivateTest", "privatetest"],
}
CSV_USAGE = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}

IMG_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".pgm")


def _canon_split(split):
    for k, names in SPLIT_ALIASES.items():
        if split == k or split in names:
            return k
    raise ValueError(f"unknown split {split!r}; use train/val/test or Training/PublicTest/PrivateTest")


def _cache_path(cache_dir, kind, src, split, extra=""):
    st = os.stat(src)
    h = hashlib.sha1(f"{os.path.abspath(src)}|{st.st_size}|{st.st_mtime_ns}|{split}|{extra}".encode()).hexdigest()[:16]
    return os.path.join(cache_dir, f"fer2013_{kind}_{split}_{h}.npz")


def _load_cache(path):
    if path and os.path.exists(path):
        try:
            z = np.load(path, allow_pickle=False)
            return z["images"], z["labels"], [str(k) for k in z["keys"]]
        except Exception:  # corrupt cache: rebuild
            pass
    return None


def _save_cache(path, images, labels, keys):
    if not path:
        return
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    # a name of its own per process: two runs started together both build the cache
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(tmp, images=images, labels=labels, keys=np.array(keys))
    os.replace(tmp, path)


def _folder_label(name):
    n = name.lower()
    if n in CLASS_TO_LABEL:
        return CLASS_TO_LABEL[n]
    if n.isdigit() and 0 <= int(n) < len(CLASSES):
        return int(n)
    return None


def find_split_dir(root, split):
    split = _canon_split(split)
    for name in SPLIT_ALIASES[split]:
        d = os.path.join(root, name)
        if os.path.isdir(d):
            return d
    raise FileNotFoundError(f"no folder for split {split!r} under {root} (tried {SPLIT_ALIASES[split]})")


def load_folder(root, split, cache_dir=".cache"):
    """Load ``root/<split>/<class>/*`` as grayscale 48x48 uint8."""
    import cv2

    split = _canon_split(split)
    d = find_split_dir(root, split)
    cp = _cache_path(cache_dir, "dir", d, split) if cache_dir else None
    # directory mtime does not change when files inside class folders change;
    # include the class folders' mtimes as well
    if cp:
        extra = "|".join(f"{c}:{os.stat(os.path.join(d, c)).st_mtime_ns}" for c in sorted(os.listdir(d)))
        cp = _cache_path(cache_dir, "dir", d, split, extra)
    got = _load_cache(cp)
    if got is not None:
        return got
    items = []
    for cname in sorted(os.listdir(d)):
        cdir = os.path.join(d, cname)
        if not os.path.isdir(cdir):
            continue
        lab = _folder_label(cname)
        if lab is None:
            raise ValueError(f"unknown class folder {cdir}")
        for f in sorted(os.listdir(cdir)):
            if f.lower().endswith(IMG_EXT):
                items.append((os.path.join(cname, f), lab))
    if not items:
        raise FileNotFoundError(f"no images under {d}")
    images = np.empty((len(items), 48, 48), np.uint8)
    labels = np.empty(len(items), np.int64)
    keys = []
    for i, (rel, lab) in enumerate(items):
        img = cv2.imread(os.path.join(d, rel), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise IOError(f"cannot decode {os.path.join(d, rel)}")
        if img.shape != (48, 48):
            img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)
        images[i] = img
        labels[i] = lab
        keys.append(rel.replace(os.sep, "/"))
    assert len(set(keys)) == len(keys)
    _save_cache(cp, images, labels, keys)
    return images, labels, keys


def load_csv(path, split, cache_dir=".cache"):
    """Load one Usage of the original fer2013.csv (emotion,pixels,Usage)."""
    split = _canon_split(split)
    cp = _cache_path(cache_dir, "csv", path, split) if cache_dir else None
    got = _load_cache(cp)
    if got is not None:
        return got
    usage = CSV_USAGE[split]
    imgs, labs, keys = [], [], []
    with open(path, newline="") as f:
        rd = csv.reader(f)
        header = [h.strip().lower() for h in next(rd)]
        try:
            ie, ip, iu = header.index("emotion"), header.index("pixels"), header.index("usage")
        except ValueError:
            raise ValueError(f"{path}: expected header emotion,pixels,Usage, got {header}")
        for row_no, row in enumerate(rd, start=1):
            if not row:
                continue
            if row[iu].strip() != usage:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                px = np.fromstring(row[ip], dtype=np.int64, sep=" ")  # C-speed text parse
            if px.size != 48 * 48 or px.min() < 0 or px.max() > 255:
                raise ValueError(f"{path} row {row_no}: bad pixels ({px.size} values)")
            lab = int(row[ie])
            if not 0 <= lab < len(CLASSES):
                raise ValueError(f"{path} row {row_no}: bad emotion {lab}")
            imgs.append(px.astype(np.uint8).reshape(48, 48))
            labs.append(lab)
            keys.append(f"csv:{row_no}")
    if not imgs:
        raise ValueError(f"{path}: no rows with Usage={usage}")
    images = np.stack(imgs)
    labels = np.array(labs, np.int64)
    _save_cache(cp, images, labels, keys)
    return images, labels, keys


def load_split(split, data=None, csv_path=None, cache_dir=".cache"):
    """Load a split from either an image-folder root (``data``) or ``csv_path``."""
    if (data is None) == (csv_path is None):
        raise ValueError("give exactly one of data (image-folder root) or csv_path")
    if csv_path is not None:
        return load_csv(csv_path, split, cache_dir)
    return load_folder(data, split, cache_dir)


DEFAULT_DATA = "/work/shared/data/fer2013"


def main(argv=None):
    ap = argparse.ArgumentParser(description="decode + cache FER2013, print per-class counts")
    ap.add_argument("--data", default=None, help="image-folder root (default %s)" % DEFAULT_DATA)
    ap.add_argument("--csv", default=None, help="fer2013.csv instead of folders")
    ap.add_argument("--cache", default=".cache")
    ap.add_argument("--splits", default="train,val")
    a = ap.parse_args(argv)
    data = a.data if (a.data or a.csv) else DEFAULT_DATA
    for s in a.splits.split(","):
        x, y, k = load_split(s, data=data, csv_path=a.csv, cache_dir=a.cache)
        counts = np.bincount(y, minlength=len(CLASSES))
        print(s, x.shape, x.dtype, dict(zip(CLASSES, counts.tolist())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
