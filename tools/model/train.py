"""Train a FER2013 model (CPU, or CUDA with --device cuda).

    /usr/bin/python3 tools/model/train.py --model vggbn --epochs 20 --out runs/vggbn --seed 1 --threads 2

The same command with --device cuda trains on a GPU; checkpoints always hold
CPU tensors, so a run started on one device resumes on the other.

Resumes automatically from OUT/last.pt.  Writes OUT/log.csv (one row per
epoch), OUT/last.pt (resume state), OUT/best.pt (best val accuracy, without
TTA or with flip TTA as --select says: state_dict, model name, epoch, metrics,
MEAN/STD) and OUT/args.json.

Recipe: batched augmentation with torch ops on the whole batch (one
affine_grid/grid_sample for rotation+scale+shift+h-flip, brightness and
contrast jitter, random erasing), label-smoothed cross entropy, SGD with
nesterov momentum (or AdamW), linear warm-up then cosine decay per step,
weight decay on conv/linear weights only.

Flip-TTA is defined as the mean of the softmax probabilities of the image and
of its horizontal mirror (what the C engine does).

Optional, off by default: mixup and CutMix (--mixup, --cutmix: the batch mixed with a shuffled
copy of itself, the hard-label loss mixed in the same proportion; a teacher sees the mixed
batch), class weights in the loss (--balance P: (1 / class frequency)^P, for disgust).

Distillation: --teacher CKPT (repeatable) adds Hinton's soft-target loss,
alpha * T^2 * KL(teacher || student) at temperature T, with the teachers'
softened probabilities averaged (an ensemble teacher), computed on the same
augmented batch the student sees; the hard-label loss keeps weight 1 - alpha.
"""
import argparse
import csv
import datetime as dt
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fer2013  # noqa: E402
import models  # noqa: E402

# per-model defaults (command-line flags override)
DEFAULTS = {
    "article": dict(opt="adamw", lr=1e-3, wd=1e-4, channels_last=True),
    "small": dict(opt="sgd", lr=0.1, wd=5e-4, channels_last=False),
}
FALLBACK = dict(opt="sgd", lr=0.1, wd=5e-4, channels_last=True)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=sorted(models.MODELS))
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                    help="where the model, augmentation and evaluation run (data stays in CPU memory)")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--data", default=None, help="image-folder root (default %s)" % fer2013.DEFAULT_DATA)
    src.add_argument("--csv", default=None, help="original fer2013.csv")
    ap.add_argument("--cache", default=".cache")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--opt", choices=["sgd", "adamw"], default=None)
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate")
    ap.add_argument("--wd", type=float, default=None)
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up epochs")
    ap.add_argument("--smoothing", type=float, default=0.1)
    ap.add_argument("--rot", type=float, default=12.0, help="max rotation, degrees")
    ap.add_argument("--shift", type=float, default=4.0, help="max shift, pixels")
    ap.add_argument("--scale", type=float, default=0.12, help="scale jitter +-")
    ap.add_argument("--bright", type=float, default=0.2)
    ap.add_argument("--contrast", type=float, default=0.2)
    ap.add_argument("--erase", type=float, default=0.5, help="random-erasing probability")
    ap.add_argument("--no-aug", action="store_true")
    ap.add_argument("--clahe", default=None, metavar="CLIP,GRID",
                    help="apply cv2 CLAHE (clip limit, GRIDxGRID tiles) to every 48x48 face, train and val, "
                         "before augmentation; the exported model asks the C classifier for the same")
    ap.add_argument("--equalize", action="store_true",
                    help="histogram-equalise every face after the photometric augmentation (cv2.equalizeHist "
                         "arithmetic), as the C classifier does for a model whose metadata says equalize=1")
    ap.add_argument("--gamma", type=float, default=0.0,
                    help="gamma jitter: x ** g with log g uniform in +-log(1 + GAMMA) (0: off)")
    ap.add_argument("--channels-last", type=int, default=None, help="1/0, default per model")
    ap.add_argument("--init", default=None,
                    help="start from the weights of this checkpoint (new optimizer and schedule: "
                         "an SGDR-style warm restart); ignored when OUT/last.pt exists")
    ap.add_argument("--teacher", action="append", default=[], metavar="CKPT",
                    help="distil from this checkpoint (repeat for an ensemble teacher)")
    ap.add_argument("--kd-alpha", type=float, default=0.7, help="weight of the distillation loss")
    ap.add_argument("--kd-t", type=float, default=4.0, help="distillation temperature")
    ap.add_argument("--mixup", type=float, default=0.0, metavar="ALPHA",
                    help="mixup: a batch becomes lam x + (1 - lam) x[shuffled], lam ~ Beta(ALPHA, ALPHA); 0: off")
    ap.add_argument("--cutmix", type=float, default=0.0, metavar="ALPHA",
                    help="CutMix: a box of the shuffled batch pasted in, 1 - lam of the area, lam ~ Beta(ALPHA, "
                         "ALPHA); with --mixup too, each mixed batch takes one of the two at random; 0: off")
    ap.add_argument("--mix-prob", type=float, default=1.0, help="share of the batches --mixup/--cutmix mix")
    ap.add_argument("--balance", type=float, default=0.0, metavar="P",
                    help="class weights in the hard-label loss, (1 / class frequency)^P scaled to a mean of 1 over "
                         "the training faces (1: every class weighs alike, 0.5: square root; 0: off)")
    ap.add_argument("--limit", type=int, default=0, help="use only N train images (smoke tests)")
    ap.add_argument("--select", choices=("plain", "flip"), default="plain",
                    help="best.pt: the best val accuracy without TTA, or with flip TTA (the shipped models' mode)")
    ap.add_argument("--deadline", default=None,
                    help="UTC HH:MM: stop cleanly (keeping last/best) if an epoch would end after it")
    a = ap.parse_args(argv)
    d = DEFAULTS.get(a.model, FALLBACK)
    for k in ("opt", "lr", "wd", "channels_last"):
        if getattr(a, k) is None:
            setattr(a, k, d[k])
    a.channels_last = bool(a.channels_last)
    if a.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this PyTorch sees no CUDA device")
    if a.data is None and a.csv is None:
        a.data = fer2013.DEFAULT_DATA
    if a.clahe is not None:
        try:
            clip, grid = a.clahe.split(",")
            a.clahe = (float(clip), int(grid))
        except ValueError:
            ap.error(f"--clahe {a.clahe!r}: expected CLIP,GRID such as 2.0,8")
    return a


