"""The package gives the command's answers: for every fixture photo and option, the faces
from ferc.Analyzer (path, bytes, BGR array, gray array) equal `ferc`'s JSON: the same boxes,
scores and probabilities printed the same way (%.6g), probabilities within 1e-6."""
import glob
import os

import numpy as np
import pytest

import ferc
from conftest import path, run_command

PHOTOS = ["tests/data/astronaut.jpg", "tests/data/faces_group.png", "tests/data/faces_astronaut.png",
          "tests/data/astronaut_face.png", "tests/cli/scene.png"]
FACES = sorted(os.path.relpath(p, path()) for p in glob.glob(path("tests/cli/fer/*/*.png")))
CASCADES = os.path.exists("/usr/share/opencv4/haarcascades/haarcascade_eye.xml")

# (command options, Analyzer arguments, needs OpenCV's cascades, inputs)
CASES = [
    ([], {}, False, PHOTOS),
    (["--tta"], {"tta": True}, False, PHOTOS),
    (["--tta", "crops", "--classifier", "small"], {"tta": "crops", "classifier": "small"}, False, PHOTOS),
    (["--tta", "centre", "--int8"], {"tta": "centre", "int8": True}, False, PHOTOS),
    (["--classifier", "small"], {"classifier": "small"}, False, PHOTOS),
    (["--classifier", "lbp-svm"], {"classifier": "lbp-svm"}, False, PHOTOS),
    (["--threshold", "0.3"], {"threshold": 0.3}, False, PHOTOS),
    (["--ssd-size", "300"], {"ssd_size": 300}, False, PHOTOS),
    (["--detector", "haar"], {"detector": "haar"}, True, PHOTOS),
    (["--detector", "lbp", "--min-size", "40"], {"detector": "lbp", "min_size": 40}, True, PHOTOS),
    (["--detector", "haar", "--scale-factor", "1.2", "--min-neighbors", "5"],
     {"detector": "haar", "scale_factor": 1.2, "min_neighbors": 5}, True, PHOTOS),
    (["--align"], {"align": True}, True, PHOTOS),
    (["--no-detect"], {"detector": "none"}, False, FACES),
    (["--no-detect", "--tta", "--model", "tests/cli/emotion_clahe.ferc"],
     {"detector": "none", "tta": True, "model": path("tests/cli/emotion_clahe.ferc")}, False, FACES),
    (["--detector", "ssd"], {"detector": "ssd"}, False, PHOTOS),
    (["--nms", "0.4"], {"nms": 0.4}, False, PHOTOS),
    (["--tiles", "2x4"], {"tiles": 2, "tile_scale": 4}, False, PHOTOS),
    (["--int8"], {"int8": True}, False, PHOTOS),
]


def g6(v):
    return "%.6g" % v


def assert_same(faces, want, where):
    assert len(faces) == len(want), "%s: %d faces, the command %d" % (where, len(faces), len(want))
    for i, (f, w) in enumerate(zip(faces, want)):
        at = "%s face %d" % (where, i)
        assert f.emotion == w["emotion"], at
        assert [g6(v) for v in f.box] == [g6(v) for v in w["box"]], at
        assert g6(f.score) == g6(w["score"]), at
        assert list(f.probabilities) == list(ferc.EMOTIONS), at
        for k in ferc.EMOTIONS:
            assert g6(f.probabilities[k]) == g6(w["probabilities"][k]), "%s %s" % (at, k)
            assert abs(f.probabilities[k] - w["probabilities"][k]) <= 1e-6, "%s %s" % (at, k)
        assert abs(sum(f.probabilities.values()) - 1) < 1e-5
        assert f.to_dict()["box"] == list(f.box)
        if "landmarks" in w:  # detectors that give them (YuNet)
            assert [[g6(v) for v in p] for p in f.landmarks] == [[g6(v) for v in p] for p in w["landmarks"]], at
        else:
            assert f.landmarks is None, at


# Under ASan (make asan) a run is ~10x slower: the default, a cascade and the no-detect cases
# there cover the binding's memory use; the full matrix runs in make test.
if os.environ.get("FERC_ASAN"):
    CASES = [CASES[0], CASES[6], CASES[10]]


