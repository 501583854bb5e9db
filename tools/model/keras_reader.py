"""Keras 2 HDF5 file -> ferc_graph.Graph, without TensorFlow (Debian python3-h5py).

Reads the architecture from the root attribute `model_config` (JSON) and the weights from
`model_weights/<layer>/` in the order of each layer's `weight_names`. Sequential and
functional models; layers: InputLayer, Conv2D, SeparableConv2D, DepthwiseConv2D, Dense,
BatchNormalization, Activation, ReLU, LeakyReLU, MaxPooling2D, AveragePooling2D,
GlobalAveragePooling2D, GlobalMaxPooling2D, Flatten, Dropout, Add, Concatenate,
ZeroPadding2D. Keras works in NHWC; the graph handed on is in ONNX's NCHW semantics
(weights transposed, Flatten preceded by the NCHW->NHWC transpose Keras' memory order
implies), and the builder turns it back into ferc's NHWC.
"""
import json

import numpy as np

from ferc_graph import ConvertError, Graph, Node

ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
               "hard_sigmoid": "HardSigmoid", "linear": None}


class _Builder:
    def __init__(self, weights):
        self.g = Graph()
        self.w = weights
        self.rank = {}  # tensor -> rank (Keras tensors: 4 = NHWC map, 2 = features)

    def node(self, op, ins, out, **attrs):
        self.g.nodes.append(Node(op, ins, [out], attrs, out))
        return out

    def const(self, name, arr):
        self.g.consts[name] = np.asarray(arr, np.float32)
        return name

    def weights(self, layer, need):
        """The layer's arrays by their short names (kernel, bias, gamma, ...)."""
        got = self.w.get(layer, {})
        for k in need:
            if k not in got:
                raise ConvertError(f"layer '{layer}': weight '{k}' missing from model_weights")
        return got

    def activation(self, layer, x, act, out):
        if act in (None, "linear"):
            return x if x == out else self.node("Identity", [x], out)
        self.rank[out] = self.rank.get(x, 4)
        if act not in ACTIVATIONS:
            raise ConvertError(f"layer '{layer}': attribute activation='{act}' is not supported")
        if act == "softmax":
            return self.node("Softmax", [x], out, axis=1 if self.rank.get(x) == 4 else -1)
        if act == "hard_sigmoid":  # Keras: clip(0.2 x + 0.5, 0, 1)
            return self.node("HardSigmoid", [x], out, alpha=0.2, beta=0.5)
        return self.node(ACTIVATIONS[act], [x], out)

    def padding(self, layer, cfg):
        p = cfg.get("padding", "valid")
        if p == "same":
            return {"auto_pad": "SAME_UPPER"}  # TensorFlow's SAME: the odd pixel at the end
        if p == "valid":
            return {}
        raise ConvertError(f"layer '{layer}': attribute padding='{p}' is not supported")

    def layer(self, cls, name, cfg, ins):
        fmt = cfg.get("data_format", "channels_last")
        if fmt != "channels_last":
            raise ConvertError(f"layer '{name}' ({cls}): attribute data_format='{fmt}' is not supported")
        x = ins[0] if ins else None
        out = name
        # the tensor before the layer's own activation (the output itself when linear)
        pre = name + "/pre" if cfg.get("activation", "linear") not in (None, "linear") else out
        self.rank[out] = 4
        if cls in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D"):
            d = list(cfg.get("dilation_rate", [1, 1]))
            s = list(cfg.get("strides", [1, 1]))
            attrs = dict(strides=s, dilations=d, **self.padding(name, cfg))
            use_bias = cfg.get("use_bias", True)
            if cls == "Conv2D":
                wt = self.weights(name, ["kernel"] + (["bias"] if use_bias else []))
                k = wt["kernel"]  # [kh, kw, cin, cout]
                ins2 = [x, self.const(name + "/W", k.transpose(3, 2, 0, 1))]
                if use_bias:
                    ins2.append(self.const(name + "/B", wt["bias"]))
                self.node("Conv", ins2, pre, group=1, kernel_shape=list(k.shape[:2]), **attrs)
            else:
                wt = self.weights(name, ["depthwise_kernel"] + (["pointwise_kernel"] if cls == "SeparableConv2D" else [])
                                  + (["bias"] if use_bias else []))
                dk = wt["depthwise_kernel"]  # [kh, kw, cin, mult]
                kh, kw, cin, mult = dk.shape
                # output channel c * mult + m reads input channel c
                dw = dk.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)
                if cls == "DepthwiseConv2D":
                    ins2 = [x, self.const(name + "/W", dw)] + ([self.const(name + "/B", wt["bias"])] if use_bias else [])
                    self.node("Conv", ins2, pre, group=cin, kernel_shape=[kh, kw], **attrs)
                else:
                    self.node("Conv", [x, self.const(name + "/DW", dw)], name + "/depthwise", group=cin,
                              kernel_shape=[kh, kw], **attrs)
                    pk = wt["pointwise_kernel"]  # [1, 1, cin*mult, cout]
                    ins2 = [name + "/depthwise", self.const(name + "/PW", pk.transpose(3, 2, 0, 1))]
                    if use_bias:
                        ins2.append(self.const(name + "/B", wt["bias"]))
                    self.node("Conv", ins2, pre, group=1, kernel_shape=[1, 1])
            return self.activation(name, pre, cfg.get("activation", "linear"), out)
        if cls == "Dense":
            if self.rank.get(x) != 2:
                raise ConvertError(f"layer '{name}' (Dense): input must be 2-D (features), add a Flatten")
            self.rank[out] = 2
            use_bias = cfg.get("use_bias", True)
            wt = self.weights(name, ["kernel"] + (["bias"] if use_bias else []))
            ins2 = [x, self.const(name + "/W", wt["kernel"])] + ([self.const(name + "/B", wt["bias"])] if use_bias else [])
            self.rank[pre] = 2
            self.node("Gemm", ins2, pre)
            return self.activation(name, pre, cfg.get("activation", "linear"), out)
        if cls == "BatchNormalization":
            ax = cfg.get("axis", -1)
            ax = ax[0] if isinstance(ax, list) and len(ax) == 1 else ax
            if ax not in (-1, 3 if self.rank.get(x) == 4 else 1):
                raise ConvertError(f"layer '{name}' (BatchNormalization): attribute axis={ax} (only channels) is not supported")
            need = ["moving_mean", "moving_variance"] + (["gamma"] if cfg.get("scale", True) else []) + \
                   (["beta"] if cfg.get("center", True) else [])
            wt = self.weights(name, need)
            c = wt["moving_mean"].shape[0]
            gamma = wt.get("gamma", np.ones(c, np.float32)) if cfg.get("scale", True) else np.ones(c, np.float32)
            beta = wt.get("beta", np.zeros(c, np.float32)) if cfg.get("center", True) else np.zeros(c, np.float32)
            self.rank[out] = self.rank.get(x, 4)
            return self.node("BatchNormalization", [x, self.const(name + "/g", gamma), self.const(name + "/b", beta),
                                                    self.const(name + "/m", wt["moving_mean"]),
                                                    self.const(name + "/v", wt["moving_variance"])], out,
                             epsilon=float(cfg.get("epsilon", 1e-3)))
        if cls == "Activation":
            self.rank[out] = self.rank.get(x, 4)
            return self.activation(name, x, cfg.get("activation"), out)
        if cls == "ReLU":
            self.rank[out] = self.rank.get(x, 4)
            mx, ns, th = cfg.get("max_value"), float(cfg.get("negative_slope", 0.0)), float(cfg.get("threshold", 0.0))
            if th != 0.0 or (ns and mx is not None):
                raise ConvertError(f"layer '{name}' (ReLU): attributes threshold={th} / negative_slope with max_value "
                                   "are not supported")
            if ns:
                return self.node("LeakyRelu", [x], out, alpha=ns)
            if mx is not None:
                return self.node("Clip", [x], out, min=0.0, max=float(mx))
            return self.node("Relu", [x], out)
        if cls == "LeakyReLU":
            self.rank[out] = self.rank.get(x, 4)
            return self.node("LeakyRelu", [x], out, alpha=float(cfg.get("alpha", 0.3)))
        if cls in ("MaxPooling2D", "AveragePooling2D"):
            k = list(cfg.get("pool_size", [2, 2]))
            s = list(cfg.get("strides") or k)
            return self.node("MaxPool" if cls == "MaxPooling2D" else "AveragePool", [x], out, kernel_shape=k,
                             strides=s, count_include_pad=0, **self.padding(name, cfg))
        if cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            self.node("GlobalAveragePool" if cls == "GlobalAveragePooling2D" else "GlobalMaxPool", [x], name + "/pool")
            if cfg.get("keepdims", False):
                return self.node("Identity", [name + "/pool"], out)
            self.rank[out] = 2
            return self.node("Flatten", [name + "/pool"], out, axis=1)
        if cls == "Flatten":
            self.rank[out] = 2
            if self.rank.get(x) == 4:  # Keras flattens NHWC memory: (y, x, c)
                self.node("Transpose", [x], name + "/nhwc", perm=[0, 2, 3, 1])
                x = name + "/nhwc"
            return self.node("Flatten", [x], out, axis=1)
        if cls in ("Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout"):
            self.rank[out] = self.rank.get(x, 4)
            return self.node("Identity", [x], out)
        if cls == "Add":
            self.rank[out] = self.rank.get(x, 4)
            acc = ins[0]
            for i, t in enumerate(ins[1:]):
                acc = self.node("Add", [acc, t], out if i == len(ins) - 2 else f"{name}/{i}")
            return acc
        if cls == "Concatenate":
            r = self.rank.get(x, 4)
            self.rank[out] = r
            ax = cfg.get("axis", -1)
            ax = ax % r
            onnx_ax = {3: 1, 1: 2, 2: 3}[ax] if r == 4 else ax
            return self.node("Concat", ins, out, axis=onnx_ax)
        if cls == "ZeroPadding2D":
            p = cfg.get("padding", [[1, 1], [1, 1]])
            if isinstance(p, int):
                p = [[p, p], [p, p]]
            p = [[v, v] if isinstance(v, int) else v for v in p]
            return self.node("Pad", [x], out, mode="constant", pads=[0, 0, p[0][0], p[1][0], 0, 0, p[0][1], p[1][1]])
        raise ConvertError(f"layer '{name}' ({cls}): layer type not supported (docs/convert.md lists the Keras layers)")


