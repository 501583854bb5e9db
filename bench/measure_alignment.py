#!/usr/bin/python3
"""Residual roll of ferc's eye-based face alignment on real faces rotated by known angles.

Each face is rotated with cv2.warpAffine by a known angle a (-30..30 degrees) about its box
centre; ferc_find_eyes (libferc.so through ctypes) estimates the roll r(a) of the eye line.
The face's own roll is unknown, so it is taken from the unrotated face, r(0), and the
residual is r(a) - (r(0) - a) (a counter-clockwise turn by a lowers the eye-line angle by a
in image coordinates). Faces whose eyes are not found unrotated are not counted; the rate of
faces found at each angle is reported too.

With --model (an emotion classifier, e.g. weights/emotion_cnn.ferc), each FER2013 face is
also classified (ferc_classify) three ways at every angle: the unrotated face (the
reference; cropped from the same upscaled image by ferc_align_crop without a roll, so that
only the rotation differs), the rotated face cropped without alignment, and the rotated face aligned from
its eyes (ferc_align_crop with the eyes found; when none are found, the unaligned crop, as
ferc_analyze does). The table gives how often the top emotion agrees with the reference,
and the accuracy against the data set's labels.

Faces: the astronaut (tests/data/faces_astronaut.png, public domain) and, when present,
FER2013 validation images from ../shared/data/fer2013/val (48x48, upscaled 4x with
INTER_CUBIC and padded by reflection so that rotation does not cut them; research-use data,
read here, never copied into the repository).

With --eyes yunet the eyes come from YuNet (ferc_yunet_detect on the rotated image at the
automatic size, the face whose box overlaps the known one most) refined by ferc_yunet_eyes,
as ferc_analyze aligns faces from a detector that gives landmarks; --eyes landmarks takes
that face's first two landmarks as they are (ferc_eyes_from_landmarks, one pass), to show
what the refinement adds.

--angles 0 with a large --fer measures what alignment does to upright faces alone.

Run: make && /usr/bin/python3 bench/measure_alignment.py [--fer N] [--lib libferc.so]
                                                           [--model weights/emotion_cnn.ferc]
                                                           [--eyes cascade|landmarks|yunet]
                                                           [--angles -30,-20,...,30]
"""
import argparse
import ctypes
import glob
import os
import sys

import cv2
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
ANGLES = [-30, -20, -10, 0, 10, 20, 30]


class Box(ctypes.Structure):  # ferc_box
    _fields_ = [("x", ctypes.c_float), ("y", ctypes.c_float), ("w", ctypes.c_float), ("h", ctypes.c_float),
                ("score", ctypes.c_float), ("n_landmarks", ctypes.c_int), ("landmarks", ctypes.c_float * 10)]


def Rect(x, y, w, h):
    return Box(x, y, w, h, 1.0, 0)


class Image(ctypes.Structure):  # ferc_image
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("channels", ctypes.c_int),
                ("data", ctypes.c_void_p)]


class YunetOptions(ctypes.Structure):  # ferc_yunet_options
    _fields_ = [("input_size", ctypes.c_int), ("threshold", ctypes.c_float), ("nms", ctypes.c_float),
                ("threads", ctypes.c_int)]


class Eyes(ctypes.Structure):
    _fields_ = [("lx", ctypes.c_double), ("ly", ctypes.c_double), ("rx", ctypes.c_double), ("ry", ctypes.c_double),
                ("roll", ctypes.c_double), ("found", ctypes.c_int)]


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 512)]


