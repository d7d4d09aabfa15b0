"""ASIC ops whose kernels are the ONNX reference implementation (``onnx.reference.ops``).

Why: the inference op set of ONNX is large (every activation, comparison,
reduction, index and shape op, each in several opset versions), and the
``onnx`` package ships one well-tested NumPy implementation of each, versioned
by opset. Re-writing them would add code and bugs, not fidelity: for these
ops the ASIC computes an exact function of its inputs and the only
hardware effect is the number format. So an op without a hand-written ASIC
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

import warnings

import numpy as np
from onnx import helper, numpy_helper

#: Attributes the importer adds; not ONNX attributes of the node.
META_ATTRS = ("onnx_opset", "onnx_out_dtypes")


def _node_proto(node):
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
    from onnx.reference import ReferenceEvaluator  # slow to import: on first use

    typed = [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.asarray(a).dtype),
                                           np.shape(a))
             for name, a in feeds.items() if name and a is not None]
    graph = helper.make_graph([proto], proto.name or proto.op_type, typed,
                              [helper.make_empty_tensor_value_info(o) for o in proto.output if o])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ReferenceEvaluator(model)


def op_reference(node, args, ctx):
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
