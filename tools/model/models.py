"""FER2013 CNNs as plain nn.Modules that the ferc exporter (torch.fx) supports.

Allowed ops only: Conv2d, BatchNorm2d directly after a conv, ReLU/ReLU6/
LeakyReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Linear, Flatten,
Dropout, ``x + y``, ``torch.cat(dim=1)``, Softmax.  No BatchNorm1d, no
reshape/view other than nn.Flatten.  Models output logits.

Input: N x 1 x 48 x 48 float, ``x = (pixel/255 - MEAN) / STD``.
"""
import torch
import torch.nn as nn

# preprocessing constants (the C engine reads them from the weight file)
MEAN = 0.5
STD = 0.25
INPUT_SIZE = 48
NUM_CLASSES = 7


def conv_bn(cin, cout, k=3, stride=1, padding=None, groups=1):
    if padding is None:
        padding = k // 2
    return [nn.Conv2d(cin, cout, k, stride, padding, groups=groups, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class ArticleNet(nn.Module):
    """Baseline of the article: 2 valid 3x3 convs + pools, dense 256, dense 7."""

    def __init__(self, num_classes=NUM_CLASSES, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 64, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),   # 46 -> 23
            nn.Conv2d(64, 128, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),  # 21 -> 10
        )
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Flatten(),
            nn.Linear(128 * 10 * 10, 256), nn.ReLU(inplace=True),
            nn.Linear(256, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class VGGBN(nn.Module):
    """VGG-style: stages of 3x3 conv+BN+ReLU, 2x2 max pool between stages,
    global average pool, dropout, linear.  ``stages`` is a list of
    (channels, n_convs); the input resolution halves after every stage but
    the last (48 -> 24 -> 12 -> 6 for 4 stages)."""

    def __init__(self, stages, num_classes=NUM_CLASSES, dropout=0.3, head=0):
        super().__init__()
        layers, cin = [], 1
        for i, (c, n) in enumerate(stages):
            for _ in range(n):
                layers += conv_bn(cin, c)
                cin = c
            if i < len(stages) - 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        cls = [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        if head:
            cls += [nn.Dropout(dropout), nn.Linear(cin, head), nn.ReLU(inplace=True)]
            cin = head
        cls += [nn.Dropout(dropout), nn.Linear(cin, num_classes)]
        self.classifier = nn.Sequential(*cls)

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.r1 = nn.ReLU(inplace=True)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.r2 = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.b2(self.c2(self.r1(self.b1(self.c1(x)))))
        s = x if self.short is None else self.short(x)
        return self.r2(y + s)


class ResNetFER(nn.Module):
    """Small ResNet: stem conv, then stages of BasicBlocks (stride-2 first
    block from the second stage on), GAP, dropout, linear."""

    def __init__(self, widths=(32, 64, 128, 256), blocks=(1, 1, 1, 1), stem=32,
                 num_classes=NUM_CLASSES, dropout=0.3):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(1, stem))
        layers, cin = [], stem
        for i, (w, b) in enumerate(zip(widths, blocks)):
            for j in range(b):
                layers.append(BasicBlock(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(cin, num_classes))

    def forward(self, x):
        return self.head(self.layers(self.stem(x)))


MODELS = {
    "article": lambda: ArticleNet(),
    # <= 100k parameters
    "small": lambda: VGGBN([(16, 2), (32, 2), (56, 2), (64, 1)], dropout=0.2),
    # default candidates
    "vggbn": lambda: VGGBN([(32, 1), (64, 2), (128, 2), (256, 2)], dropout=0.4),
    "vggbn_s": lambda: VGGBN([(24, 2), (48, 2), (96, 2), (192, 2)], dropout=0.4),
    # vggbn 1.25x wider (1.56x the MACs): at most 2 ms per face at batch 1 on one thread in fp32
    "vggbn_w": lambda: VGGBN([(40, 1), (80, 2), (160, 2), (320, 2)], dropout=0.4),
    "resnet": lambda: ResNetFER(),
}


class Ensemble(nn.Module):
    """Members side by side on the same input; the output is the sum of their logits. The mean
    of the logits is what an ensemble checkpoint means (tools/model/ensemble.py): it stores each
    member's last Linear already divided by the number of members, so the graph needs nothing
    beyond the members' ops and ``+``. Softmax stays outside, as for every model here."""

    def __init__(self, names):
        super().__init__()
        self.members = nn.ModuleList(build(n) for n in names)

    def forward(self, x):
        out = self.members[0](x)
        for m in self.members[1:]:
            out = out + m(x)
        return out


ENSEMBLE = "ensemble:"  # build("ensemble:vggbn+resnet"): an Ensemble of those members


def build(name):
    if name.startswith(ENSEMBLE):
        names = name[len(ENSEMBLE):].split("+")
        if len(names) < 2 or any(n not in MODELS for n in names):
            raise KeyError(f"bad ensemble {name!r}: two or more of {sorted(MODELS)} joined by '+'")
        return Ensemble(names)
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; choices: {sorted(MODELS)}")
    return MODELS[name]()


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model, size=INPUT_SIZE):
    """Multiply-accumulates of one 1x1xsize x size forward pass (conv+linear
    only; BN folds into convs, pooling/activations are not counted)."""
    macs = [0]

    def conv_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        macs[0] += out.numel() // out.shape[0] * k

    def lin_hook(m, inp, out):
        macs[0] += m.in_features * m.out_features

    hs = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hs.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hs.append(m.register_forward_hook(lin_hook))
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, size, size))
    model.train(was)
    for h in hs:
        h.remove()
    return macs[0]


def summary(name):
    m = build(name)
    return {"model": name, "params": count_params(m), "macs": count_macs(m)}


if __name__ == "__main__":
    for n in MODELS:
        s = summary(n)
        print(f"{n:10s} params {s['params']:>10,d}  MACs {s['macs'] / 1e6:8.2f}M")
