"""ASIC ops whose kernels are the ONNX reference implementation (``onnx.reference.ops``).

Why: the inference op set of ONNX is large (every activation, comparison,
reduction, index and shape op, each in several opset versions), and the
``onnx`` package ships one well-tested NumPy implementation of each, versioned
by opset. Re-writing them would add code and bugs, not fidelity: for these
ops the ASIC computes an exact function of its inputs and the only
hardware effect is the number format. (Where a reference kernel is wrong, ours
replaces it in every evaluator: :mod:`adept_core.asic.reference_fixes`.) So an op without a hand-written ASIC
kernel (:data:`adept_core.asic.ASIC_OPS` before this table) runs as:

1. inputs arrive on the ASIC's number grid (the executor keeps every value there);
2. the reference kernel of the node's *own* opset computes the result in the
   input dtype (float32 math for float32 tensors; integer / boolean tensors exact);
3. float results are cast to the dtype ONNX shape inference gave at import and
   the executor rounds them to the ASIC format (``bf16`` in ``precision="adept"``,
   identity in ``fp32``), like every other non-data-movement ASIC op.

Graph nodes of these ops keep their ONNX attributes verbatim plus two
attributes the importer adds: ``onnx_opset`` (the model's default-domain
opset, selecting the kernel version) and ``onnx_out_dtypes`` (the NumPy
dtype name of each output). See ``docs/executor.md``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

#: Element budget per tensor when the graph records none (the importer's default, 2**30).
DEFAULT_MAX_ELEMENTS = 1 << 30

#: Attributes the importer adds; not ONNX attributes of the node.
META_ATTRS = ("onnx_opset", "onnx_out_dtypes")


def _node_proto(node):
    # onnx costs ~0.8 s to import: only graphs that hold reference ops pay it, on their first node.
    from onnx import helper, numpy_helper

    attrs = {}
    for key, value in node.attrs.items():
        if key in META_ATTRS:
            continue
        attrs[key] = numpy_helper.from_array(value) if isinstance(value, np.ndarray) else value
    ins = [f"i{j}" if name else "" for j, name in enumerate(node.inputs)]
    outs = [f"o{j}" if name else "" for j, name in enumerate(node.outputs)]
    return helper.make_node(node.op, ins, outs, **attrs), ins, outs


def _evaluator(node, ctx, args):
    key = ("reference", node.name)
    cached = ctx.node_cache.get(key)
    if cached is None:
        proto, ins, outs = _node_proto(node)
        evaluator = evaluator_for(proto, dict(zip(ins, args)), int(node.attrs["onnx_opset"]))
        cached = ctx.node_cache[key] = (evaluator, ins, outs)
    return cached


def evaluator_for(proto, feeds: dict, opset: int):
    """A reference evaluator of one ONNX node at ``opset``, typed by the example ``feeds``.

    A one-node *model*, not the bare node: a bare NodeProto is evaluated with the newest kernel
    whatever opset is asked for (an opset-12 Unsqueeze with an ``axes`` attribute then fails), and
    ops defined as context-dependent functions (Gelu, GroupNormalization, ...) need typed inputs.
    """
    from onnx import helper

    from .reference_fixes import reference_evaluator  # onnx.reference is slow to import: on first use

    typed = [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.asarray(a).dtype),
                                           np.shape(a))
             for name, a in feeds.items() if name and a is not None]
    graph = helper.make_graph([proto], proto.name or proto.op_type, typed,
                              [helper.make_empty_tensor_value_info(o) for o in proto.output if o])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reference_evaluator(model)


def _runtime_elements(op: str, args) -> int | None:
    """Output elements of the ops whose output size is an input *value* (known only now), else None."""
    try:
        if op == "ConstantOfShape":
            return math.prod(int(d) for d in np.asarray(args[0]).reshape(-1))
        if op == "Expand":
            target = [int(d) for d in np.asarray(args[1]).reshape(-1)]
            shape = list(args[0].shape)
            rank = max(len(shape), len(target))
            shape, target = [1] * (rank - len(shape)) + shape, [1] * (rank - len(target)) + target
            return math.prod(max(a, b) for a, b in zip(shape, target))
        if op == "Tile":
            return args[0].size * math.prod(int(r) for r in np.asarray(args[1]).reshape(-1))
        if op == "Range":
            start, limit, delta = (float(np.asarray(a).reshape(())) for a in args[:3])
            return max(0, math.ceil((limit - start) / delta)) if delta else None
    except (TypeError, ValueError, OverflowError):
        return None
    return None


def _check_budget(node, args, ctx) -> None:
    from ..errors import BudgetError

    budget = int(ctx.graph.meta.get("max_elements", DEFAULT_MAX_ELEMENTS))
    count = _runtime_elements(node.op, args)
    if count is not None and count > budget:
        raise BudgetError(
            f"node {node.name!r} ({node.op}) would create {count:,} elements from its run-time inputs, over the "
            f"budget of {budget:,} elements per tensor; raise it with from_onnx(..., max_elements=N)")


def op_reference(node, args, ctx):
    _check_budget(node, args, ctx)
    evaluator, ins, outs = _evaluator(node, ctx, args)
    feeds = {name: a for name, a in zip(ins, args) if name and a is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reference runtime warns about its own internals
        results = evaluator.run([o for o in outs if o], feeds)
    dtypes = node.attrs.get("onnx_out_dtypes") or []
    out, it = [], iter(results)
    for j, name in enumerate(outs):
        if not name:
            out.append(None)
            continue
        value = np.asarray(next(it))
        want = dtypes[j] if j < len(dtypes) and dtypes[j] else None
        if want is not None and value.dtype != np.dtype(want):
            value = value.astype(want)
        out.append(value)
    return tuple(out)
