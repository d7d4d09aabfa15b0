"""Which axis of each ONNX input / output holds the batch, and so how many inferences one run is.

The cost model charges a run of a graph as ``graph.meta["batch"]`` inferences
(:func:`adept_core.energy.evaluate.graph_batch`); the executor streams samples
along ``graph.meta["batch_axes"]`` (axis 0 for a value not named there).

- ``batch_axes={name: axis}`` names them explicitly (inputs and outputs); the
  named inputs must agree on the size of their batch axis, which becomes the
  graph's batch.
- Without it, the model says: when every graph input declares a *symbolic*
  axis 0 (``"N"``, ``"batch"``, ...) bound to one common size through
  ``input_shapes``, that size is the batch. Otherwise nothing is assumed and a
  run counts as one inference (a model exported with a static batch of 16
  needs ``batch_axes`` to be charged per sample).
"""

from __future__ import annotations

import onnx

from ..errors import ShapeError


def batch_meta(proto: onnx.ModelProto, inputs: dict, shapes: dict, outputs: list, batch_axes) -> dict:
    """``graph.meta`` entries (``batch``, ``batch_axes``) for an imported model."""
    if batch_axes is None:
        declared = {v.name: v.type.tensor_type.shape.dim for v in proto.graph.input if v.name in inputs}
        symbolic = {n: inputs[n][0] for n, dims in declared.items()
                    if dims and not dims[0].HasField("dim_value") and inputs[n]}
        sizes = set(symbolic.values())
        if symbolic and len(symbolic) == len(inputs) and len(sizes) == 1:
            return {"batch": int(sizes.pop())}
        return {}
    if not isinstance(batch_axes, dict):
        raise ShapeError(f"batch_axes must be a dict {{value name: axis}}, got {type(batch_axes).__name__}")
    known = list(inputs) + [o for o in outputs if o not in inputs]
    axes, sizes = {}, {}
    for name, axis in batch_axes.items():
        if name not in known:
            raise ShapeError(f"batch_axes names {name!r}, which is not a graph input or output; they are {known}")
        shape = shapes.get(name)
        if isinstance(axis, bool) or not isinstance(axis, int) or shape is None or not -len(shape) <= axis < len(shape):
            raise ShapeError(f"batch_axes[{name!r}] = {axis!r} is not an axis of its shape {shape}")
        axes[name] = axis % len(shape)
        if name in inputs:
            sizes[name] = int(shape[axes[name]])
    if len(set(sizes.values())) > 1:
        raise ShapeError(f"the inputs named in batch_axes disagree on the batch size: {sizes}")
    meta = {"batch_axes": axes}
    if sizes:
        meta["batch"] = next(iter(sizes.values()))
    return meta
