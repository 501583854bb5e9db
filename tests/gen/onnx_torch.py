"""Run an ONNX graph node by node with PyTorch's own functions (F.conv2d, F.max_pool2d,
F.interpolate, ...), keeping every tensor: the per-node reference for models exported by
torch.onnx. It follows ONNX semantics and shares no code with the converter; the
generator checks that its graph outputs equal the PyTorch module's own outputs, so each
intermediate tensor is what PyTorch computed for that node.

    vals = run(onnx_model, x_nchw)    # dict tensor name -> numpy array
"""
import numpy as np
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper


def _a(node):
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if a.type == a.TENSOR:
            v = numpy_helper.to_array(a.t)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _pool_pad(x, pads, value):
    t, l, b, r = pads
    return F.pad(x, (l, r, t, b), value=value) if any(pads) else x


def run(model, x):
    t = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    inp = [i.name for i in model.graph.input if i.name not in t][0]
    t[inp] = torch.as_tensor(np.asarray(x, np.float32))
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    with torch.no_grad():
        for n in model.graph.node:
            a, i = _a(n), [t[k] if k else None for k in n.input]
            op = n.op_type
            x0 = i[0] if i else None
            if op == "Constant":
                y = torch.from_numpy(np.array(a["value"]))
            elif op == "Conv":
                p = a.get("pads", [0, 0, 0, 0])
                xp = F.pad(x0, (p[1], p[3], p[0], p[2]))
                y = F.conv2d(xp, i[1], i[2] if len(i) > 2 else None, a.get("strides", 1), 0, a.get("dilations", 1),
                             a.get("group", 1))
            elif op == "ConvTranspose":
                p, op_ = a.get("pads", [0, 0, 0, 0]), a.get("output_padding", [0, 0])
                y = F.conv_transpose2d(x0, i[1], i[2] if len(i) > 2 else None, a.get("strides", 1), 0, op_,
                                       a.get("group", 1), a.get("dilations", 1))
                y = y[:, :, p[0]:y.shape[2] - p[2], p[1]:y.shape[3] - p[3]]
            elif op == "BatchNormalization":
                y = F.batch_norm(x0, i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
            elif op == "Relu":
                y = F.relu(x0)
            elif op == "LeakyRelu":
                y = F.leaky_relu(x0, a.get("alpha", 0.01))
            elif op == "PRelu":
                y = torch.where(x0 >= 0, x0, x0 * i[1])
            elif op == "Clip":
                lo = i[1] if len(i) > 1 and i[1] is not None else a.get("min")
                hi = i[2] if len(i) > 2 and i[2] is not None else a.get("max")
                y = torch.clamp(x0, None if lo is None else float(lo), None if hi is None else float(hi))
            elif op == "Sigmoid":
                y = torch.sigmoid(x0)
            elif op == "Tanh":
                y = torch.tanh(x0)
            elif op == "HardSigmoid":
                y = torch.clamp(a.get("alpha", 0.2) * x0 + a.get("beta", 0.5), 0, 1)
            elif op == "HardSwish":
                y = F.hardswish(x0)
            elif op in ("Add", "Sub", "Mul", "Div"):
                y = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}[op](x0, i[1])
                if op == "Div" and not x0.is_floating_point():
                    y = torch.div(x0, i[1], rounding_mode="floor")
            elif op == "MaxPool":
                p = a.get("pads", [0, 0, 0, 0])
                y = F.max_pool2d(_pool_pad(x0, p, -float("inf")), a["kernel_shape"], a.get("strides", 1), 0, 1,
                                 bool(a.get("ceil_mode", 0)))
            elif op == "AveragePool":
                p = a.get("pads", [0, 0, 0, 0])
                assert p[0] == p[2] and p[1] == p[3], "asymmetric average pooling"
                y = F.avg_pool2d(x0, a["kernel_shape"], a.get("strides", 1), (p[0], p[1]), bool(a.get("ceil_mode", 0)),
                                 bool(a.get("count_include_pad", 0)))
            elif op == "GlobalAveragePool":
                y = x0.mean((2, 3), keepdim=True)
            elif op == "GlobalMaxPool":
                y = x0.amax((2, 3), keepdim=True)
            elif op == "ReduceMean":
                y = x0.mean(tuple(a["axes"]), keepdim=bool(a.get("keepdims", 1)))
            elif op == "Gemm":
                b = i[1].t() if a.get("transB", 0) else i[1]
                y = a.get("alpha", 1.0) * (x0 @ b)
                if len(i) > 2 and i[2] is not None:
                    y = y + a.get("beta", 1.0) * i[2]
            elif op == "MatMul":
                y = x0 @ i[1]
            elif op == "Flatten":
                y = x0.reshape(int(np.prod(x0.shape[:a.get("axis", 1)])), -1)
            elif op == "Reshape":
                s = [int(v) for v in i[1]]
                s = [x0.shape[k] if v == 0 else v for k, v in enumerate(s)]
                y = x0.reshape(s)
            elif op == "Transpose":
                y = x0.permute(*a["perm"])
            elif op == "Concat":
                y = torch.cat([v for v in i if v is not None], a["axis"])
            elif op == "Softmax":
                ax = a.get("axis", -1 if opset >= 13 else 1)
                if opset >= 13:
                    y = torch.softmax(x0, ax)
                else:
                    s = x0.shape
                    y = torch.softmax(x0.reshape(int(np.prod(s[:ax])), -1), 1).reshape(s)
            elif op in ("Resize", "Upsample"):
                mode, coord = a.get("mode", "nearest"), a.get("coordinate_transformation_mode", "half_pixel")
                scales = i[2] if op == "Resize" and len(i) > 2 and i[2] is not None and i[2].numel() else \
                    (i[1] if op == "Upsample" else None)
                size = [int(v) for v in i[3][2:]] if op == "Resize" and len(i) > 3 and i[3] is not None else None
                if scales is not None and size is None:
                    size = [int(np.floor(x0.shape[2 + k] * float(scales[2 + k]))) for k in range(2)]
                if mode == "nearest":
                    assert coord == "asymmetric" and a.get("nearest_mode") == "floor", (coord, a.get("nearest_mode"))
                    y = F.interpolate(x0, size=size, mode="nearest")
                else:
                    assert coord in ("half_pixel", "pytorch_half_pixel", "align_corners"), coord
                    y = F.interpolate(x0, size=size, mode="bilinear", align_corners=coord == "align_corners")
            elif op == "Pad":
                p = list(a["pads"]) if "pads" in a else [int(v) for v in i[1]]
                val = float(i[2]) if len(i) > 2 and i[2] is not None else a.get("value", 0.0)
                y = F.pad(x0, (p[3], p[7], p[2], p[6], p[1], p[5], p[0], p[4]), value=val)
            elif op in ("Identity", "Dropout"):
                y = x0
            elif op == "Shape":
                y = torch.tensor(list(x0.shape), dtype=torch.int64)
            elif op == "Gather":
                y = torch.index_select(x0, a.get("axis", 0), i[1].reshape(-1).long()).reshape(
                    tuple(x0.shape[:a.get("axis", 0)]) + tuple(i[1].shape) + tuple(x0.shape[a.get("axis", 0) + 1:]))
            elif op == "Unsqueeze":
                y = x0
                for ax in sorted(a["axes"] if "axes" in a else [int(v) for v in i[1]]):
                    y = y.unsqueeze(ax)
            elif op == "Squeeze":
                axes = a.get("axes") or ([int(v) for v in i[1]] if len(i) > 1 else None)
                y = x0
                for ax in sorted(axes or [], reverse=True):
                    y = y.squeeze(ax)
                if not axes:
                    y = x0.squeeze()
            elif op == "Cast":
                y = x0.to({1: torch.float32, 6: torch.int32, 7: torch.int64}[a["to"]])
            elif op == "Slice":  # on shape-sized integer tensors: NumPy handles negative steps
                y = x0.numpy()
                axes = [int(v) for v in i[3]] if len(i) > 3 and i[3] is not None else list(range(len(i[1])))
                steps = [int(v) for v in i[4]] if len(i) > 4 and i[4] is not None else [1] * len(axes)
                sl = [slice(None)] * y.ndim
                for s0, e0, ax, st in zip(i[1].tolist(), i[2].tolist(), axes, steps):
                    sl[ax] = slice(s0, max(min(e0, 2**62), -2**62), st)
                y = torch.from_numpy(np.ascontiguousarray(y[tuple(sl)]))
            elif op == "ConstantOfShape":
                v = np.asarray(a.get("value", np.zeros(1, np.float32))).reshape(-1)
                y = torch.full([int(d) for d in x0], float(v[0]) if v.dtype.kind == "f" else int(v[0]),
                               dtype=torch.from_numpy(v).dtype)
            elif op == "Neg":
                y = -x0
            elif op == "Expand":
                y = x0.expand(*[int(d) for d in i[1]])
            elif op == "Equal":
                y = x0 == i[1]
            elif op == "Where":
                y = torch.where(x0, i[1], i[2])
            else:
                raise NotImplementedError(op)
            t[n.output[0]] = y
    return {k: v.numpy() for k, v in t.items()}
