"""The one graph builder behind every model reader (tools/model/convert.py).

Readers (onnx_reader.py, keras_reader.py, .pt checkpoints via torch.onnx) hand over a Graph
in ONNX semantics: NCHW tensors, ONNX op names and attributes, constants as NumPy arrays.
build() lowers it to a ferc file (docs/FORMAT.md):

  - shapes are inferred at the nominal input size; constant subgraphs (Shape, Gather,
    Unsqueeze, Concat, Cast, Slice, Constant, arithmetic on them) are folded;
  - a graph with symbolic H / W is lowered a second time at another size, and every node's
    attributes must agree (a reshape dimension that follows the size becomes -1, a Resize
    given by output size becomes a scale), so the file runs at any size the graph allows;
  - layout: 4-D activations are NCHW in the graph and NHWC in ferc ("nchw" below); weights
    are permuted once; Transpose(0,2,3,1) and its inverse become no-ops; a Flatten of a
    C x H x W map feeding Gemm/MatMul permutes that layer's columns instead;
  - BatchNormalization after a conv is folded into it, Pad (zeros) into the following conv
    or pooling window, and ReLU / ReLU6 (Clip 0..6) / LeakyReLU into the conv, dense, add or
    batch norm before them;
  - anything it cannot translate raises ConvertError naming the op, the node and the
    attribute or input concerned.

Values in the ferc file keep the graph's tensor names, so reference tools can compare a
ferc activation with the same-named tensor of the source runtime: build() also returns
layout[name] ("nchw": compare transposed to NHWC; "plain": as is).
"""
import math

import numpy as np


class ConvertError(Exception):
    """An op, attribute or input ferc cannot express, or a malformed model."""


class Node:
    def __init__(self, op, inputs, outputs, attrs=None, name=""):
        self.op, self.inputs, self.outputs = op, list(inputs), list(outputs)
        self.attrs = dict(attrs or {})
        self.name = name or (outputs[0] if outputs else op)


class Graph:
    """inputs: [(name, shape)] with None or a string for symbolic dims; consts: name -> array;
    nodes in any order that is topological; outputs: names."""

    def __init__(self):
        self.inputs, self.consts, self.nodes, self.outputs = [], {}, [], []
        self.opset = 13


def _fail(node, msg):
    raise ConvertError(f"node '{node.name}' ({node.op}): {msg}")


# ---- constant folding: NumPy semantics of the ops that compute shapes and small constants

def _axes(node, consts, pos=1):
    if "axes" in node.attrs:
        return list(node.attrs["axes"])
    if len(node.inputs) > pos and node.inputs[pos]:
        return [int(a) for a in consts[node.inputs[pos]].reshape(-1)]
    return None


def _fold(node, v, consts):
    """Value of a node whose inputs are all constant, or None if the op is not foldable."""
    op, a = node.op, node.attrs
    x = v[0] if v else None
    if op in ("Identity", "Cast", "Dropout"):
        if op == "Cast":
            return x.astype({1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}.get(a.get("to"), x.dtype))
        return x
    if op == "Gather":
        return np.take(x, v[1].astype(np.int64), axis=a.get("axis", 0))
    if op == "Unsqueeze":
        for ax in sorted(_axes(node, consts)):
            x = np.expand_dims(x, ax if ax >= 0 else ax + x.ndim + 1)
        return x
    if op == "Squeeze":
        ax = _axes(node, consts)
        return np.squeeze(x, tuple(ax)) if ax else np.squeeze(x)
    if op == "Concat":
        return np.concatenate(v, axis=a.get("axis", 0))
    if op == "Slice":
        starts, ends = v[1].reshape(-1), v[2].reshape(-1)
        axes = v[3].reshape(-1) if len(v) > 3 and v[3] is not None else range(len(starts))
        steps = v[4].reshape(-1) if len(v) > 4 and v[4] is not None else [1] * len(starts)
        sl = [slice(None)] * x.ndim
        for s, e, ax, st in zip(starts, ends, axes, steps):
            sl[int(ax)] = slice(int(s), int(max(min(e, 2**62), -2**62)), int(st))
        return x[tuple(sl)]
    if op == "Reshape":
        shape = [int(d) for d in v[1].reshape(-1)]
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
        return x.reshape(shape)
    if op in ("Add", "Sub", "Mul", "Div", "Pow"):
        b = v[1]
        if op == "Div" and np.issubdtype(x.dtype, np.integer):
            return (x // b).astype(x.dtype)
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power}[op](x, b).astype(x.dtype)
    if op in ("Floor", "Ceil", "Sqrt", "Neg", "Abs"):
        return {"Floor": np.floor, "Ceil": np.ceil, "Sqrt": np.sqrt, "Neg": np.negative, "Abs": np.abs}[op](x)
    if op == "Transpose":
        return np.transpose(x, a.get("perm"))
    if op == "ConstantOfShape":
        val = a.get("value", np.zeros(1, np.float32))
        return np.full([int(d) for d in x.reshape(-1)], np.asarray(val).reshape(-1)[0], np.asarray(val).dtype)
    if op == "Range":
        return np.arange(v[0].item(), v[1].item(), v[2].item()).astype(v[0].dtype)
    if op in ("Equal", "Less", "Greater"):
        return {"Equal": np.equal, "Less": np.less, "Greater": np.greater}[op](x, v[1])
    if op == "Where":
        return np.where(v[0], v[1], v[2])
    if op in ("Expand",):
        return x * np.ones([int(d) for d in v[1]], x.dtype)
    return None


# ---- lowering