@pytest.mark.parametrize("opts,kwargs,cascades,inputs", CASES, ids=[" ".join(c[0]) or "default" for c in CASES])
def test_equals_the_command(opts, kwargs, cascades, inputs):
    if cascades and not CASCADES:
        pytest.skip("OpenCV's cascades are not installed (apt-get install opencv-data)")
    want, rc = run_command(opts + inputs)
    assert rc == 0 and [w["file"] for w in want] == inputs
    a = ferc.Analyzer(**kwargs)
    for p, w in zip(inputs, want):
        assert_same(a.analyze(path(p)), w["faces"], p)
    assert sum(len(w["faces"]) for w in want) > 0  # the case exercises faces, not just empty lists


def test_every_input_form_equals_the_command():
    """Paths, bytes, BGR arrays, gray arrays and analyze_many: the same faces as the command."""
    want, rc = run_command(PHOTOS)
    assert rc == 0 and len(want) == len(PHOTOS)
    a = ferc.Analyzer()
    for p, w in zip(PHOTOS, want):
        full = path(p)
        with open(full, "rb") as f:
            assert_same(a.analyze(f.read()), w["faces"], p + " (bytes)")
        bgr = ferc.imread(full)
        assert bgr.shape == (w["height"], w["width"], 3)
        assert_same(a.analyze(bgr), w["faces"], p + " (BGR array)")
        gray = ferc.imread(full, gray=True)
        if (bgr == gray[:, :, None]).all():  # a gray file: the command reads it as RGB
            assert_same(a.analyze(gray), w["faces"], p + " (gray array)")
    for faces, w in zip(a.analyze_many([path(p) for p in PHOTOS[2:]]), want[2:]):
        assert_same(faces, w["faces"], w["file"] + " (analyze_many)")


def test_opencv_arrays_equal_files():
    cv2 = pytest.importorskip("cv2")
    a = ferc.Analyzer()
    for p in ("tests/data/faces_group.png", "tests/data/faces_astronaut.png"):
        assert np.array_equal(cv2.imread(path(p)), ferc.imread(path(p)))
        assert np.array_equal(cv2.imread(path(p), cv2.IMREAD_GRAYSCALE), ferc.imread(path(p), gray=True))
    p = path("tests/data/faces_astronaut.png")
    assert a.analyze(cv2.imread(p)) == a.analyze(cv2.imread(p, cv2.IMREAD_GRAYSCALE)) == a.analyze(p)
    # a non-contiguous view (a crop) is analysed as its copy
    crop = cv2.imread(path("tests/data/astronaut.jpg"))[20:300, 100:380]
    assert not crop.flags.c_contiguous
    assert a.analyze(crop) == a.analyze(np.ascontiguousarray(crop))


def test_classifier_equals_the_command_on_faces():
    want, rc = run_command(["--no-detect"] + FACES)
    assert rc == 0 and len(want) == len(FACES)
    faces = np.stack([ferc.imread(path(p), gray=True) for p in FACES])
    c = ferc.Classifier()
    assert c.input_size == (48, 48)
    probs = c.classify(faces)
    assert probs.shape == (len(FACES), 7) and probs.dtype == np.float32
    for p, w in zip(probs, want):
        assert np.abs(p - [w["faces"][0]["probabilities"][k] for k in ferc.EMOTIONS]).max() <= 1e-6
    assert np.array_equal(c.classify(faces[0]), probs[0])


def test_model_runs_the_classifier_graph():
    """Model.run on the CNN with the classifier's normalisation gives the classifier's answer."""
    m = ferc.Model(path("weights/emotion_cnn.ferc"))
    faces = np.stack([ferc.imread(path(p), gray=True) for p in FACES])
    if m.meta.get("clahe"):
        pytest.skip("the shipped CNN applies CLAHE first")
    seen = faces
    if m.meta.get("equalize") == "1":  # the classifier equalises each face first, as cv2 does
        cv2 = pytest.importorskip("cv2")
        seen = np.stack([cv2.equalizeHist(f) for f in faces])
    mean, std = float(m.meta.get("mean", 0)), float(m.meta.get("std", 1))
    x = ((seen.astype(np.float32) / 255 - mean) / std)[..., None].astype(np.float32)
    (name, out), = m.run(x).items()
    e = np.exp(out - out.max(1, keepdims=True))
    np.testing.assert_allclose(e / e.sum(1, keepdims=True) if not np.allclose(out.sum(1), 1) else out,
                               ferc.Classifier().classify(faces), atol=2e-6)
