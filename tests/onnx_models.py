"""Small ONNX models built with ``onnx.helper`` for the importer and executor tests.

Each builder returns an ``onnx.ModelProto`` that passes the ONNX checker and
runs in onnxruntime; weights are deterministic (seeded). :data:`MODELS` maps a
name to its builder, :func:`sample_inputs` makes matching random feeds and
:func:`save` writes a model to disk. The models together cover every op of
:data:`adept_core.graph.ops.SUPPORTED_OPS` and both opset conventions for
axes, split sizes, Clip bounds, Slice bounds and Pad widths.
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: IR version of every model (onnxruntime reads it for all opsets used here).
IR_VERSION = 10

#: Integer graph inputs and the exclusive upper bound of their values (token ids, ...).
INT_INPUT_HIGH = {"token_ids": 11}


class _Builder:
    """Collects nodes and initializers; names are short and unique per model."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def w(self, name: str, shape, scale: float = 0.5, dtype=np.float32) -> str:
        self.inits.append(numpy_helper.from_array((self.rng.standard_normal(shape) * scale).astype(dtype), name))
        return name

    def c(self, name: str, value) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs, n_out: int = 1, **attrs) -> list[str] | str:
        self.count += 1
        outs = [f"{op_type.lower()}{self.count}_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=f"{op_type}_{self.count}", **attrs))
        return outs[0] if n_out == 1 else outs

    def model(self, name: str, inputs: dict, outputs: dict, opset: int) -> onnx.ModelProto:
        def info(items):
            return [helper.make_tensor_value_info(n, dtype, shape) for n, (dtype, shape) in items.items()]
        graph = helper.make_graph(self.nodes, name, info(inputs), info(outputs), self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION,
                                  producer_name="adept-tests")
        onnx.checker.check_model(model, full_check=True)
        return model

    def out(self, value: str, name: str) -> str:
        """Route ``value`` to a graph output called ``name``."""
        self.nodes.append(helper.make_node("Identity", [value], [name], name=f"out_{name}"))
        return name


F = TensorProto.FLOAT


def small_cnn() -> onnx.ModelProto:
    """Conv(bias) -> BN -> Relu -> MaxPool -> Conv(stride 2, SAME_UPPER) -> Relu -> GAP -> Flatten -> Gemm."""
    b = _Builder(1)
    x = b.op("Conv", ["image", b.w("c1.w", (8, 3, 3, 3)), b.w("c1.b", (8,))], pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    x = b.op("BatchNormalization", [x, b.w("bn.s", (8,)), b.w("bn.b", (8,)), b.w("bn.m", (8,)),
                                    b.c("bn.v", np.linspace(0.5, 2.0, 8, dtype=np.float32))], epsilon=1e-3)
    x = b.op("Relu", [x])
    x = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = b.op("Conv", [x, b.w("c2.w", (16, 8, 3, 3))], strides=[2, 2], auto_pad="SAME_UPPER")
    x = b.op("Relu", [x])
    x = b.op("GlobalAveragePool", [x])
    x = b.op("Flatten", [x], axis=1)
    x = b.op("Gemm", [x, b.w("fc.w", (10, 16)), b.w("fc.b", (10,))], transB=1, alpha=0.5, beta=2.0)
    b.out(x, "logits")
    return b.model("small_cnn", {"image": (F, [2, 3, 16, 16])}, {"logits": (F, [2, 10])}, 17)


def grouped_conv() -> onnx.ModelProto:
    """Pad -> grouped Conv (group 2) -> Clip (ReLU6, bounds as inputs) -> depthwise Conv -> AveragePool."""
    b = _Builder(2)
    x = b.op("Pad", ["x", b.c("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)), b.c("pad_value", np.float32(0.25))],
             mode="constant")
    x = b.op("Conv", [x, b.w("g.w", (8, 4, 3, 3))], group=2, kernel_shape=[3, 3])
    x = b.op("Clip", [x, b.c("lo", np.float32(0.0)), b.c("hi", np.float32(6.0))])
    x = b.op("Conv", [x, b.w("dw.w", (8, 1, 3, 3)), b.w("dw.b", (8,))], group=8, strides=[2, 2], pads=[1, 1, 1, 1],
             dilations=[1, 1])
    x = b.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2], count_include_pad=1)
    b.out(x, "y")
    return b.model("grouped_conv", {"x": (F, [1, 8, 12, 12])}, {"y": (F, [1, 8, 3, 3])}, 17)


def tiny_transformer() -> onnx.ModelProto:
    """One encoder block (opset 20): embedding Gather, attention with heads split by a Reshape whose target is
    computed from Shape, Softmax, LayerNormalization, FFN with Gelu, plus an erf-form GELU branch."""
    b = _Builder(3)
    batch, seq, d, heads = 2, 6, 16, 2
    x = b.op("Gather", [b.w("emb", (11, d)), "token_ids"], axis=0)                     # [B, S, d]
    x = b.op("Add", [x, "features"])
    shape = b.op("Shape", [x])
    bs = b.op("Slice", [shape, b.c("s0", np.array([0], np.int64)), b.c("s2", np.array([2], np.int64))])
    heads_shape = b.op("Concat", [bs, b.c("hd", np.array([heads, d // heads], np.int64))], axis=0)

    def split_heads(proj, perm):
        y = b.op("MatMul", [x, b.w(f"{proj}.w", (d, d))])
        return b.op("Transpose", [b.op("Reshape", [y, heads_shape])], perm=perm)

    q, k, v = split_heads("q", [0, 2, 1, 3]), split_heads("k", [0, 2, 3, 1]), split_heads("v", [0, 2, 1, 3])
    scale = b.op("Sqrt", [b.c("head_dim", np.float32(d // heads))])                    # folded at import
    p = b.op("Softmax", [b.op("Div", [b.op("MatMul", [q, k]), scale])], axis=-1)
    ctx = b.op("Transpose", [b.op("MatMul", [p, v])], perm=[0, 2, 1, 3])
    ctx = b.op("Reshape", [ctx, b.c("merge", np.array([0, 0, -1], np.int64))])
    x = b.op("LayerNormalization", [b.op("Add", [ctx, x]), b.w("ln1.s", (d,)), b.w("ln1.b", (d,))], axis=-1,
             epsilon=1e-5)
    h = b.op("Gelu", [b.op("Add", [b.op("MatMul", [x, b.w("ff1.w", (d, 32))]), b.w("ff1.b", (32,))])])
    # GELU written out as exporters of older opsets emit it: 0.5 * x * (1 + erf(x / sqrt(2))).
    e = b.op("Erf", [b.op("Div", [h, b.c("sqrt2", np.float32(np.sqrt(2.0)))])])
    h = b.op("Mul", [b.op("Mul", [h, b.op("Add", [e, b.c("one", np.float32(1.0))])]), b.c("half", np.float32(0.5))])
    y = b.op("Add", [b.op("MatMul", [h, b.w("ff2.w", (32, d))]), x])
    mean = b.op("ReduceMean", [y, b.c("last", np.array([-1], np.int64))], keepdims=1)  # axes as input (opset 18+)
    b.out(b.op("Sub", [y, mean]), "y")
    inputs = {"token_ids": (TensorProto.INT64, [batch, seq]), "features": (F, [batch, seq, d])}
    return b.model("tiny_transformer", inputs, {"y": (F, [batch, seq, d])}, 20)


def decomposed_ops() -> onnx.ModelProto:
    """Opset 13 conventions: LayerNorm from ReduceMean (axes attribute)/Sub/Pow/Sqrt/Div, Split and
    Squeeze/Unsqueeze with axes as inputs, Where, Expand, Cast, Tanh, Sigmoid, Concat, Slice with steps."""
    b = _Builder(4)
    x = "x"                                                                             # [2, 4, 6]
    mu = b.op("ReduceMean", [x], axes=[-1], keepdims=1)
    xc = b.op("Sub", [x, mu])
    var = b.op("ReduceMean", [b.op("Pow", [xc, b.c("two", np.float32(2.0))])], axes=[-1], keepdims=1)
    x = b.op("Div", [xc, b.op("Sqrt", [b.op("Add", [var, b.c("eps", np.float32(1e-5))])])])
    lo, hi = b.op("Split", [x, b.c("sizes", np.array([2, 4], np.int64))], n_out=2, axis=2)
    lo = b.op("Tanh", [lo])
    hi = b.op("Sigmoid", [hi])
    col = b.op("Unsqueeze", [b.op("Squeeze", [b.op("Slice", [
        hi, b.c("st", np.array([0], np.int64)), b.c("en", np.array([1], np.int64)), b.c("ax", np.array([2], np.int64))]),
        b.c("sq", np.array([2], np.int64))]), b.c("usq", np.array([-1], np.int64))])   # [2, 4, 1]
    wide = b.op("Expand", [col, b.c("to", np.array([2, 4, 2], np.int64))])
    rev = b.op("Slice", [lo, b.c("rs", np.array([-1], np.int64)), b.c("re", np.array([-100], np.int64)),
                         b.c("ra", np.array([1], np.int64)), b.c("rst", np.array([-1], np.int64))])  # reversed rows
    mask = b.op("Cast", [b.op("Cast", [b.op("Relu", [lo])], to=TensorProto.INT64)], to=TensorProto.BOOL)
    chosen = b.op("Where", [mask, wide, rev])
    b.out(b.op("Concat", [chosen, hi], axis=-1), "y")
    return b.model("decomposed_ops", {"x": (F, [2, 4, 6])}, {"y": (F, [2, 4, 6])}, 13)


def legacy_opset() -> onnx.ModelProto:
    """Opset 9 conventions: Clip bounds, Slice bounds and Pad widths as attributes; 3-D Softmax over
    ``axis=1`` (pre-13: flattened from axis 1 on); Sum of three; Dropout; Squeeze/Unsqueeze attributes."""
    b = _Builder(5)
    x = b.op("Clip", ["x"], min=-1.0, max=1.5)                                          # [2, 3, 4]
    x = b.op("Pad", [x], pads=[0, 0, 1, 0, 0, 1], mode="edge")                          # [2, 3, 6]
    x = b.op("Slice", [x], starts=[1], ends=[5], axes=[2])                              # [2, 3, 4]
    s = b.op("Softmax", [x], axis=1)
    y = b.op("Sum", [s, x, b.w("bias", (4,))])
    y = b.op("Dropout", [y], ratio=0.3)
    y = b.op("Unsqueeze", [b.op("Squeeze", [b.op("Unsqueeze", [y], axes=[0])], axes=[0])], axes=[1])
    b.out(b.op("Transpose", [y]), "y")                                                  # default perm: reversed
    return b.model("legacy_opset", {"x": (F, [2, 3, 4])}, {"y": (F, [4, 3, 1, 2])}, 9)


def lstm_model() -> onnx.ModelProto:
    """LSTM (hidden 3, bias, initial state) -> Squeeze (axes input) -> MatMul head, plus the last hidden state."""
    b = _Builder(6)
    seq, batch, inp, hidden = 5, 2, 4, 3
    y, y_h, _ = b.op("LSTM", ["x", b.w("W", (1, 4 * hidden, inp)), b.w("R", (1, 4 * hidden, hidden)),
                               b.w("B", (1, 8 * hidden)), "", b.w("h0", (1, batch, hidden)),
                               b.w("c0", (1, batch, hidden))], n_out=3, hidden_size=hidden)
    y = b.op("Squeeze", [y, b.c("axis1", np.array([1], np.int64))])                    # [seq, batch, hidden]
    b.out(b.op("MatMul", [y, b.w("head", (hidden, 2))]), "y")
    b.out(y_h, "h_last")
    outputs = {"y": (F, [seq, batch, 2]), "h_last": (F, [1, batch, hidden])}
    return b.model("lstm", {"x": (F, [seq, batch, inp])}, outputs, 17)


def gru_model() -> onnx.ModelProto:
    """Bidirectional GRU (linear_before_reset=1) -> Transpose -> Reshape to [seq, batch, 2*hidden]."""
    b = _Builder(7)
    seq, batch, inp, hidden = 4, 3, 5, 6
    y = b.op("GRU", ["x", b.w("W", (2, 3 * hidden, inp)), b.w("R", (2, 3 * hidden, hidden)),
                     b.w("B", (2, 6 * hidden))], hidden_size=hidden, direction="bidirectional", linear_before_reset=1)
    y = b.op("Transpose", [y], perm=[0, 2, 1, 3])
    b.out(b.op("Reshape", [y, b.c("to", np.array([seq, batch, -1], np.int64))]), "y")
    return b.model("gru", {"x": (F, [seq, batch, inp])}, {"y": (F, [seq, batch, 2 * hidden])}, 17)


def rnn_model() -> onnx.ModelProto:
    """Reverse Elman RNN (default Tanh) -> Reshape to [seq, batch, hidden]."""
    b = _Builder(9)
    seq, batch, inp, hidden = 5, 2, 4, 3
    y = b.op("RNN", ["x", b.w("W", (1, hidden, inp)), b.w("R", (1, hidden, hidden)), b.w("B", (1, 2 * hidden))],
             hidden_size=hidden, direction="reverse")
    b.out(b.op("Reshape", [y, b.c("to", np.array([seq, batch, hidden], np.int64))]), "y")
    return b.model("rnn", {"x": (F, [seq, batch, inp])}, {"y": (F, [seq, batch, hidden])}, 17)


def shape_arithmetic() -> onnx.ModelProto:
    """Reshape whose target is computed from Shape/Gather/Unsqueeze/Slice/Cast/Mul/Constant/ReduceProd/Concat,
    an Add of a ConstantOfShape, then Flatten."""
    b = _Builder(8)
    shape = b.op("Shape", ["x"])                                                        # [2, 3, 4, 5]
    n = b.op("Unsqueeze", [b.op("Gather", [shape, b.c("i0", np.int64(0))], axis=0), b.c("a0", np.array([0], np.int64))])
    c = b.op("Unsqueeze", [b.op("Gather", [shape, b.c("i1", np.int64(1))], axis=0), b.c("a0b", np.array([0], np.int64))])
    hw = b.op("Cast", [b.op("Mul", [b.op("Cast", [b.op("Slice", [shape, b.c("f2", np.array([2], np.int64)),
                                                                     b.c("t4", np.array([4], np.int64))])],
                                         to=TensorProto.FLOAT),
                                    b.op("Constant", [], value=numpy_helper.from_array(
                                        np.array([1.0, 1.0], np.float32)))])], to=TensorProto.INT64)
    hw = b.op("ReduceProd", [hw], keepdims=1)                                           # only ever folded
    y = b.op("Reshape", ["x", b.op("Concat", [n, c, hw], axis=0)])                      # [2, 3, 20]
    shift = b.op("ConstantOfShape", [hw], value=numpy_helper.from_array(np.array([0.25], np.float32)))
    y = b.op("Add", [b.op("Mul", [y, b.w("s", (20,))]), shift])
    y = b.op("Flatten", [y], axis=-1)                                                   # [6, 20]
    b.out(y, "y")
    return b.model("shape_arithmetic", {"x": (F, [2, 3, 4, 5])}, {"y": (F, [6, 20])}, 17)


#: name -> builder
MODELS = {
    "small_cnn": small_cnn, "grouped_conv": grouped_conv, "tiny_transformer": tiny_transformer,
    "decomposed_ops": decomposed_ops, "legacy_opset": legacy_opset, "lstm": lstm_model, "gru": gru_model,
    "rnn": rnn_model,
    "shape_arithmetic": shape_arithmetic,
}


def sample_inputs(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    """Random feeds for every graph input of ``model`` (normal floats; ints below :data:`INT_INPUT_HIGH`)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for value in model.graph.input:
        tensor = value.type.tensor_type
        shape = [d.dim_value for d in tensor.shape.dim]
        dtype = helper.tensor_dtype_to_np_dtype(tensor.elem_type)
        if np.issubdtype(dtype, np.integer):
            feeds[value.name] = rng.integers(0, INT_INPUT_HIGH.get(value.name, 2), size=shape).astype(dtype)
        else:
            feeds[value.name] = rng.standard_normal(shape).astype(dtype)
    return feeds


def save(model: onnx.ModelProto, path: str | os.PathLike) -> str:
    """Write ``model`` to ``path``; returns the path as a string."""
    onnx.save(model, os.fspath(path))
    return os.fspath(path)
