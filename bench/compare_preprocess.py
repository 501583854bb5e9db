"""ferc's gray conversion and resizing against OpenCV 4.6 on real photos (scikit-image's
astronaut, chelsea and coffee, all public domain), at many target sizes.

    /usr/bin/python3 bench/compare_preprocess.py

Prints, per operation, the largest difference in gray levels and how many values differ.
Required: at most 1 level. Exit status 1 otherwise.
"""
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import skimage.data

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def main():
    subprocess.check_call(["make", "-s", "-C", ROOT, "libferc.a"])
    worst, bad = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        tool = os.path.join(tmp, "preprocess_tool")
        subprocess.check_call(["gcc", "-std=c11", "-O2", "-I" + os.path.join(ROOT, "include"),
                               os.path.join(HERE, "preprocess_tool.c"), os.path.join(ROOT, "libferc.a"), "-lm",
                               "-fopenmp", "-o", tool])
        raw = os.path.join(tmp, "out.raw")

        def run(path, ch, op, w, h, shape):
            subprocess.check_call([tool, path, str(ch), op, str(w), str(h), raw])
            return np.fromfile(raw, np.uint8).reshape(shape)

        for name in ("astronaut", "chelsea", "coffee"):
            rgb = getattr(skimage.data, name)()
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            prgb, pgray = os.path.join(tmp, name + ".png"), os.path.join(tmp, name + "_gray.png")
            cv2.imwrite(prgb, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            cv2.imwrite(pgray, gray)
            H, W = gray.shape
            d = np.abs(run(prgb, 3, "gray", 0, 0, gray.shape).astype(int) - gray)
            print("%-10s gray %4dx%-4d               max diff %d, %d of %d values differ" % (name, W, H, d.max(),
                                                                                          (d > 0).sum(), d.size))
            worst = max(worst, d.max())
            sizes = [(48, 48), (300, 300), (W // 2, H // 2), (W // 3, H // 3), (97, 131), (W - 1, H - 1),
                     (W + 13, H - 7), (2 * W, 2 * H), (50, 700)]
            same = total = 0
            for op, interp in (("linear", cv2.INTER_LINEAR), ("area", cv2.INTER_AREA)):
                for ch, src, path in ((3, rgb, prgb), (1, gray, pgray)):
                    for w, h in sizes:
                        want = cv2.resize(src, (w, h), interpolation=interp).reshape(h, w, ch)
                        d = np.abs(run(path, ch, op, w, h, (h, w, ch)).astype(int) - want)
                        worst = max(worst, d.max())
                        bad += d.max() > 1
                        same += d.max() == 0
                        total += 1
                        if d.max():
                            print("%-10s %-6s %s %4dx%-4d -> %4dx%-4d  max diff %d, %d of %d values differ" % (
                                name, op, "rgb " if ch == 3 else "gray", W, H, w, h, d.max(), (d > 0).sum(), d.size))
            print("%-10s resize: %d of %d (%d sizes x linear/area x rgb/gray) identical to cv2" % (
                name, same, total, len(sizes)))
    print("largest difference: %d gray level(s)" % worst)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
