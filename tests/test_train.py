"""tools/model/train.py without the data set: the batch mixing (--mixup, --cutmix), the class
weights (--balance) and a two-epoch run on synthetic faces that resumes from its checkpoint.

    /usr/bin/python3 -m pytest -q tests/test_train.py
"""
import argparse
import csv
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "model")
sys.path.insert(0, TOOLS)
import fer2013  # noqa: E402
import train  # noqa: E402


def mix_args(**kw):
    a = dict(mixup=0.0, cutmix=0.0, mix_prob=1.0)
    a.update(kw)
    return argparse.Namespace(**a)


def batch(n=16):
    g = torch.Generator().manual_seed(3)
    return torch.rand(n, 1, 48, 48, generator=g), torch.arange(n)  # labels name the faces


def test_no_mixing_leaves_the_batch_and_the_random_stream_alone():
    x, y = batch()
    torch.manual_seed(1)
    state = torch.get_rng_state()
    x2, y2, lam = train.mix_batch(x, y, mix_args())
    assert x2 is x and y2 is y and lam == 1.0
    assert torch.equal(torch.get_rng_state(), state)


def test_mixup_is_the_convex_combination_with_the_shuffled_batch():
    x, y = batch()
    torch.manual_seed(2)
    xm, y2, lam = train.mix_batch(x, y, mix_args(mixup=0.4))
    assert 0.0 < lam < 1.0
    assert sorted(y2.tolist()) == y.tolist() and not torch.equal(y2, y)  # a permutation
    torch.testing.assert_close(xm, lam * x + (1 - lam) * x[y2], rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_cutmix_pastes_one_box_and_lam_is_the_area_kept(seed):
    x, y = batch()
    torch.manual_seed(seed)
    xm, y2, lam = train.mix_batch(x, y, mix_args(cutmix=1.0))
    pasted = (xm != x).any(0)[0]  # pixels taken from another face, in any image
    rows, cols = pasted.any(1).nonzero().flatten(), pasted.any(0).nonzero().flatten()
    if len(rows):  # one rectangle: every pixel inside the bounding box of the changes was pasted
        box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        assert pasted[box].all() and pasted.sum() == pasted[box].numel()
        assert torch.equal(xm[:, :, box[0], box[1]], x[y2][:, :, box[0], box[1]])
    assert lam == pytest.approx(1.0 - pasted.sum().item() / (48 * 48))
    assert torch.equal(xm[:, :, ~pasted], x[:, :, ~pasted])


def test_mix_prob_zero_never_mixes():
    x, y = batch()
    for s in range(5):
        torch.manual_seed(s)
        assert train.mix_batch(x, y, mix_args(mixup=0.4, cutmix=1.0, mix_prob=0.0))[2] == 1.0


def test_class_weights():
    labels = np.array([0] * 40 + [1] * 4 + [2] * 10 + [3] * 16)
    w0 = train.class_weights(labels, 0.0, classes=4)
    torch.testing.assert_close(w0, torch.ones(4))
    w1 = train.class_weights(labels, 1.0, classes=4)
    counts = torch.tensor([40.0, 4.0, 10.0, 16.0])
    per_class = w1 * counts  # balanced: every class carries the same total weight
    torch.testing.assert_close(per_class, torch.full((4,), per_class[0].item()))
    assert (w1 * counts).sum().item() == pytest.approx(len(labels))  # mean 1 over the faces
    wh = train.class_weights(labels, 0.5, classes=4)
    assert wh[1] / wh[0] == pytest.approx(np.sqrt(10.0), rel=1e-6)
    assert train.class_weights(labels, 1.0, classes=5)[4] == 0  # a class with no faces


def faces(root, per_class):
    rng = np.random.RandomState(5)
    for split in ("Training", "PublicTest"):
        for c in fer2013.CLASSES:
            d = os.path.join(root, split, c)
            os.makedirs(d)
            for i in range(per_class if split == "Training" else 2):
                cv2.imwrite(os.path.join(d, f"{i}.png"), rng.randint(0, 256, (48, 48)).astype(np.uint8))


def log_rows(out):
    with open(os.path.join(out, "log.csv")) as f:
        return list(csv.DictReader(f))


def run_train(args):
    """As a user runs it: its own process (train.py sets torch's thread counts, which a process
    may do once)."""
    res = subprocess.run([sys.executable, os.path.join(TOOLS, "train.py")] + args, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]


def test_a_mixed_balanced_run_trains_and_resumes(tmp_path):
    data, out = str(tmp_path / "fer"), str(tmp_path / "run")
    faces(data, per_class=3)
    common = ["--model", "small", "--data", data, "--cache", str(tmp_path / "cache"), "--out", out, "--threads", "1",
              "--batch", "7", "--mixup", "0.4", "--cutmix", "1.0", "--balance", "1", "--equalize", "--seed", "4"]
    run_train(common + ["--epochs", "2"])
    rows = log_rows(out)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert all(np.isfinite(float(r["train_loss"])) for r in rows)
    last = torch.load(os.path.join(out, "last.pt"), map_location="cpu")
    assert last["epoch"] == 2 and last["args"]["mixup"] == 0.4 and last["args"]["balance"] == 1.0
    best = torch.load(os.path.join(out, "best.pt"), map_location="cpu")
    assert best["equalize"] is True and 1 <= best["epoch"] <= 2
    # the same command with more epochs continues from last.pt
    run_train(common + ["--epochs", "3"])
    assert [r["epoch"] for r in log_rows(out)] == ["1", "2", "3"]
    assert torch.load(os.path.join(out, "last.pt"), map_location="cpu")["epoch"] == 3
