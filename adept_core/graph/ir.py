"""The Graph: one intermediate representation walked by both the executor and the scheduler.

Ops use ONNX names and ONNX semantics (opset 17+ conventions, NCHW layout), so
an imported ONNX model, a zoo model and a hand-built graph mean the same
thing to every consumer. Nodes are stored in topological order.

Weights may be concrete arrays or :class:`LazyWeight` recipes: the cost model
needs only shapes, and a 335 M-parameter BERT-large should not be allocated to
compute its energy. ``Graph.weight(name)`` materialises a lazy weight
deterministically (same recipe, same bits) and does not cache it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Union

import numpy as np

from ..errors import ShapeError


#: A dimension known only when the graph runs (a value computed by a reference-kernel op from input
#: data, e.g. a Reshape whose target is a graph input). A shape of ``None`` means its rank is unknown too.
#: Only reference-kernel ops read or write such values; GEMM-class ops and the cost model need static shapes.
DYNAMIC = -1


@dataclass(frozen=True)
class LazyWeight:
    """A weight known by its recipe; materialised on demand.

    Attributes
    ----------
    shape : tuple of int
        Tensor shape.
    init : str
        ``"he_normal"`` (std ``sqrt(2 / fan_in)``), ``"normal"`` (std ``std``),
        ``"zeros"``, ``"ones"``, or ``"uniform_int"`` (integers in ``[0, high)``,
        for index tensors such as token ids).
    seed : int
        Seed of ``numpy.random.default_rng`` for the random recipes.
    fan_in : int
        For ``he_normal``.
    std : float
        For ``normal``.
    high : int
        For ``uniform_int``.
    dtype : str
        NumPy dtype name of the result.
    """

    shape: tuple[int, ...]
    init: str = "he_normal"
    seed: int = 0
    fan_in: int = 1
    std: float = 0.02
    high: int = 1
    dtype: str = "float32"

    def materialize(self) -> np.ndarray:
        if self.init == "zeros":
            return np.zeros(self.shape, dtype=self.dtype)
        if self.init == "ones":
            return np.ones(self.shape, dtype=self.dtype)
        gen = np.random.default_rng(self.seed)
        if self.init == "he_normal":
            std = math.sqrt(2.0 / max(1, self.fan_in))
            return (gen.standard_normal(self.shape, dtype=np.float32) * np.float32(std)).astype(self.dtype)
        if self.init == "normal":
            return (gen.standard_normal(self.shape, dtype=np.float32) * np.float32(self.std)).astype(self.dtype)
        if self.init == "uniform_int":
            return gen.integers(0, self.high, size=self.shape).astype(self.dtype)
        raise ValueError(f"unknown LazyWeight init {self.init!r}")

    @property
    def size(self) -> int:
        return math.prod(self.shape)


Weight = Union[np.ndarray, LazyWeight]


@dataclass
class Node:
    """One operator: ONNX ``op`` type, input and output value names, attributes.

    An empty string in ``inputs`` marks an omitted optional input (as in ONNX).
    """

    name: str
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict = field(default_factory=dict)


@dataclass
class Graph:
    """A network: inputs, topologically ordered nodes, weights and every value's shape.

    Attributes
    ----------
    name : str
        Model name (``"resnet50"``, a file stem, ...).
    inputs : dict
        Graph input name -> shape (batch included).
    input_dtypes : dict
        Graph input name -> numpy dtype name (``"float32"`` unless given).
    outputs : list of str
        Graph output names.
    nodes : list of Node
        Topological order.
    weights : dict
        Initializer name -> array or :class:`LazyWeight`.
    shapes : dict
        Every value name (inputs, weights, node outputs) -> shape.
    meta : dict
        Free-form facts about the model (source, batch, sequence length, ...).
    """

    name: str
    inputs: dict[str, tuple[int, ...]]
    outputs: list[str]
    nodes: list[Node]
    weights: dict[str, Weight]
    shapes: dict[str, tuple[int, ...]]
    input_dtypes: dict[str, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    #: ``rebind(input_shapes) -> Graph``: the same model imported at other input shapes (set by
    #: ``from_onnx``; ``None`` for graphs built in code). :meth:`PreparedModel.run` uses it to bind
    #: shapes when the inputs are known.
    rebind: object = field(default=None, repr=False, compare=False)

    def weight(self, name: str) -> np.ndarray:
        """The weight ``name`` as an array (lazy weights are materialised, not cached)."""
        w = self.weights[name]
        return w.materialize() if isinstance(w, LazyWeight) else w

    def shape(self, name: str) -> tuple[int, ...]:
        try:
            return self.shapes[name]
        except KeyError:
            raise ShapeError(f"graph {self.name!r} has no shape for value {name!r}") from None

    def is_weight(self, name: str) -> bool:
        return name in self.weights

    def producers(self) -> dict[str, Node]:
        return {out: node for node in self.nodes for out in node.outputs}

    def validate(self) -> None:
        """Check topological order, that every value is defined once and has a shape."""
        if self.meta.get("deferred"):  # imported when its inputs' values are known (graph/onnx_deferred.py)
            return
        defined = set(self.inputs) | set(self.weights)
        for node in self.nodes:
            for name in node.inputs:
                if name and name not in defined:
                    raise ShapeError(f"node {node.name!r} ({node.op}) reads {name!r} before it is defined")
            for name in node.outputs:
                if not name:
                    continue  # an optional output the model does not use
                if name in defined:
                    raise ShapeError(f"value {name!r} is defined twice (again by node {node.name!r})")
                defined.add(name)
        for name in self.outputs:
            if name not in defined:
                raise ShapeError(f"graph output {name!r} is never produced")
        missing = [name for name in defined if name not in self.shapes]
        if missing:
            raise ShapeError(f"graph {self.name!r} lacks shapes for {sorted(missing)[:5]}")

    def parameter_count(self) -> int:
        return sum(int(np.prod(self.shapes[name])) for name in self.weights)


def broadcast_shapes(a: tuple[int, ...], b: tuple[int, ...], where: str) -> tuple[int, ...]:
    """NumPy/ONNX multidirectional broadcast of two shapes; ``where`` names the op in errors."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da != db and 1 not in (da, db):
            raise ShapeError(f"{where}: shapes {a} and {b} do not broadcast")
        out.append(max(da, db))
    return tuple(reversed(out))
