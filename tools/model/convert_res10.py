"""Convert OpenCV's res10 300x300 SSD face detector (TensorFlow, 8-bit weights) to a ferc
weight file.

    /usr/bin/python3 tools/model/convert_res10.py [--src ../shared/models/res10_ssd] [--out weights/face_res10.ferc]

cv2.dnn reads the frozen graph and gives every layer's parameters as floats. The convolution
weights and biases were stored as uint8 codes with one (min, max) range per tensor; the codes
are recovered here (scale = (max - min) / 255, zero point = -min / scale, which is an integer
for every such tensor) and written as q8, so the file keeps the 8-bit weights and the loader
dequantises them exactly (round trip checked below). Batch norm + scale pairs are folded into
one per-channel affine node (batchnorm with mean 0, var 1, eps 0) with the ReLU that follows;
folding them into the convolutions would need per-channel quantisation scales.

Graph attributes (padding, strides, dilation, prior boxes, detection output) come from the
text graph. The network's head (prior boxes and detection output) runs in detect/ssd.c from
the "ssd.*" metadata written here; the graph's outputs are mbox_loc [N, P*4] and
mbox_conf_flatten [N, P*2] (softmax over background/face), both in OpenCV's order.
"""
import argparse
import os
import re
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fercfile  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PB = "opencv_face_detector_uint8.pb"
PBTXT = "opencv_face_detector.pbtxt"


def parse_pbtxt(text):
    """Protobuf text format into nested lists of (key, value) pairs."""
    toks = re.findall(r'"(?:[^"\\]|\\.)*"|[{}:]|[^\s{}:"]+', text)
    pos = 0

    def block():
        nonlocal pos
        out = []
        while pos < len(toks) and toks[pos] != "}":
            key = toks[pos]
            pos += 1
            if toks[pos] == ":":
                v = toks[pos + 1]
                pos += 2
                if v.startswith('"'):
                    v = v[1:-1]
                elif v in ("true", "false"):
                    v = v == "true"
                else:
                    for conv in (int, float):
                        try:
                            v = conv(v)
                            break
                        except ValueError:
                            pass
                out.append((key, v))
            else:
                pos += 1
                out.append((key, block()))
                pos += 1
        return out

    return block()


def graph_nodes(pbtxt_path):
    nodes = {}
    for key, body in parse_pbtxt(open(pbtxt_path).read()):
        if key != "node":
            continue
        d = {"inputs": [], "attr": {}}
        for k, v in body:
            if k == "input":
                d["inputs"].append(v)
            elif k == "attr":
                kv = dict(v)
                d["attr"][kv["key"]] = kv["value"]
            else:
                d[k] = v
        nodes[d["name"]] = d
    return nodes


def attr_scalar(node, key):
    (kind, v), = node["attr"][key]
    return v


def attr_floats(node, key):
    (_, tensor), = node["attr"][key]
    return [v for k, v in tensor if k == "float_val"]


def load_net(src):
    return cv2.dnn.readNetFromTensorflow(os.path.join(src, PB), os.path.join(src, PBTXT))


def recover_q8(a):
    """uint8 codes, scale, zero point with scale * (q - zp) == a, or None if a is not such a
    tensor (then it is stored as float32)."""
    a = np.asarray(a, np.float32)
    lo, hi = float(a.min()), float(a.max())
    if hi <= lo:
        return None
    scale = np.float32((hi - lo) / 255.0)
    zp = -lo / scale
    if abs(zp - round(zp)) > 1e-3 or not 0 <= round(zp) <= 255:
        return None
    zp = int(round(zp))
    q = np.round(a / scale + zp)
    if q.min() < 0 or q.max() > 255:
        return None
    q = q.astype(np.uint8)
    back = scale * (q.astype(np.float32) - np.float32(zp))
    if np.abs(back - a).max() > 1e-6 * max(1.0, np.abs(a).max()):
        return None
    return q, float(scale), zp


