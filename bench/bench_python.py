#!/usr/bin/python3
"""The Python package's costs (docs/python.md):

1. binding overhead per call: ferc.Model.run and ferc.Classifier.classify against the bare
   ctypes call of the same C function on the same memory (tiny work, so the difference is
   the binding's checks, array views and pool);
2. faces per second from Python (ferc.Analyzer, one engine thread) against the command
   (`ferc --threads 1`) on the same photos, wall and CPU time;
3. images per second through ferc.dask.analyze_files on a LocalCluster of 1 and 2 worker
   processes (one thread each), after a warm-up that loads the models on every worker.

    nice -n 10 /usr/bin/python3 bench/bench_python.py [--repeat N] [--skip-dask]

Medians of --repeat runs. Run it on a quiet machine for figures to quote; the load average
is printed beside them."""
import argparse
import ctypes
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
import numpy as np  # noqa: E402

import ferc  # noqa: E402
from ferc import _lib  # noqa: E402

PHOTOS = [os.path.join(ROOT, p) for p in ("tests/data/astronaut.jpg", "tests/data/faces_group.png",
                                          "tests/data/faces_astronaut.png", "tests/data/astronaut_face.png")]


def per_call(fn, n):
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def side_by_side(a, b, n, repeat):
    """Medians of per-call times of a and b, measured alternately (the same load for both)."""
    ta, tb = [], []
    for _ in range(repeat):
        ta.append(per_call(a, n))
        tb.append(per_call(b, n))
    return statistics.median(ta), statistics.median(tb)


def overhead(repeat):
    tiny = "tests/ref/avgpool_k2x2_s1_p1_c0_i0.ferc"  # one small pooling node: the call is the cost
    m = ferc.Model(os.path.join(ROOT, tiny), threads=1)
    x = np.zeros((1,) + m.inputs[0][1][1:], np.float32)
    m.run(x)
    ctx = m._contexts[(1, 0, 0, False)].get()
    ptrs = (ctypes.c_void_p * 1)(x.ctypes.data)
    err = _lib.error_t()
    bare = lambda: _lib.lib.ferc_run(ctx, ptrs, 1, ctypes.byref(err))  # noqa: E731
    n = 2000
    py, c = side_by_side(lambda: m.run(x), bare, n, 3 * repeat)
    print("Model.run (%s, input %s): %.1f us per call, the bare ctypes ferc_run %.1f us: binding overhead %.1f us"
          % (tiny, m.inputs[0][1], py * 1e6, c * 1e6, (py - c) * 1e6))

    cl = ferc.Classifier(threads=1)
    face = np.zeros((1, 48, 48), np.uint8)
    probs = np.empty((1, 7), np.float32)
    h = cl._pool.get()
    bare = lambda: _lib.lib.ferc_classify(h, face.ctypes.data_as(_lib.c_uint8_p), 1,  # noqa: E731
                                          probs.ctypes.data_as(_lib.c_float_p), ctypes.byref(err))
    n = 50
    py, c = side_by_side(lambda: cl.classify(face), bare, n, 3 * repeat)
    print("Classifier.classify (1 face, cnn): %.1f us per call, the bare ctypes ferc_classify %.1f us: overhead %.1f us"
          % (py * 1e6, c * 1e6, (py - c) * 1e6))


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def python_vs_command(repeat, copies):
    work = PHOTOS * copies
    a = ferc.Analyzer(threads=1)
    faces = sum(len(a.analyze(p)) for p in PHOTOS) * copies
    ferc_cmd = os.path.join(ROOT, "ferc")
    env = dict(os.environ, FERC_WEIGHTS=os.path.join(ROOT, "weights"))
    py_wall, py_cpu, c_wall, c_cpu = [], [], [], []
    for _ in range(repeat):
        c0, t0 = cpu_self(), time.perf_counter()
        for p in work:
            a.analyze(p)
        py_wall.append(time.perf_counter() - t0)
        py_cpu.append(cpu_self() - c0)
        c0, t0 = cpu_children(), time.perf_counter()
        out = subprocess.run([ferc_cmd, "--threads", "1"] + work, capture_output=True, text=True, env=env)
        c_wall.append(time.perf_counter() - t0)
        c_cpu.append(cpu_children() - c0)
        assert out.returncode == 0 and out.stdout.count('"box"') == faces, out.stderr
    pw, pc, cw, cc = map(statistics.median, (py_wall, py_cpu, c_wall, c_cpu))
    print("%d photos, %d faces, 1 engine thread: Python %.1f faces/s (%.1f per CPU second), command %.1f faces/s "
          "(%.1f per CPU second; one process start and model load included)"
          % (len(work), faces, faces / pw, faces / pc, faces / cw, faces / cc))


def dask_rate(repeat, copies):
    try:
        import distributed
        import ferc.dask
    except ImportError:
        print("dask: skipped (python3-distributed is not installed)")
        return
    os.environ["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + os.environ.get("PYTHONPATH", "")
    work = PHOTOS * copies
    for workers in (1, 2):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                      worker_dashboard_address=None, silence_logs=40) as cluster, \
                distributed.Client(cluster) as client:
            ferc.dask.analyze_files(PHOTOS * workers, client, batch=1, threads=1)  # loads the models everywhere
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                ferc.dask.analyze_files(work, client, batch=2, threads=1)
                times.append(time.perf_counter() - t0)
            print("dask, %d worker process(es) x 1 thread: %.2f images/s (%d images)"
                  % (workers, len(work) / statistics.median(times), len(work)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--copies", type=int, default=4, help="each photo this many times per run")
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    print("ferc %s, %s, library %s, load average %.1f" % (ferc.__version__, ferc.isa(), ferc.LIBRARY, os.getloadavg()[0]))
    overhead(args.repeat)
    python_vs_command(args.repeat, args.copies)
    if not args.skip_dask:
        dask_rate(args.repeat, args.copies)
    print("load average at the end %.1f" % os.getloadavg()[0])


if __name__ == "__main__":
    main()
