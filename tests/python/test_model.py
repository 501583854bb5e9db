"""ferc.Model: every node of the 125 reference models equals PyTorch (tests/ref, written by
tools/make_test_refs.py) through run(keep=True); outputs are views of the engine's memory,
never overwritten while alive."""
import gc

import numpy as np
import pytest

import ferc
from conftest import path

CASES = open(path("tests/ref/cases.txt")).read().split()


def test_every_reference_node_equals_pytorch():
    assert len(CASES) > 100
    for name in CASES:
        compared = 0
        m = ferc.Model(path("tests/ref/%s.ferc" % name), threads=1)
        ref = ferc.Model(path("tests/ref/%s.ref.ferc" % name))
        x = np.array(ref.tensor(m.inputs[0][0]))
        values = m.run(x, keep=True)
        for v in ref.tensors:
            want, got = ref.tensor(v), values[v]
            assert got.shape == want.shape, "%s/%s" % (name, v)
            bad = np.abs(got - want) > 1e-5 + 1e-5 * np.abs(want)  # tests/test_reference.c's bound
            assert not bad.any(), "%s/%s: %s vs torch %s" % (name, v, got[bad][:3], want[bad][:3])
            compared += 1
        assert compared >= m.num_nodes, name  # every node's output has a reference
        # the planned context (outputs only) gives the same bits as the keep-all one
        for out, _ in m.outputs:
            assert np.array_equal(m.run(x)[out], values[out]), name


def test_model_description():
    m = ferc.Model(path("weights/emotion_cnn.ferc"))
    assert m.inputs == [(m.inputs[0][0], (1, 48, 48, 1))]
    assert m.meta["task"] == "emotion" and m.meta["labels"].split(",")[0].strip().lower() == "angry"
    assert m.num_nodes > 5 and m.param_count > 100000
    with open(path("weights/emotion_cnn.ferc"), "rb") as f:
        same = ferc.Model(f.read())
    assert same.meta == m.meta and same.inputs == m.inputs
    if ferc._lib.has("ferc_model_node_info"):
        nodes = m.nodes
        assert len(nodes) == m.num_nodes and nodes[0]["inputs"][0] == m.inputs[0][0]
        assert nodes[-1]["outputs"][0] == m.outputs[0][0] and m.outputs[0][1] == (1, 7)
        assert sum(n["params"] for n in nodes) == m.param_count


def test_outputs_are_views_kept_until_released():
    m = ferc.Model(path("weights/emotion_small.ferc"), threads=1)
    name = m.outputs[0][0]
    x = np.random.default_rng(1).standard_normal((3, 48, 48, 1)).astype(np.float32)
    first = m.run(x)[name]
    assert not first.flags.owndata and first.base is not None  # no copy: the engine's memory
    kept = first.copy()
    second = m.run(np.zeros_like(x))[name]  # another context: first is still alive
    assert np.array_equal(first, kept) and not np.array_equal(first, second)
    pool = m._contexts[(3, 0, 0, False)]
    assert len(pool) == 2
    del first, second
    gc.collect()
    for _ in range(5):  # released arrays give their contexts back: no new ones
        m.run(x)
    assert len(pool) == 2
    # a run at another input size plans its own context
    big = m.run(np.zeros((1, 64, 64, 1), np.float32))[name]
    assert big.shape == (1, 7)


def test_keep_gives_any_activation_by_name():
    m = ferc.Model(path("tests/ref/residual.ferc"))
    ref = ferc.Model(path("tests/ref/residual.ref.ferc"))
    v = m.run(np.array(ref.tensor(m.inputs[0][0])), keep=True)
    with pytest.raises(KeyError):
        v["no such value"]
    inner = [t for t in ref.tensors if t not in (m.inputs[0][0], m.outputs[0][0])]
    assert inner and all(v[t].shape == ref.tensor(t).shape for t in inner)
