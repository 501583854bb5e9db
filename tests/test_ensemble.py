"""tools/model/ensemble.py without the data set: the joined checkpoint computes the mean of its
members' logits, its exported file gives the same probabilities in the C engine, and
tools/model/quantize.py makes an int8 file of it (the members' convolutions in int8, the sum of
their logits in fp32) that stays near the fp32 answers.

    /usr/bin/python3 -m pytest -q tests/test_ensemble.py
"""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TOOLS = os.path.join(ROOT, "tools", "model")
sys.path.insert(0, TOOLS)
import ensemble  # noqa: E402
import fer2013  # noqa: E402
import fercfile  # noqa: E402
import models  # noqa: E402

FERC = os.path.join(ROOT, os.environ.get("FERC_BUILD", "build"), "ferc")


def member(name, seed, path, equalize=True):
    """A checkpoint as train.py writes it, with random weights and batch-norm statistics."""
    torch.manual_seed(seed)
    m = models.build(name)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
    torch.save(dict(model=name, epoch=seed, state_dict=m.state_dict(), mean=models.MEAN, std=models.STD, clahe=None,
                    equalize=equalize, classes=fer2013.CLASSES, metrics=dict(val_acc=0.5, val_acc_tta=0.5)), path)
    return m.eval()


def faces(root, n=2, splits=("Training", "PublicTest")):
    rng = np.random.RandomState(7)
    for split in splits:
        for c in fer2013.CLASSES:
            os.makedirs(os.path.join(root, split, c))
            for i in range(n):
                cv2.imwrite(os.path.join(root, split, c, f"{i}.png"), rng.randint(0, 256, (48, 48)).astype(np.uint8))


def run(args):
    res = subprocess.run([sys.executable] + args, capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def test_mixed_members_are_refused(tmp_path):
    member("small", 1, str(tmp_path / "a.pt"))
    member("small", 2, str(tmp_path / "b.pt"), equalize=False)
    res = subprocess.run([sys.executable, os.path.join(TOOLS, "ensemble.py"), str(tmp_path / "a.pt"),
                          str(tmp_path / "b.pt"), "--out", str(tmp_path / "e.pt")], capture_output=True, text=True)
    assert res.returncode != 0 and "members differ in equalize" in res.stderr


def test_the_ensemble_is_the_mean_of_the_logits_in_pytorch_and_in_c(tmp_path):
    data = str(tmp_path / "fer")
    faces(data)
    nets = [member(n, s, str(tmp_path / f"m{s}.pt")) for n, s in (("small", 1), ("small", 2), ("vggbn", 3))]
    out = str(tmp_path / "ens" / "best.pt")
    log = run([os.path.join(TOOLS, "ensemble.py")] + [str(tmp_path / f"m{s}.pt") for s in (1, 2, 3)] +
              ["--out", out, "--data", data])
    assert "mean of the logits" in log
    ck = torch.load(out, map_location="cpu")
    assert ck["model"] == "ensemble:small+small+vggbn" and ck["epoch"] == "1+2+3" and ck["equalize"] is True
    ens = models.build(ck["model"])
    ens.load_state_dict(ck["state_dict"])
    ens.eval()
    x = torch.randn(5, 1, 48, 48)
    with torch.no_grad():
        torch.testing.assert_close(ens(x), sum(n(x) for n in nets) / 3, rtol=0, atol=2e-5)

    # the exported file in the C engine, on faces it equalises as PyTorch's side does here
    model = str(tmp_path / "ens.ferc")
    run([os.path.join(TOOLS, "export_model.py"), out, model, "--name", "ensemble_test"])
    folder = os.path.join(data, "PublicTest", "happy")
    res = subprocess.run([FERC, "--no-detect", "--model", model, folder], capture_output=True, text=True, check=True)
    for line in res.stdout.splitlines():
        o = json.loads(line)
        img = cv2.equalizeHist(cv2.imread(o["file"], cv2.IMREAD_GRAYSCALE))
        t = (torch.from_numpy(img).float().div(255).view(1, 1, 48, 48) - models.MEAN) / models.STD
        with torch.no_grad():
            want = torch.softmax(ens(t), 1)[0].numpy()
        got = np.array([o["faces"][0]["probabilities"][c] for c in fer2013.CLASSES])
        assert np.abs(got - want).max() < 1e-5, (o["file"], got, want)


def test_an_ensemble_quantises_to_int8(tmp_path):
    data = str(tmp_path / "fer")
    faces(data, n=12, splits=("train",))
    for s in (1, 2):
        member("small", s, str(tmp_path / f"m{s}.pt"))
    ck = ensemble.join([torch.load(str(tmp_path / f"m{s}.pt")) for s in (1, 2)])
    torch.save(dict(ck, metrics=dict(val_acc=0.5, val_acc_tta=0.5)), str(tmp_path / "ens.pt"))
    fp32, int8 = str(tmp_path / "ens.ferc"), str(tmp_path / "ens.q8.ferc")
    run([os.path.join(TOOLS, "export_model.py"), str(tmp_path / "ens.pt"), fp32, "--name", "ensemble_test"])
    run([os.path.join(TOOLS, "quantize.py"), fp32, int8, "--data", data, "--calib", "40", "--heldout", "40",
         "--ferc", FERC])
    ops = [n[0] for n in fercfile.read(int8)["nodes"]]
    assert ops.count("conv2d_q8") == 2 * (7 - 1)  # each member's convolutions but the first
    assert ops.count("add") == 1 and ops.count("dense") == 2  # the head and the sum stay fp32
    folder = os.path.join(data, "train", "happy")
    got = {}
    for path in (fp32, int8):
        res = subprocess.run([FERC, "--no-detect", "--model", path, folder], capture_output=True, text=True, check=True)
        got[path] = np.array([[json.loads(line)["faces"][0]["probabilities"][c] for c in fer2013.CLASSES]
                              for line in res.stdout.splitlines()])
    assert got[int8].shape == (12, 7)
    assert np.abs(got[int8] - got[fp32]).max() < 0.05, np.abs(got[int8] - got[fp32]).max()


def test_a_bad_ensemble_name_is_refused():
    with pytest.raises(KeyError, match="bad ensemble"):
        models.build("ensemble:small")
    with pytest.raises(KeyError, match="bad ensemble"):
        models.build("ensemble:small+nonet")
