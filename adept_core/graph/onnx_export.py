"""Graph -> ONNX: write an adept Graph (the zoo's, a hand-built one) as an ONNX model.

Why: the zoo (ResNet-50, BERT-large, RNN-T) is built in code with seeded random weights
(:class:`~adept_core.graph.ir.LazyWeight`), so it has no ONNX file, and fp32 mode could never be
compared with onnxruntime on it (issue 9, section 6). :func:`to_onnx` writes the Graph at its
static shapes; ``from_onnx(to_onnx(g))`` gives the same fp32 outputs (``tests/test_onnx_export.py``).

What it does: Graph nodes are already ONNX ops with ONNX semantics (:mod:`adept_core.graph.ops`);
only the canonical form differs. The parameters the canonical form keeps as attributes but ONNX
(opset :data:`OPSET`) passes as constant inputs become int64 / float initializers named
``<node>.<parameter>`` (Slice bounds, Reshape / Expand targets, Squeeze / Unsqueeze axes, Split
sizes, ReduceMean axes, Pad widths and value, Clip bounds); ``Cast.to`` becomes the ONNX type enum.
Every weight is materialised (a LazyWeight's recipe gives the same bits each time) and written as
an initializer, so a BERT-large export holds its 335 M parameters in memory (1.3 GB).

Refused with :class:`~adept_core.errors.UnsupportedOpError`: nodes the importer left in ONNX form
for the reference kernels (they carry ``onnx_opset``: their inputs and attributes are those of
their own opset, which one model cannot mix), and ops outside :data:`EXPORTED_OPS`.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedOpError
from .ir import Graph
from .ops import GRAPH_OPS

#: Opset of the exported model: 20 is the first with ``Gelu`` (BERT's activation).
OPSET = 20

#: Canonical attributes that ONNX passes as constant inputs: op -> [(attribute, input position, dtype)].
ATTRS_AS_INPUTS = {
    "Slice": [("starts", 1, "int64"), ("ends", 2, "int64"), ("axes", 3, "int64"), ("steps", 4, "int64")],
    "Reshape": [("shape", 1, "int64")],
    "Expand": [("shape", 1, "int64")],
    "Squeeze": [("axes", 1, "int64")],
    "Unsqueeze": [("axes", 1, "int64")],
    "Split": [("split", 1, "int64")],
    "ReduceMean": [("axes", 1, "int64")],
    "Pad": [("pads", 1, "int64"), ("value", 2, "float32")],
    "Clip": [("min", 1, "float32"), ("max", 2, "float32")],
}

#: Ops :func:`to_onnx` writes: every op a Graph may hold (the reference-kernel ones only in canonical form).
EXPORTED_OPS = GRAPH_OPS


def _onnx_type(dtype) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _node(node, initializers: list, onnx) -> "onnx.NodeProto":
    from onnx import numpy_helper

    attrs = dict(node.attrs)
    inputs = list(node.inputs)
    spec = ATTRS_AS_INPUTS.get(node.op)
    if spec:  # these ops hold one data input in canonical form; the rest are the parameters
        extra = {}
        for attr, position, dtype in spec:
            value = attrs.pop(attr, None)
            if value is None or (node.op == "Clip" and np.isinf(value)) or (node.op == "Pad" and attr == "value"
                                                                           and value == 0):
                extra[position] = ""  # omitted optional input (unbounded Clip, ONNX's default pad value 0)
                continue
            name = f"{node.name}.{attr}"
            initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
            extra[position] = name
        inputs = inputs[:1] + [extra.get(p, "") for p in range(1, max(extra) + 1)]
        while inputs and inputs[-1] == "":
            inputs.pop()  # trailing omitted optional inputs
    if node.op == "Cast":
        attrs["to"] = _onnx_type(attrs["to"])
    return onnx.helper.make_node(node.op, inputs, list(node.outputs), name=node.name, **attrs)


def to_onnx(graph: Graph, opset: int = OPSET) -> "onnx.ModelProto":
    """``graph`` as an ONNX ModelProto (opset ``opset``), weights as initializers, static shapes declared."""
    import onnx
    from onnx import helper, numpy_helper

    graph.validate()
    for node in graph.nodes:
        if "onnx_opset" in node.attrs:
            raise UnsupportedOpError(
                f"graph {graph.name!r}: node {node.name!r} ({node.op}) is in the ONNX form of opset "
                f"{node.attrs['onnx_opset']} (a reference-kernel node); to_onnx writes canonical nodes only")
        if node.op not in EXPORTED_OPS:
            raise UnsupportedOpError(f"graph {graph.name!r}: node {node.name!r}: op {node.op!r} cannot be exported; "
                                     f"exported: {', '.join(sorted(EXPORTED_OPS))}")
    initializers: list = []
    nodes = [_node(node, initializers, onnx) for node in graph.nodes]
    used = {name for node in graph.nodes for name in node.inputs} | set(graph.outputs)
    weights = [numpy_helper.from_array(np.ascontiguousarray(graph.weight(name)), name)
               for name in graph.weights if name in used]
    inputs = [helper.make_tensor_value_info(name, _onnx_type(graph.input_dtypes.get(name, "float32")), list(shape))
              for name, shape in graph.inputs.items()]
    out_dtypes = graph.meta.get("output_dtypes", {})
    outputs = [helper.make_tensor_value_info(name, _onnx_type(out_dtypes.get(name, "float32")),
                                             list(graph.shape(name))) for name in graph.outputs]
    body = helper.make_graph(nodes, graph.name, inputs, outputs, initializer=weights + initializers)
    model = helper.make_model(body, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="adept_core.graph.onnx_export")
    model.ir_version = min(model.ir_version, 10)  # onnxruntime 1.2x reads IR <= 10
    onnx.checker.check_model(model)
    return model
