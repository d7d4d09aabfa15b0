"""How GEMM-class ops become photonic GEMMs: the one place both executor and scheduler ask.

The executor runs exactly the :class:`GemmCall` list this module returns for
a node, and the scheduler charges exactly the same list, so the tiling the
numbers come from is the tiling the bill is for.

Decisions (see ``docs/scheduler.md``):

- ``Conv`` (2-D; 1-D, 3-D and ConvTranspose are rewritten into it at import,
  :mod:`.onnx_conv_rewrite`) with ``group == 1`` is lowered by im2col to one GEMM
  ``[B*Ho*Wo, Cin*kh*kw] x [Cin*kh*kw, Cout]``. Grouped convolutions become
  ``group`` GEMMs of ``K = Cin/group*kh*kw``. **Depthwise** convolution
  (``Cin/group == 1``) runs on the ASIC: as a GEMM it would use ``kh*kw``
  (9 or 25) of the core's 128 rows and one column per pass, so the photonic
  core would sit >99% idle while paying full laser and ADC power.
- ``Gemm`` / ``MatMul`` with an initializer operand are weight-stationary:
  the weight is programmed once and all rows (batch and sequence flattened)
  stream through it. ``MatMul`` of two activations (attention's ``Q K^T`` and
  ``softmax(.) V``) programs its right operand for every call: ``count`` is
  the number of independent products (batch x heads).
- ``LSTM`` / ``GRU`` / ``RNN``: the input projection of all time steps is one GEMM
  (``M = T*B``); the recurrent projection is ``T`` GEMMs of ``M = B`` because
  step ``t+1`` needs step ``t``'s output. Both weights stay programmed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ShapeError
from .ir import Graph, Node, broadcast_shapes

#: Ops that may map to the photonic core.
GEMM_OPS = frozenset({"Conv", "Gemm", "MatMul", "LSTM", "GRU", "RNN"})


@dataclass(frozen=True)
class GemmCall:
    """``count`` independent GEMMs ``[m, k] x [k, n]`` of one node.

    Attributes
    ----------
    role : str
        What the GEMM is within its node (``"conv"``, ``"fc"``, ``"matmul"``,
        ``"lstm_input"``, ``"lstm_recurrent"``, ...).
    weight : str or None
        Name of the initializer programmed into the core, or ``None`` when
        the right operand is an activation (re-programmed every call).
    sequential : bool
        True when the ``count`` GEMMs depend on each other (recurrence) and
        cannot overlap.
    """

    role: str
    m: int
    k: int
    n: int
    count: int = 1
    weight: str | None = None
    sequential: bool = False

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n * self.count

    @property
    def weight_stationary(self) -> bool:
        return self.weight is not None


def conv_output_hw(h: int, w: int, attrs: dict) -> tuple[int, int]:
    """Output spatial size of an NCHW convolution or pooling with ONNX attributes."""
    kh, kw = attrs["kernel_shape"]
    sh, sw = attrs.get("strides", (1, 1))
    dh, dw = attrs.get("dilations", (1, 1))
    pt, pl, pb, pr = attrs.get("pads", (0, 0, 0, 0))
    return conv_output_len(h, pt, pb, kh, sh, dh), conv_output_len(w, pl, pr, kw, sw, dw)


def conv_output_len(size: int, pad_begin: int, pad_end: int, kernel: int, stride: int, dilation: int) -> int:
    """Output length along one axis of a convolution or pooling window (ONNX/NumPy floor rule)."""
    return (size + pad_begin + pad_end - dilation * (kernel - 1) - 1) // stride + 1


def is_depthwise(node: Node, graph: Graph) -> bool:
    if node.op != "Conv":
        return False
    cin = graph.shape(node.inputs[0])[1]
    group = node.attrs.get("group", 1)
    return group > 1 and cin // group == 1


def is_photonic(node: Node, graph: Graph) -> bool:
    """True when ``node`` runs (at least partly) on the photonic core."""
    return node.op in GEMM_OPS and not is_depthwise(node, graph)


def gemm_calls(node: Node, graph: Graph) -> list[GemmCall]:
    """The photonic GEMMs of ``node`` (empty for ASIC ops)."""
    if not is_photonic(node, graph):
        return []
    op = node.op
    if op == "Conv":
        b, cin, h, w = graph.shape(node.inputs[0])
        cout, cin_g, kh, kw = graph.shape(node.inputs[1])
        group = node.attrs.get("group", 1)
        if cin_g * group != cin:
            raise ShapeError(f"Conv {node.name!r}: weight expects {cin_g}x{group} input channels, input has {cin}")
        ho, wo = conv_output_hw(h, w, node.attrs)
        return [GemmCall("conv", b * ho * wo, cin_g * kh * kw, cout // group, group, _weight(node.inputs[1], graph))]
    if op == "Gemm":
        a_shape, b_shape = graph.shape(node.inputs[0]), graph.shape(node.inputs[1])
        m, k = a_shape[::-1] if node.attrs.get("transA", 0) else a_shape
        k2, n = b_shape[::-1] if node.attrs.get("transB", 0) else b_shape
        if k != k2:
            raise ShapeError(f"Gemm {node.name!r}: inner dimensions {k} and {k2} differ")
        return [GemmCall("fc", m, k, n, 1, _weight(node.inputs[1], graph))]
    if op == "MatMul":
        a_shape, b_shape = graph.shape(node.inputs[0]), graph.shape(node.inputs[1])
        if len(a_shape) < 2 or len(b_shape) < 2:
            raise ShapeError(f"MatMul {node.name!r}: 1-D operands are not supported (shapes {a_shape}, {b_shape})")
        m, k = a_shape[-2:]
        k2, n = b_shape[-2:]
        if k != k2:
            raise ShapeError(f"MatMul {node.name!r}: inner dimensions {k} and {k2} differ")
        weight = _weight(node.inputs[1], graph)
        if weight is not None and len(b_shape) == 2:
            return [GemmCall("fc", math.prod(a_shape[:-1]), k, n, 1, weight)]
        batch = math.prod(broadcast_shapes(a_shape[:-2], b_shape[:-2], f"MatMul {node.name!r} batch dimensions"))
        return [GemmCall("matmul", m, k, n, batch, weight)]
    if op in ("LSTM", "GRU", "RNN"):
        seq, batch, inp = graph.shape(node.inputs[0])
        dirs, gates_h, _ = graph.shape(node.inputs[1])
        hidden = node.attrs["hidden_size"]
        role = op.lower()
        return [
            GemmCall(f"{role}_input", seq * batch, inp, gates_h, dirs, _weight(node.inputs[1], graph)),
            GemmCall(f"{role}_recurrent", batch, hidden, gates_h, seq * dirs, _weight(node.inputs[2], graph), True),
        ]
    raise AssertionError(op)


def _weight(name: str, graph: Graph) -> str | None:
    return name if graph.is_weight(name) else None


def node_macs(node: Node, graph: Graph) -> int:
    """Photonic MACs of ``node`` (0 for ASIC ops)."""
    return sum(call.macs for call in gemm_calls(node, graph))


def graph_macs(graph: Graph) -> int:
    """Photonic MACs of the whole graph."""
    return sum(node_macs(node, graph) for node in graph.nodes)
