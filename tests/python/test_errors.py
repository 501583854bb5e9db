"""Every bad input raises ferc.Error, with the C library's message and status, and nothing
crashes: missing and hostile files (as paths and as bytes), wrong dtypes, shapes and types,
a faked 2^27-pixel array, every broken model in tests/data/bad, wrong options."""

import numpy as np
import pytest

import ferc
from conftest import path

STATUS = {"ok": None, "format": "bad format", "unsupported": "unsupported", "nomem": "out of memory", "io": "I/O error"}


@pytest.fixture(scope="module")
def analyzer():
    return ferc.Analyzer()


def raises(fn, *args, status=None, match=None, **kw):
    with pytest.raises(ferc.Error) as e:
        fn(*args, **kw)
    err = e.value
    assert err.message and isinstance(err.code, int) and err.code > 0
    assert err.status == {1: "I/O error", 2: "bad format", 3: "unsupported", 4: "out of memory", 5: "bad argument"}[err.code]
    if status:
        assert err.status == status, str(err)
    if match:
        assert match in err.message, err.message
    assert str(err).endswith("(%s)" % err.status)
    return err


HOSTILE = {
    "tests/cli/bad/jpeg_dht_overflow.jpg": "corrupt JPEG Huffman table",
    "tests/cli/bad/pnm16_channels.ppm": "16-bit PNM is not supported",
    "tests/cli/bad/pnm_long_number.pgm": "PNM header number too long",
    "tests/cli/bad/png_huge_chunk.png": "PNG chunk runs past the end of the file",
}


@pytest.mark.parametrize("rel,message", sorted(HOSTILE.items()))
def test_hostile_images(analyzer, rel, message):
    raises(analyzer.analyze, path(rel), match=message)
    with open(path(rel), "rb") as f:
        data = f.read()
    raises(analyzer.analyze, data, match=message)
    raises(ferc.imread, data, match=message)


def test_unreadable_images(analyzer, tmp_path):
    raises(analyzer.analyze, str(tmp_path / "missing.jpg"), match="missing.jpg")
    raises(analyzer.analyze, str(tmp_path))  # a directory
    text = tmp_path / "notes.jpg"
    text.write_text("not an image at all\n")
    raises(analyzer.analyze, str(text))
    raises(analyzer.analyze, b"")
    raises(analyzer.analyze, b"not an image")
    with open(path("tests/data/astronaut.jpg"), "rb") as f:
        jpeg = f.read()
    raises(analyzer.analyze, jpeg[:200])  # truncated
    # a PNG header claiming 2^30 pixels is refused before any pixel memory is allocated
    with open(path("tests/data/faces_group.png"), "rb") as f:
        png = bytearray(f.read())
    png[16:24] = (32768).to_bytes(4, "big") * 2
    raises(analyzer.analyze, bytes(png))
    raises(analyzer.analyze, 42, match="not int")
    raises(analyzer.analyze, None)


def test_bad_arrays(analyzer):
    img = np.zeros((64, 64, 3), np.uint8)
    raises(analyzer.analyze, img.astype(np.float32), match="dtype float32")
    raises(analyzer.analyze, img.astype(np.uint16), match="dtype uint16")
    raises(analyzer.analyze, np.zeros((64, 64, 4), np.uint8), match="shape (64, 64, 4)")
    raises(analyzer.analyze, np.zeros((64, 64, 2), np.uint8))
    raises(analyzer.analyze, np.zeros(64, np.uint8))
    raises(analyzer.analyze, np.zeros((2, 64, 64, 3), np.uint8))
    raises(analyzer.analyze, np.zeros((0, 64, 3), np.uint8), match="empty")
    raises(analyzer.analyze, np.zeros((64, 0), np.uint8), match="empty")
    # 2^27 pixels that do not exist: refused before anything is copied or allocated
    fake = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=(1 << 14, 1 << 13, 3), strides=(0, 0, 0))
    raises(analyzer.analyze, fake, status="out of memory", match="more than the limit")
    assert analyzer.analyze(np.zeros((1, 1), np.uint8)) == []  # tiny but valid: no face


BAD_MODELS = [line.split("\t") for line in open(path("tests/data/bad/expected.txt")).read().splitlines() if line]