def apply_clahe(x_uint8, clahe):
    """N x 48 x 48 uint8 -> the same after cv2.createCLAHE(clip, (grid, grid)).apply on each face."""
    import cv2
    c = cv2.createCLAHE(clipLimit=clahe[0], tileGridSize=(clahe[1], clahe[1]))
    return np.stack([c.apply(f) for f in x_uint8])


def equalize_batch(x01):
    """cv2.equalizeHist on every image of a float N x 1 x H x W batch in [0, 1], after rounding it to
    uint8 as the C crop path holds it. Same arithmetic as OpenCV 4.6: the first occupied gray level
    maps to 0, level j to round_half_even(float(cdf[j] - cdf[first]) * float(255 / (total - cdf[first]))),
    and a one-level image is left as it is. Returns float in [0, 1]."""
    n = x01.shape[0]
    q = torch.round(x01.reshape(n, -1) * 255.0).clamp_(0, 255).long()
    total = q.shape[1]
    hist = torch.zeros(n, 256, dtype=torch.int64, device=q.device).scatter_add_(1, q, torch.ones_like(q))
    cdf = hist.cumsum(1)
    first = (hist > 0).to(torch.int64).argmax(1, keepdim=True)
    h0 = hist.gather(1, first)
    flat = h0 == total
    scale = (torch.tensor(255.0, dtype=torch.float32) / (total - h0).clamp_min(1).to(torch.float32))
    lut = torch.round((cdf - h0).to(torch.float32) * scale).clamp_(0, 255)
    lut = torch.where(flat, torch.arange(256, device=q.device, dtype=torch.float32)[None, :], lut)
    return (lut.gather(1, q) / 255.0).reshape(x01.shape)


def deadline_ts(s):
    if not s:
        return None
    now = dt.datetime.now(dt.timezone.utc)
    hh, mm = map(int, s.split(":"))
    t = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if t < now - dt.timedelta(hours=12):
        t += dt.timedelta(days=1)
    return t.timestamp()


