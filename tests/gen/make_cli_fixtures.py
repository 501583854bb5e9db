"""Fixtures for the API and command tests (tests/test_api.c, tests/test_cli.c), with
PyTorch's outputs as the reference.

    /usr/bin/python3 tests/gen/make_cli_fixtures.py [--fer ../shared/data/fer2013/val] [--out tests/cli]

Writes, under --out:
  fer/<class>/<n>.png    ten FER2013 validation faces (48x48 gray; PNG so that every decoder
                         sees the same pixels), an image-folder data set for `ferc eval`
  emotion_tiny.ferc      a small seeded CNN ending in softmax, task "emotion", labels listed in
                         a shuffled order and mean/std metadata (exercises all of the
                         classifier's metadata handling)
  emotion_logits.ferc    the same without softmax and without labels (FER2013 order)
  emotion_clahe.ferc     emotion_tiny with "clahe" metadata 2,8 (trained-with-CLAHE models)
  emotion_badclahe.ferc  the same with clahe="2,0" (a grid of 0 tiles: must be refused)
  emotion_equalize.ferc  emotion_tiny with "equalize" metadata 1 (models trained on equalised faces)
  scene.png              a 160x112 RGB picture with two tinted faces at known boxes
  clip420.y4m            two 32x24 frames of scene.png made by ffmpeg (yuv420p, limited range)
  refs.ferc              PyTorch's probabilities, in FER2013 order:
                           faces [10,7], faces_tta [10,7] (flip averaging), faces_crops [10,7]
                           and faces_centre [10,7] (the crops and centre TTA: the mean over
                           compare_c_torch.views()), logits [10,7]
                           (emotion_logits.ferc through softmax), faces_clahe [10,7] (the
                           faces after cv2.createCLAHE(2, (8, 8))), faces_relit [10,48,48] (the
                           faces re-lit: gamma 2, contrast halved, darker), faces_equalize [10,7]
                           (cv2.equalizeHist of faces_relit), scene [2,7], labels [10],
                           scene_boxes [2,4]; plus gray/crop references from OpenCV:
                           crop_src [40,56] gray, crop_box [4], crop_cv2 [48,48],
                           clip420_rgb [2,24,32,3] (cv2.cvtColor YUV2RGB_I420 of each frame)
"""
import argparse
import os
import subprocess
import sys

import cv2
import numpy as np
import torch
import torch.nn as nn
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "model"))
import fercfile  # noqa: E402
from compare_c_torch import views  # noqa: E402
from export_torch import export  # noqa: E402

FER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
SHUFFLED = ["neutral", "happy", "sad", "angry", "surprise", "fear", "disgust"]
MEAN, STD = 0.5, 0.25


class Tiny(nn.Module):
    def __init__(self, softmax):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, 2, 1)
        self.b1 = nn.BatchNorm2d(8)
        self.r1 = nn.ReLU()
        self.c2 = nn.Conv2d(8, 16, 3, 2, 1)
        self.r2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(16 * 6 * 6, 7)
        self.sm = nn.Softmax(dim=1) if softmax else nn.Identity()

    def forward(self, x):
        return self.sm(self.fc(self.flat(self.pool(self.r2(self.c2(self.r1(self.b1(self.c1(x)))))))))


