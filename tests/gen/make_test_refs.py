"""Builds the PyTorch models that prove the C engine op by op, exports each with
tools/model/export_torch.py, and writes PyTorch's outputs for every node into tests/ref/.

    /usr/bin/python3 tests/gen/make_test_refs.py [--out tests/ref]

For each case NAME: NAME.ferc (the model) and NAME.ref.ferc (input and every node's output,
NHWC). tests/test_reference.c runs each model and compares every node. The cases cover
every op, odd sizes, every stride / padding / dilation / group combination the conv and
pool ops take, batch 1 and 3, a residual block and a multi-input concat. Seeded: the same
files come out each time (for the same PyTorch build).
"""
import argparse
import itertools
import os
import sys
import random

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "model"))
from export_torch import export  # noqa: E402


class Seq(nn.Sequential):
    pass


class Residual(nn.Module):
    """A ResNet basic block with a projection shortcut, then a plain one."""

    def __init__(self, cin, cout):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, 2, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.r1 = nn.ReLU()
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.sc = nn.Conv2d(cin, cout, 1, 2, 0, bias=False)
        self.bs = nn.BatchNorm2d(cout)
        self.r2 = nn.ReLU()
        self.c3 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.r3 = nn.ReLU()

    def forward(self, x):
        y = self.r2(self.b2(self.c2(self.r1(self.b1(self.c1(x))))) + self.bs(self.sc(x)))
        return self.r3(self.c3(y) + y)


class Inception(nn.Module):
    """Three branches joined by a channel concat, then a head with softmax."""

    def __init__(self, cin):
        super().__init__()
        self.a = nn.Conv2d(cin, 5, 1)
        self.b = nn.Sequential(nn.Conv2d(cin, 4, 1), nn.ReLU6(), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU())
        self.c = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, 3, 1), nn.LeakyReLU(0.2))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(14, 7)
        self.sm = nn.Softmax(dim=1)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x), self.c(x)], 1)
        return self.sm(self.fc(self.flat(self.gap(y))))


def randomise_bn(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.normal_(0, 0.2, generator=gen)
                m.running_mean.normal_(0, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 2.0, generator=gen)


def conv_cases(rng):
    """Every combination of kernel, stride, padding, dilation and groups, on odd sizes."""
    cases = []
    for k, s, p, d, g in itertools.product([1, 3, 5, (3, 1), (1, 5)], [1, 2, 3], ["0", "1", "2", "asym"], [1, 2],
                                           ["1", "2", "dw"]):
        kk = k if isinstance(k, tuple) else (k, k)
        if p == "2" and min(kk) < 3 and d == 1:
            continue  # keep the set small; padding beyond the kernel is covered below
        cg = {"1": 1, "2": 2, "dw": None}[g]
        cin = rng.choice([1, 3, 5, 8, 17]) if cg == 1 else (6 if cg == 2 else rng.choice([4, 9, 16]))
        groups = cin if cg is None else cg
        cout = cin * rng.choice([1, 2]) if cg is None else rng.choice([1, 4, 7, 16, 33]) * (2 if cg == 2 else 1)
        h, w = rng.choice([5, 7, 11, 13]), rng.choice([6, 9, 12])
        pad = {"0": 0, "1": 1, "2": 2, "asym": 0}[p]
        layers = []
        if p == "asym":
            layers.append(nn.ZeroPad2d((0, 2, 1, 0)))  # left, right, top, bottom
        layers.append(nn.Conv2d(cin, cout, kk, s, pad, d, groups, bias=rng.random() < 0.8))
        if rng.random() < 0.5:
            layers.append(nn.ReLU())
        name = f"conv_k{kk[0]}x{kk[1]}_s{s}_p{p}_d{d}_g{g}"
        eh, ew = d * (kk[0] - 1) + 1, d * (kk[1] - 1) + 1
        if h + 2 * pad + (1 if p == "asym" else 0) < eh or w + 2 * pad + (2 if p == "asym" else 0) < ew:
            continue
        cases.append((name, Seq(*layers), (rng.choice([1, 3]), cin, h, w)))
    return rng.sample(cases, 80)  # every value of every factor still appears (checked below)


def pool_cases(rng):
    cases = []
    for kind, k, s, p, ceil, cip in itertools.product(["max", "avg"], [2, 3, (3, 2)], [1, 2, 3], [0, 1],
                                                     [False, True], [False, True]):
        if kind == "max" and not cip:
            continue
        kk = k if isinstance(k, tuple) else (k, k)
        if 2 * p > min(kk):
            continue
        c, h, w = rng.choice([1, 3, 16, 19]), rng.choice([5, 8, 11]), rng.choice([6, 7, 13])
        m = nn.MaxPool2d(k, s, p, ceil_mode=ceil) if kind == "max" else nn.AvgPool2d(k, s, p, ceil, cip)
        cases.append((f"{kind}pool_k{kk[0]}x{kk[1]}_s{s}_p{p}_c{int(ceil)}_i{int(cip)}", Seq(m),
                      (rng.choice([1, 2]), c, h, w)))
    return rng.sample(cases, 40)


def net_cases():
    return [
        # The article's CNN at a quarter of its width (the full one is tested once trained).
        ("article_cnn", Seq(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Dropout(0.5), nn.Flatten(), nn.Linear(32 * 10 * 10, 64), nn.ReLU(),
                            nn.Linear(64, 7)), (2, 1, 48, 48)),
        ("bn_relu_standalone", Seq(nn.Conv2d(3, 8, 3), nn.MaxPool2d(2), nn.BatchNorm2d(8), nn.ReLU6(),
                                   nn.Conv2d(8, 8, 1), nn.LeakyReLU(0.1), nn.BatchNorm2d(8), nn.ReLU(),
                                   nn.AvgPool2d(2, ceil_mode=True), nn.Flatten(), nn.Dropout(), nn.Linear(72, 5),
                                   nn.ReLU6(), nn.Linear(5, 3), nn.Softmax(dim=1)), (3, 3, 15, 15)),
        ("depthwise_separable", Seq(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
                                    nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                                    nn.Conv2d(16, 24, 1, bias=False), nn.BatchNorm2d(24),
                                    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 7)), (2, 1, 23, 23)),
        ("residual", Residual(6, 12), (2, 6, 13, 11)),
        ("inception_concat", Inception(7), (2, 7, 9, 10)),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ref"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(1234)
    gen = torch.Generator().manual_seed(99)
    rng = random.Random(7)
    convs = conv_cases(rng)
    for part in range(1, 6):  # k, s, p, d, g: each value must be covered by the sample
        seen = {c[0].split("_")[part] for c in convs}
        assert len(seen) == [0, 5, 3, 4, 2, 3][part], (part, seen)
    cases = convs + pool_cases(rng) + net_cases()
    for name, model, shape in cases:
        randomise_bn(model, gen)
        x = torch.randn(*shape, generator=gen)
        export(model, x, os.path.join(args.out, name + ".ferc"), {"name": name, "task": "test"},
               os.path.join(args.out, name + ".ref.ferc"))
    with open(os.path.join(args.out, "cases.txt"), "w") as f:
        f.write("".join(name + "\n" for name, _, _ in cases))
    print(f"wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
