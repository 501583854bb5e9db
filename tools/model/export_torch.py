"""Export a PyTorch model to a ferc weight file, and dump reference tensors.

The model is traced with torch.fx; each traced call becomes a ferc node (docs/FORMAT.md
lists the ops). On the way:
  - tensors change layout from PyTorch's NCHW to ferc's NHWC (conv weights OIHW -> OHWI);
  - BatchNorm2d after a conv is folded into the conv's weight and bias;
  - ReLU / ReLU6 / LeakyReLU after a conv, linear, add or batch norm is fused into it;
  - ZeroPad2d before a conv becomes the conv's (possibly asymmetric) padding;
  - a Linear after Flatten of a C x H x W map has its columns permuted to NHWC order.

export(model, example, path, meta, ref_path) writes the model and, if ref_path is given, a
debug-state file holding the input and every node's output as PyTorch computes it (NHWC),
which tests/test_reference.c compares with the C engine node by node.
"""
import operator
import sys

import numpy as np
import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, __import__("os").path.dirname(__file__))
import fercfile  # noqa: E402

ACT = {"relu": 1, "relu6": 2, "leaky": 3}


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _act_of(mod_or_fn, node, modules):
    """(act code, alpha) if this fx node is an activation we can fuse, else None."""
    if node.op == "call_module":
        m = modules[node.target]
        if isinstance(m, nn.ReLU):
            return ACT["relu"], 0.0
        if isinstance(m, nn.ReLU6):
            return ACT["relu6"], 0.0
        if isinstance(m, nn.LeakyReLU):
            return ACT["leaky"], float(m.negative_slope)
    if node.op == "call_function":
        if node.target in (F.relu, torch.relu):
            return ACT["relu"], 0.0
        if node.target is F.relu6:
            return ACT["relu6"], 0.0
        if node.target is F.leaky_relu:
            return ACT["leaky"], float(node.kwargs.get("negative_slope", node.args[1] if len(node.args) > 1 else 0.01))
    if node.op == "call_method" and node.target == "relu":
        return ACT["relu"], 0.0
    return None


def _nhwc(t):
    t = t.detach().cpu().float()
    return t.permute(0, 2, 3, 1).contiguous().numpy() if t.dim() == 4 else t.contiguous().numpy()


