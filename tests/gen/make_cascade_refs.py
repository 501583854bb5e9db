#!/usr/bin/python3
"""Builds the face-detection fixtures in tests/data/ and stores OpenCV 4.6's outputs on them.

Images (sources and licences in tests/data/README.md):
  faces_astronaut.png  skimage.data.astronaut() in gray (NASA, public domain)
  faces_group.png      640x480 composite: the astronaut's head at four sizes, one mirrored,
                       pasted on skimage.data.coffee() (CC0), plus skimage.data.camera() (CC0)
  faces_crowd.png      412x180 crowd: rows of the astronaut's head (mirrored at random),
                       smaller towards the back, the front row cut by the bottom edge, on
                       coffee(); cut where OpenCV never visits the last row of windows at some
                       scales (docs/cascades.md, "Rows end where OpenCV's stripes end")

Reference files (plain text, one record per line, read by tests/test_cascade.c etc.):
  cascade_refs.txt   IMAGE CASCADE SCALE MIN_NEIGHBORS EQUALIZE N  x y w h ...  from
                     cv2.CascadeClassifier.detectMultiScale; min_neighbors 0 gives the raw
                     candidates before grouping, which pins down every window decision.
  resize_refs.txt    cv2.resize of a crop (INTER_LINEAR and INTER_LINEAR_EXACT) to several sizes
  integral_refs.txt  cv2.integral3 (sum, squared sum, tilted sum) of a small crop
  equalize_refs.txt  cv2.equalizeHist's mapping for faces_group.png

Run: /usr/bin/python3 tests/gen/make_cascade_refs.py   (writes into tests/data/)
"""
import os
import sys

import cv2
import numpy as np
import skimage.data

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
CASCADES = "/usr/share/opencv4"
DETECT_CASES = [
    "haarcascades/haarcascade_frontalface_default.xml",
    "haarcascades/haarcascade_frontalface_alt2.xml",
    "lbpcascades/lbpcascade_frontalface_improved.xml",
]
# Extra coverage: a cascade with tilted features and trees, and an old-format file.
EXTRA_CASES = [
    ("haarcascades/haarcascade_eye_tree_eyeglasses.xml", 1.1, 0),
    ("haarcascades/haarcascade_licence_plate_rus_16stages.xml", 1.1, 0),
    ("haarcascades/haarcascade_frontalcatface_extended.xml", 1.2, 0),
]


