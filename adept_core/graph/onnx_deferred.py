"""A model whose import needs the values of some inputs: imported when they are known (bound at run time).

AffineGrid's ``size``, a Reshape target fed as an input, an RNN's ``sequence_lens``, an ``If`` on a
sample rate: while such an input is a run-time value, the shapes after it depend on data (the photonic
MatMul / Conv need static shapes) or the canonical node needs a constant, and ``from_onnx`` cannot
build a static Graph. When the import fails *and* the model has such inputs
(:func:`~adept_core.graph.onnx_control_flow.bind_time_inputs`) that ``input_values=`` did not give,
``from_onnx`` returns a **deferred** graph instead of raising: no nodes yet, its inputs and outputs
declared, ``meta["deferred"]`` the import's error and ``meta["bind_by_value"]`` the inputs it waits
for. :meth:`PreparedModel.run` then imports the model with those inputs' values bound
(``graph.rebind(shapes, values)``, one import per distinct value, cached per signature), so a failure
that binding does not cure is raised there, and the scheduler refuses the deferred graph with the
reason (its cost depends on the values). Passing ``input_values=`` to ``from_onnx`` gives the static
graph directly.
"""

from __future__ import annotations

import numpy as np
from onnx import helper

from .ir import Graph


def deferred_graph(proto, graph_name: str, source, input_shapes: dict, input_values: dict, exc: Exception):
    """The deferred Graph of ``proto`` whose import raised ``exc``, or None when no input could cure it."""
    from ..errors import BudgetError, UnknownOpError
    from .onnx_control_flow import bind_time_inputs

    # An over-budget tensor is refused everywhere, bound or not; no value binding supplies a missing op.
    if isinstance(exc, (BudgetError, UnknownOpError)):
        return None

    inits = {i.name for i in proto.graph.initializer}
    real = [i for i in proto.graph.input if i.name not in inits and i.name not in input_values]
    pending = bind_time_inputs(proto, [i.name for i in real])
    if not pending or not all(i.type.HasField("tensor_type") for i in real):
        return None
    inputs, dtypes = {}, {}
    for value in real:
        tensor = value.type.tensor_type
        shape = input_shapes.get(value.name)
        if shape is None:
            shape = tuple(int(d.dim_value) if d.HasField("dim_value") else 0 for d in tensor.shape.dim)
        inputs[value.name] = tuple(int(d) for d in shape)
        dtypes[value.name] = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.elem_type)).name
    reason = f"{type(exc).__name__}: {exc}"
    meta = {"source": source or "onnx.ModelProto", "deferred": reason, "bind_by_value": list(pending),
            "inputs": {name: f"{dtypes[name]} {list(shape)}" for name, shape in inputs.items()}}
    return Graph(graph_name, inputs, [o.name for o in proto.graph.output], [], {}, dict(inputs), dtypes, meta)