def _short(wname):
    """'conv2d_1_1/kernel:0' -> 'kernel'."""
    return wname.split("/")[-1].split(":")[0]


def read(path):
    """(Graph, metadata) from a Keras 2 .h5/.hdf5 file."""
    import h5py
    try:
        f = h5py.File(path, "r")
    except Exception as e:
        raise ConvertError(f"{path}: not a readable HDF5 file ({type(e).__name__}: {e})")
    with f:
        if "model_config" not in f.attrs:
            raise ConvertError(f"{path}: no 'model_config' attribute (not a whole Keras model; weights-only files "
                               "lack the architecture)")
        raw = f.attrs["model_config"]
        try:
            cfg = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise ConvertError(f"{path}: model_config is not valid JSON ({e})")
        kv = f.attrs.get("keras_version", b"?")
        kv = kv.decode() if isinstance(kv, bytes) else str(kv)
        wroot = f["model_weights"] if "model_weights" in f else f
        weights = {}
        try:
            for lname in wroot:
                grp = wroot[lname]
                names = [n.decode() if isinstance(n, bytes) else n for n in grp.attrs.get("weight_names", [])]
                weights[lname] = {_short(n): np.asarray(grp[n], np.float32) for n in names}
        except Exception as e:
            raise ConvertError(f"{path}: cannot read weights of layer '{lname}' ({type(e).__name__}: {e})")
    if not isinstance(cfg, dict) or "class_name" not in cfg or "config" not in cfg:
        raise ConvertError(f"{path}: model_config lacks class_name/config")
    b = _Builder(weights)
    cls, c = cfg["class_name"], cfg["config"]
    if cls == "Sequential":
        layers = c if isinstance(c, list) else c.get("layers", [])
        first = layers[0]["config"] if layers else {}
        shape = first.get("batch_input_shape")
        if not shape:
            raise ConvertError(f"{path}: the first layer states no batch_input_shape")
        prev = "input"
        _add_input(b, prev, shape)
        for L in layers:
            if L["class_name"] == "InputLayer":
                continue
            prev = b.layer(L["class_name"], L["config"]["name"], L["config"], [prev])
        b.g.outputs = [prev]
    elif cls in ("Model", "Functional"):
        names = {}
        for L in c["layers"]:
            lname = L.get("name") or L["config"]["name"]
            if L["class_name"] == "InputLayer":
                _add_input(b, lname, L["config"]["batch_input_shape"])
                names[lname] = lname
                continue
            inb = L.get("inbound_nodes", [])
            if len(inb) != 1:
                raise ConvertError(f"layer '{lname}' ({L['class_name']}): called {len(inb)} times; shared layers are not supported")
            ins = []
            for src in inb[0]:
                src_name = src[0] if isinstance(src, list) else src["args"][0]["config"]["keras_history"][0]
                if src_name not in names:
                    raise ConvertError(f"layer '{lname}': input layer '{src_name}' is not defined before it")
                ins.append(names[src_name])
            names[lname] = b.layer(L["class_name"], lname, L["config"], ins)
        b.g.outputs = [names[o[0]] for o in c["output_layers"]]
    else:
        raise ConvertError(f"{path}: model class '{cls}' is not supported (Sequential or functional Model)")
    meta = {"source": f"Keras {kv} HDF5"}
    return b.g, meta


def _add_input(b, name, shape):
    if len(shape) != 4 or any(d is None for d in shape[1:]):
        raise ConvertError(f"input '{name}': batch_input_shape {shape} must be [None, H, W, C] with fixed H, W, C")
    b.g.inputs.append((name, [None, int(shape[3]), int(shape[1]), int(shape[2])]))
    b.rank[name] = 4