def class_weights(labels, power, classes=len(fer2013.CLASSES)):
    """(1 / frequency)^power per class, scaled so that the weights of the given labels average 1
    (the loss keeps its scale); power 0 gives ones."""
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    w = np.where(counts > 0, (counts.max() / np.maximum(counts, 1)) ** power, 0.0)
    w /= (w * counts).sum() / counts.sum()
    return torch.tensor(w, dtype=torch.float32)


def mix_batch(x, y, a):
    """mixup or CutMix of a normalised batch with a shuffled copy of itself (--mixup, --cutmix,
    --mix-prob). Returns (x, y2, lam): train on lam * loss(y) + (1 - lam) * loss(y2). Draws from
    torch's generator only when mixing is on, so runs without it keep their random stream."""
    if a.mixup <= 0 and a.cutmix <= 0:
        return x, y, 1.0
    if torch.rand(1).item() >= a.mix_prob:
        return x, y, 1.0
    cut = a.cutmix > 0 and (a.mixup <= 0 or torch.rand(1).item() < 0.5)
    alpha = a.cutmix if cut else a.mixup
    lam = torch.distributions.Beta(alpha, alpha).sample().item()
    perm = torch.randperm(x.shape[0]).to(x.device)
    if not cut:
        return lam * x + (1 - lam) * x[perm], y[perm], lam
    h, w = x.shape[2], x.shape[3]
    bh, bw = int(round(h * math.sqrt(1 - lam))), int(round(w * math.sqrt(1 - lam)))
    cy, cx = torch.randint(h, (1,)).item(), torch.randint(w, (1,)).item()
    y0, y1 = max(cy - bh // 2, 0), min(cy - bh // 2 + bh, h)
    x0, x1 = max(cx - bw // 2, 0), min(cx - bw // 2 + bw, w)
    x = x.clone()
    x[:, :, y0:y1, x0:x1] = x[perm][:, :, y0:y1, x0:x1]
    return x, y[perm], 1.0 - (y1 - y0) * (x1 - x0) / (h * w)  # the box as clipped


def preprocess(x_uint8):
    """uint8 N x 48 x 48 -> float N x 1 x 48 x 48 normalized (no augmentation)."""
    x = x_uint8.float().div_(255.0).unsqueeze(1)
    return (x - models.MEAN) / models.STD


def augment(x01, a, gen=None):
    """x01: float N x 1 x 48 x 48 in [0,1]. Returns augmented, normalized batch."""
    n = x01.shape[0]
    dev = x01.device
    r = lambda *s: torch.rand(*s, device=dev)
    ang = (r(n) * 2 - 1) * math.radians(a.rot)
    sc = 1.0 + (r(n) * 2 - 1) * a.scale  # >1 zooms out
    flip = torch.where(r(n) < 0.5, -1.0, 1.0)
    tx = (r(n) * 2 - 1) * (2 * a.shift / 48.0)
    ty = (r(n) * 2 - 1) * (2 * a.shift / 48.0)
    cos, sin = torch.cos(ang) * sc, torch.sin(ang) * sc
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1),
                         torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x01.shape), align_corners=False)
    x = F.grid_sample(x01, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # brightness / contrast
    if a.contrast > 0:
        m = x.mean(dim=(1, 2, 3), keepdim=True)
        c = 1.0 + (r(n, 1, 1, 1) * 2 - 1) * a.contrast
        x = (x - m) * c + m
    if a.bright > 0:
        x = x * (1.0 + (r(n, 1, 1, 1) * 2 - 1) * a.bright)
    x = x.clamp_(0.0, 1.0)
    if a.gamma > 0:
        g = torch.exp((r(n, 1, 1, 1) * 2 - 1) * math.log1p(a.gamma))
        x = x.clamp_min(1e-6).pow(g)
    if a.equalize:
        x = equalize_batch(x)
    x = (x - models.MEAN) / models.STD
    # random erasing: one rectangle, area 2-25 %, aspect 0.3-3.3, filled with 0 (= MEAN)
    if a.erase > 0:
        area = 48 * 48 * (0.02 + r(n) * 0.23)
        logr = (r(n) * 2 - 1) * math.log(3.3)
        ar = torch.exp(logr)
        h = torch.sqrt(area * ar).clamp(1, 47)
        w = torch.sqrt(area / ar).clamp(1, 47)
        y0 = r(n) * (48 - h)
        x0 = r(n) * (48 - w)
        ii = torch.arange(48, device=dev).float()
        my = (ii[None, :] >= y0[:, None]) & (ii[None, :] < (y0 + h)[:, None])
        mx = (ii[None, :] >= x0[:, None]) & (ii[None, :] < (x0 + w)[:, None])
        mask = my[:, :, None] & mx[:, None, :] & (r(n) < a.erase)[:, None, None]
        x = x.masked_fill(mask[:, None], 0.0)
    return x


@torch.no_grad()
def evaluate(model, xv, yv, channels_last=False, batch=256, device="cpu"):
    """Returns dict with loss/acc without TTA and with flip-TTA, plus predictions (on the CPU)."""
    model.eval()
    probs, probs_tta = [], []
    for i in range(0, xv.shape[0], batch):
        x = preprocess(xv[i:i + batch].to(device))
        xf = torch.flip(x, dims=[3])
        xb = torch.cat([x, xf], 0)
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        p = F.softmax(model(xb).float(), dim=1).cpu()
        p0, p1 = p[: x.shape[0]], p[x.shape[0]:]
        probs.append(p0)
        probs_tta.append((p0 + p1) * 0.5)
    p = torch.cat(probs)
    pt = torch.cat(probs_tta)
    nll = lambda q: F.nll_loss(torch.log(q.clamp_min(1e-12)), yv).item()
    return {
        "val_loss": nll(p), "val_acc": (p.argmax(1) == yv).float().mean().item(),
        "val_loss_tta": nll(pt), "val_acc_tta": (pt.argmax(1) == yv).float().mean().item(),
        "pred": p.argmax(1), "pred_tta": pt.argmax(1),
    }


def param_groups(model, wd):
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def lr_at(step, total, warm, peak):
    if step < warm:
        return peak * (step + 1) / warm
    p = (step - warm) / max(1, total - warm)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, p)))