def gray(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def make_group():
    bg = cv2.resize(gray(skimage.data.coffee()), (640, 480), interpolation=cv2.INTER_AREA)
    ast = gray(skimage.data.astronaut())
    head = ast[30:200, 150:300]  # 150x170, the face with some margin
    out = bg.copy()
    for (x, y, s, flip) in [(20, 40, 0.55, False), (190, 20, 1.0, True), (380, 180, 0.8, False), (520, 30, 0.45, False)]:
        h = cv2.resize(head, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        if flip:
            h = h[:, ::-1]
        out[y:y + h.shape[0], x:x + h.shape[1]] = h
    cam = cv2.resize(skimage.data.camera(), (200, 200), interpolation=cv2.INTER_AREA)
    out[280:480, 40:240] = cam
    return out


def make_crowd():
    rng = np.random.RandomState(3)
    W, H = 480, 360
    out = cv2.resize(gray(skimage.data.coffee()), (W, H), interpolation=cv2.INTER_AREA)
    head = gray(skimage.data.astronaut())[30:200, 150:300]
    y = 4
    for s in (0.22, 0.3, 0.4, 0.55, 0.75):
        h = cv2.resize(head, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        x = int(rng.randint(0, 12))
        while x + h.shape[1] <= W and y < H:
            hh = h[:, ::-1] if rng.rand() < 0.5 else h
            rows = min(h.shape[0], H - y)
            out[y:y + rows, x:x + h.shape[1]] = hh[:rows]
            x += h.shape[1] + int(rng.randint(2, 14))
        y += int(h.shape[0] * 0.7)
    # 412 columns make 13 stripes; at 180 rows the scales with an odd number of window rows
    # whose half (rounded down) 13 divides lose their last row in OpenCV, where the front
    # row's faces end
    return np.ascontiguousarray(out[:180, :412])


def boxes_line(img_name, casc, scale, mn, eq, rects):
    r = sorted(map(tuple, np.array(rects).reshape(-1, 4).tolist()), key=lambda b: (b[1], b[0], b[2], b[3]))
    return "%s %s %.17g %d %d %d %s" % (img_name, casc, scale, mn, eq, len(r), " ".join("%d %d %d %d" % b for b in r))


def main():
    os.makedirs(OUT, exist_ok=True)
    images = {"faces_astronaut.png": gray(skimage.data.astronaut()), "faces_group.png": make_group(),
              "faces_crowd.png": make_crowd()}
    for name, img in images.items():
        cv2.imwrite(os.path.join(OUT, name), img)
        assert (cv2.imread(os.path.join(OUT, name), 0) == img).all()

    lines = []
    for name, img in images.items():
        eq_img = cv2.equalizeHist(img)
        for casc in DETECT_CASES:
            c = cv2.CascadeClassifier(os.path.join(CASCADES, casc))
            assert not c.empty(), casc
            for eq in (0, 1):
                for mn in (0, 3, 5):
                    r = c.detectMultiScale(eq_img if eq else img, 1.1, mn)
                    lines.append(boxes_line(name, casc, 1.1, mn, eq, r))
        for casc, scale, mn in EXTRA_CASES:
            c = cv2.CascadeClassifier(os.path.join(CASCADES, casc))
            lines.append(boxes_line(name, casc, scale, mn, 0, c.detectMultiScale(img, scale, mn)))
    # min/max size filtering
    c = cv2.CascadeClassifier(os.path.join(CASCADES, DETECT_CASES[0]))
    img = images["faces_group.png"]
    for mins, maxs in [((40, 40), (0, 0)), ((0, 0), (60, 60)), ((50, 50), (50, 50)), ((30, 30), (90, 90))]:
        r = c.detectMultiScale(img, 1.1, 3, minSize=mins, maxSize=maxs)
        lines.append(boxes_line("faces_group.png", DETECT_CASES[0], 1.1, 3, 0, r) +
                     " minmax %d %d %d %d" % (mins + maxs))
    with open(os.path.join(OUT, "cascade_refs.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    ast = images["faces_astronaut.png"]
    crop = ast[60:157, 170:253]  # 83x97
    with open(os.path.join(OUT, "resize_refs.txt"), "w") as f:
        f.write("crop 170 60 83 97\n")
        for (w, h) in [(75, 88), (41, 48), (120, 33), (7, 5), (42, 49)]:
            for mode, interp in (("linear", cv2.INTER_LINEAR), ("exact", cv2.INTER_LINEAR_EXACT)):
                r = cv2.resize(crop, (w, h), interpolation=interp)
                f.write("%s %d %d %s\n" % (mode, w, h, " ".join(map(str, r.ravel().tolist()))))

    small = ast[100:119, 200:223]  # 23x19
    s, sq, t = cv2.integral3(small, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
    with open(os.path.join(OUT, "integral_refs.txt"), "w") as f:
        f.write("crop 200 100 23 19\n")
        f.write("sum %s\n" % " ".join(map(str, s.ravel().tolist())))
        f.write("sqsum %s\n" % " ".join(str(int(v) % (1 << 32)) for v in sq.ravel().tolist()))
        f.write("tilted %s\n" % " ".join(map(str, t.ravel().tolist())))

    g = images["faces_group.png"]
    e = cv2.equalizeHist(g)
    lut = {}
    for v, o in zip(g.ravel().tolist(), e.ravel().tolist()):
        lut[v] = o
    with open(os.path.join(OUT, "equalize_refs.txt"), "w") as f:
        f.write("faces_group.png %d %s\n" % (len(lut), " ".join("%d %d" % (v, lut[v]) for v in sorted(lut))))
    print("wrote fixtures to", os.path.normpath(OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
