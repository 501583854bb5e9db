"""Fixture for `ferc explain`'s test (tests/test_inspect.c): a classifier whose answer depends
on the top-left 24x24 quadrant of the 48x48 face only, so occluding anything outside it
cannot change a probability.

    /usr/bin/python3 tests/gen/make_inspect_fixtures.py [--out tests/inspect]

quadrant.ferc: x [1,48,48,1] -> conv2d 7 filters 24x24 stride 24 (seeded random weights)
-> [1,2,2,7] -> flatten (NHWC: y, x, c) -> dense 28 -> 7 that reads the first 7 features
(the top-left cell) only -> logits; task emotion, mean 0.5, std 0.25 (the occluder is gray 128).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "model"))
import fercfile  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/inspect")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(16)
    w = fercfile.Writer()
    w.meta.update(name="quadrant", task="emotion", mean="0.5", std="0.25",
                  labels="angry,disgust,fear,happy,sad,surprise,neutral")
    w.input("x", (1, 48, 48, 1))
    w.param("conv.w", (rng.standard_normal((7, 24, 24, 1)) * 0.05).astype(np.float32))
    w.param("conv.b", (rng.standard_normal(7) * 0.1).astype(np.float32))
    w.node("conv2d", ["x", "conv.w", "conv.b"], ["conv"], stride=[24, 24])
    w.node("flatten", ["conv"], ["flat"])
    dense = np.zeros((7, 28), np.float32)
    dense[:, :7] = np.eye(7, dtype=np.float32) * 2.0
    w.param("fc.w", dense)
    w.param("fc.b", np.zeros(7, np.float32))
    w.node("dense", ["flat", "fc.w", "fc.b"], ["logits"])
    w.output("logits")
    w.save(os.path.join(args.out, "quadrant.ferc"))


if __name__ == "__main__":
    main()
