"""Self-contained checks of tools/model/fer2013.py (synthetic data, no dataset needed).

    /usr/bin/python3 -m pytest -q tests/test_fer2013.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "model"))
import fer2013  # noqa: E402


def make_csv(path, rows):
    with open(path, "w") as f:
        f.write("emotion,pixels,Usage\n")
        for lab, img, usage in rows:
            f.write(f"{lab},{' '.join(str(int(v)) for v in img.ravel())},{usage}\n")


def test_csv(tmp_path):
    tmp = str(tmp_path)
    rng = np.random.RandomState(0)
    rows = []
    usages = ["Training"] * 5 + ["PublicTest"] * 3 + ["PrivateTest"] * 2
    for i, u in enumerate(usages):
        rows.append((i % 7, rng.randint(0, 256, (48, 48)), u))
    p = os.path.join(tmp, "fer2013.csv")
    make_csv(p, rows)
    cache = os.path.join(tmp, "cache")
    for split, alias, usage in [("train", "Training", "Training"), ("val", "PublicTest", "PublicTest"),
                                ("test", "PrivateTest", "PrivateTest")]:
        want = [r for r in rows if r[2] == usage]
        for s in (split, alias):
            for _ in range(2):  # second time comes from the cache
                x, y, k = fer2013.load_split(s, csv_path=p, cache_dir=cache)
                assert x.dtype == np.uint8 and x.shape == (len(want), 48, 48), x.shape
                assert y.dtype == np.int64
                assert y.tolist() == [r[0] for r in want]
                assert all(np.array_equal(x[i], r[1]) for i, r in enumerate(want))
                assert len(set(k)) == len(k)
    assert any(f.endswith(".npz") for f in os.listdir(cache))
    # no cache dir at all
    x, y, _ = fer2013.load_split("train", csv_path=p, cache_dir=None)
    assert x.shape == (5, 48, 48)
    # header with quoted pixels (as in the Kaggle file) and CRLF line ends
    q = os.path.join(tmp, "quoted.csv")
    with open(q, "w", newline="") as f:
        f.write('emotion,pixels,Usage\r\n')
        f.write('3,"' + " ".join(["7"] * 2304) + '",Training\r\n')
    x, y, _ = fer2013.load_split("train", csv_path=q, cache_dir=None)
    assert x.shape == (1, 48, 48) and int(x[0, 0, 0]) == 7 and y.tolist() == [3]
    # bad row is an error
    b = os.path.join(tmp, "bad.csv")
    with open(b, "w") as f:
        f.write("emotion,pixels,Usage\n3,1 2 3,Training\n")
    try:
        fer2013.load_split("train", csv_path=b, cache_dir=None)
    except ValueError:
        pass
    else:
        raise AssertionError("short pixel row accepted")


def test_folder(tmp_path):
    tmp = str(tmp_path)
    import cv2
    rng = np.random.RandomState(1)
    root = os.path.join(tmp, "img")
    want = {}
    for split in ("Training", "PublicTest"):
        for c in ("angry", "Happy", "neutral"):
            d = os.path.join(root, split, c)
            os.makedirs(d)
            for i in range(2):
                img = rng.randint(0, 256, (48, 48)).astype(np.uint8)
                # same file name in two class folders must stay two samples
                cv2.imwrite(os.path.join(d, f"{split}_{i}.png"), img)
                want[(split, f"{c}/{split}_{i}.png")] = (img, fer2013.CLASS_TO_LABEL[c.lower()])
    cache = os.path.join(tmp, "cache2")
    for split, alias in (("train", "Training"), ("val", "PublicTest")):
        for _ in range(2):
            x, y, k = fer2013.load_split(split, data=root, cache_dir=cache)
            assert x.shape == (6, 48, 48) and len(set(k)) == 6
            for i, key in enumerate(k):
                img, lab = want[(alias, key)]
                assert np.array_equal(x[i], img) and y[i] == lab