def faces(n_fer):
    out = []
    ast = cv2.imread(os.path.join(ROOT, "tests/data/faces_astronaut.png"), cv2.IMREAD_GRAYSCALE)
    out.append(("astronaut", ast, (177, 66, 95, 95), None, None))  # cv2 haarcascade_frontalface_default box
    files = sorted(glob.glob(os.path.join(ROOT, "../shared/data/fer2013/val/*/*.jpg")))
    if not files:
        print("FER2013 not found under ../shared/data: astronaut only", file=sys.stderr)
    step = max(1, len(files) // max(n_fer, 1))
    for f in files[::step][:n_fer]:
        g = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
        if g is None or g.std() < 10:
            continue
        big = cv2.resize(g, (192, 192), interpolation=cv2.INTER_CUBIC)
        pad = cv2.copyMakeBorder(big, 96, 96, 96, 96, cv2.BORDER_REFLECT_101)
        label = os.path.basename(os.path.dirname(f))
        out.append((os.path.basename(f), pad, (96, 96, 192, 192), g, label))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fer", type=int, default=300, help="FER2013 val faces to use")
    ap.add_argument("--lib", default=os.path.join(ROOT, "libferc.so"))
    ap.add_argument("--cascade", default="/usr/share/opencv4/haarcascades/haarcascade_eye.xml")
    ap.add_argument("--model", default=None, help="emotion classifier: also report agreement")
    ap.add_argument("--eyes", choices=("cascade", "landmarks", "yunet"), default="cascade",
                    help="yunet: YuNet's landmarks refined (ferc_yunet_eyes, as --align with YuNet); "
                         "landmarks: one pass, unrefined")
    ap.add_argument("--angles", default=",".join(map(str, ANGLES)), help="rotations in degrees (0 is always run)")
    ap.add_argument("--yunet", default=os.path.join(ROOT, "weights", "face_yunet.ferc"))
    ap.add_argument("--min-roll", type=float, default=0.0,
                    help="classify with alignment only faces whose eye line is tilted more than this (degrees)")
    args = ap.parse_args()
    angles = sorted({0} | {int(a) for a in args.angles.split(",")})
    lib = ctypes.CDLL(args.lib)
    lib.ferc_find_eyes.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                   ctypes.POINTER(Box), ctypes.POINTER(Eyes), ctypes.POINTER(Error)]
    err = Error()
    casc = ctypes.c_void_p()
    if lib.ferc_cascade_load(args.cascade.encode(), ctypes.byref(casc), ctypes.byref(err)):
        sys.exit(err.message.decode())

    yunet = ystate = estate = None
    if args.eyes in ("yunet", "landmarks"):
        yunet, ystate, estate = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        if lib.ferc_yunet_load(args.yunet.encode(), ctypes.byref(yunet), ctypes.byref(err)) or \
                lib.ferc_yunet_state_create(yunet, ctypes.byref(ystate), ctypes.byref(err)) or \
                lib.ferc_yunet_state_create(yunet, ctypes.byref(estate), ctypes.byref(err)):
            sys.exit(err.message.decode())
        yopt = YunetOptions(0, 0.6, 0.3, 1)

    def iou(a, b):
        w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
        h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
        return w * h / (a.w * a.h + b.w * b.h - w * h) if w > 0 and h > 0 else 0.0

    def eyes(img, box):
        img = np.ascontiguousarray(img)
        e = Eyes()
        if yunet:
            found = (Box * 16)()
            n = ctypes.c_int()
            im = Image(img.shape[1], img.shape[0], 1, img.ctypes.data)
            if lib.ferc_yunet_detect(yunet, ystate, ctypes.byref(im), ctypes.byref(yopt), found, 16, ctypes.byref(n),
                                     ctypes.byref(err)):
                sys.exit(err.message.decode())
            best = max(found[:min(n.value, 16)], key=lambda b: iou(b, Rect(*box)), default=None)
            if best is None or iou(best, Rect(*box)) < 0.2:
                return None
            if args.eyes == "landmarks":
                lib.ferc_eyes_from_landmarks(ctypes.byref(best), ctypes.byref(e))
            elif lib.ferc_yunet_eyes(yunet, estate, ctypes.byref(im), ctypes.byref(best), 1, ctypes.byref(e),
                                     ctypes.byref(err)):
                sys.exit(err.message.decode())
        elif lib.ferc_find_eyes(casc, img.ctypes.data, img.shape[1], img.shape[0], img.shape[1],
                                ctypes.byref(Rect(*box)), ctypes.byref(e), ctypes.byref(err)):
            sys.exit(err.message.decode())
        return e if e.found else None

    def roll(img, box):
        e = eyes(img, box)
        return e.roll if e else None

    classify = crop = None
    if args.model:
        cls = ctypes.c_void_p()
        model = ctypes.c_void_p()
        opts = (ctypes.c_int * 3)(0, 64, 2)  # ferc_classifier_options: tta, max_batch, threads
        if lib.ferc_model_load(args.model.encode(), ctypes.byref(model), ctypes.byref(err)) or \
                lib.ferc_classifier_create(model, opts, ctypes.byref(cls), ctypes.byref(err)):
            sys.exit(err.message.decode())

        def classify(face48):
            f = np.ascontiguousarray(face48, np.uint8)
            p = np.zeros(7, np.float32)
            if lib.ferc_classify(cls, f.ctypes.data, 1, p.ctypes.data, ctypes.byref(err)):
                sys.exit(err.message.decode())
            return int(p.argmax())

        lib.ferc_align_crop.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(Box),
                                        ctypes.POINTER(Eyes), ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(Error)]

        def crop(img, box, e):
            img = np.ascontiguousarray(img)
            out = np.zeros((48, 48), np.uint8)
            if lib.ferc_align_crop(img.ctypes.data, img.shape[1], img.shape[0], img.shape[1], ctypes.byref(Rect(*box)),
                                   e, out.ctypes.data, 48, ctypes.byref(err)):
                sys.exit(err.message.decode())
            return out
    names = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    agree = {a: [0, 0, 0, 0, 0] for a in angles}  # faces, unaligned==ref, aligned==ref, unaligned ok, aligned ok

    res = {a: [] for a in angles}
    found = {a: 0 for a in angles}
    counted = 0
    for name, img, box, face48, label in faces(args.fer):
        r0 = roll(img, box)
        if r0 is None:
            continue
        counted += 1
        cx, cy = box[0] + box[2] / 2 - 0.5, box[1] + box[3] / 2 - 0.5
        ref = classify(crop(img, box, None)) if classify and face48 is not None else None
        for a in angles:
            m = cv2.getRotationMatrix2D((cx, cy), a, 1.0)
            rot = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
            e = eyes(rot, box)
            if ref is not None:
                plain = classify(crop(rot, box, None))
                aligned = classify(crop(rot, box, e)) if e and abs(e.roll) > args.min_roll else plain
                want = names.index(label)
                for k, ok in enumerate((True, plain == ref, aligned == ref, plain == want, aligned == want)):
                    agree[a][k] += ok
            r = e.roll if e else None
            if r is None:
                continue
            found[a] += 1
            res[a].append(abs(r - (r0 - a)))
        if name == "astronaut":
            print("astronaut: own roll %.2f deg; residuals %s" % (
                r0, " ".join("%+d:%.2f" % (a, res[a][-1]) if res[a] else "%+d:-" % a for a in angles)))
    print("faces with eyes found unrotated: %d" % counted)
    print("angle  found   median|res|  p90|res|  max|res|  share<5deg")
    allr = []
    for a in angles:
        r = np.array(res[a])
        allr += res[a]
        if len(r):
            print("%+4d  %4d/%d  %9.2f  %8.2f  %8.2f  %8.1f%%" % (a, found[a], counted, np.median(r),
                                                                  np.percentile(r, 90), r.max(), 100 * (r < 5).mean()))
    r = np.array(allr)
    print("all   %5d   %9.2f  %8.2f  %8.2f  %8.1f%%" % (len(r), np.median(r), np.percentile(r, 90), r.max(),
                                                       100 * (r < 5).mean()))
    if args.model:
        print("classifier %s on the FER2013 faces above (top emotion):" % os.path.basename(args.model))
        print("angle  faces  agree unaligned  agree aligned  accuracy unaligned  accuracy aligned")
        tot = np.zeros(5)
        for a in angles:
            n, pu, pa, au, aa = agree[a]
            tot += agree[a]
            print("%+4d  %5d  %14.1f%%  %12.1f%%  %17.1f%%  %15.1f%%" % (a, n, 100 * pu / n, 100 * pa / n, 100 * au / n,
                                                                     100 * aa / n))
        n, pu, pa, au, aa = tot
        print("all   %5d  %14.1f%%  %12.1f%%  %17.1f%%  %15.1f%%" % (n, 100 * pu / n, 100 * pa / n, 100 * au / n,
                                                                   100 * aa / n))
        print("(agree: same top emotion as the unrotated face; accuracy: against the labels)")
    lib.ferc_cascade_free(casc)


if __name__ == "__main__":
    main()
