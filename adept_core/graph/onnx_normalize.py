"""Per-op rewriting of ONNX nodes into the Graph's canonical form (:mod:`adept_core.graph.ops`).

Each normaliser receives a :class:`NodeView` (one ONNX node with its
attributes as plain Python values, its input and output shapes, and the
values of its constant inputs) and returns Graph nodes. This is where opset
differences disappear: axes given as an attribute (old opsets) or as a
constant input (new opsets) both end up as a ``axes`` attribute, Clip bounds
given either way become ``min``/``max``, and pre-13 Softmax (which flattens
everything from ``axis`` on) becomes a one-axis Softmax between Reshapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from onnx import TensorProto, helper

from ..errors import ShapeError, UnsupportedOpError
from .ir import Node
from .onnx_conv_rewrite import conv_nd, conv_transpose
from .onnx_deform_conv import deform_conv
from .onnx_einsum import RunOnReference, einsum
from .onnx_integer import integer_product
from .onnx_more_ops import batch_major_recurrent, training_mode


@dataclass
class NodeView:
    """One ONNX node as the normalisers see it.

    Attributes
    ----------
    consts : list
        Per input, its value when it is a constant (initializer or folded), else ``None``.
    new_value : callable
        ``new_value(suffix, shape) -> name`` registers an intermediate value a rewrite needs.
    """

    name: str
    op: str
    opset: int
    inputs: list[str]
    outputs: list[str]
    attrs: dict
    in_shapes: list
    out_shapes: list
    consts: list
    new_value: Callable[[str, tuple], str] = field(repr=False)
    #: ``new_const(suffix, array) -> name`` registers a constant a rewrite computed (a transformed weight).
    new_const: Callable[[str, np.ndarray], str] | None = field(default=None, repr=False)
    #: ONNX element type of each output (0 when unused).
    out_elem_types: list = field(default_factory=list)
    #: ONNX element type of each input (0 when absent).
    in_elem_types: list = field(default_factory=list)

    def derived(self, op: str, inputs: list, in_shapes: list, attrs: dict, consts: list) -> "NodeView":
        """The view of a node a rewrite produces in this node's place (same name and outputs)."""
        return NodeView(self.name, op, self.opset, list(inputs), list(self.outputs), dict(attrs), list(in_shapes),
                        list(self.out_shapes), list(consts) + [None] * (len(inputs) - len(consts)),
                        self.new_value, self.new_const)

    def const(self, i: int, what: str) -> np.ndarray | None:
        """Constant input ``i`` (``None`` if absent); a non-constant one is unsupported."""
        if i >= len(self.inputs) or not self.inputs[i]:
            return None
        if self.consts[i] is None:
            raise UnsupportedOpError(
                f"node {self.name!r} ({self.op}): input {i} ({what}, {self.inputs[i]!r}) must be a constant "
                "known at import time, but it is computed from the model's inputs")
        return self.consts[i]

    def ints(self, i: int, attr: str, what: str) -> list[int] | None:
        """A list parameter given as attribute ``attr`` (old opsets) or constant input ``i`` (new)."""
        if attr in self.attrs:
            return [int(v) for v in self.attrs[attr]]
        value = self.const(i, what)
        return None if value is None else [int(v) for v in np.asarray(value).reshape(-1)]

    def rank(self, i: int = 0) -> int:
        return len(self.in_shapes[i])

    def unsupported(self, why: str) -> UnsupportedOpError:
        return UnsupportedOpError(f"node {self.name!r} ({self.op}): {why}")

    def node(self, attrs: dict, inputs=None, outputs=None, op=None) -> Node:
        inputs = list(self.inputs if inputs is None else inputs)
        while inputs and not inputs[-1]:
            inputs.pop()
        return Node(self.name, op or self.op, tuple(inputs), tuple(self.outputs if outputs is None else outputs), attrs)


