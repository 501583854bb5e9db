"""An independent NumPy forward pass of a Keras 2 HDF5 model, written from the Keras layer
definitions (float64, NHWC as Keras computes). It shares no code with the converter
(tools/model/keras_reader.py, ferc_graph.py): it is the reference the converted files are
checked against, since TensorFlow is not available here.

    outs = forward("model.hdf5", x)   # x [N, H, W, C]; dict layer name -> output

Besides every layer's output it gives "<layer>/depthwise" (the depthwise half of a
SeparableConv2D), "<layer>/pre" (before a layer's own activation) and "<layer>/pool"
(a global pooling before Keras drops the 1x1 axes), the intermediate tensors the converted
graph also holds.
"""
import json

import h5py
import numpy as np


def _same_pads(n, k, s, d):
    """TensorFlow SAME: out = ceil(n / s), the odd padding pixel goes to the end."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def _pad(x, cfg, k, s, d, value=0.0):
    if cfg.get("padding", "valid") != "same":
        return x
    (t, b), (l, r) = _same_pads(x.shape[1], k[0], s[0], d[0]), _same_pads(x.shape[2], k[1], s[1], d[1])
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=value)


def _windows(x, k, s, d):
    """Yields (ky, kx, slice of x) for each kernel tap: x[:, oy*s + ky*d, ox*s + kx*d, :]."""
    oh = (x.shape[1] - (k[0] - 1) * d[0] - 1) // s[0] + 1
    ow = (x.shape[2] - (k[1] - 1) * d[1] - 1) // s[1] + 1
    for ky in range(k[0]):
        for kx in range(k[1]):
            y0, x0 = ky * d[0], kx * d[1]
            yield ky, kx, x[:, y0:y0 + (oh - 1) * s[0] + 1:s[0], x0:x0 + (ow - 1) * s[1] + 1:s[1], :]


def conv2d(x, kernel, cfg):
    """Keras Conv2D: y[n, i, j, o] = sum_{ky, kx, c} xpad[n, i*s + ky*d, j*s + kx*d, c] * kernel[ky, kx, c, o]."""
    k, s, d = kernel.shape[:2], cfg.get("strides", [1, 1]), cfg.get("dilation_rate", [1, 1])
    x = _pad(x, cfg, k, s, d)
    y = 0
    for ky, kx, win in _windows(x, k, s, d):
        y = y + win @ kernel[ky, kx]
    return y


def depthwise(x, dk, cfg):
    """Keras DepthwiseConv2D: y[n, i, j, c*m + q] = sum_{ky, kx} xpad[n, i*s + ky*d, j*s + kx*d, c] * dk[ky, kx, c, q]."""
    k, s, d = dk.shape[:2], cfg.get("strides", [1, 1]), cfg.get("dilation_rate", [1, 1])
    x = _pad(x, cfg, k, s, d)
    y = 0
    for ky, kx, win in _windows(x, k, s, d):
        y = y + win[..., :, None] * dk[ky, kx]  # [..., c, m]
    return y.reshape(y.shape[:3] + (-1,))


def pool(x, cfg, kind):
    k = cfg.get("pool_size", [2, 2])
    s = cfg.get("strides") or k
    if cfg.get("padding", "valid") == "same":
        if kind == "max":
            x = _pad(x, cfg, k, s, [1, 1], -np.inf)
        else:  # Keras' SAME average divides by the number of real pixels in the window
            ones = _pad(np.ones(x.shape[:3] + (1,)), cfg, k, s, [1, 1])
            x = _pad(x, cfg, k, s, [1, 1])
            tot = sum(w for _, _, w in _windows(x, k, s, [1, 1]))
            cnt = sum(w for _, _, w in _windows(ones, k, s, [1, 1]))
            return tot / cnt
    wins = [w for _, _, w in _windows(x, k, s, [1, 1])]
    return np.max(wins, axis=0) if kind == "max" else np.mean(wins, axis=0)


def activation(x, name):
    if name in (None, "linear"):
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "hard_sigmoid":
        return np.clip(0.2 * x + 0.5, 0, 1)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"activation {name}")


def forward(path, x):
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["model_config"])
        W = {}
        for lname in f["model_weights"]:
            g = f["model_weights"][lname]
            names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs.get("weight_names", [])]
            W[lname] = {n.split("/")[-1].split(":")[0]: np.asarray(g[n], np.float64) for n in names}
    out = {}
    seq = cfg["class_name"] == "Sequential"
    layers = cfg["config"] if isinstance(cfg["config"], list) else cfg["config"]["layers"]
    prev = "input"
    out[prev] = np.asarray(x, np.float64)
    for L in layers:
        cls, c = L["class_name"], L["config"]
        name = c["name"]
        if cls == "InputLayer":
            out[name] = np.asarray(x, np.float64)
            prev = name
            continue
        ins = [out[prev]] if seq else [out[src[0]] for src in L["inbound_nodes"][0]]
        prev = name
        a, w = ins[0], W.get(name, {})
        act = c.get("activation")
        if cls == "Conv2D":
            y = conv2d(a, w["kernel"], c) + w.get("bias", 0)
        elif cls == "SeparableConv2D":
            out[name + "/depthwise"] = dwo = depthwise(a, w["depthwise_kernel"], c)
            y = dwo @ w["pointwise_kernel"][0, 0] + w.get("bias", 0)
        elif cls == "DepthwiseConv2D":
            y = depthwise(a, w["depthwise_kernel"], c) + w.get("bias", 0)
        elif cls == "Dense":
            y = a @ w["kernel"] + w.get("bias", 0)
        elif cls == "BatchNormalization":
            y = (a - w["moving_mean"]) / np.sqrt(w["moving_variance"] + c["epsilon"]) * w.get("gamma", 1) + w.get("beta", 0)
        elif cls == "Activation":
            y, act = activation(a, act), None
        elif cls == "MaxPooling2D":
            y = pool(a, c, "max")
        elif cls == "AveragePooling2D":
            y = pool(a, c, "avg")
        elif cls == "GlobalAveragePooling2D":
            out[name + "/pool"] = a.mean(axis=(1, 2), keepdims=True)
            y = a.mean(axis=(1, 2))
        elif cls == "GlobalMaxPooling2D":
            out[name + "/pool"] = a.max(axis=(1, 2), keepdims=True)
            y = a.max(axis=(1, 2))
        elif cls == "Flatten":
            y = a.reshape(a.shape[0], -1)
        elif cls == "Dropout":
            y = a
        elif cls == "ZeroPadding2D":
            (t, b), (l, r) = c["padding"]
            y = np.pad(a, ((0, 0), (t, b), (l, r), (0, 0)))
        elif cls == "ReLU":
            y = np.maximum(a, 0) if c.get("max_value") is None else np.clip(a, 0, c["max_value"])
        elif cls == "LeakyReLU":
            y = np.where(a >= 0, a, a * c["alpha"])
        elif cls == "Add":
            y = sum(ins)
        elif cls == "Concatenate":
            y = np.concatenate(ins, axis=c.get("axis", -1))
        else:
            raise ValueError(f"layer {cls} not in this reference")
        if act not in (None, "linear"):
            out[name + "/pre"] = y
            y = activation(y, act)
        out[name] = y
    return out