ACT = {"Relu": (1, 0.0), "LeakyRelu": (3, None)}
FUSES_ACT = ("conv2d", "conv_transpose2d", "dense", "add", "batchnorm")


class _Lowering:
    def __init__(self, g, in_shapes):
        self.g = g
        self.consts = dict(g.consts)
        self.shape = {}      # tensor -> logical (graph) shape
        self.layout = {}     # activation tensor -> "nchw" | "plain" | ("flat_hwc", c, h, w)
        self.alias = {}      # graph tensor -> ferc value it is stored in
        self.nodes = []      # ferc nodes: dict(op, ins, outs, attrs, src)
        self.params = {}     # ferc parameter name -> array
        self.producer = {}   # ferc value -> ferc node dict
        self.users = {}
        for n in g.nodes:
            for i in n.inputs:
                self.users[i] = self.users.get(i, 0) + 1
        for o in g.outputs:
            self.users[o] = self.users.get(o, 0) + 1
        self.inputs = []
        for name, shape in in_shapes:
            self.shape[name] = tuple(shape)
            self.layout[name] = "nchw" if len(shape) == 4 else "plain"
            self.inputs.append((name, self.ferc_shape(name)))

    # helpers
    def ferc_shape(self, t):
        s = self.shape[t]
        return (s[0], s[2], s[3], s[1]) if self.layout[t] == "nchw" else s

    def v(self, t):
        return self.alias.get(t, t)

    def const(self, node, i, what):
        t = node.inputs[i] if i < len(node.inputs) else ""
        if not t or t not in self.consts:
            _fail(node, f"input {i} ({what}) must be a constant")
        return self.consts[t]

    def param(self, name, arr):
        base, k = name, 1
        while name in self.params:
            name, k = f"{base}.{k}", k + 1
        self.params[name] = np.ascontiguousarray(arr, dtype=np.float32)
        return name

    def emit(self, fop, ins, out, lshape, layout, src, **attrs):
        nd = dict(op=fop, ins=list(ins), outs=[out], attrs=attrs, src=src)
        self.nodes.append(nd)
        self.producer[out] = nd
        self.shape[out] = tuple(lshape)
        self.layout[out] = layout
        return nd

    def fusable(self, node, t):
        """The ferc node producing t if node may merge into it (t used only by node)."""
        p = self.producer.get(self.v(t))
        if p is None or self.users.get(t, 0) != 1 or t in self.g.outputs or self.v(t) != t:
            return None
        return p

    def rename(self, p, new):
        """Make ferc node p write the value `new` (it absorbed the node that produced new)."""
        old = p["outs"][0]
        del self.producer[old]
        p["outs"] = [new]
        self.producer[new] = p
        self.layout[new] = self.layout[old]

    def act_input(self, node, i=0, layouts=("nchw", "plain")):
        t = node.inputs[i]
        if t in self.consts:
            _fail(node, f"input {i} '{t}' is a constant where an activation is expected")
        if t not in self.shape:
            _fail(node, f"input '{t}' is produced by nothing ferc runs")
        lay = self.layout[t]
        kind = lay[0] if isinstance(lay, tuple) else lay
        if kind not in layouts:
            if kind == "flat_hwc":
                _fail(node, f"input '{t}' is a flattened C x H x W map; ferc flattens NHWC and can only "
                      "feed that to Gemm/MatMul (whose columns it permutes)")
            if kind == "plain" and "nchw" in layouts and len(self.shape[t]) == 4 and self.shape[t][2:] == (1, 1):
                return self.to_nchw(node, t)
            _fail(node, f"input '{t}' has layout {kind}, this op needs {'/'.join(layouts)}")
        return t

    def to_nchw(self, node, t):
        """A plain [N,C,1,1] tensor as an NHWC one: same memory, other ferc dims."""
        out = t + ".nhwc"
        if out not in self.shape:
            n, c = self.shape[t][:2]
            self.emit("reshape", [self.v(t)], out, self.shape[t], "nchw", node.name, shape=[1, 1, int(c)])
        return out

    # the pass
    def run(self):
        for node in self.g.nodes:
            ins = node.inputs
            if node.op == "Constant":
                a = node.attrs
                val = a.get("value")
                if val is None:
                    for k in ("value_float", "value_floats", "value_int", "value_ints"):
                        if k in a:
                            val = np.asarray(a[k], np.float32 if "float" in k else np.int64)
                if val is None:
                    _fail(node, "needs a 'value' attribute")
                self.consts[node.outputs[0]] = np.asarray(val)
                continue
            if node.op == "Shape":
                t = ins[0]
                s = self.shape.get(t, None if t not in self.consts else self.consts[t].shape)
                if s is None:
                    _fail(node, f"shape of '{t}' unknown")
                self.consts[node.outputs[0]] = np.asarray(s, np.int64)
                continue
            if all((not i) or i in self.consts for i in ins) and ins:
                val = _fold(node, [self.consts[i] if i else None for i in ins], self.consts)
                if val is not None:
                    self.consts[node.outputs[0]] = np.asarray(val)
                    for extra in node.outputs[1:]:
                        self.consts[extra] = np.zeros(0, np.float32)
                    continue
            fn = getattr(self, "op_" + node.op, None)
            if fn is None:
                _fail(node, "op not supported (docs/convert.md lists the ops ferc converts)")
            fn(node)
        for o in self.g.outputs:
            if o in self.consts:
                raise ConvertError(f"graph output '{o}' is a constant; ferc outputs must be computed")
            if isinstance(self.layout[o], tuple):
                raise ConvertError(f"graph output '{o}' is a flattened C x H x W map, which ferc stores in NHWC "
                                   "order; add the layer that consumes it")
        return self

    # ---- ops
    def op_Conv(self, node):
        a = node.attrs
        x = self.act_input(node, 0, ("nchw",))
        w = self.const(node, 1, "weight")
        if w.ndim != 4:
            _fail(node, f"only 2-D convolutions are supported (weight is {w.ndim}-D)")
        b = self.const(node, 2, "bias") if len(ins := node.inputs) > 2 and ins[2] else None
        n, c, h, wd = self.shape[x]
        o, cig, kh, kw = w.shape
        g = int(a.get("group", 1))
        if cig * g != c or o % g:
            _fail(node, f"attribute group={g}: weight {w.shape} does not fit {c} input channels")
        if "kernel_shape" in a and tuple(a["kernel_shape"]) != (kh, kw):
            _fail(node, f"attribute kernel_shape={a['kernel_shape']} disagrees with the weight")
        s = list(a.get("strides", [1, 1]))
        d = list(a.get("dilations", [1, 1]))
        pads = self.pads(node, (h, wd), (kh, kw), s, d)
        x, pads = self.absorb_pad(node, x, pads)
        oh = (self.shape[x][2] + pads[0] + pads[2] - d[0] * (kh - 1) - 1) // s[0] + 1
        ow = (self.shape[x][3] + pads[1] + pads[3] - d[1] * (kw - 1) - 1) // s[1] + 1
        if oh < 1 or ow < 1:
            _fail(node, f"output {oh}x{ow} is empty for input {self.shape[x]}")
        pw = self.param(node.outputs[0] + ".w", w.transpose(0, 2, 3, 1))
        pins = [self.v(x), pw]
        if b is not None:
            pins.append(self.param(node.outputs[0] + ".b", b.reshape(-1)))
        self.emit("conv2d", pins, node.outputs[0], (n, o, oh, ow), "nchw", node.name, stride=s,
                  pad=[int(p) for p in pads], dilation=d, groups=g)

    def op_ConvTranspose(self, node):
        a = node.attrs
        x = self.act_input(node, 0, ("nchw",))
        w = self.const(node, 1, "weight")
        if w.ndim != 4:
            _fail(node, f"only 2-D transposed convolutions are supported (weight is {w.ndim}-D)")
        for k in ("output_shape",):
            if k in a:
                _fail(node, f"attribute {k}={a[k]} is not supported (export with pads and output_padding)")
        auto = a.get("auto_pad", "NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto not in ("NOTSET", "", "VALID"):
            _fail(node, f"attribute auto_pad={auto} is not supported")
        n, c, h, wd = self.shape[x]
        cin, cog, kh, kw = w.shape
        g = int(a.get("group", 1))
        if cin != c or c % g:
            _fail(node, f"attribute group={g}: weight {w.shape} does not fit {c} input channels")
        s, d = list(a.get("strides", [1, 1])), list(a.get("dilations", [1, 1]))
        p = list(a.get("pads", [0, 0, 0, 0]))
        op = list(a.get("output_padding", [0, 0]))
        cig = c // g
        # [Cin][Cout/g][KH][KW] -> [Cout][KH][KW][Cin/g], group by group
        wf = np.concatenate([w[i * cig:(i + 1) * cig].transpose(1, 2, 3, 0) for i in range(g)], axis=0)
        oh = s[0] * (h - 1) + op[0] + (kh - 1) * d[0] + 1 - p[0] - p[2]
        ow = s[1] * (wd - 1) + op[1] + (kw - 1) * d[1] + 1 - p[1] - p[3]
        if oh < 1 or ow < 1:
            _fail(node, f"output {oh}x{ow} is empty")
        ins = [self.v(x), self.param(node.outputs[0] + ".w", wf)]
        if len(node.inputs) > 2 and node.inputs[2]:
            ins.append(self.param(node.outputs[0] + ".b", self.const(node, 2, "bias").reshape(-1)))
        self.emit("conv_transpose2d", ins, node.outputs[0], (n, cog * g, oh, ow), "nchw", node.name, stride=s,
                  pad=[int(v) for v in p], output_padding=op, dilation=d, groups=g)

    def pads(self, node, hw, k, s, d):
        a = node.attrs
        auto = a.get("auto_pad", "NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("NOTSET", ""):
            p = list(a.get("pads", [0, 0, 0, 0]))
            if len(p) != 4:
                _fail(node, f"attribute pads={p} must have 4 entries")
            return [p[0], p[1], p[2], p[3]]  # ONNX: begin h, begin w, end h, end w
        if auto == "VALID":
            return [0, 0, 0, 0]
        if auto not in ("SAME_UPPER", "SAME_LOWER"):
            _fail(node, f"attribute auto_pad={auto} unknown")
        out = []
        for i in range(2):
            o = -(-hw[i] // s[i])
            total = max((o - 1) * s[i] + (k[i] - 1) * d[i] + 1 - hw[i], 0)
            small = total // 2
            out.append((small, total - small) if auto == "SAME_UPPER" else (total - small, small))
        return [out[0][0], out[1][0], out[0][1], out[1][1]]

    def absorb_pad(self, node, x, pads):
        """A zero Pad feeding only this node becomes part of its padding."""
        p = self.producer.get(self.v(x))
        if p is not None and p["op"] == "pad" and self.users.get(x, 0) == 1 and x not in self.g.outputs \
                and p["attrs"].get("value", 0.0) == 0.0 and p.get("absorbable"):
            pp = p["attrs"]["pad"]
            self.nodes.remove(p)
            del self.producer[p["outs"][0]]
            src = p["src_in"]
            return src, [pads[i] + pp[i] for i in range(4)]
        return x, pads

    def op_BatchNormalization(self, node):
        x = self.act_input(node, 0, ("nchw", "plain"))
        gamma, beta, mean, var = (self.const(node, i, w).astype(np.float64) for i, w in
                                  ((1, "scale"), (2, "bias"), (3, "mean"), (4, "var")))
        eps = float(node.attrs.get("epsilon", 1e-5))
        if len(node.outputs) > 1 and any(node.outputs[1:]) and node.attrs.get("training_mode", 0):
            _fail(node, "attribute training_mode=1 (training-time batch norm) is not supported")
        p = self.fusable(node, x)
        if p is not None and p["op"] in ("conv2d", "conv_transpose2d") and p["attrs"].get("act", 0) == 0:
            scale = gamma / np.sqrt(var + eps)
            w = self.params[p["ins"][1]].astype(np.float64)
            self.params[p["ins"][1]] = (w * scale[:, None, None, None]).astype(np.float32)
            b = self.params[p["ins"][2]].astype(np.float64) if len(p["ins"]) > 2 else np.zeros(len(scale))
            bn = (b - mean) * scale + beta
            if len(p["ins"]) > 2:
                self.params[p["ins"][2]] = bn.astype(np.float32)
            else:
                p["ins"].append(self.param(node.outputs[0] + ".b", bn))
            self.rename(p, node.outputs[0])
            self.shape[node.outputs[0]] = self.shape[x]
            return
        if self.layout[x] == "plain" and len(self.shape[x]) != 2:
            _fail(node, "batch norm over axis 1 of a non-image tensor with more than 2 dims is not supported")
        ins = [self.v(x)] + [self.param(node.outputs[0] + "." + k, a) for k, a in
                             (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var))]
        self.emit("batchnorm", ins, node.outputs[0], self.shape[x], self.layout[x], node.name, eps=eps)

    def activation(self, node, act, slope, ferc_op, **attrs):
        x = self.act_input(node, 0, ("nchw", "plain"))
        p = self.fusable(node, x)
        if act == 2 and p is not None and p["op"] in FUSES_ACT and p["attrs"].get("act", 0) == 1:
            p["attrs"]["act"] = 0  # ReLU then ReLU6 (how torch exports relu6) is ReLU6
        if act and p is not None and p["op"] in FUSES_ACT and p["attrs"].get("act", 0) == 0:
            p["attrs"]["act"] = act
            if act == 3:
                p["attrs"]["alpha"] = float(slope)
            self.rename(p, node.outputs[0])
            self.shape[node.outputs[0]] = self.shape[x]
            return
        self.emit(ferc_op, [self.v(x)], node.outputs[0], self.shape[x], self.layout[x], node.name, **attrs)

    def op_Relu(self, node):
        self.activation(node, 1, 0.0, "relu")

    def op_LeakyRelu(self, node):
        al = float(node.attrs.get("alpha", 0.01))
        self.activation(node, 3, al, "leaky_relu", alpha=al)

    def op_Clip(self, node):
        lo = node.attrs.get("min", None)
        hi = node.attrs.get("max", None)
        if len(node.inputs) > 1 and node.inputs[1]:
            lo = float(self.const(node, 1, "min").reshape(-1)[0])
        if len(node.inputs) > 2 and node.inputs[2]:
            hi = float(self.const(node, 2, "max").reshape(-1)[0])
        if lo == 0.0 and hi == 6.0:
            return self.activation(node, 2, 0.0, "relu6")
        if lo == 0.0 and hi is None:
            return self.activation(node, 1, 0.0, "relu")
        attrs = {}
        if lo is not None:
            attrs["min"] = float(lo)
        if hi is not None:
            attrs["max"] = float(hi)
        self.activation(node, 0, 0.0, "clip", **attrs)

    def op_Sigmoid(self, node):
        self.activation(node, 0, 0.0, "sigmoid")

    def op_Tanh(self, node):
        self.activation(node, 0, 0.0, "tanh")

    def op_HardSigmoid(self, node):
        self.activation(node, 0, 0.0, "hard_sigmoid", alpha=float(node.attrs.get("alpha", 0.2)),
                        beta=float(node.attrs.get("beta", 0.5)))

    def op_HardSwish(self, node):
        self.activation(node, 0, 0.0, "hard_swish")

    def op_PRelu(self, node):
        x = self.act_input(node, 0, ("nchw", "plain"))
        slope = self.const(node, 1, "slope")
        s = self.shape[x]
        c = s[1] if self.layout[x] == "nchw" else s[-1]
        sl = slope.reshape(-1)
        if sl.size == 1:
            sl = np.repeat(sl, c)
        elif sl.size != c or (self.layout[x] == "nchw" and slope.ndim >= 3 and slope.shape[-2:] != (1, 1)):
            _fail(node, f"slope of shape {slope.shape} is not per-channel for input {s}")
        self.emit("prelu", [self.v(x), self.param(node.outputs[0] + ".slope", sl)], node.outputs[0], s, self.layout[x],
                  node.name)

    def to_ferc_layout(self, node, arr, ref):
        """A constant operand of a broadcasting op, in the ferc layout of activation ref."""
        a = np.asarray(arr, np.float32)
        if self.layout[ref] == "nchw":
            a = a.reshape((1,) * (4 - a.ndim) + a.shape) if a.ndim <= 4 else None
            if a is None:
                _fail(node, f"constant of shape {arr.shape} against a 4-D map")
            return a.transpose(0, 2, 3, 1)
        return a

    def op_Add(self, node):
        self.binary(node, 0)

    def op_Sub(self, node):
        self.binary(node, 1)

    def op_Mul(self, node):
        self.binary(node, 2)

    def op_Div(self, node):
        self.binary(node, 3)

    def binary(self, node, op):
        a, b = node.inputs[:2]
        ca, cb = a in self.consts, b in self.consts
        ref = self.act_input(node, 1 if ca else 0, ("nchw", "plain"))
        shapes = [self.consts[t].shape if t in self.consts else self.shape[t] for t in (a, b)]
        try:
            out = tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            _fail(node, f"cannot broadcast {shapes[0]} with {shapes[1]}")
        if len(out) > 4:
            _fail(node, f"{len(out)}-D result; ferc tensors have at most 4 dims")
        lay = self.layout[ref]
        if out != self.shape[ref] and len(out) != len(self.shape[ref]):
            _fail(node, f"broadcasting raises the rank of '{ref}' {self.shape[ref]} to {out}")
        ins = []
        for t, c in ((a, ca), (b, cb)):
            if c:
                ins.append(self.param(node.outputs[0] + (".a" if t == a else ".b"), self.to_ferc_layout(node, self.consts[t], ref)))
            else:
                t = self.act_input(node, node.inputs.index(t), (lay,))
                if len(self.shape[t]) != len(out):
                    _fail(node, f"operands differ in rank: {self.shape[a]} and {self.shape[b]}")
                ins.append(self.v(t))
        if op == 0 and (ca or cb):  # MatMul then a bias: the dense layer's bias
            p = self.fusable(node, ref)
            bias = self.consts[a if ca else b]
            if p is not None and p["op"] == "dense" and len(p["ins"]) == 2 and not p["attrs"].get("act") and \
                    bias.size == out[-1] and out == self.shape[ref]:
                p["ins"].append(self.param(node.outputs[0] + ".b", bias.reshape(-1)))
                self.rename(p, node.outputs[0])
                self.shape[node.outputs[0]] = out
                return
        if op == 0 and not ca and not cb and self.shape[a] == self.shape[b]:
            self.emit("add", ins, node.outputs[0], out, lay, node.name)
        else:
            self.emit("binary", ins, node.outputs[0], out, lay, node.name, operation=op)

    def pool(self, node, ferc_op):
        a = node.attrs
        x = self.act_input(node, 0, ("nchw",))
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            _fail(node, f"attribute dilations={a['dilations']} is not supported for pooling")
        k = list(a.get("kernel_shape", []))
        if len(k) != 2:
            _fail(node, f"attribute kernel_shape={k}: only 2-D pooling is supported")
        s = list(a.get("strides", [1, 1]))
        n, c, h, w = self.shape[x]
        pads = self.pads(node, (h, w), k, s, [1, 1])
        ceil = int(a.get("ceil_mode", 0))
        if any(2 * pads[i] > k[i % 2] for i in range(4)):
            _fail(node, f"attribute pads={pads}: padding over half the window is not supported")
        attrs = dict(kernel=k, stride=s, pad=[int(p) for p in pads], ceil_mode=ceil)
        if ferc_op == "avgpool2d":
            attrs["count_include_pad"] = int(a.get("count_include_pad", 0))

        def osz(i, kk, ss, b, e):
            span = i + b + e - kk
            o = (span + (ss - 1 if ceil else 0)) // ss + 1
            if ceil and (o - 1) * ss >= i + b:
                o -= 1
            return o
        oh, ow = osz(h, k[0], s[0], pads[0], pads[2]), osz(w, k[1], s[1], pads[1], pads[3])
        self.emit(ferc_op, [self.v(x)], node.outputs[0], (n, c, oh, ow), "nchw", node.name, **attrs)

    def op_MaxPool(self, node):
        if len(node.outputs) > 1 and node.outputs[1] and self.users.get(node.outputs[1]):
            _fail(node, "output 'Indices' is not supported")
        self.pool(node, "maxpool2d")

    def op_AveragePool(self, node):
        self.pool(node, "avgpool2d")

    def op_GlobalAveragePool(self, node):
        x = self.act_input(node, 0, ("nchw",))
        n, c = self.shape[x][:2]
        self.emit("global_avgpool", [self.v(x)], node.outputs[0], (n, c, 1, 1), "nchw", node.name)

    def op_GlobalMaxPool(self, node):
        x = self.act_input(node, 0, ("nchw",))
        n, c = self.shape[x][:2]
        self.emit("global_maxpool", [self.v(x)], node.outputs[0], (n, c, 1, 1), "nchw", node.name)

    def op_ReduceMean(self, node):
        x = self.act_input(node, 0, ("nchw",))
        axes = sorted(a % 4 for a in (_axes(node, self.consts) or []))
        if axes != [2, 3]:
            _fail(node, f"attribute axes={axes}: only the mean over H and W (axes 2, 3) is supported")
        n, c = self.shape[x][:2]
        keep = int(node.attrs.get("keepdims", 1))
        if keep:
            self.emit("global_avgpool", [self.v(x)], node.outputs[0], (n, c, 1, 1), "nchw", node.name)
        else:
            mid = node.outputs[0] + ".pool"
            self.emit("global_avgpool", [self.v(x)], mid, (n, c, 1, 1), "nchw", node.name)
            self.emit("flatten", [mid], node.outputs[0], (n, c), "plain", node.name)

    def op_Pad(self, node):
        x = self.act_input(node, 0, ("nchw",))
        a = node.attrs
        mode = a.get("mode", "constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode != "constant":
            _fail(node, f"attribute mode={mode}: only constant padding is supported")
        pads = list(a["pads"]) if "pads" in a else [int(p) for p in self.const(node, 1, "pads").reshape(-1)]
        value = float(a.get("value", 0.0))
        if len(node.inputs) > 2 and node.inputs[2]:
            value = float(self.const(node, 2, "constant_value").reshape(-1)[0])
        if len(pads) != 8 or pads[0] or pads[1] or pads[4] or pads[5]:
            _fail(node, f"pads={pads}: only padding of H and W is supported")
        if min(pads) < 0:
            _fail(node, f"pads={pads}: negative padding (cropping) is not supported")
        n, c, h, w = self.shape[x]
        p = [pads[2], pads[3], pads[6], pads[7]]
        nd = self.emit("pad", [self.v(x)], node.outputs[0], (n, c, h + p[0] + p[2], w + p[1] + p[3]), "nchw", node.name,
                       pad=p, value=value)
        nd["absorbable"] = value == 0.0
        nd["src_in"] = x

    def op_Concat(self, node):
        ins = [t for t in node.inputs if t]
        for t in ins:
            if t in self.consts:
                _fail(node, f"input '{t}' is a constant; ferc concatenates activations only")
        lay = self.layout[ins[0]]
        xs = [self.act_input(node, node.inputs.index(t), (lay,)) for t in ins]
        s0 = self.shape[xs[0]]
        ax = int(node.attrs.get("axis", 1)) % len(s0)
        if ax == 0:
            _fail(node, "attribute axis=0: concatenation along the batch is not supported")
        out = list(s0)
        out[ax] = sum(self.shape[t][ax] for t in xs)
        fax = {1: 3, 2: 1, 3: 2}[ax] if lay == "nchw" else ax
        self.emit("concat", [self.v(t) for t in xs], node.outputs[0], out, lay, node.name, axis=fax)

    def op_Identity(self, node):
        x = node.inputs[0]
        if x in self.consts:
            self.consts[node.outputs[0]] = self.consts[x]
            return
        self.alias_of(node, x)

    op_Dropout = op_Identity

    def alias_of(self, node, x, shape=None, layout=None):
        o = node.outputs[0]
        if o in self.g.outputs:  # graph outputs need a value of their own name
            self.emit("identity", [self.v(x)], o, shape or self.shape[x], layout or self.layout[x], node.name)
            return
        self.alias[o] = self.v(x)
        self.shape[o] = tuple(shape or self.shape[x])
        self.layout[o] = layout or self.layout[x]

    def op_Transpose(self, node):
        x = self.act_input(node, 0, ("nchw", "plain"))
        perm = list(node.attrs.get("perm", []))
        s = self.shape[x]
        if self.layout[x] == "nchw" and perm == [0, 2, 3, 1]:
            return self.alias_of(node, x, (s[0], s[2], s[3], s[1]), "plain")
        if self.layout[x] == "plain" and perm == [0, 3, 1, 2] and len(s) == 4:
            return self.alias_of(node, x, (s[0], s[3], s[1], s[2]), "nchw")
        if perm == list(range(len(s))):
            return self.alias_of(node, x)
        _fail(node, f"attribute perm={perm} moves data; ferc supports only NCHW<->NHWC transposes of "
              "4-D maps (which are free in its NHWC layout)")

    def reshape_to(self, node, x, out):
        """x reshaped (memory order of the graph's layout) to logical shape out."""
        s, lay = self.shape[x], self.layout[x]
        n = s[0]
        if out[0] != n:
            _fail(node, f"reshape {s} -> {tuple(out)} changes the batch dimension")
        if int(np.prod(out)) != int(np.prod(s)):
            _fail(node, f"reshape {s} -> {tuple(out)} changes the element count")
        if lay == "nchw" and s[2:] != (1, 1):
            if len(out) == 2:
                return self.emit("flatten", [self.v(x)], node.outputs[0], out, ("flat_hwc", s[1], s[2], s[3]), node.name)
            if tuple(out) == tuple(s):
                return self.alias_of(node, x)
            _fail(node, f"reshape of a {s} map to {tuple(out)} reorders NHWC memory; not supported")
        if len(out) == 4 and tuple(out[2:]) == (1, 1):
            return self.emit("reshape", [self.v(x)], node.outputs[0], out, "nchw", node.name, shape=[1, 1, int(out[1])])
        if len(out) > 4:
            _fail(node, f"reshape to {len(out)} dims; ferc tensors have at most 4")
        if len(out) == 2:
            return self.emit("flatten", [self.v(x)], node.outputs[0], out, "plain", node.name)
        self.emit("reshape", [self.v(x)], node.outputs[0], out, "plain", node.name, shape=[int(d) for d in out[1:]])

    def op_Reshape(self, node):
        x = self.act_input(node, 0, ("nchw", "plain"))
        tgt = [int(d) for d in self.const(node, 1, "shape").reshape(-1)]
        s = self.shape[x]
        tgt = [s[i] if d == 0 and not node.attrs.get("allowzero", 0) else d for i, d in enumerate(tgt)]
        if tgt.count(-1) > 1:
            _fail(node, f"shape {tgt} has more than one -1")
        if -1 in tgt:
            known = int(np.prod([d for d in tgt if d != -1]))
            tgt[tgt.index(-1)] = int(np.prod(s)) // max(known, 1)
        self.reshape_to(node, x, tgt)

    def op_Flatten(self, node):
        x = self.act_input(node, 0, ("nchw", "plain"))
        ax = int(node.attrs.get("axis", 1))
        s = self.shape[x]
        ax = ax % len(s) if ax else 0
        if ax != 1:
            _fail(node, f"attribute axis={ax}: only Flatten after the batch axis is supported")
        self.reshape_to(node, x, (s[0], int(np.prod(s[1:]))))

    def op_Squeeze(self, node):
        x = self.act_input(node, 0, ("nchw", "plain"))
        s = self.shape[x]
        axes = _axes(node, self.consts)
        axes = [a % len(s) for a in axes] if axes else [i for i, d in enumerate(s) if d == 1 and i]
        self.reshape_to(node, x, [d for i, d in enumerate(s) if i not in axes])

    def op_Unsqueeze(self, node):
        x = self.act_input(node, 0, ("nchw", "plain"))
        out = list(self.shape[x])
        for a in sorted(_axes(node, self.consts)):
            out.insert(a % (len(out) + 1), 1)
        self.reshape_to(node, x, out)

    def dense(self, node, x, w, b):
        """y = x w^T + b, w [M, K]; a flattened C x H x W input gets its columns permuted."""
        lay = self.layout[x]
        if isinstance(lay, tuple):
            _, c, h, wd = lay
            w = w.reshape(w.shape[0], c, h, wd).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
        ins = [self.v(x), self.param(node.outputs[0] + ".w", w)]
        if b is not None:
            ins.append(self.param(node.outputs[0] + ".b", np.broadcast_to(b.reshape(-1), (w.shape[0],))))
        self.emit("dense", ins, node.outputs[0], (self.shape[x][0], w.shape[0]), "plain", node.name)

    def op_Gemm(self, node):
        a = node.attrs
        x = self.act_input(node, 0, ("plain", "flat_hwc"))
        if a.get("transA", 0):
            _fail(node, "attribute transA=1 is not supported")
        if len(self.shape[x]) != 2:
            _fail(node, f"input A must be 2-D, is {self.shape[x]}")
        w = self.const(node, 1, "B").astype(np.float64)
        w = w if a.get("transB", 0) else w.T
        if w.shape[1] != self.shape[x][1]:
            _fail(node, f"B {w.shape} does not fit A {self.shape[x]}")
        w = w * float(a.get("alpha", 1.0))
        b = None
        if len(node.inputs) > 2 and node.inputs[2]:
            b = self.const(node, 2, "C").astype(np.float64) * float(a.get("beta", 1.0))
            if b.size not in (1, w.shape[0]) or (b.ndim == 2 and b.shape[0] != 1):
                _fail(node, f"C of shape {b.shape} is not a bias over the {w.shape[0]} outputs")
        self.dense(node, x, w, b)

    def op_MatMul(self, node):
        x = self.act_input(node, 0, ("plain", "flat_hwc"))
        w = self.const(node, 1, "B")
        if len(self.shape[x]) != 2 or w.ndim != 2:
            _fail(node, f"only [N, K] x [K, M] with a constant right side is supported ({self.shape[x]} x {w.shape})")
        self.dense(node, x, w.T, None)

    def op_Softmax(self, node):
        x = self.act_input(node, 0, ("nchw", "plain"))
        s = self.shape[x]
        ax = int(node.attrs.get("axis", -1 if self.g.opset >= 13 else 1)) % len(s)
        ok = (self.layout[x] == "nchw" and (ax == 1 if self.g.opset >= 13 else s[2:] == (1, 1))) or \
             (self.layout[x] == "plain" and ax == len(s) - 1)
        if not ok:
            _fail(node, f"attribute axis={ax} on {s}: ferc's softmax runs over the channels / last axis")
        self.emit("softmax", [self.v(x)], node.outputs[0], s, self.layout[x], node.name)

    def op_Resize(self, node):
        self.resize(node, node.inputs[2] if len(node.inputs) > 2 else "", node.inputs[3] if len(node.inputs) > 3 else "")

    def op_Upsample(self, node):
        self.resize(node, node.inputs[1] if len(node.inputs) > 1 else "", "")

    def resize(self, node, scales_t, sizes_t):
        a = node.attrs
        x = self.act_input(node, 0, ("nchw",))
        n, c, h, w = self.shape[x]

        def s(k, d):
            v = a.get(k, d)
            return v.decode() if isinstance(v, bytes) else v
        mode = s("mode", "nearest")
        coord = s("coordinate_transformation_mode", "half_pixel" if node.op == "Resize" else "asymmetric")
        nearest = s("nearest_mode", "round_prefer_floor")
        if mode not in ("nearest", "linear"):
            _fail(node, f"attribute mode={mode}: only nearest and (bi)linear are supported")
        modes = ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"]
        if coord not in modes:
            _fail(node, f"attribute coordinate_transformation_mode={coord} is not supported")
        nmodes = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
        if nearest not in nmodes:
            _fail(node, f"attribute nearest_mode={nearest} is not supported")
        if a.get("exclude_outside", 0) or a.get("antialias", 0):
            _fail(node, "attributes exclude_outside / antialias are not supported")
        attrs = dict(linear=int(mode == "linear"), coord=modes.index(coord), nearest=nmodes.index(nearest))
        if scales_t and scales_t in self.consts and self.consts[scales_t].size:
            sc = self.consts[scales_t].reshape(-1).astype(np.float64)
            if len(sc) != 4 or sc[0] != 1 or sc[1] != 1:
                _fail(node, f"scales={list(sc)}: only H and W may be scaled")
            oh, ow = int(math.floor(h * sc[2])), int(math.floor(w * sc[3]))
            attrs["scale"] = [float(sc[2]), float(sc[3])]
        elif sizes_t and sizes_t in self.consts:
            sz = [int(d) for d in self.consts[sizes_t].reshape(-1)]
            if len(sz) != 4 or sz[0] != n or sz[1] != c:
                _fail(node, f"sizes={sz}: only H and W may be resized")
            oh, ow = sz[2], sz[3]
            attrs["scale"] = [oh / h, ow / w]
            attrs["size"] = [oh, ow]
        else:
            _fail(node, "scales or sizes must be constant (or computable from shapes)")
        self.emit("resize", [self.v(x)], node.outputs[0], (n, c, oh, ow), "nchw", node.name, **attrs)


def _reconcile(a, b):
    """Lowered at two input sizes: attributes must agree except where a dynamic size shows.
    Updates a's nodes to the size-independent form."""
    if len(a.nodes) != len(b.nodes):
        raise ConvertError("the graph's structure changes with the input size")
    for x, y in zip(a.nodes, b.nodes):
        where = f"node '{x['src']}' ({x['op']})"
        if x["op"] != y["op"] or x["ins"] != y["ins"]:
            raise ConvertError(f"{where}: the graph's structure changes with the input size")
        if x["op"] == "resize" and "size" in x["attrs"] and x["attrs"]["size"] != y["attrs"].get("size"):
            if max(abs(u - v) for u, v in zip(x["attrs"]["scale"], y["attrs"]["scale"])) < 1e-6:
                del x["attrs"]["size"], y["attrs"]["size"]  # a fixed ratio: keep the scale only
        for k in set(x["attrs"]) | set(y["attrs"]):
            u, v = x["attrs"].get(k), y["attrs"].get(k)
            if u == v:
                continue
            if x["op"] == "reshape" and k == "shape":
                diff = [i for i in range(len(u)) if u[i] != v[i]]
                if len(diff) == 1:
                    u[diff[0]] = -1
                    continue
            raise ConvertError(f"{where}: attribute '{k}' depends on the input size ({u} at one size, {v} at "
                               "another), which ferc cannot express; convert at a fixed size")
    for k in a.params:
        if k not in b.params or a.params[k].shape != b.params[k].shape or not np.array_equal(a.params[k], b.params[k]):
            raise ConvertError(f"parameter '{k}' depends on the input size")


def build(g, input_hw=None, alt_hw=None):
    """Lower Graph g. input_hw: (H, W) for symbolic image dims. Returns (nodes, params,
    inputs [(name, ferc shape)], outputs, layout, shapes) ready for write()."""
    if len(g.inputs) != 1:
        raise ConvertError(f"the graph has {len(g.inputs)} inputs; ferc models take one")
    name, shape = g.inputs[0]
    dyn = [i for i, d in enumerate(shape) if not isinstance(d, int) or d <= 0]
    if dyn and any(i not in (0, 2, 3) for i in dyn) or (dyn and len(shape) != 4 and dyn != [0]):
        raise ConvertError(f"input '{name}' {list(shape)}: only batch, height and width may be symbolic")

    def concrete(hw):
        s = list(shape)
        s[0] = 1
        for i in (2, 3):
            if i in dyn:
                if hw is None:
                    raise ConvertError(f"input '{name}' has symbolic height/width {list(shape)}: give --input-size HxW")
                s[i] = hw[i - 2]
        return s
    s1 = concrete(input_hw)
    low = _Lowering(g, [(name, s1)]).run()
    if any(i in dyn for i in (2, 3)):
        hw2 = alt_hw or (s1[2] * 2, s1[3] * 2)
        try:
            low2 = _Lowering(g, [(name, concrete(hw2))]).run()
        except ConvertError as e:
            raise ConvertError(f"at a second input size {hw2[0]}x{hw2[1]} (to check the graph runs at any size): {e}")
        _reconcile(low, low2)
    return low


def write(low, path, meta):
    """Write a lowered graph as a ferc file; only activations the file uses are kept."""
    import fercfile
    w = fercfile.Writer()
    w.meta.update({k: str(v) for k, v in meta.items()})
    used = set()
    for nd in low.nodes:
        used.update(nd["ins"])
    for name, shape in low.inputs:
        w.input(name, shape)
    for k, arr in low.params.items():
        if k in used:
            w.param(k, arr)
    for nd in low.nodes:
        w.node(nd["op"], nd["ins"], nd["outs"], **nd["attrs"])
        o = nd["outs"][0]
        w.set_shape(o, _ferc_shape(low, o))
    for o in low.g.outputs:
        w.output(low.v(o))
    w.save(path)
    return w


def _ferc_shape(low, t):
    s, lay = low.shape[t], low.layout[t]
    if lay == "nchw":
        return (1, s[2], s[3], s[1])
    return (1,) + tuple(s[1:])


def count_macs(low):
    """Multiply-accumulates of conv and dense layers per sample at the nominal size."""
    macs = 0
    for nd in low.nodes:
        o = nd["outs"][0]
        if nd["op"] == "conv2d":
            w = low.params[nd["ins"][1]]
            n, c, h, wd = low.shape[o]
            macs += c * h * wd * w.shape[1] * w.shape[2] * w.shape[3]
        elif nd["op"] == "dense":
            macs += low.params[nd["ins"][1]].size
    return macs