def to_cpu(obj):
    """The optimiser's state with every tensor on the CPU (load_state_dict moves it back to the
    parameters' device), so checkpoints resume on either device."""
    if torch.is_tensor(obj):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


MALLOC_ENV = {
    # glibc returns every >32 MB activation buffer to the kernel and faults it
    # in again on the next batch; on this CPU that tripled training time (most
    # of it system time).  Keep freed memory in the heap instead.
    "MALLOC_MMAP_THRESHOLD_": "4294967296",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
    "MALLOC_TOP_PAD_": "536870912",
}


def _reexec_with_malloc_env():
    if sys.platform.startswith("linux") and os.environ.get("FERC_NO_REEXEC") != "1" \
            and any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
        env = dict(os.environ, **MALLOC_ENV, FERC_NO_REEXEC="1")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    os.makedirs(a.out, exist_ok=True)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    dl = deadline_ts(a.deadline)

    xtr, ytr, _ = fer2013.load_split("train", a.data, a.csv, a.cache)
    xva, yva, _ = fer2013.load_split("val", a.data, a.csv, a.cache)
    if a.clahe:
        xtr, xva = apply_clahe(xtr, a.clahe), apply_clahe(xva, a.clahe)
    if a.equalize:  # val as the C classifier will see it; train is equalised per batch after augmentation
        xva = (equalize_batch(torch.from_numpy(xva).float().div(255.0)) * 255.0).round().to(torch.uint8).numpy()
    if a.limit:
        idx = np.random.RandomState(a.seed).permutation(len(ytr))[: a.limit]
        xtr, ytr = xtr[idx], ytr[idx]
    xtr_f = torch.from_numpy(xtr).float().div_(255.0).unsqueeze(1)  # N x 1 x 48 x 48 in [0,1]
    ytr_t = torch.from_numpy(ytr)
    xva_t = torch.from_numpy(xva)
    yva_t = torch.from_numpy(yva)

    model = models.build(a.model).to(a.device)
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
    groups = param_groups(model, a.wd)
    if a.opt == "sgd":
        opt = torch.optim.SGD(groups, lr=a.lr, momentum=0.9, nesterov=True)
    else:
        opt = torch.optim.AdamW(groups, lr=a.lr)
    weight = class_weights(ytr, a.balance).to(a.device) if a.balance > 0 else None
    crit = nn.CrossEntropyLoss(weight=weight, label_smoothing=a.smoothing)
    teachers = load_teachers(a.teacher, a)

    n = len(ytr)
    steps_per_epoch = n // a.batch  # drop last partial batch
    total = steps_per_epoch * a.epochs
    warm = int(a.warmup * steps_per_epoch)

    start_epoch, best_acc, elapsed = 0, -1.0, 0.0
    last_path = os.path.join(a.out, "last.pt")
    best_path = os.path.join(a.out, "best.pt")
    log_path = os.path.join(a.out, "log.csv")
    if os.path.exists(last_path):
        ck = torch.load(last_path, map_location="cpu")
        if ck["model"] != a.model:
            raise SystemExit(f"{last_path} is for model {ck['model']}, not {a.model}")
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        start_epoch, best_acc, elapsed = ck["epoch"], ck["best_acc"], ck.get("elapsed_s", 0.0)
        torch.set_rng_state(ck["rng_torch"])
        if a.device == "cuda" and ck.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(ck["rng_cuda"])
        np.random.set_state(ck["rng_numpy"])
        random.setstate(ck["rng_python"])
        print(f"resumed from {last_path} at epoch {start_epoch}, best {best_acc:.4f}", flush=True)
    else:
        if a.init:
            ck = torch.load(a.init, map_location="cpu")
            if ck["model"] != a.model:
                raise SystemExit(f"{a.init} is for model {ck['model']}, not {a.model}")
            model.load_state_dict(ck["state_dict"])
            print(f"initialised from {a.init} (epoch {ck.get('epoch')}, val acc "
                  f"{ck.get('metrics', {}).get('val_acc')})", flush=True)
        with open(os.path.join(a.out, "args.json"), "w") as f:
            json.dump(vars(a) | models.summary(a.model), f, indent=1)
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(["epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc",
                                    "val_loss_tta", "val_acc_tta", "epoch_s", "elapsed_s"])
    info = models.summary(a.model)
    print(f"model {a.model}: {info['params']:,} params, {info['macs'] / 1e6:.1f}M MACs; "
          f"{n} train, {len(yva)} val; {a.epochs} epochs x {steps_per_epoch} steps; "
          f"opt {a.opt} lr {a.lr} wd {a.wd}", flush=True)

    epoch_times = []
    for epoch in range(start_epoch, a.epochs):
        if dl is not None and epoch_times:
            est = float(np.median(epoch_times))
            if time.time() + est > dl:
                print(f"deadline {a.deadline}: stopping before epoch {epoch + 1}", flush=True)
                break
        t0 = time.time()
        model.train()
        g = torch.Generator().manual_seed(a.seed * 1000 + epoch)
        perm = torch.randperm(n, generator=g)
        tl, tc, tn = 0.0, 0, 0
        for s in range(steps_per_epoch):
            if dl is not None and time.time() > dl:
                print(f"deadline {a.deadline} passed mid-epoch {epoch + 1}; keeping checkpoints of epoch {epoch}",
                      flush=True)
                return 0
            step = epoch * steps_per_epoch + s
            lr = lr_at(step, total, warm, a.lr)
            for grp in opt.param_groups:
                grp["lr"] = lr
            idx = perm[s * a.batch:(s + 1) * a.batch]
            xb = xtr_f[idx].to(a.device, non_blocking=True)
            yb = ytr_t[idx].to(a.device, non_blocking=True)
            xb = preprocess_aug(xb, a)
            xb, yb2, lam = mix_batch(xb, yb, a)
            if a.channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            out = model(xb)
            loss = crit(out, yb) if lam == 1.0 else lam * crit(out, yb) + (1 - lam) * crit(out, yb2)
            if teachers:
                loss = (1 - a.kd_alpha) * loss + a.kd_alpha * kd_loss(out, teacher_probs(teachers, xb, a.kd_t), a.kd_t)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tl += loss.item() * len(yb)
            tc += (out.argmax(1) == yb).sum().item()
            tn += len(yb)
        ev = evaluate(model, xva_t, yva_t, a.channels_last, device=a.device)
        et = time.time() - t0
        epoch_times.append(et)
        elapsed += et
        row = dict(epoch=epoch + 1, lr=lr, train_loss=tl / tn, train_acc=tc / tn,
                   val_loss=ev["val_loss"], val_acc=ev["val_acc"],
                   val_loss_tta=ev["val_loss_tta"], val_acc_tta=ev["val_acc_tta"],
                   epoch_s=et, elapsed_s=elapsed)
        with open(log_path, "a", newline="") as f:
            csv.writer(f).writerow([row["epoch"], f"{lr:.6f}"] +
                                   [f"{row[k]:.5f}" for k in ("train_loss", "train_acc", "val_loss", "val_acc",
                                                              "val_loss_tta", "val_acc_tta")] +
                                   [f"{et:.1f}", f"{elapsed:.1f}"])
        print(f"ep {epoch + 1}/{a.epochs} lr {lr:.4f} train {row['train_loss']:.4f}/{row['train_acc']:.4f} "
              f"val {row['val_loss']:.4f}/{row['val_acc']:.4f} tta {row['val_acc_tta']:.4f} "
              f"{et:.0f}s  [{time.strftime('%H:%M:%S', time.gmtime())}]", flush=True)
        metrics = {k: v for k, v in row.items()}
        sd = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        meta = dict(model=a.model, epoch=epoch + 1, metrics=metrics, mean=models.MEAN, std=models.STD, clahe=a.clahe,
                    equalize=bool(a.equalize), classes=fer2013.CLASSES, args=vars(a), params=info["params"], macs=info["macs"])
        acc = ev["val_acc_tta"] if a.select == "flip" else ev["val_acc"]
        if acc > best_acc:
            best_acc = acc
            save_atomic(dict(meta, state_dict=sd), best_path)
        save_atomic(dict(meta, state_dict=sd, optimizer=to_cpu(opt.state_dict()), best_acc=best_acc, elapsed_s=elapsed,
                         rng_torch=torch.get_rng_state(),
                         rng_cuda=torch.cuda.get_rng_state() if a.device == "cuda" else None,
                         rng_numpy=np.random.get_state(),
                         rng_python=random.getstate()), last_path)
    print(f"done: best val acc {best_acc:.4f}", flush=True)
    return 0


