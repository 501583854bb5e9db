"""Convert a model to a ferc weight file.

    /usr/bin/python3 tools/model/convert.py INPUT OUTPUT.ferc [--name N]
        [--task emotion|detector|generic] [--labels a,b,...] [--input-size HxW]
        [--mean M --std S] [--meta key=value ...]

The reader is picked by the file type: .onnx (onnx_reader.py), .h5 / .hdf5 (keras_reader.py,
no TensorFlow), .pt (a tools/model/train.py checkpoint, exported to ONNX in memory). All of
them feed one graph builder (ferc_graph.py). An op or attribute ferc cannot express stops
the conversion with a message naming it; the exit status is then 2 and no file is written.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # its siblings: the readers, fercfile.py, models.py
    sys.path.insert(0, HERE)

import ferc_graph  # noqa: E402
from ferc_graph import ConvertError  # noqa: E402

TASKS = {"emotion": "emotion", "detector": "face-detection", "generic": "generic"}


def read_graph(path):
    """(Graph, metadata the source file states) for any supported file type."""
    ext = os.path.splitext(path)[1].lower()
    if not os.path.isfile(path):
        raise ConvertError(f"{path}: no such file")
    if ext == ".onnx":
        import onnx_reader
        return onnx_reader.read(path), {}
    if ext in (".h5", ".hdf5", ".keras"):
        import keras_reader
        return keras_reader.read(path)
    if ext == ".pt":
        import pt_reader
        return pt_reader.read(path)
    raise ConvertError(f"{path}: unknown model type '{ext}' (expected .onnx, .h5/.hdf5 or .pt)")


def convert(src, out, name=None, task=None, labels=None, input_size=None, mean=None, std=None, extra=None):
    g, meta = read_graph(src)
    low = ferc_graph.build(g, input_size)
    meta = dict(meta)
    meta.setdefault("name", name or os.path.splitext(os.path.basename(src))[0])
    if name:
        meta["name"] = name
    meta["task"] = TASKS[task] if task else meta.get("task", "generic")
    if labels:
        meta["labels"] = labels
    if mean is not None:
        meta["mean"] = mean
    if std is not None:
        meta["std"] = std
    in_name, shape = low.inputs[0]
    if len(shape) == 4 and "input" not in meta:
        meta["input"] = f"{shape[1]}x{shape[2]} " + {1: "gray", 3: "3-channel"}.get(shape[3], f"{shape[3]}-channel")
    n_params = sum(a.size for k, a in low.params.items() if any(k in nd["ins"] for nd in low.nodes))
    meta["params"] = n_params
    meta["macs"] = ferc_graph.count_macs(low)
    meta["source"] = meta.get("source", os.path.basename(src))
    meta.update(extra or {})
    ferc_graph.write(low, out, meta)  # through OUT.part: no half-written OUT (fercfile.Writer.save)
    return low, meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--name")
    ap.add_argument("--task", choices=sorted(TASKS), default=None)
    ap.add_argument("--labels")
    ap.add_argument("--input-size", help="HxW for graphs with symbolic height/width")
    ap.add_argument("--mean")
    ap.add_argument("--std")
    ap.add_argument("--meta", action="append", default=[], help="extra metadata key=value")
    a = ap.parse_args(argv)
    hw = None
    if a.input_size:
        try:
            hw = tuple(int(v) for v in a.input_size.lower().split("x"))
            assert len(hw) == 2 and min(hw) > 0
        except (ValueError, AssertionError):
            ap.error(f"--input-size {a.input_size!r}: expected HxW, e.g. 320x320")
    extra = {}
    for kv in a.meta:
        if "=" not in kv:
            ap.error(f"--meta {kv!r}: expected key=value")
        k, v = kv.split("=", 1)
        extra[k] = v
    try:
        low, meta = convert(a.input, a.output, a.name, a.task, a.labels, hw, a.mean, a.std, extra)
    except ConvertError as e:
        print(f"convert: {e}", file=sys.stderr)
        return 2
    print(f"{a.output}: {len(low.nodes)} nodes, {meta['params']} params, {meta['macs']} MACs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
