"""Test photos for the face detector benches, built at run time from real photos.

astronaut()        scikit-image's astronaut.png (public-domain NASA photo), BGR.
astronaut_group()  the astronaut's head pasted at several sizes on scikit-image's coffee.png
                   (public domain), with the true face boxes: a photo-like image with faces
                   from 20 to 200 pixels.
fer_crowd()        FER2013 val faces (48x48, enlarged) pasted on coffee.png with their crop
                   boxes: many different people at chosen sizes. FER2013 images may not be
                   redistributed, so this is built from ../shared at run time only.
"""
import glob
import os

import cv2
import numpy as np
import skimage.data

HERE = os.path.dirname(os.path.abspath(__file__))
FER = os.path.join(HERE, "..", "..", "shared", "data", "fer2013", "val")
# The astronaut's face box in the 512x512 photo (OpenCV's detector at 300x300), and the
# head region pasted around it.
FACE = np.array([179.2, 57.9, 271.6, 177.2])
HEAD = (110, 10, 340, 230)  # x0, y0, x1, y1


def astronaut():
    return cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)


def background(w, h):
    return cv2.resize(cv2.cvtColor(skimage.data.coffee(), cv2.COLOR_RGB2BGR), (w, h), interpolation=cv2.INTER_AREA)


def _place(canvas, patch, taken, rng):
    """Puts patch at a random free spot (no overlap with taken rectangles). Returns (x, y) or None."""
    H, W = canvas.shape[:2]
    h, w = patch.shape[:2]
    for _ in range(200):
        x, y = int(rng.integers(0, W - w)), int(rng.integers(0, H - h))
        if all(x + w + 4 <= a or a2 + 4 <= x or y + h + 4 <= b or b2 + 4 <= y for a, b, a2, b2 in taken):
            canvas[y:y + h, x:x + w] = patch
            taken.append((x, y, x + w, y + h))
            return x, y
    return None


def astronaut_group(w=1280, h=720, sizes=(20, 28, 40, 56, 80, 120, 200), seed=0):
    rng = np.random.default_rng(seed)
    canvas = background(w, h)
    src = astronaut()
    x0, y0, x1, y1 = HEAD
    head = src[y0:y1, x0:x1]
    boxes, taken = [], []
    for s in sizes:
        k = s / (FACE[2] - FACE[0])
        patch = cv2.resize(head, (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k))),
                           interpolation=cv2.INTER_AREA)
        at = _place(canvas, patch, taken, rng)
        if at:
            fx = (FACE - [x0, y0, x0, y0]) * k
            boxes.append(fx + [at[0], at[1], at[0], at[1]])
    return canvas, np.array(boxes)


def fer_files():
    return sorted(glob.glob(os.path.join(FER, "*", "*.jpg")))


def fer_crowd(files, w=1280, h=720, sizes=(16, 24, 32, 48, 64, 96, 128), per_size=4, seed=0):
    """Faces are FER2013 crops enlarged to size x size; the true box is the crop."""
    rng = np.random.default_rng(seed)
    canvas = background(w, h)
    boxes, taken = [], []
    for s in sizes:
        for _ in range(per_size):
            f = files[int(rng.integers(0, len(files)))]
            g = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
            patch = cv2.cvtColor(cv2.resize(g, (s, s), interpolation=cv2.INTER_LINEAR if s > 48 else cv2.INTER_AREA),
                                 cv2.COLOR_GRAY2BGR)
            at = _place(canvas, patch, taken, rng)
            if at:
                boxes.append([at[0], at[1], at[0] + s, at[1] + s])
    return canvas, np.array(boxes, float)
