"""Threads: four threads sharing one Analyzer, one Classifier or one Model give the answers
of one thread; the GIL is released while the C library works."""
import ctypes
import glob
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import ferc
from ferc import _lib
from conftest import path

PHOTOS = [path(p) for p in ("tests/data/astronaut.jpg", "tests/data/faces_group.png", "tests/data/faces_astronaut.png",
                            "tests/data/astronaut_face.png")]


def test_four_threads_share_one_analyzer():
    a = ferc.Analyzer(threads=1)
    one = [a.analyze(p) for p in PHOTOS]
    assert sum(map(len, one)) >= 6
    work = PHOTOS * 3
    with ThreadPoolExecutor(4) as ex:
        four = list(ex.map(a.analyze, work))
    assert four == one * 3
    assert 1 <= len(a._pool) <= 4  # one engine per thread that ran at once, reused


def test_four_threads_with_an_analyzer_each():
    one = ferc.Analyzer(threads=1).analyze_many(PHOTOS)
    with ThreadPoolExecutor(4) as ex:
        four = list(ex.map(lambda p: ferc.Analyzer(threads=1).analyze(p), PHOTOS))
    assert four == one


def test_four_threads_share_one_classifier_and_one_model():
    faces = np.stack([ferc.imread(p, gray=True) for p in sorted(glob.glob(path("tests/cli/fer/*/*.png")))])
    c = ferc.Classifier(threads=1)
    one = c.classify(faces)
    with ThreadPoolExecutor(4) as ex:
        four = list(ex.map(lambda i: c.classify(faces[i:i + 3]), range(0, len(faces), 3)))
    assert np.array_equal(np.concatenate(four), one)

    m = ferc.Model(path("weights/emotion_cnn.ferc"), threads=1)
    x = np.random.default_rng(0).standard_normal((8, 48, 48, 1)).astype(np.float32)
    name = m.outputs[0][0]
    want = [m.run(x[i:i + 1])[name].copy() for i in range(8)]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda i: m.run(x[i:i + 1])[name], range(8)))
    for g, w in zip(got, want):
        assert np.array_equal(g, w)


def count_during(fn, *args):
    """Iterations a pure-Python thread makes while fn(*args) runs."""
    stop, n = threading.Event(), [0]

    def spin():
        while not stop.is_set():
            n[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.05)
    n[0] = 0
    fn(*args)
    got = n[0]
    stop.set()
    t.join()
    return got


def test_the_gil_is_released_during_c_calls():
    """The same C function called through ctypes.CDLL (what ferc uses: the GIL is released)
    and through ctypes.PyDLL (the GIL held): another Python thread runs on in the first case
    only."""
    m = ferc.Model(path("weights/emotion_cnn.ferc"), threads=1)
    x = np.zeros((256, 48, 48, 1), np.float32)
    m.run(x)  # plans the context
    pool = m._contexts[(256, 0, 0, False)]
    ctx = pool.get()
    ptrs = (ctypes.c_void_p * 1)(x.ctypes.data)
    err = _lib.error_t()
    held = _lib.declare(ctypes.PyDLL(_lib.LIBRARY_PATH))
    t0 = time.perf_counter()
    released = count_during(_lib.lib.ferc_run, ctx, ptrs, 256, ctypes.byref(err))
    seconds = time.perf_counter() - t0
    blocked = count_during(held.ferc_run, ctx, ptrs, 256, ctypes.byref(err))
    pool.put(ctx)
    print("counter thread: %d iterations in %.2f s of C calls with the GIL released, %d with it held"
          % (released, seconds, blocked))
    assert released > 10 * max(blocked, 1000)
