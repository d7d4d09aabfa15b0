"""A small Graph builder shared by the zoo models: adds nodes with their exact output shapes.

Every helper takes value names, appends one ONNX-named node in the canonical
form of :mod:`adept_core.graph.ops` (shape-like parameters such as Reshape
targets and Squeeze axes are attributes holding plain Python values) and
records the shape of every output, so a built Graph passes
:meth:`Graph.validate` by construction.

Weights are :class:`LazyWeight` recipes whose seed is derived from the model
name and the weight name (:func:`weight_seed`): the same weight gets the same
bits whatever the batch size or sequence length the model was built for.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from ...errors import ConfigError, ShapeError
from ..ir import Graph, LazyWeight, Node, broadcast_shapes
from ..lowering import conv_output_hw


def weight_seed(model: str, weight: str) -> int:
    """Deterministic 63-bit seed for weight ``weight`` of model ``model``."""
    digest = hashlib.sha256(f"{model}/{weight}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def positive_int(name: str, value, limit: int | None = None) -> int:
    """``value`` as an int >= 1 (and <= ``limit``), else a ConfigError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if limit is not None and value > limit:
        raise ConfigError(f"{name} must be at most {limit}, got {value!r}")
    return int(value)


class GraphBuilder:
    """Accumulates inputs, weights, nodes and shapes of one model."""

    def __init__(self, model: str):
        self.model = model
        self.inputs: dict[str, tuple[int, ...]] = {}
        self.input_dtypes: dict[str, str] = {}
        self.nodes: list[Node] = []
        self.weights: dict = {}
        self.shapes: dict[str, tuple[int, ...]] = {}

    # -- values -------------------------------------------------------------------------------
    def input(self, name: str, shape: tuple[int, ...], dtype: str = "float32") -> str:
        self.inputs[name] = tuple(shape)
        self.input_dtypes[name] = dtype
        self.shapes[name] = tuple(shape)
        return name

    def weight(self, name: str, shape: tuple[int, ...], init: str = "he_normal", fan_in: int | None = None) -> str:
        """A lazy weight; ``he_normal`` uses ``fan_in`` (default: product of all but the first dim)."""
        shape = tuple(int(d) for d in shape)
        if fan_in is None:
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else shape[0]
        self.weights[name] = LazyWeight(shape, init, weight_seed(self.model, name), fan_in=fan_in)
        self.shapes[name] = shape
        return name

    def const(self, name: str, value) -> str:
        """A small concrete constant (scalars, index tables)."""
        array = np.asarray(value)
        self.weights[name] = array
        self.shapes[name] = array.shape
        return name

    def node(self, op: str, name: str, inputs, out_shapes, attrs: dict | None = None, outputs=None) -> list[str]:
        """Append a node; outputs are named ``name`` (one output) or ``name:i``."""
        out_shapes = [tuple(int(d) for d in s) for s in out_shapes]
        if outputs is None:
            outputs = [name] if len(out_shapes) == 1 else [f"{name}:{i}" for i in range(len(out_shapes))]
        self.nodes.append(Node(name, op, tuple(inputs), tuple(outputs), dict(attrs or {})))
        for out, shape in zip(outputs, out_shapes):
            self.shapes[out] = shape
        return list(outputs)

    def unary(self, op: str, name: str, x: str, attrs: dict | None = None) -> str:
        return self.node(op, name, [x], [self.shapes[x]], attrs)[0]

    def binary(self, op: str, name: str, a: str, b: str) -> str:
        return self.node(op, name, [a, b], [broadcast_shapes(self.shapes[a], self.shapes[b], name)])[0]

    # -- layers -------------------------------------------------------------------------------
    def conv(self, name: str, x: str, cout: int, k: int, stride: int = 1, pad: int = 0) -> str:
        b, cin, h, w = self.shapes[x]
        wname = self.weight(f"{name}.weight", (cout, cin, k, k))
        attrs = {"kernel_shape": [k, k], "strides": [stride, stride], "pads": [pad] * 4, "dilations": [1, 1], "group": 1}
        ho, wo = conv_output_hw(h, w, attrs)
        return self.node("Conv", name, [x, wname], [(b, cout, ho, wo)], attrs)[0]

    def batchnorm(self, name: str, x: str, epsilon: float = 1e-5) -> str:
        c = self.shapes[x][1]
        params = [
            self.weight(f"{name}.{p}", (c,), init)
            for p, init in (("scale", "ones"), ("bias", "zeros"), ("mean", "zeros"), ("var", "ones"))
        ]
        return self.node("BatchNormalization", name, [x, *params], [self.shapes[x]], {"epsilon": epsilon})[0]

    def pool(self, op: str, name: str, x: str, k: int, stride: int, pad: int) -> str:
        b, c, h, w = self.shapes[x]
        attrs = {"kernel_shape": [k, k], "strides": [stride, stride], "pads": [pad] * 4, "dilations": [1, 1], "ceil_mode": 0}
        ho, wo = conv_output_hw(h, w, attrs)
        return self.node(op, name, [x], [(b, c, ho, wo)], attrs)[0]

    def linear(self, name: str, x: str, n: int, bias: bool = True) -> str:
        """``x @ W + b`` as MatMul (+ Add) with ``W`` of shape ``[k, n]`` (inputs of any rank)."""
        k = self.shapes[x][-1]
        wname = self.weight(f"{name}.weight", (k, n), fan_in=k)
        y = self.node("MatMul", name, [x, wname], [self.shapes[x][:-1] + (n,)])[0]
        if bias:
            y = self.binary("Add", f"{name}.add_bias", y, self.weight(f"{name}.bias", (n,), "zeros"))
        return y

    def layernorm(self, name: str, x: str, epsilon: float) -> str:
        d = self.shapes[x][-1]
        scale = self.weight(f"{name}.scale", (d,), "ones")
        bias = self.weight(f"{name}.bias", (d,), "zeros")
        return self.node("LayerNormalization", name, [x, scale, bias], [self.shapes[x]],
                         {"axis": len(self.shapes[x]) - 1, "epsilon": epsilon})[0]

    def reshape(self, name: str, x: str, shape: tuple[int, ...]) -> str:
        if math.prod(shape) != math.prod(self.shapes[x]):
            raise ShapeError(f"{name}: cannot reshape {self.shapes[x]} to {shape}")
        return self.node("Reshape", name, [x], [shape], {"shape": list(shape)})[0]

    def transpose(self, name: str, x: str, perm: tuple[int, ...]) -> str:
        shape = tuple(self.shapes[x][p] for p in perm)
        return self.node("Transpose", name, [x], [shape], {"perm": list(perm)})[0]

    def squeeze(self, name: str, x: str, axes: list[int]) -> str:
        shape = tuple(d for i, d in enumerate(self.shapes[x]) if i not in axes)
        return self.node("Squeeze", name, [x], [shape], {"axes": list(axes)})[0]

    def gather(self, name: str, table: str, indices: str, axis: int = 0) -> str:
        ts, ids = self.shapes[table], self.shapes[indices]
        return self.node("Gather", name, [table, indices], [ts[:axis] + ids + ts[axis + 1:]], {"axis": axis})[0]

    def concat(self, name: str, xs: list[str], axis: int) -> str:
        shapes = [self.shapes[x] for x in xs]
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        return self.node("Concat", name, xs, [tuple(out)], {"axis": axis})[0]

    def lstm(self, name: str, x: str, hidden: int) -> str:
        """Unidirectional ONNX LSTM over ``x [T, B, I]``; returns ``[T, B, hidden]`` (Y squeezed).

        Weights follow ONNX: ``W [1, 4H, I]``, ``R [1, 4H, H]``, ``B [1, 8H]``, gate order i, o, f, c.
        """
        seq, batch, inp = self.shapes[x]
        w = self.weight(f"{name}.W", (1, 4 * hidden, inp), fan_in=inp)
        r = self.weight(f"{name}.R", (1, 4 * hidden, hidden), fan_in=hidden)
        b = self.weight(f"{name}.B", (1, 8 * hidden), "zeros")
        y, _, _ = self.node(
            "LSTM", name, [x, w, r, b],
            [(seq, 1, batch, hidden), (1, batch, hidden), (1, batch, hidden)],
            {"hidden_size": hidden, "direction": "forward", "layout": 0},
            outputs=[f"{name}.Y", f"{name}.Y_h", f"{name}.Y_c"],
        )
        return self.squeeze(f"{name}.squeeze", y, [1])

    def graph(self, outputs: list[str], meta: dict) -> Graph:
        graph = Graph(
            name=self.model, inputs=self.inputs, outputs=outputs, nodes=self.nodes, weights=self.weights,
            shapes=self.shapes, input_dtypes=self.input_dtypes, meta=meta,
        )
        graph.validate()
        return graph