@pytest.mark.parametrize("name,status,message", [b for b in BAD_MODELS if b[1] != "ok"], ids=[b[0] for b in BAD_MODELS if b[1] != "ok"])
def test_bad_models(name, status, message):
    p = path("tests/data/bad/%s.ferc" % name)
    raises(ferc.Model, p, status=STATUS[status], match=message)
    with open(p, "rb") as f:
        raises(ferc.Model, f.read(), status=STATUS[status], match=message)
    raises(ferc.Classifier, model=p, status=STATUS[status], match=message)
    raises(ferc.Analyzer, model=p, detector="none", status=STATUS[status], match=message)


def test_models_that_are_not_classifiers():
    raises(ferc.Classifier, model=path("tests/ref/article_cnn.ferc"), match="task is 'test'")
    raises(ferc.Analyzer, model=path("tests/cli/emotion_badclahe.ferc"), detector="none")
    raises(ferc.Model, path("tests/data/nothing.ferc"), status="I/O error")
    raises(ferc.Model, 3.5)
    raises(ferc.Analyzer, detector_model=path("tests/data/astronaut.jpg"))  # not a detector file


def test_bad_options(tmp_path):
    raises(ferc.Analyzer, detector="yolo", match="detector 'yolo'")
    raises(ferc.Analyzer, classifier="resnet", match="classifier 'resnet'")
    raises(ferc.Analyzer, threshold=1.5)
    raises(ferc.Analyzer, threshold=0)
    raises(ferc.Analyzer, threads=0)
    raises(ferc.Analyzer, threads="2")
    raises(ferc.Analyzer, ssd_size=8)
    raises(ferc.Analyzer, scale_factor=1.0)
    raises(ferc.Analyzer, min_neighbors=0)
    raises(ferc.Analyzer, detector="haar", detector_model=str(tmp_path / "none.xml"))
    raises(ferc.Analyzer, eye_cascade=str(tmp_path / "none.xml"))
    raises(ferc.Analyzer, eye_cascade=path("weights/face_res10.ferc"))
    raises(ferc.Classifier, threads=-1)
    raises(ferc.Analyzer, tta="mirror", match="tta 'mirror'")
    raises(ferc.Classifier, tta=2, match="tta 2")


def test_bad_classifier_input():
    c = ferc.Classifier()
    raises(c.classify, np.zeros((2, 48, 48), np.float32), match="dtype float32")
    raises(c.classify, np.zeros((2, 32, 32), np.uint8), match="expected N x 48 x 48")
    raises(c.classify, np.zeros((2, 48, 48, 1), np.uint8))
    raises(c.classify, [[0] * 48] * 48)
    assert c.classify(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)


def test_bad_model_input():
    m = ferc.Model(path("weights/emotion_small.ferc"))
    x = np.zeros((1, 48, 48, 1), np.float32)
    raises(m.run, x.astype(np.float64), match="dtype float64")
    raises(m.run, x[0], match="expected N x 48 x 48 x 1")
    raises(m.run, np.zeros((1, 48, 48, 3), np.float32), match="x 1 (NHWC)")
    raises(m.run, np.zeros((0, 48, 48, 1), np.float32))
    raises(m.run, x, x, match="takes 1 input(s), 2 given")
    raises(m.run)
    raises(m.run, {"nope": x}, match="no input named nope")
    raises(m.run, [x])
    raises(m.run, np.zeros((1, 2, 2, 1), np.float32))  # too small for the graph: the planner says why
    raises(m.tensor, "no such tensor")
    assert m.run({m.inputs[0][0]: x})[m.outputs[0][0]].shape == (1, 7)


def test_missing_default_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("FERC_WEIGHTS", str(tmp_path))
    from ferc import _lib
    assert _lib.weight_dirs()[0] == str(tmp_path)
    raises(_lib.default_file, "classifier", "resnet", match="not a shipped classifier")
    e = raises(_lib.default_file, "classifier", "small", status="I/O error", match="emotion_small.ferc is not in")
    assert str(tmp_path) in e.message
    e = raises(ferc.Analyzer, status="I/O error", match="is not in")
