"""How many ASIC lane-operations each non-GEMM op costs.

The ASIC is a set of bf16 vector lanes; one lane-operation is one
multiply-add, compare, add or table step on one element. Costs are per
output element (or per input element for reductions), fixed here once so
that the ADEPT and the systolic schedules charge the same digital work.

The numbers are assumptions (marked as such in ``docs/scheduler.md``):

- ``TRANSCENDENTAL_OPS = 4``: a bf16 sigmoid/tanh/exp/erf as a range
  reduction + a 3-term piecewise polynomial (one lookup, three multiply-adds).
- Softmax: max (1) + subtract (1) + exp (4) + sum (1) + multiply by the
  reciprocal (1) = 8 per element.
- LayerNormalization: mean (1) + centre (1) + square-accumulate (1) +
  normalise (1) + scale-shift (1 multiply-add) = 5 per element.
- BatchNormalization at inference: one multiply-add per element.
- Pooling: one compare/add per window element per output.
- View ops (Reshape, Flatten, Squeeze, ...) cost nothing; copy ops (Concat,
  Transpose, Gather, Slice, ...) cost no lane-ops but move bytes through SRAM.
"""

from __future__ import annotations

import math

from ..errors import ShapeError, UnsupportedOpError
from ..graph.ir import DYNAMIC, Graph, Node

#: Lane-operations of one bf16 transcendental (sigmoid, tanh, exp, erf, ...). Assumption, see module doc.
TRANSCENDENTAL_OPS = 4

#: Lane-ops per output element of elementwise ops.
ELEMENTWISE_OPS = {
    "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Relu": 1, "LeakyRelu": 1, "PRelu": 1, "Clip": 1, "Max": 1,
    "Min": 1, "Neg": 1, "Abs": 1, "Where": 1, "Equal": 1, "Greater": 1, "Less": 1, "Not": 1, "Cast": 1,
    "BatchNormalization": 1, "QuantizeLinear": 1, "DequantizeLinear": 1, "Pow": 1,
    "Sigmoid": TRANSCENDENTAL_OPS, "Tanh": TRANSCENDENTAL_OPS, "Exp": TRANSCENDENTAL_OPS,
    "Log": TRANSCENDENTAL_OPS, "Erf": TRANSCENDENTAL_OPS, "Sqrt": TRANSCENDENTAL_OPS,
    "Reciprocal": TRANSCENDENTAL_OPS, "HardSigmoid": 2, "HardSwish": 3,
    # gelu(x) = 0.5 x (1 + erf(x / sqrt 2)): erf + scale + add + multiply.
    "Gelu": TRANSCENDENTAL_OPS + 3,
}
#: Lane-ops per *input* element of row-wise ops.
ROWWISE_OPS = {
    "Softmax": 4 + TRANSCENDENTAL_OPS, "LogSoftmax": 4 + TRANSCENDENTAL_OPS, "LayerNormalization": 5,
    "ReduceMean": 1, "ReduceSum": 1, "ReduceMax": 1, "GlobalAveragePool": 1, "GlobalMaxPool": 1, "ArgMax": 1,
}
#: Ops that move no data and compute nothing (views, metadata).
VIEW_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Shape", "Constant"})
#: Ops that copy their output through SRAM but do no arithmetic.
COPY_OPS = frozenset({"Concat", "Transpose", "Gather", "Slice", "Split", "Expand", "Pad", "Tile"})
#: Lane-ops per output element of DeformConv's sampling (DeformSample, adept_core/asic/deform.py).
#: Assumption: two coordinate adds, floor and fraction (2), four corner weights (4), the four-term
#: weighted sum (4 multiply-adds) and the mask multiply (1) = 13.
DEFORM_SAMPLE_OPS = 13
#: Windowed ops: lane-ops = window size per output element.
POOL_OPS = frozenset({"MaxPool", "AveragePool"})

SUPPORTED_ASIC_OPS = (frozenset(ELEMENTWISE_OPS) | frozenset(ROWWISE_OPS) | VIEW_OPS | COPY_OPS | POOL_OPS
                      | {"Conv", "DeformSample"})


def _elements(graph: Graph, names) -> int:
    total = 0
    for name in names:
        if name and not graph.is_weight(name):
            shape = graph.shape(name)
            if shape is None or DYNAMIC in shape:
                raise ShapeError(f"value {name!r} has a shape bound only at run time ({shape}); the cost model "
                                 "needs static shapes (import with input_shapes / constant shape inputs)")
            total += math.prod(shape)
    return total


def asic_node_ops(node: Node, graph: Graph) -> tuple[int, int]:
    """Lane-operations and MACs of an op that runs entirely on the ASIC.

    Returns
    -------
    (ops, macs) : tuple of int
        Lane-operations, and how many of them are multiply-accumulates of a
        convolution (depthwise convolution runs here; see ``graph.lowering``).

    Raises
    ------
    UnsupportedOpError
        For an op the cost model has no count for.
    """
    op = node.op
    out = _elements(graph, node.outputs)
    if op in ELEMENTWISE_OPS:
        return ELEMENTWISE_OPS[op] * out, 0
    if op in ROWWISE_OPS:
        return ROWWISE_OPS[op] * _elements(graph, node.inputs[:1]), 0
    if op in POOL_OPS:
        kh, kw = node.attrs["kernel_shape"]
        return kh * kw * out, 0
    if op == "Conv":  # depthwise: every MAC is one lane multiply-add
        _, cin_g, kh, kw = graph.shape(node.inputs[1])
        macs = out * cin_g * kh * kw
        return macs, macs
    if op == "DeformSample":
        return DEFORM_SAMPLE_OPS * out, 0
    if op in VIEW_OPS or op in COPY_OPS:
        return 0, 0
    if "onnx_opset" in node.attrs:  # an op run on a reference kernel: one lane-op per element (assumption)
        return max(out, _elements(graph, node.inputs)), 0
    raise UnsupportedOpError(
        f"node {node.name!r}: op {op!r} has no ASIC cost; supported ops: {', '.join(sorted(SUPPORTED_ASIC_OPS))}"
    )


def moves_data(op: str) -> bool:
    """True when an ASIC op reads its inputs and writes its output through SRAM."""
    return op not in VIEW_OPS


def recurrent_step_ops(op: str, hidden: int) -> int:
    """Lane-ops of one recurrent cell step for one (batch row, direction), excluding the GEMMs.

    LSTM: add input and recurrent projections + bias (2 x 4H), three sigmoids
    and one tanh on the gates (4H transcendentals), ``c = f*c + i*g`` (3H),
    ``tanh(c)`` (H transcendentals), ``h = o*tanh(c)`` (H).
    GRU: add projections + biases (2 x 3H), two sigmoids (2H transcendentals),
    ``r * (R h + b)`` and the add into the candidate (2H), tanh (H
    transcendentals), ``h = (1-z)*n + z*h`` (3H).
    RNN: add projections + biases (3H), tanh (H transcendentals).
    """
    t = TRANSCENDENTAL_OPS
    if op == "LSTM":
        return 8 * hidden + 4 * hidden * t + 3 * hidden + hidden * t + hidden
    if op == "GRU":
        return 6 * hidden + 2 * hidden * t + 2 * hidden + hidden * t + 3 * hidden
    if op == "RNN":  # add projections + both biases (3H), tanh (H transcendentals)
        return 3 * hidden + hidden * t
    raise AssertionError(op)
