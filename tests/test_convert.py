"""tools/model/convert.py on hostile and unsupported input: a truncated or inconsistent ONNX
or HDF5 file, an op, layer or attribute ferc cannot express, a damaged checkpoint. Each
must end with exit status 2, one message on stderr naming the problem (the op, node and
attribute where there is one), no Python traceback, and no output file.

    /usr/bin/python3 -m pytest -q tests/test_convert.py     (make test runs it)
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CONVERT = os.path.join(ROOT, "tools", "model", "convert.py")

onnx = pytest.importorskip("onnx")
h5py = pytest.importorskip("h5py")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def run(src, out, *extra):
    p = subprocess.run([sys.executable, CONVERT, str(src), str(out), *extra], capture_output=True, text=True)
    return p.returncode, p.stderr


def refused(tmp_path, src, *words, extra=()):
    out = tmp_path / "out.ferc"
    code, err = run(src, out, *extra)
    assert code == 2, err
    assert "Traceback" not in err, err
    for w in words:
        assert w in err, f"{w!r} not in {err!r}"
    assert not out.exists() and not (tmp_path / "out.ferc.part").exists()
    return err


def onnx_model(nodes, inits, in_shape=(1, 3, 8, 8), out_name="y", opset=13):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))
    y = helper.make_tensor_value_info(out_name, TensorProto.FLOAT, None)
    g = helper.make_graph(nodes, "g", [x], [y], [numpy_helper.from_array(np.asarray(a, np.float32), k) for k, a in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def conv_model(**attrs):
    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3))
    return onnx_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv0", **attrs)], {"w": w})


def save(tmp_path, model, name="m.onnx"):
    p = tmp_path / name
    p.write_bytes(model.SerializeToString())
    return p


def test_valid_onnx_converts(tmp_path):
    src = save(tmp_path, conv_model(pads=[1, 1, 1, 1]))
    out = tmp_path / "ok.ferc"
    code, err = run(src, out)
    assert code == 0, err
    assert out.read_bytes()[:8] == b"\x89FERC\r\n\x1a"


def test_truncated_onnx(tmp_path):
    data = conv_model().SerializeToString()
    p = tmp_path / "cut.onnx"
    p.write_bytes(data[: len(data) // 2])
    refused(tmp_path, p, "cut.onnx")


def test_garbage_onnx(tmp_path):
    p = tmp_path / "junk.onnx"
    p.write_bytes(b"\xff" * 100)
    refused(tmp_path, p, "junk.onnx")


def test_unsupported_op_named_with_node(tmp_path):
    m = onnx_model([helper.make_node("Relu", ["x"], ["r"], name="relu0"),
                    helper.make_node("Einsum", ["r"], ["y"], name="weird", equation="nchw->nchw")], {})
    refused(tmp_path, save(tmp_path, m), "weird", "Einsum", "not supported")


def test_unsupported_attribute_named(tmp_path):
    m = onnx_model([helper.make_node("Resize", ["x", "", "s"], ["y"], name="up", mode="cubic")],
                   {"s": np.array([1, 1, 2, 2])})
    refused(tmp_path, save(tmp_path, m), "up", "Resize", "mode=cubic")


def test_unsupported_conv_attribute(tmp_path):
    refused(tmp_path, save(tmp_path, conv_model(group=2)), "conv0", "group=2")


def test_dangling_input(tmp_path):
    m = onnx_model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add0")], {})
    refused(tmp_path, save(tmp_path, m), "add0", "ghost")


def test_weight_shape_inconsistent(tmp_path):
    m = onnx_model([helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[5, 5])],
                   {"w": np.zeros((4, 3, 3, 3))})
    refused(tmp_path, save(tmp_path, m), "'c'", "kernel_shape")


def test_transpose_that_moves_data(tmp_path):
    m = onnx_model([helper.make_node("Transpose", ["x"], ["y"], name="t", perm=[0, 1, 3, 2])], {})
    refused(tmp_path, save(tmp_path, m), "'t'", "perm=[0, 1, 3, 2]")


def test_dynamic_input_needs_size(tmp_path):
    m = conv_model()
    d = m.graph.input[0].type.tensor_type.shape.dim
    d[2].dim_param, d[3].dim_param = "h", "w"
    refused(tmp_path, save(tmp_path, m), "--input-size")


def test_unknown_extension(tmp_path):
    p = tmp_path / "model.tflite"
    p.write_bytes(b"x")
    refused(tmp_path, p, "unknown model type")


def keras_file(path, layers, weights):
    cfg = {"class_name": "Sequential", "config": layers}
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(cfg).encode()
        f.attrs["keras_version"] = b"2.0.5"
        mw = f.create_group("model_weights")
        for lname, ws in weights.items():
            g = mw.create_group(lname)
            g.attrs["weight_names"] = [f"{lname}/{k}:0".encode() for k in ws]
            for k, a in ws.items():
                g.create_dataset(f"{lname}/{k}:0", data=np.asarray(a, np.float32))


def conv_layer(name="c1", **cfg):
    c = dict(name=name, filters=2, kernel_size=[3, 3], strides=[1, 1], padding="same", activation="relu",
             use_bias=True, batch_input_shape=[None, 8, 8, 1])
    c.update(cfg)
    return {"class_name": "Conv2D", "config": c}


def test_valid_keras_converts(tmp_path):
    p = tmp_path / "k.h5"
    keras_file(p, [conv_layer(), {"class_name": "Flatten", "config": {"name": "f"}},
                   {"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": "softmax"}}],
               {"c1": {"kernel": np.ones((3, 3, 1, 2)), "bias": np.zeros(2)},
                "d": {"kernel": np.ones((128, 3)), "bias": np.zeros(3)}})
    out = tmp_path / "k.ferc"
    code, err = run(p, out)
    assert code == 0, err
    assert out.exists()


def test_keras_unknown_layer(tmp_path):
    p = tmp_path / "k.h5"
    keras_file(p, [conv_layer(), {"class_name": "LSTM", "config": {"name": "rnn"}}],
               {"c1": {"kernel": np.ones((3, 3, 1, 2)), "bias": np.zeros(2)}})
    refused(tmp_path, p, "rnn", "LSTM")


def test_keras_unknown_attribute(tmp_path):
    p = tmp_path / "k.h5"
    keras_file(p, [conv_layer(padding="causal")], {"c1": {"kernel": np.ones((3, 3, 1, 2)), "bias": np.zeros(2)}})
    refused(tmp_path, p, "c1", "padding='causal'")


def test_keras_missing_weight(tmp_path):
    p = tmp_path / "k.h5"
    keras_file(p, [conv_layer()], {"c1": {"kernel": np.ones((3, 3, 1, 2))}})
    refused(tmp_path, p, "c1", "bias")


def test_keras_without_architecture(tmp_path):
    p = tmp_path / "w.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    refused(tmp_path, p, "model_config")


def test_keras_bad_json(tmp_path):
    p = tmp_path / "j.h5"
    with h5py.File(p, "w") as f:
        f.attrs["model_config"] = b"{not json"
    refused(tmp_path, p, "JSON")


def test_truncated_hdf5(tmp_path):
    p = tmp_path / "k.h5"
    keras_file(p, [conv_layer()], {"c1": {"kernel": np.ones((3, 3, 1, 2)), "bias": np.zeros(2)}})
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 3])
    refused(tmp_path, p, "k.h5")


def test_damaged_checkpoint(tmp_path):
    pytest.importorskip("torch")
    p = tmp_path / "ck.pt"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    refused(tmp_path, p, "ck.pt", "checkpoint")


def test_checkpoint_not_from_train_py(tmp_path):
    torch = pytest.importorskip("torch")
    p = tmp_path / "ck.pt"
    torch.save({"weights": torch.zeros(3)}, p)
    refused(tmp_path, p, "'model' and 'state_dict'")


def test_a_weight_file_written_again_leaves_a_loaded_copy_alone(tmp_path):
    """The C loader maps weight files, so rewriting one in place under a running ferc would make
    its next read fault (SIGBUS): fercfile.Writer.save renames a new file over the old one."""
    import mmap
    sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
    import fercfile
    path = str(tmp_path / "w.ferc")
    fercfile.write_tensors(path, {"a": np.arange(20000, dtype=np.float32)})
    with open(path, "rb") as f:
        old = f.read()
        mapped = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    fercfile.write_tensors(path, {"b": np.ones(3, np.float32)})  # a smaller file at the same path
    assert mapped[:] == old  # every page of the old mapping still reads (in place: SIGBUS here)
    mapped.close()
    assert "b" in [v["name"] for v in fercfile.read(path)["values"]]
    assert os.listdir(tmp_path) == ["w.ferc"]