def _axis(v: NodeView, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise ShapeError(f"node {v.name!r} ({v.op}): axis {axis} out of range for rank {rank}")
    return axis % rank


def _passthrough(v: NodeView) -> list[Node]:
    return [v.node(dict(v.attrs))]


def _spatial_pads(v: NodeView, kernel: list[int], strides: list[int], dilations: list[int]) -> list[int]:
    """Explicit ``pads`` (auto_pad resolved) of a 2-D Conv/pool."""
    auto = v.attrs.get("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        return [int(p) for p in v.attrs.get("pads", [0, 0, 0, 0])]
    if auto == "VALID":
        return [0, 0, 0, 0]
    begin, end = [], []
    for size, k, s, d in zip(v.in_shapes[0][2:], kernel, strides, dilations):
        total = max(0, (math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size)
        small, large = total // 2, total - total // 2
        begin.append(small if auto == "SAME_UPPER" else large)
        end.append(large if auto == "SAME_UPPER" else small)
    return begin + end


def _window(v: NodeView, kernel: list[int]) -> dict:
    if v.rank() != 4 or len(kernel) != 2:
        raise v.unsupported(f"only 2-D (NCHW) windows are supported, got input rank {v.rank()}")
    strides = [int(s) for s in v.attrs.get("strides", [1, 1])]
    dilations = [int(d) for d in v.attrs.get("dilations", [1, 1])]
    return {"kernel_shape": kernel, "strides": strides, "pads": _spatial_pads(v, kernel, strides, dilations),
            "dilations": dilations}


def _conv(v: NodeView) -> list[Node]:
    if v.rank() != 4:
        return conv_nd(v, _conv)
    kernel = [int(k) for k in v.attrs.get("kernel_shape", v.in_shapes[1][2:])]
    return [v.node({**_window(v, kernel), "group": int(v.attrs.get("group", 1))})]


def _conv_transpose(v: NodeView) -> list[Node]:
    return conv_transpose(v, _conv)


_FLOAT_TYPES = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16)


def _pool(v: NodeView) -> list[Node]:
    if v.in_elem_types and v.in_elem_types[0] not in _FLOAT_TYPES:
        # The ASIC's pool kernels pad with -inf and compare in float32; an integer MaxPool is exact in its
        # own type (issue 9 section 3) on its reference kernel (a max selects, it never rounds).
        raise RunOnReference(f"{v.op} {v.name!r} of an integer tensor: reference kernel, exact in its type")
    if len(v.outputs) > 1 and v.outputs[1]:
        raise v.unsupported("the Indices output of MaxPool is not supported")
    attrs = {**_window(v, [int(k) for k in v.attrs["kernel_shape"]]), "ceil_mode": int(v.attrs.get("ceil_mode", 0))}
    if v.op == "AveragePool":
        if any(d != 1 for d in attrs["dilations"]):
            raise v.unsupported("dilated AveragePool runs on its reference kernel")
        del attrs["dilations"]
        attrs["count_include_pad"] = int(v.attrs.get("count_include_pad", 0))
    return [v.node(attrs, outputs=v.outputs[:1])]


def _gemm(v: NodeView) -> list[Node]:
    return [v.node({"alpha": float(v.attrs.get("alpha", 1.0)), "beta": float(v.attrs.get("beta", 1.0)),
                    "transA": int(v.attrs.get("transA", 0)), "transB": int(v.attrs.get("transB", 0))})]


def _recurrent(v: NodeView) -> list[Node]:
    if int(v.attrs.get("layout", 0)) != 0:
        return batch_major_recurrent(v, _recurrent)
    if "activations" in v.attrs or "clip" in v.attrs or int(v.attrs.get("input_forget", 0)):
        raise v.unsupported("only the default activations, no clip and input_forget=0 are supported")
    inputs = list(v.inputs[:8])
    if len(inputs) > 4 and inputs[4]:
        lengths = v.const(4, "sequence_lens")
        if not np.all(lengths == v.in_shapes[0][0]):
            raise v.unsupported("sequence_lens shorter than the sequence are not supported")
        inputs[4] = ""
    hidden = int(v.attrs.get("hidden_size", v.in_shapes[2][-1]))
    attrs = {"hidden_size": hidden, "direction": v.attrs.get("direction", "forward"), "layout": 0}
    if v.op == "GRU":
        attrs["linear_before_reset"] = int(v.attrs.get("linear_before_reset", 0))
    return [v.node(attrs, inputs)]


def _clip(v: NodeView) -> list[Node]:
    if v.in_elem_types and v.in_elem_types[0] not in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE,
                                                      TensorProto.BFLOAT16):
        raise v.unsupported("integer Clip runs on its reference kernel (exact in the input's type)")
    bounds = []
    for i, key, default in ((1, "min", -math.inf), (2, "max", math.inf)):
        value = v.attrs.get(key)
        if value is None:
            const = v.const(i, key)
            value = default if const is None else float(np.asarray(const).reshape(()))
        bounds.append(float(value))
    return [v.node({"min": bounds[0], "max": bounds[1]}, v.inputs[:1])]


def _softmax(v: NodeView) -> list[Node]:
    rank = v.rank()
    default = -1 if v.opset >= 13 else 1
    axis = _axis(v, int(v.attrs.get("axis", default)), rank)
    if v.opset >= 13 or axis == rank - 1:
        return [v.node({"axis": axis})]
    # Before opset 13 Softmax normalises over all dims from `axis` on, flattened.
    shape = v.in_shapes[0]
    flat = (math.prod(shape[:axis]), math.prod(shape[axis:]))
    x2, y2 = v.new_value("flat_in", flat), v.new_value("flat_out", flat)
    return [
        Node(f"{v.name}/flatten", "Reshape", (v.inputs[0],), (x2,), {"shape": list(flat)}),
        Node(v.name, "Softmax", (x2,), (y2,), {"axis": 1}),
        Node(f"{v.name}/unflatten", "Reshape", (y2,), (v.outputs[0],), {"shape": list(shape)}),
    ]


def _layernorm(v: NodeView) -> list[Node]:
    if any(v.outputs[1:]):
        raise v.unsupported("the Mean / InvStdDev outputs are not in the canonical form")
    axis = _axis(v, int(v.attrs.get("axis", -1)), v.rank())
    return [v.node({"axis": axis, "epsilon": float(v.attrs.get("epsilon", 1e-5))}, outputs=v.outputs[:1])]


def _batchnorm(v: NodeView) -> list[Node]:
    if int(v.attrs.get("training_mode", 0)) or int(v.attrs.get("spatial", 1)) != 1:
        raise v.unsupported("only inference-mode, spatial BatchNormalization is supported")
    return [v.node({"epsilon": float(v.attrs.get("epsilon", 1e-5))}, outputs=v.outputs[:1])]


def _to_shape(v: NodeView) -> list[Node]:
    """Reshape / Expand: the target becomes the exact (inferred) output shape."""
    return [v.node({"shape": list(v.out_shapes[0])}, v.inputs[:1])]


def _transpose(v: NodeView) -> list[Node]:
    perm = v.attrs.get("perm", list(range(v.rank()))[::-1])
    return [v.node({"perm": [int(p) for p in perm]})]


def _axis_only(default: int) -> Callable[[NodeView], list[Node]]:
    def normalise(v: NodeView) -> list[Node]:
        return [v.node({"axis": _axis(v, int(v.attrs.get("axis", default)), v.rank())})]
    return normalise


def _flatten(v: NodeView) -> list[Node]:
    axis = int(v.attrs.get("axis", 1))
    return [v.node({"axis": axis + v.rank() if axis < 0 else axis})]


def _slice(v: NodeView) -> list[Node]:
    starts = v.ints(1, "starts", "starts")
    ends = v.ints(2, "ends", "ends")
    axes = v.ints(3, "axes", "axes") or list(range(len(starts)))
    steps = v.ints(4, "steps", "steps") or [1] * len(starts)
    shape = v.in_shapes[0]
    out = {"starts": [], "ends": [], "axes": [], "steps": []}
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = _axis(v, axis, len(shape))
        dim = shape[axis]
        start, end = (start + dim if start < 0 else start), (end + dim if end < 0 else end)
        if step > 0:
            start, end = min(max(start, 0), dim), min(max(end, 0), dim)
        else:  # an end before index 0 is written -dim-1, which Python/NumPy slicing reads the same way
            start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
            end = -dim - 1 if end == -1 else end
        for key, value in zip(out, (start, end, axis, step)):
            out[key].append(value)
    return [v.node(out, v.inputs[:1])]


def _pad(v: NodeView) -> list[Node]:
    if v.attrs.get("mode", "constant") not in ("constant", "reflect", "edge"):
        raise RunOnReference(f"Pad {v.name!r} mode {v.attrs['mode']!r}: reference kernel")  # 'wrap'
    rank = v.rank()
    pads = v.ints(1, "pads", "pads")
    value = v.attrs.get("value")
    if value is None:
        const = v.const(2, "constant_value")
        value = 0.0 if const is None else float(np.asarray(const).reshape(()))
    axes = v.const(3, "axes")
    if axes is not None:
        full = [0] * (2 * rank)
        for j, axis in enumerate(axes):
            axis = _axis(v, axis, rank)
            full[axis], full[axis + rank] = pads[j], pads[j + len(axes)]
        pads = full
    return [v.node({"pads": pads, "mode": v.attrs.get("mode", "constant"), "value": float(value)}, v.inputs[:1])]


def _squeeze(v: NodeView) -> list[Node]:
    axes = v.ints(1, "axes", "axes")
    if axes is None:
        axes = [i for i, d in enumerate(v.in_shapes[0]) if d == 1]
    return [v.node({"axes": sorted(_axis(v, a, v.rank()) for a in axes)}, v.inputs[:1])]


def _unsqueeze(v: NodeView) -> list[Node]:
    rank = len(v.out_shapes[0])
    return [v.node({"axes": sorted(_axis(v, a, rank) for a in v.ints(1, "axes", "axes"))}, v.inputs[:1])]


def _split(v: NodeView) -> list[Node]:
    axis = _axis(v, int(v.attrs.get("axis", 0)), v.rank())
    return [v.node({"axis": axis, "split": [int(s[axis]) for s in v.out_shapes]}, v.inputs[:1])]


def _reduce_mean(v: NodeView) -> list[Node]:
    axes = v.ints(1, "axes", "axes")
    keepdims = int(v.attrs.get("keepdims", 1))
    if not axes:
        if int(v.attrs.get("noop_with_empty_axes", 0)):
            return [v.node({}, v.inputs[:1], op="Identity")]
        axes = list(range(v.rank()))
    return [v.node({"axes": sorted(_axis(v, a, v.rank()) for a in axes), "keepdims": keepdims}, v.inputs[:1])]


#: Element types the ASIC's own Cast handles; the others (bfloat16, float8, 4-/2-bit, string) and any
#: explicit ``saturate`` / ``round_mode`` run on the reference kernel, which implements ONNX's exact
#: rounding and saturation rules for them.
_NATIVE_CAST = {TensorProto.BOOL, TensorProto.INT8, TensorProto.INT16, TensorProto.INT32, TensorProto.INT64,
                TensorProto.UINT8, TensorProto.UINT16, TensorProto.UINT32, TensorProto.UINT64,
                TensorProto.FLOAT16, TensorProto.FLOAT, TensorProto.DOUBLE}


def _cast(v: NodeView) -> list[Node]:
    to = int(v.attrs["to"])
    source = v.in_elem_types[0] if v.in_elem_types else TensorProto.FLOAT
    if to not in _NATIVE_CAST or source not in _NATIVE_CAST or set(v.attrs) - {"to"}:
        raise RunOnReference(f"Cast {v.name!r} to element type {to}: reference kernel")
    return [v.node({"to": np.dtype(helper.tensor_dtype_to_np_dtype(to)).name})]


def _gelu(v: NodeView) -> list[Node]:
    return [v.node({"approximate": v.attrs.get("approximate", "none")})]


def _sum(v: NodeView) -> list[Node]:
    if len(v.inputs) == 1:
        return [v.node({}, op="Identity")]
    nodes, acc = [], v.inputs[0]
    for i, other in enumerate(v.inputs[1:], start=1):
        last = i == len(v.inputs) - 1
        out = v.outputs[0] if last else v.new_value(f"partial{i}", v.out_shapes[0])
        nodes.append(Node(v.name if last else f"{v.name}/add{i}", "Add", (acc, other), (out,), {}))
        acc = out
    return nodes


def _dropout(v: NodeView) -> list[Node]:
    training_mode(v)  # a training-mode Dropout runs on its reference kernel (seeded) or is refused
    if len(v.outputs) > 1 and v.outputs[1]:
        raise v.unsupported("the mask output of Dropout is not in the canonical form")
    return [v.node({}, v.inputs[:1], v.outputs[:1], op="Identity")]


def _matmul(v: NodeView) -> list[Node]:
    """A 1-D operand is promoted to a matrix and the added axis dropped again (NumPy matmul rules), so
    the photonic MatMul runner only ever sees rank >= 2."""
    a_shape, b_shape = v.in_shapes[0], v.in_shapes[1]
    if len(a_shape) >= 2 and len(b_shape) >= 2:
        return [v.node({})]
    nodes, ins = [], list(v.inputs[:2])
    a2 = (1,) + tuple(a_shape) if len(a_shape) == 1 else tuple(a_shape)
    b2 = tuple(b_shape) + (1,) if len(b_shape) == 1 else tuple(b_shape)
    for j, (shape, shape2) in enumerate(((a_shape, a2), (b_shape, b2))):
        if len(shape) == 1:
            ins[j] = v.new_value(f"as_matrix{j}", shape2)
            nodes.append(Node(f"{v.name}/as_matrix{j}", "Reshape", (v.inputs[j],), (ins[j],), {"shape": list(shape2)}))
    out_shape = tuple(v.out_shapes[0])
    batch = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
    product = v.new_value("product", batch + (a2[-2], b2[-1]))
    nodes.append(Node(v.name, "MatMul", tuple(ins), (product,), {}))
    nodes.append(Node(f"{v.name}/drop_axis", "Reshape", (product,), (v.outputs[0],), {"shape": list(out_shape)}))
    return nodes


#: op type -> normaliser. Ops not listed here pass through with their attributes.
NORMALIZERS: dict[str, Callable[[NodeView], list[Node]]] = {
    "Conv": _conv, "ConvTranspose": _conv_transpose, "MaxPool": _pool, "AveragePool": _pool, "Gemm": _gemm,
    "LSTM": _recurrent, "GRU": _recurrent, "RNN": _recurrent, "Einsum": einsum,
    **{op: (lambda v: integer_product(v, _conv)) for op in ("MatMulInteger", "ConvInteger", "QLinearMatMul",
                                                            "QLinearConv")},
    "Clip": _clip, "Gelu": _gelu, "Softmax": _softmax, "LayerNormalization": _layernorm,
    "BatchNormalization": _batchnorm, "Reshape": _to_shape, "Expand": _to_shape, "Transpose": _transpose,
    "Concat": _axis_only(0), "Gather": _axis_only(0), "Flatten": _flatten, "Slice": _slice, "Pad": _pad,
    "Squeeze": _squeeze, "Unsqueeze": _unsqueeze, "Split": _split, "ReduceMean": _reduce_mean, "Cast": _cast,
    "Sum": _sum, "Dropout": _dropout, "MatMul": _matmul, "DeformConv": lambda v: deform_conv(v, _conv),
}


def normalize(v: NodeView) -> list[Node]:
    """Graph nodes in canonical form for one ONNX node."""
    return NORMALIZERS.get(v.op, _passthrough)(v)