class Builder:
    def __init__(self, net, tf):
        self.net, self.tf = net, tf
        self.w = fercfile.Writer()
        self.q8_err = 0.0
        self.n_q8 = self.n_f32 = 0
        self.macs_per = []  # (conv name, kh*kw*cin*cout, output stride): MACs per output pixel

    def blobs(self, layer):
        return self.net.getLayer(layer).blobs

    def param(self, name, a):
        r = recover_q8(a)
        if r is None:
            self.w.param(name, np.asarray(a, np.float32))
            self.n_f32 += 1
        else:
            q, scale, zp = r
            self.q8_err = max(self.q8_err, float(np.abs(scale * (q.astype(np.float32) - zp) - a).max()))
            self.w.param(name, q, dtype="q8", scale=scale, zero_point=zp)
            self.n_q8 += 1

    def conv(self, layer, x, out=None, stride=1, pad=0, dilation=1, act=0):
        """Conv2D layer of cv2.dnn's net (bias optional) on value x."""
        b = self.blobs(layer)
        wt = np.transpose(b[0], (0, 2, 3, 1))  # OIHW -> [Cout][KH][KW][Cin]
        self.param(layer + "/w", wt)
        ins = [x, layer + "/w"]
        if len(b) > 1:
            self.param(layer + "/b", b[1].reshape(-1))
            ins.append(layer + "/b")
        out = out or layer
        self.w.node("conv2d", ins, [out], stride=[stride, stride], pad=[pad] * 4,
                    dilation=[dilation, dilation], act=act)
        self.macs_per.append((out, int(np.prod(b[0].shape))))
        return out

    def same_pad(self, x, k, s, value=0.0):
        """TensorFlow's SAME padding for a VALID k x k stride-s window: depends on the input
        size's parity, so it is a node (op pad) rather than fixed conv padding."""
        out = x + "/same_pad"
        self.w.node("pad", [x], [out], same=[k, k, s, s], value=float(value))
        return out

    def affine(self, out, x, bn=None, scale=None, relu=True):
        """Batch norm (OpenCV blobs: mean, var, gamma, beta; eps from the graph) followed by a
        Scale pair (<scale>/Mul, <scale>/BiasAdd), folded to y = x * s + t, in float32 as
        OpenCV computes them."""
        c = None
        s = t = None
        if bn:
            mean, var, gamma, beta = [v.reshape(-1).astype(np.float32) for v in self.blobs(bn)]
            eps = np.float32(attr_scalar(self.tf[bn], "epsilon"))
            s = gamma / np.sqrt(var + eps)
            t = beta - mean * s
            c = s.size
        if scale:
            mul = self.blobs(scale + "/Mul")[0].reshape(-1).astype(np.float32)
            add = self.blobs(scale + "/BiasAdd")[0].reshape(-1).astype(np.float32)
            if s is None:
                s, t = mul, add
            else:
                s, t = s * mul, t * mul + add
            c = s.size
        assert c
        names = [out + k for k in ("/gamma", "/beta", "/mean", "/var")]
        for n, a in zip(names, (s, t, np.zeros(c, np.float32), np.ones(c, np.float32))):
            self.w.param(n, a.astype(np.float32))
        self.w.node("batchnorm", [x] + names, [out], eps=0.0, act=1 if relu else 0)
        return out


