"""ONNX file -> ferc_graph.Graph (Debian python3-onnx). The graph keeps ONNX semantics;
ferc_graph.build() does the lowering."""

from ferc_graph import ConvertError, Graph, Node


def _attr(a):
    import onnx
    from onnx import helper, numpy_helper
    if a.type == onnx.AttributeProto.TENSOR:
        return numpy_helper.to_array(a.t)
    if a.type == onnx.AttributeProto.GRAPH or a.type == onnx.AttributeProto.GRAPHS:
        raise ConvertError(f"attribute '{a.name}' holds a subgraph (control flow is not supported)")
    v = helper.get_attribute_value(a)
    return list(v) if isinstance(v, (list, tuple)) or type(v).__name__ == "RepeatedScalarContainer" else v


def from_model(model):
    """A loaded onnx.ModelProto -> Graph."""
    from onnx import numpy_helper
    g = Graph()
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            g.opset = int(o.version)
    try:
        for t in model.graph.initializer:
            g.consts[t.name] = numpy_helper.to_array(t)
    except Exception as e:  # onnx raises several types on damaged tensors
        raise ConvertError(f"initializer '{t.name}': {e}")
    for i in model.graph.input:
        if i.name in g.consts:
            continue
        dims = []
        for d in i.type.tensor_type.shape.dim:
            dims.append(int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or None))
        if not dims:
            raise ConvertError(f"input '{i.name}' has no shape")
        g.inputs.append((i.name, dims))
    known = set(g.consts) | {n for n, _ in g.inputs}
    for k, n in enumerate(model.graph.node):
        if n.domain not in ("", "ai.onnx"):
            raise ConvertError(f"node '{n.name or k}' ({n.op_type}): operator domain '{n.domain}' is not supported")
        node = Node(n.op_type, n.input, n.output, {a.name: _attr(a) for a in n.attribute}, n.name or f"{n.op_type}_{k}")
        for t in node.inputs:
            if t and t not in known:
                raise ConvertError(f"node '{node.name}' ({node.op}): input '{t}' is not produced before it "
                                   "(the graph is not topologically sorted or is missing a tensor)")
        known.update(node.outputs)
        g.nodes.append(node)
    g.outputs = [o.name for o in model.graph.output]
    for o in g.outputs:
        if o not in known:
            raise ConvertError(f"graph output '{o}' is produced by no node")
    return g


def read(path):
    import onnx
    try:
        model = onnx.load(path)
    except Exception as e:
        raise ConvertError(f"{path}: not a readable ONNX file ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'damaged'})")
    if not model.graph.node:
        raise ConvertError(f"{path}: the ONNX graph has no nodes")
    return from_model(model)