def load_teachers(paths, a):
    """Teacher networks in eval mode; each must have been trained on the input the student sees."""
    teachers = []
    for p in paths:
        ck = torch.load(p, map_location="cpu")
        if bool(ck.get("equalize")) != bool(a.equalize) or ck.get("clahe") != a.clahe:
            raise SystemExit(f"{p}: teacher preprocessing (equalize={ck.get('equalize')}, clahe={ck.get('clahe')}) "
                             f"differs from the student's (equalize={a.equalize}, clahe={a.clahe})")
        t = models.build(ck["model"])
        t.load_state_dict(ck["state_dict"])
        t.eval().to(a.device)
        cl = bool(ck.get("args", {}).get("channels_last", False))
        if cl:
            t = t.to(memory_format=torch.channels_last)
        teachers.append((t, cl))
        print(f"teacher {p}: {ck['model']}, epoch {ck.get('epoch')}, val acc "
              f"{ck.get('metrics', {}).get('val_acc')}", flush=True)
    return teachers


@torch.no_grad()
def teacher_probs(teachers, xb, temp):
    """Mean of the teachers' softmax(logits / temp) on batch xb."""
    p = 0
    for t, cl in teachers:
        x = xb.contiguous(memory_format=torch.channels_last) if cl else xb.contiguous()
        p = p + F.softmax(t(x).float() / temp, dim=1)
    return p / len(teachers)


def kd_loss(logits, pt, temp):
    """T^2 * KL(pt || softmax(logits / T)), batch mean (Hinton et al. 2015)."""
    return F.kl_div(F.log_softmax(logits / temp, dim=1), pt, reduction="batchmean") * temp * temp


def preprocess_aug(xb01, a):
    if a.no_aug:
        if a.equalize:
            xb01 = equalize_batch(xb01)
        return (xb01 - models.MEAN) / models.STD
    return augment(xb01, a)


if __name__ == "__main__":
    _reexec_with_malloc_env()
    sys.exit(main())