def run(model, faces, mean, std):
    x = torch.from_numpy((faces.astype(np.float32) / 255.0 - mean) / std)[:, None]
    with torch.no_grad():
        return model(x).numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fer", default="../shared/data/fer2013/val")
    ap.add_argument("--out", default="tests/cli")
    a = ap.parse_args()
    torch.manual_seed(8)
    np.random.seed(8)

    # Ten faces: two of happy, sad and surprise, one of the rest but disgust (rare).
    picks = {"angry": 1, "fear": 1, "happy": 2, "sad": 2, "surprise": 2, "neutral": 2}
    faces, labels = [], []
    for cls, k in picks.items():
        names = sorted(os.listdir(os.path.join(a.fer, cls)))[:k]
        os.makedirs(os.path.join(a.out, "fer", cls), exist_ok=True)
        for i, n in enumerate(names):
            g = np.array(Image.open(os.path.join(a.fer, cls, n)).convert("L"))
            assert g.shape == (48, 48)
            Image.fromarray(g).save(os.path.join(a.out, "fer", cls, f"{i}.png"))
            faces.append(g)
            labels.append(FER.index(cls))
    faces = np.stack(faces)

    example = torch.zeros(1, 1, 48, 48)
    soft = Tiny(True).eval()
    with torch.no_grad():  # a sharper output than the default init gives
        soft.fc.weight.mul_(6.0)
        soft.b1.running_mean.uniform_(-0.2, 0.2)
        soft.b1.running_var.uniform_(0.5, 2.0)
    export(soft, example, os.path.join(a.out, "emotion_tiny.ferc"),
           {"name": "emotion_tiny", "task": "emotion", "labels": ",".join(SHUFFLED), "mean": MEAN, "std": STD})
    logits_model = Tiny(False).eval()
    logits_model.load_state_dict(soft.state_dict())
    export(logits_model, example, os.path.join(a.out, "emotion_logits.ferc"), {"name": "emotion_logits", "task": "emotion"})

    export(soft, example, os.path.join(a.out, "emotion_clahe.ferc"),
           {"name": "emotion_clahe", "task": "emotion", "labels": ",".join(SHUFFLED), "mean": MEAN, "std": STD,
            "clahe": "2,8"})
    export(soft, example, os.path.join(a.out, "emotion_equalize.ferc"),
           {"name": "emotion_equalize", "task": "emotion", "labels": ",".join(SHUFFLED), "mean": MEAN, "std": STD,
            "equalize": "1"})
    export(soft, example, os.path.join(a.out, "emotion_badclahe.ferc"),
           {"name": "emotion_badclahe", "task": "emotion", "mean": MEAN, "std": STD, "clahe": "2,0"})

    order = [SHUFFLED.index(c) for c in FER]  # model column of each FER class
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    pc = run(soft, np.stack([clahe.apply(f) for f in faces]), MEAN, STD)[:, order]
    p = run(soft, faces, MEAN, STD)[:, order]
    # The ten faces re-lit as a camera might show them (gamma 2, then contrast halved and darkened),
    # and PyTorch on cv2.equalizeHist of those: what a model with equalize=1 must give.
    relit = np.stack([np.clip(((f / 255.0) ** 2.0 * 255.0 - 128) * 0.5 + 100, 0, 255) for f in faces])
    relit = np.round(relit).astype(np.uint8)
    pe = run(soft, np.stack([cv2.equalizeHist(f) for f in relit]), MEAN, STD)[:, order]
    pf = 0.5 * (p + run(soft, faces[:, :, ::-1].copy(), MEAN, STD)[:, order])

    def tta(mode):  # the mean over the mode's views, as the C classifier averages them
        v = views(faces, mode)
        return run(soft, v.reshape(-1, 48, 48), MEAN, STD).reshape(10, v.shape[1], 7).mean(1)[:, order]
    pcr, pce = tta("crops"), tta("centre")
    lg = torch.softmax(torch.from_numpy(run(logits_model, faces, 0.0, 1.0)), 1).numpy()  # no labels: FER order

    # A scene: colour gradient background, faces 3 and 6 tinted and pasted at known places.
    rng = np.random.default_rng(8)
    yy, xx = np.mgrid[0:112, 0:160]
    scene = np.stack([xx * 1.5, yy * 2.0, 255 - xx], -1) + rng.integers(0, 6, (112, 160, 3))
    scene = scene.clip(0, 255).astype(np.uint8)
    boxes = np.array([[10, 20, 48, 48], [100, 50, 48, 48]], np.float32)
    for (x, y, w, h), fi in zip(boxes.astype(int), (3, 6)):
        f = faces[fi].astype(np.float32)
        scene[y:y + h, x:x + w] = np.stack([f, f * 0.8, f * 0.5], -1).astype(np.uint8)
    Image.fromarray(scene).save(os.path.join(a.out, "scene.png"))
    gray = cv2.cvtColor(scene, cv2.COLOR_RGB2GRAY)
    crops = np.stack([gray[y:y + h, x:x + w] for x, y, w, h in boxes.astype(int)])
    ps = run(soft, crops, MEAN, STD)[:, order]

    # Bilinear crop reference: a 40x56 region of a face resized up to 48x48 by OpenCV.
    src = np.ascontiguousarray(np.kron(faces[0][:20, :28], np.ones((2, 2), np.uint8)))
    box = np.array([3, 5, 33, 29], np.float32)
    x, y, w, h = box.astype(int)
    crop = cv2.resize(src[y:y + h, x:x + w], (48, 48), interpolation=cv2.INTER_LINEAR)

    # ffmpeg writes the clip; OpenCV decodes the same frames as the reference.
    clip = os.path.join(a.out, "clip420.y4m")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", os.path.join(a.out, "scene.png"), "-vf",
                    "crop=32:24:8+n*40:16", "-frames:v", "2", "-f", "yuv4mpegpipe", "-pix_fmt", "yuv420p", clip],
                   check=True)
    data = open(clip, "rb").read()
    frames, pos = [], data.index(b"\n") + 1
    for _ in range(2):
        assert data[pos:pos + 6] == b"FRAME\n"
        pos += 6
        yuv = np.frombuffer(data[pos:pos + 32 * 24 * 3 // 2], np.uint8).reshape(36, 32)
        frames.append(cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420))
        pos += 32 * 24 * 3 // 2
    assert pos == len(data)

    fercfile.write_tensors(os.path.join(a.out, "refs.ferc"), {
        "faces": p, "faces_tta": pf, "faces_crops": pcr, "faces_centre": pce, "logits": lg, "faces_clahe": pc, "faces_relit": relit.astype(np.float32),
        "faces_equalize": pe, "scene": ps, "labels": np.array(labels, np.float32),
        "scene_boxes": boxes, "crop_src": src.astype(np.float32), "crop_box": box,
        "crop_cv2": crop.astype(np.float32), "clip420_rgb": np.stack(frames).astype(np.float32)}, {"model": "emotion_tiny"})
    print("labels", labels)
    print("argmax", p.argmax(1).tolist(), "tta", pf.argmax(1).tolist())


if __name__ == "__main__":
    main()
