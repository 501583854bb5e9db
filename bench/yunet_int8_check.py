"""The int8 YuNet against the fp32 one on the photo fixtures: every face of each, the best
IoU of the other's faces (the target of issue 17: the same faces, IoU >= 0.95 at the default
threshold), through the C engine (./ferc, default input size and threshold).

    /usr/bin/python3 bench/yunet_int8_check.py INT8.ferc [FP32.ferc]
"""
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
import quantize  # noqa: E402

PHOTOS = sorted(os.path.relpath(p, ROOT) for d in ("tests/data", "tests/cli") for e in ("png", "jpg")
                for p in glob.glob(os.path.join(ROOT, d, "*." + e)))


def main():
    q8 = sys.argv[1]
    fp32 = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "weights", "face_yunet.ferc")
    photos = [os.path.join(ROOT, p) for p in PHOTOS]
    ferc = os.path.join(ROOT, "ferc")
    ref, got = quantize.detections(ferc, fp32, photos), quantize.detections(ferc, q8, photos)
    worst, extra = 1.0, 0
    for p, a, b in zip(PHOTOS, ref, got):
        ious = [max([quantize.iou(x, y) for y in b] + [0.0]) for x in a]
        extra += max(0, len(b) - sum(1 for i in ious if i >= 0.5))
        worst = min([worst] + ious)
        print(f"{p}: fp32 {len(a)} faces, int8 {len(b)}; IoU " + " ".join(f"{i:.3f}" for i in ious))
    print(f"lowest IoU {worst:.3f}; int8 faces without an fp32 face: {extra}")


if __name__ == "__main__":
    main()