def build(src):
    net = load_net(src)
    tf = graph_nodes(os.path.join(src, PBTXT))
    B = Builder(net, tf)
    w = B.w
    w.meta.update({
        "name": "face_res10",
        "task": "face_detection",
        "source": "OpenCV dnn face_detector: opencv_face_detector_uint8.pb + opencv_face_detector.pbtxt",
        "input": "BGR, 0..255 minus mean, NHWC; nominal 300x300, any size works",
        "mean": "104 177 123",
        "channel_order": "BGR",
    })
    w.input("data", (1, 300, 300, 3))

    x = B.affine("data_scale/BiasAdd", "data", bn="data_bn/FusedBatchNorm", scale="data_scale", relu=False)
    x = B.conv("conv1_h/Conv2D", x, stride=2, pad=3)
    x = B.affine("Relu", x, bn="conv1_bn_h/FusedBatchNorm", scale="conv1_scale_h")
    # Max over a post-ReLU input: padding with -FLT_MAX is TensorFlow's and OpenCV's -inf.
    x = B.same_pad(x, 3, 2, value=-3.4028234663852886e38)
    w.node("maxpool2d", [x], ["conv1_pool/MaxPool"], kernel=[3, 3], stride=[2, 2])
    pool = "conv1_pool/MaxPool"

    x = B.conv("layer_64_1_conv1_h/Conv2D", pool, pad=1)
    x = B.affine("Relu_1", x, scale="layer_64_1_scale2_h")
    x = B.conv("layer_64_1_conv2_h/Conv2D", x, pad=1)
    w.node("add", [x, pool], ["add"])

    r = B.affine("Relu_2", "add", bn="layer_128_1_bn1_h/FusedBatchNorm", scale="layer_128_1_scale1_h")
    e = B.conv("layer_128_1_conv_expand_h/Conv2D", r, stride=2)
    x = B.conv("layer_128_1_conv1_h/Conv2D", B.same_pad(r, 3, 2), stride=2)
    x = B.affine("Relu_3", x, scale="layer_128_1_scale2")
    x = B.conv("layer_128_1_conv2/Conv2D", x, pad=1)
    w.node("add", [x, e], ["add_1"])

    r = B.affine("Relu_4", "add_1", bn="layer_256_1_bn1/FusedBatchNorm", scale="layer_256_1_scale1")
    scale = net.getLayer("conv4_3_norm/mul_1").blobs[0].reshape(-1).astype(np.float32)
    w.param("conv4_3_norm/scale", scale)
    w.node("l2norm", [r, "conv4_3_norm/scale"], ["conv4_3_norm/mul_1"], eps=1e-10)
    e = B.conv("layer_256_1_conv_expand/Conv2D", r, stride=2)
    x = B.conv("layer_256_1_conv1/Conv2D", r, stride=2, pad=1)
    x = B.affine("Relu_5", x, scale="layer_256_1_scale2")
    x = B.conv("layer_256_1_conv2/Conv2D", x, pad=1)
    w.node("add", [x, e], ["add_2"])

    r = B.affine("Relu_6", "add_2", bn="layer_512_1_bn1/FusedBatchNorm", scale="layer_512_1_scale1")
    e = B.conv("layer_512_1_conv_expand_h/Conv2D", r)
    x = B.conv("layer_512_1_conv1_h/Conv2D", r, pad=1)
    x = B.affine("Relu_7", x, scale="layer_512_1_scale2_h")
    # TensorFlow's SpaceToBatchND / conv / BatchToSpaceND: a 3x3 conv with dilation 2.
    x = B.conv("layer_512_1_conv2_h/convolution", x, pad=2, dilation=2)
    w.node("add", [x, e], ["add_3"])
    B.affine("last_relu", "add_3", bn="last_bn_h/FusedBatchNorm", scale="last_scale_h")

    x = B.conv("conv6_1_h/Conv2D", "last_relu", out="conv6_1_h/Relu", act=1)
    B.conv("conv6_2_h/Conv2D", B.same_pad(x, 3, 2), out="conv6_2_h/Relu", stride=2, act=1)
    x = B.conv("conv7_1_h/Conv2D", "conv6_2_h/Relu", out="conv7_1_h/Relu", act=1)
    B.conv("conv7_2_h/Conv2D", x, out="conv7_2_h/Relu", stride=2, pad=1, act=1)
    x = B.conv("conv8_1_h/Conv2D", "conv7_2_h/Relu", out="conv8_1_h/Relu", act=1)
    B.conv("conv8_2_h/Conv2D", x, out="conv8_2_h/Relu", pad=1, act=1)
    x = B.conv("conv9_1_h/Conv2D", "conv8_2_h/Relu", out="conv9_1_h/Relu", act=1)
    B.conv("conv9_2_h/Conv2D", x, out="conv9_2_h/Relu", pad=1, act=1)

    # Heads: 3x3 convs whose NHWC output flattened is OpenCV's permute-to-NHWC + flatten.
    locs, confs = [], []
    for k in (tf["mbox_loc"], tf["mbox_conf"]):
        for flat in k["inputs"][:-1]:
            conv = tf[flat]["inputs"][0].replace("/BiasAdd", "/Conv2D")
            src = tf[conv]["inputs"][0]
            B.conv(conv, src, pad=1)
            w.node("flatten", [conv], [flat])
            (locs if k["name"] == "mbox_loc" else confs).append(flat)
    w.node("concat", locs, ["mbox_loc"], axis=1)
    w.node("concat", confs, ["mbox_conf"], axis=1)
    w.node("reshape", ["mbox_conf"], ["mbox_conf_reshape"], shape=[-1, 2])
    w.node("softmax", ["mbox_conf_reshape"], ["mbox_conf_softmax"])
    w.node("flatten", ["mbox_conf_softmax"], ["mbox_conf_flatten"])
    w.output("mbox_loc")
    w.output("mbox_conf_flatten")

    # Prior boxes, one line per head in concat order: source value, min size, max size,
    # step, offset, aspect ratios (flip adds 1/ar). Checked against the loc heads' order.
    heads = []
    prior_inputs = tf["mbox_priorbox"]["inputs"][:-1]
    assert len(prior_inputs) == len(locs)
    var = None
    for i, pb in enumerate(prior_inputs):
        n = tf[pb]
        assert not attr_scalar(n, "clip") and attr_scalar(n, "flip")
        v = attr_floats(n, "variance")
        assert var is None or v == var
        var = v
        src = n["inputs"][0]
        loc_src = tf[tf[locs[i]]["inputs"][0].replace("/BiasAdd", "/Conv2D")]["inputs"][0]
        assert src == loc_src, (src, loc_src)
        ars = " ".join("%g" % a for a in attr_floats(n, "aspect_ratio"))
        heads.append("%s %d %d %g %g %s" % (src, attr_scalar(n, "min_size"), attr_scalar(n, "max_size"),
                                             attr_scalar(n, "step"), attr_scalar(n, "offset"), ars))
    d = tf["detection_out"]
    assert attr_scalar(d, "code_type") == "CENTER_SIZE" and attr_scalar(d, "share_location")
    assert attr_scalar(d, "num_classes") == 2 and attr_scalar(d, "background_label_id") == 0
    w.meta["ssd.heads"] = str(len(heads))
    for i, h in enumerate(heads):
        w.meta["ssd.head%d" % i] = h
    w.meta["ssd.variance"] = " ".join("%.9g" % v for v in var)
    w.meta["ssd.confidence_threshold"] = "%.9g" % attr_scalar(d, "confidence_threshold")
    w.meta["ssd.nms_threshold"] = "%.9g" % attr_scalar(d, "nms_threshold")
    w.meta["ssd.top_k"] = str(attr_scalar(d, "top_k"))
    w.meta["ssd.keep_top_k"] = str(attr_scalar(d, "keep_top_k"))
    return B


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.path.join(HERE, "..", "..", "..", "shared", "models", "res10_ssd"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "weights", "face_res10.ferc"))
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.src, PB)):
        sys.exit(f"convert_res10: {os.path.join(args.src, PB)} not found (give --src)")
    B = build(args.src)
    B.w.save(args.out)
    print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes, {B.n_q8} q8 tensors "
          f"(max round-trip error {B.q8_err:.3g}), {B.n_f32} float tensors kept as f32")


if __name__ == "__main__":
    main()
