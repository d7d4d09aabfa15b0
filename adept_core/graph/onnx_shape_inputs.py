"""Graph inputs whose *values* decide tensor shapes ("shape inputs"), bound by value at import.

AffineGrid's ``size``, a Reshape target or Range limit fed as a model input: the shapes downstream of
it are data-dependent, and the photonic MatMul / Conv need static shapes. The ONNX backend therefore
binds such an input by value (``from_onnx(input_values=...)``, one import per distinct value, cached per
signature like shapes, :mod:`adept_core.onnx_backend`), so everything computed from it folds.

Which inputs: small integer inputs (int32 / int64, at most ``BIND_MAX_ELEMENTS`` elements when fed)
that reach, through any chain of nodes (``If`` / ``Loop`` / ``Scan`` bodies included through the
outer values they read), an input position of :data:`SHAPE_ARGS`. ``Shape`` and ``Size`` cut the
chain: their outputs depend on a shape, not on values. An input only *read as data* (token ids into a
Gather) is never bound.
"""

from __future__ import annotations

#: op -> input positions whose values set the output's shape.
SHAPE_ARGS = {
    "Reshape": (1,), "Expand": (1,), "ConstantOfShape": (0,), "Tile": (1,), "Range": (0, 1, 2),
    "Slice": (1, 2, 3, 4), "Split": (1,), "Squeeze": (1,), "Unsqueeze": (1,), "Pad": (1, 3), "Resize": (3,),
    "OneHot": (1,), "TopK": (1,), "AffineGrid": (1,), "CenterCropPad": (1, 2), "Col2Im": (1, 2),
    **{op: (1,) for op in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
                           "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")},
}

#: Ops whose outputs depend on their input's shape only.
_SHAPE_ONLY = ("Shape", "Size")


def shape_inputs(model, candidates: set[str], outer_names) -> set[str]:
    """The ``candidates`` (graph input names) whose values reach a shape argument of ``model``'s nodes.

    ``outer_names(node)`` lists the outer-scope values a control-flow node's bodies read.
    """
    deps: dict[str, frozenset] = {name: frozenset({name}) for name in candidates}
    bound: set[str] = set()

    def walk(nodes):
        for node in nodes:
            reads = list(node.input) + (list(outer_names(node)) if node.op_type in ("If", "Loop", "Scan") else [])
            for position in SHAPE_ARGS.get(node.op_type, ()):
                if position < len(node.input) and node.input[position]:
                    bound.update(deps.get(node.input[position], ()))
            for attr in node.attribute:  # a body's own shape arguments, on outer values
                if attr.g is not None and attr.g.node:
                    walk(attr.g.node)
            if node.op_type in _SHAPE_ONLY:
                continue
            reached = frozenset().union(*(deps.get(r, frozenset()) for r in reads if r))
            if reached:
                for out in node.output:
                    if out:
                        deps[out] = deps.get(out, frozenset()) | reached

    walk(model.graph.node)
    return bound
