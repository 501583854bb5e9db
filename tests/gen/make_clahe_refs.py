#!/usr/bin/python3
"""Stores cv2.createCLAHE(clip, grid).apply outputs as PNGs in tests/data/clahe/ for
tests/test_clahe.c. Inputs are crops of tests/data/faces_*.png (made by
tests/gen/make_cascade_refs.py); sizes chosen so that some grids divide them and some do not
(OpenCV pads the image then). Each output is named CROP_clip<C>_<GX>x<GY>.png and
tests/data/clahe/cases.txt lists: INPUT X Y W H CLIP GX GY OUTPUT.

Run: /usr/bin/python3 tests/gen/make_clahe_refs.py
"""
import os

import cv2

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
CROPS = [("faces_astronaut.png", 150, 40, 128, 128), ("faces_group.png", 170, 10, 101, 77)]
SETTINGS = [(2.0, 8, 8), (4.0, 4, 4), (1.0, 3, 5), (0.0, 8, 8), (40.0, 2, 2)]


def main():
    out_dir = os.path.join(DATA, "clahe")
    os.makedirs(out_dir, exist_ok=True)
    lines = []
    for name, x, y, w, h in CROPS:
        img = cv2.imread(os.path.join(DATA, name), cv2.IMREAD_GRAYSCALE)
        crop = img[y:y + h, x:x + w].copy()
        for clip, gx, gy in SETTINGS:
            out = cv2.createCLAHE(clipLimit=clip, tileGridSize=(gx, gy)).apply(crop)
            fname = "%s_%d_%d_clip%g_%dx%d.png" % (name[:-4], x, y, clip, gx, gy)
            cv2.imwrite(os.path.join(out_dir, fname), out)
            lines.append("%s %d %d %d %d %g %d %d %s" % (name, x, y, w, h, clip, gx, gy, fname))
    with open(os.path.join(out_dir, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
