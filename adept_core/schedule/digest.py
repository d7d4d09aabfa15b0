"""A Graph reduced to the flat arrays the cost model needs, computed once per graph.

The scheduler never looks at weights, only at shapes: every GEMM-class node
becomes the :class:`~adept_core.graph.lowering.GemmCall` list of
:func:`~adept_core.graph.lowering.gemm_calls` (the same list the executor
runs), every other node an ASIC lane-op count. The result is cached per
Graph object, so evaluating many design points on one graph lowers it once.
A graph must not be mutated after it has been evaluated (the cache is keyed
by object identity and a cheap size signature).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np

from ..errors import ShapeError
from ..graph.ir import Graph
from ..graph.lowering import gemm_calls, is_photonic
from .asic_ops import ELEMENTWISE_OPS, asic_node_ops, moves_data, recurrent_step_ops


@dataclass(frozen=True)
class GraphDigest:
    """Per-call and per-layer arrays of one Graph (one layer = one node).

    Call arrays (length C, one entry per GemmCall) and layer arrays (length
    L) are int64 / bool numpy arrays; ``call_layer[c]`` is the layer of call
    ``c``. Element counts are numbers of values, not bytes: the byte widths
    depend on the hardware and are applied by the scheduler.
    """

    name: str
    layer_names: tuple[str, ...]
    layer_ops: tuple[str, ...]
    layer_photonic: np.ndarray  # bool: node has GemmCalls
    layer_asic_ops: np.ndarray  # lane-ops of ASIC nodes (0 for photonic nodes)
    layer_asic_macs: np.ndarray  # MACs done on the ASIC (depthwise convolution)
    layer_act_read_elems: np.ndarray  # activation values an ASIC node reads from SRAM (0 if fused or a view)
    layer_act_write_elems: np.ndarray  # activation values an ASIC node writes to SRAM (0 if a view)
    layer_footprint_elems: np.ndarray  # activation values a layer reads + writes (its SRAM working set)
    layer_aux_weight_elems: np.ndarray  # weights not programmed into a core (bias, norm scales, depthwise)
    call_layer: np.ndarray
    call_m: np.ndarray
    call_k: np.ndarray
    call_n: np.ndarray
    call_count: np.ndarray
    call_distinct: np.ndarray  # distinct weight matrices among the count GEMMs (count for non-stationary)
    call_stationary: np.ndarray  # bool: right operand is an initializer
    call_sequential: np.ndarray  # bool: the count GEMMs form a dependency chain
    call_step_ops: np.ndarray  # ASIC lane-ops of one recurrent step (gate math), 0 otherwise

    @property
    def num_layers(self) -> int:
        return len(self.layer_names)

    @property
    def photonic_macs(self) -> int:
        return int(np.sum(self.call_m * self.call_k * self.call_n * self.call_count))

    @property
    def asic_macs(self) -> int:
        return int(np.sum(self.layer_asic_macs))

    @property
    def macs(self) -> int:
        """Every MAC of the graph: GEMM-class MACs plus depthwise-convolution MACs."""
        return self.photonic_macs + self.asic_macs

    def layer_macs(self) -> np.ndarray:
        per_call = self.call_m * self.call_k * self.call_n * self.call_count
        return np.bincount(self.call_layer, weights=per_call, minlength=self.num_layers).astype(np.int64) + self.layer_asic_macs


_CACHE: dict[int, tuple[weakref.ref, tuple, GraphDigest]] = {}


def _signature(graph: Graph) -> tuple:
    return (graph.name, len(graph.nodes), len(graph.shapes), len(graph.weights))


def digest(graph: Graph) -> GraphDigest:
    """The :class:`GraphDigest` of ``graph`` (cached per graph object)."""
    if not isinstance(graph, Graph):
        raise ShapeError(f"expected an adept_core.graph.Graph, got {type(graph).__name__}")
    hit = _CACHE.get(id(graph))
    if hit is not None and hit[0]() is graph and hit[1] == _signature(graph):
        return hit[2]
    result = _build(graph)
    key = id(graph)
    _CACHE[key] = (weakref.ref(graph, lambda _ref, key=key: _CACHE.pop(key, None)), _signature(graph), result)
    return result


def _build(graph: Graph) -> GraphDigest:
    if graph.meta.get("deferred"):
        raise ShapeError(f"graph {graph.name!r} is imported only when the values of its input(s) "
                         f"{graph.meta['bind_by_value']} are known (its shapes depend on them: "
                         f"{graph.meta['deferred']}); import it with from_onnx(..., input_values={{name: array}}) "
                         "to schedule it")
    if not graph.nodes:
        raise ShapeError(f"graph {graph.name!r} has no nodes to schedule")
    weights = graph.weights
    sizes: dict[str, int] = {}

    def size(name: str) -> int:
        n = sizes.get(name)
        if n is None:
            n = sizes[name] = math.prod(graph.shape(name))
        return n

    consumers: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            consumers[name] = consumers.get(name, 0) + 1
    previous_outputs: tuple[str, ...] = ()
    layer_rows, call_rows = [], []
    for index, node in enumerate(graph.nodes):
        photonic = is_photonic(node, graph)
        calls = gemm_calls(node, graph) if photonic else []
        programmed = {call.weight for call in calls}
        act_in = [v for v in node.inputs if v and v not in weights]
        aux = sum(size(v) for v in node.inputs if v in weights and v not in programmed)
        read = sum(size(v) for v in act_in)
        write = sum(size(v) for v in node.outputs)
        footprint = read + write
        ops = macs = 0
        if not photonic:
            ops, macs = asic_node_ops(node, graph)
            if not moves_data(node.op):
                read = write = 0
            elif _fused(node, act_in, previous_outputs, consumers):
                read = 0
        previous_outputs = node.outputs
        for call in calls:
            distinct, step_ops = call.count, 0
            if call.sequential:
                w_elems = size(call.weight) if call.weight else call.k * call.n
                distinct = max(1, w_elems // (call.k * call.n))
                step_ops = recurrent_step_ops(node.op, node.attrs["hidden_size"]) * call.m * distinct
            call_rows.append((index, call.m, call.k, call.n, call.count, distinct,
                              call.weight_stationary, call.sequential, step_ops))
        layer_rows.append((bool(calls), ops, macs, read, write, footprint, aux))

    layer = np.array(layer_rows, dtype=np.int64).T
    call = np.array(call_rows, dtype=np.int64).reshape(-1, 9).T
    return GraphDigest(
        name=graph.name,
        layer_names=tuple(node.name for node in graph.nodes),
        layer_ops=tuple(node.op for node in graph.nodes),
        layer_photonic=layer[0].astype(bool),
        layer_asic_ops=layer[1],
        layer_asic_macs=layer[2],
        layer_act_read_elems=layer[3],
        layer_act_write_elems=layer[4],
        layer_footprint_elems=layer[5],
        layer_aux_weight_elems=layer[6],
        call_layer=call[0],
        call_m=call[1],
        call_k=call[2],
        call_n=call[3],
        call_count=call[4],
        call_distinct=call[5],
        call_stationary=call[6].astype(bool),
        call_sequential=call[7].astype(bool),
        call_step_ops=call[8],
    )


def _fused(node, act_in: list[str], previous_outputs: tuple[str, ...], consumers: dict[str, int]) -> bool:
    """True when an elementwise op consumes its producer's output as it streams out.

    A unary elementwise op (BatchNormalization, Relu, Gelu, scaling, ...)
    whose only activation input was produced by the node just before it and
    is read by nobody else is applied in the ASIC's registers on the way to
    SRAM: its lane-ops are charged, its input is never read back from SRAM.
    """
    return (
        node.op in ELEMENTWISE_OPS
        and len(act_in) == 1
        and act_in[0] in previous_outputs
        and consumers.get(act_in[0], 0) == 1
    )