class _Exporter:
    def __init__(self, model, example):
        self.model = model.eval()
        self.gm = torch.fx.symbolic_trace(self.model)
        self.modules = dict(self.gm.named_modules())
        self.w = fercfile.Writer()
        self.name = {}      # fx node -> ferc value name
        self.torch_of = {}  # ferc value name -> fx node whose output it equals
        self.flat_chw = {}  # ferc value name of a flatten output -> (C, H, W) before flattening
        self.macs = 0
        self.pending_pad = None  # (ZeroPad2d fx node, padding) waiting for its conv
        # Record every fx node's output once, for shapes and for the reference dump.
        self.outputs = {}
        interp = torch.fx.Interpreter(self.gm)
        orig = interp.run_node

        def run_node(n):
            r = orig(n)
            self.outputs[n] = r
            return r

        interp.run_node = run_node
        with torch.no_grad():
            interp.run(example)

    def users(self, node):
        return list(node.users)

    def single_user(self, node):
        u = self.users(node)
        return u[0] if len(u) == 1 else None

    def fuse_act(self, node):
        """If node's only user is a fusable activation, return (act, alpha, last fx node)."""
        u = self.single_user(node)
        if u is not None:
            a = _act_of(None, u, self.modules)
            if a is not None:
                return a[0], a[1], u
        return 0, 0.0, node

    def value(self, node):
        return self.name[node]

    def emit(self, op, inputs, first, last=None, **attrs):
        """One ferc node for the fx nodes first..last (last: a fused activation or folded
        batch norm). The value is named after the module, e.g. "features.3"."""
        last = last or first
        out = str(first.target) if first.op == "call_module" else first.name
        self.w.node(op, inputs, [out], **attrs)
        shape = tuple(_nhwc(self.outputs[last]).shape)
        self.w.set_shape(out, (1,) + shape[1:])
        self.torch_of[out] = last
        if op in ("identity", "relu", "relu6", "leaky_relu") and inputs[0] in self.flat_chw:
            self.flat_chw[out] = self.flat_chw[inputs[0]]  # still in NHWC-flattened order
        return out

    def reference(self, name):
        """PyTorch's value for a ferc value, in ferc's layout."""
        t = self.outputs[self.torch_of[name]].detach().float()
        if name in self.flat_chw:  # PyTorch flattened C,H,W; ferc flattens H,W,C
            t = t.view(t.shape[0], *self.flat_chw[name])
            return _nhwc(t).reshape(t.shape[0], -1)
        return _nhwc(t)

    def run(self):
        skip = set()
        for node in self.gm.graph.nodes:
            if node in skip:
                continue
            if node.op == "placeholder":
                t = self.outputs[node]
                name = node.name
                self.w.input(name, (1,) + tuple(_nhwc(t).shape[1:]))
                self.name[node] = name
                self.torch_of[name] = node
                continue
            if node.op == "output":
                outs = node.args[0] if isinstance(node.args[0], (tuple, list)) else [node.args[0]]
                for o in outs:
                    self.w.output(self.name[o])
                continue
            done = self.convert(node, skip)
            if not done:
                raise NotImplementedError(f"cannot export {node.op} {node.target} ({node.name})")
        return self.w

    def param(self, name, array):
        self.w.param(name, np.ascontiguousarray(array, dtype=np.float32))
        return name

    def convert(self, node, skip):
        mods = self.modules
        src = node.args[0] if node.args else None
        if node.op == "call_module":
            m = mods[node.target]
            if isinstance(m, nn.Conv2d):
                return self.conv(node, m, skip)
            if isinstance(m, nn.ZeroPad2d):
                u = self.single_user(node)
                if u is not None and u.op == "call_module" and isinstance(mods[u.target], nn.Conv2d):
                    self.name[node] = self.value(src)
                    self.pending_pad = (node, tuple(m.padding))
                    return True
                raise NotImplementedError("ZeroPad2d is only supported directly before a Conv2d")
            if isinstance(m, nn.BatchNorm2d):
                act, alpha, last = self.fuse_act(node)
                skip.add(last)
                p = node.target
                ins = [self.value(src),
                       self.param(p + ".weight", m.weight.detach().numpy() if m.affine else np.ones(m.num_features)),
                       self.param(p + ".bias", m.bias.detach().numpy() if m.affine else np.zeros(m.num_features)),
                       self.param(p + ".running_mean", m.running_mean.numpy()),
                       self.param(p + ".running_var", m.running_var.numpy())]
                self.name[node] = self.name[last] = self.emit("batchnorm", ins, node, last, eps=float(m.eps), act=act,
                                                              alpha=float(alpha))
                return True
            if _act_of(None, node, mods) is not None:
                act, alpha = _act_of(None, node, mods)
                op = {1: "relu", 2: "relu6", 3: "leaky_relu"}[act]
                attrs = {"alpha": float(alpha)} if act == 3 else {}
                self.name[node] = self.emit(op, [self.value(src)], node, **attrs)
                return True
            if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
                k, s = _pair(m.kernel_size), _pair(m.stride if m.stride is not None else m.kernel_size)
                p = _pair(m.padding)
                attrs = dict(kernel=list(k), stride=list(s), pad=[p[0], p[1], p[0], p[1]], ceil_mode=int(m.ceil_mode))
                if isinstance(m, nn.MaxPool2d):
                    if _pair(m.dilation) != (1, 1) or m.return_indices:
                        raise NotImplementedError("MaxPool2d with dilation or indices")
                    op = "maxpool2d"
                else:
                    if m.divisor_override is not None:
                        raise NotImplementedError("AvgPool2d divisor_override")
                    attrs["count_include_pad"] = int(m.count_include_pad)
                    op = "avgpool2d"
                self.name[node] = self.emit(op, [self.value(src)], node, **attrs)
                return True
            if isinstance(m, nn.AdaptiveAvgPool2d) and _pair(m.output_size) == (1, 1):
                self.name[node] = self.emit("global_avgpool", [self.value(src)], node)
                return True
            if isinstance(m, nn.Flatten):
                return self.flatten(node, src, m.start_dim)
            if isinstance(m, nn.Linear):
                return self.linear(node, m, skip)
            if isinstance(m, (nn.Dropout, nn.Dropout2d, nn.Identity)):
                self.name[node] = self.emit("identity", [self.value(src)], node)
                return True
            if isinstance(m, nn.Softmax):
                return self.softmax(node, src, m.dim)
        if node.op == "call_function":
            if node.target in (operator.add, torch.add) and len(node.args) == 2 and all(
                    isinstance(a, torch.fx.Node) for a in node.args):
                act, alpha, last = self.fuse_act(node)
                skip.add(last)
                self.name[node] = self.name[last] = self.emit(
                    "add", [self.value(node.args[0]), self.value(node.args[1])], node, last, act=act, alpha=float(alpha))
                return True
            if node.target is torch.cat:
                tensors = node.args[0]
                dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
                nd = self.outputs[node].dim()
                dim = dim % nd
                axis = {1: 3, 2: 1, 3: 2}[dim] if nd == 4 else dim
                if dim == 0:
                    raise NotImplementedError("concat over the batch axis")
                self.name[node] = self.emit("concat", [self.value(t) for t in tensors], node, axis=axis)
                return True
            if node.target is torch.flatten:
                return self.flatten(node, src, node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0))
            if node.target in (F.softmax, torch.softmax):
                return self.softmax(node, src, node.args[1] if len(node.args) > 1 else node.kwargs.get("dim"))
            if _act_of(None, node, mods) is not None:
                act, alpha = _act_of(None, node, mods)
                op = {1: "relu", 2: "relu6", 3: "leaky_relu"}[act]
                self.name[node] = self.emit(op, [self.value(src)], node, **({"alpha": alpha} if act == 3 else {}))
                return True
        if node.op == "call_method" and node.target == "relu":
            self.name[node] = self.emit("relu", [self.value(src)], node)
            return True
        return False

    def softmax(self, node, src, dim):
        nd = self.outputs[node].dim()
        if nd != 2 or dim not in (1, -1):
            raise NotImplementedError("softmax is supported over the features of an [N, C] tensor")
        self.name[node] = self.emit("softmax", [self.value(src)], node)
        return True

    def flatten(self, node, src, start_dim):
        if start_dim != 1:
            raise NotImplementedError("flatten must keep the batch axis (start_dim=1)")
        t = self.outputs[src]
        name = self.emit("flatten", [self.value(src)], node)
        if t.dim() == 4:
            self.flat_chw[name] = tuple(t.shape[1:])
        self.name[node] = name
        return True

    def conv(self, node, m, skip):
        if m.padding_mode != "zeros":
            raise NotImplementedError("only zero padding")
        src = node.args[0]
        pad_node = self.pending_pad
        extra = (0, 0, 0, 0)  # left, right, top, bottom from ZeroPad2d
        if pad_node is not None and pad_node[0] is src:
            extra = pad_node[1]
            self.pending_pad = None
        w = m.weight.detach().double()
        b = m.bias.detach().double() if m.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
        last = node
        u = self.single_user(node)
        if u is not None and u.op == "call_module" and isinstance(self.modules[u.target], nn.BatchNorm2d):
            bn = self.modules[u.target]
            scale = (bn.weight.detach().double() if bn.affine else 1.0) / torch.sqrt(bn.running_var.double() + bn.eps)
            shift = (bn.bias.detach().double() if bn.affine else 0.0) - bn.running_mean.double() * scale
            w = w * scale.view(-1, 1, 1, 1)
            b = b * scale + shift
            skip.add(u)
            last = u
        act, alpha, after = self.fuse_act(last)
        skip.add(after)
        if isinstance(m.padding, str):
            if m.padding == "valid":
                ph = pw = (0, 0)
            else:  # "same", stride 1: PyTorch puts the odd pixel at the end
                tot = [d * (k - 1) for d, k in zip(_pair(m.dilation), _pair(m.kernel_size))]
                ph, pw = (tot[0] // 2, tot[0] - tot[0] // 2), (tot[1] // 2, tot[1] - tot[1] // 2)
        else:
            p = _pair(m.padding)
            ph, pw = (p[0], p[0]), (p[1], p[1])
        pad = [ph[0] + extra[2], pw[0] + extra[0], ph[1] + extra[3], pw[1] + extra[1]]
        p = node.target
        wname = self.param(p + ".weight", w.permute(0, 2, 3, 1).float().numpy())
        bname = self.param(p + ".bias", b.float().numpy())
        out = self.emit("conv2d", [self.value(src), wname, bname], node, after, stride=list(_pair(m.stride)), pad=pad,
                        dilation=list(_pair(m.dilation)), groups=int(m.groups), act=act, alpha=float(alpha))
        oshape = self.outputs[after].shape
        self.macs += int(np.prod(oshape[1:])) * int(np.prod(m.weight.shape[1:]))
        for n in (node, last, after):
            self.name[n] = out
        return True

    def linear(self, node, m, skip):
        src = node.args[0]
        act, alpha, after = self.fuse_act(node)
        skip.add(after)
        w = m.weight.detach().float()
        chw = self.flat_chw.get(self.value(src))
        if chw is not None and chw[1] * chw[2] > 1:
            c, h, ww = chw  # column c*H*W + y*W + x  ->  column (y*W + x)*C + c
            w = w.view(w.shape[0], c, h, ww).permute(0, 2, 3, 1).reshape(w.shape[0], -1)
        p = node.target
        ins = [self.value(src), self.param(p + ".weight", w.numpy())]
        if m.bias is not None:
            ins.append(self.param(p + ".bias", m.bias.detach().numpy()))
        out = self.emit("dense", ins, node, after, act=act, alpha=float(alpha))
        self.macs += m.in_features * m.out_features
        self.name[node] = self.name[after] = out
        return True


def export(model, example, path, meta=None, ref_path=None):
    """Writes model to path; returns dict(params=..., macs=...) per sample."""
    ex = _Exporter(model, example)
    w = ex.run()
    params = sum(int(np.prod(v["shape"])) for v in w.values if v["kind"] == "param")
    w.meta.update({"params": str(params), "macs": str(ex.macs)})
    w.meta.update({k: str(v) for k, v in (meta or {}).items()})
    w.save(path)
    if ref_path:
        tensors = {}
        for v in w.values:
            if v["kind"] in ("input", "act"):
                tensors[v["name"]] = ex.reference(v["name"])
        fercfile.write_tensors(ref_path, tensors, {"model": w.meta.get("name", "")})
    return {"params": params, "macs": ex.macs}
