#!/usr/bin/python3
"""Fixtures for tests/test_align.c, from tests/data/faces_astronaut.png (public domain):

  align/astronaut_rot<A>.png  200x200 around the face, the whole photo first rotated by A
                              degrees (counter-clockwise on screen) about the face centre with
                              cv2.warpAffine (INTER_LINEAR, BORDER_REPLICATE); cases.txt
                              lists ANGLE FILE and the face box in the crop
  align/crop_roll17.png       the face box (177,66,95,95) turned by 17 degrees about its centre
                              at its own size with cv2.warpAffine (95x95), then cv2.resize
                              INTER_AREA to 64x64: what ferc_align_crop must produce for
                              roll 17 (up to interpolation rounding in the turn)
  align/crop_area24.png       cv2.resize(INTER_AREA) of the box (177,66,96,96) to 24x24: an
                              unrotated crop shrunk 4x must average like INTER_AREA

Run: /usr/bin/python3 tests/gen/make_align_refs.py
"""
import math
import os

import cv2
import numpy as np

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
BOX = (177, 66, 95, 95)


def main():
    out = os.path.join(DATA, "align")
    os.makedirs(out, exist_ok=True)
    img = cv2.imread(os.path.join(DATA, "faces_astronaut.png"), cv2.IMREAD_GRAYSCALE)
    cx, cy = BOX[0] + BOX[2] / 2 - 0.5, BOX[1] + BOX[3] / 2 - 0.5
    cases = []
    for a in (0, -30, -15, 15, 30):
        m = cv2.getRotationMatrix2D((cx, cy), a, 1.0)
        rot = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
        x0, y0 = int(round(cx - 100 + 0.5)), int(round(cy - 100 + 0.5))
        pad = cv2.copyMakeBorder(rot, 100, 100, 100, 100, cv2.BORDER_REPLICATE)
        cv2.imwrite(os.path.join(out, "astronaut_rot%d.png" % a), pad[y0 + 100:y0 + 300, x0 + 100:x0 + 300])
        cases.append("%d astronaut_rot%d.png %d %d %d %d" % (a, a, BOX[0] - x0, BOX[1] - y0, BOX[2], BOX[3]))
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")
    # ferc_align_crop(roll=17): the 95x95 square turned at its own size, pixel (u,v) sampling
    # the source at centre + R(17deg) (u - 47, v - 47) (inverse map for WARP_INVERSE_MAP), then
    # resized to 64x64 as every face crop is (INTER_AREA when shrinking)
    side, th = BOX[2], math.radians(17.0)
    c, sn = math.cos(th), math.sin(th)
    o = side / 2 - 0.5
    m = np.array([[c, -sn, cx - c * o + sn * o], [sn, c, cy - sn * o - c * o]])
    turned = cv2.warpAffine(img, m, (side, side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REPLICATE)
    cv2.imwrite(os.path.join(out, "crop_roll17.png"), cv2.resize(turned, (64, 64), interpolation=cv2.INTER_AREA))
    cv2.imwrite(os.path.join(out, "crop_area24.png"),
                cv2.resize(img[66:162, 177:273], (24, 24), interpolation=cv2.INTER_AREA))


if __name__ == "__main__":
    main()
