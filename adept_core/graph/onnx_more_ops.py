"""Import rewrites of the less common ONNX ops (issue 9): deprecated aliases, batch-major recurrences,
training-mode Dropout and DeformConv.

Kept apart from :mod:`.onnx_normalize` so the canonical rewrites of the common ops stay short.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedOpError

#: Deprecated op -> (the op whose reference kernel computes it, the first opset of that op). ``Scatter``
#: (opsets 9-10, removed in 11) is exactly ``ScatterElements`` of opset 11 (same inputs, same ``axis``).
class Refused(UnsupportedOpError):
    """A use of an op adept refuses outright (not even on its reference kernel)."""


DEPRECATED_ALIASES = {"Scatter": ("ScatterElements", 11)}


def rename_deprecated(op: str, opset: int) -> tuple[str, int] | None:
    """The (op, opset) a deprecated ``op`` runs as on the ASIC's reference kernels, or None."""
    successor = DEPRECATED_ALIASES.get(op)
    if successor is None:
        return None
    return successor[0], max(opset, successor[1])


def batch_major_recurrent(v, canonical):
    """RNN / GRU / LSTM with ``layout=1`` (``X [B, T, I]``, states ``[B, D, H]``, ``Y [B, T, D, H]``) as the
    canonical time-major node between ASIC Transposes: the gate GEMMs stay photonic and are charged as
    for ``layout=0`` (the same ``T*B`` rows; the transposes are data movement)."""
    from .ir import Node

    nodes, inputs, in_shapes = [], list(v.inputs), list(v.in_shapes)
    for i in (0, 5, 6):  # X, initial_h, initial_c: swap the two leading axes
        if i < len(inputs) and inputs[i]:
            shape = tuple(in_shapes[i])
            swapped = (shape[1], shape[0]) + shape[2:]
            name = v.new_value(f"time_major_in{i}", swapped)
            nodes.append(Node(f"{v.name}/time_major_in{i}", "Transpose", (inputs[i],), (name,), {"perm": [1, 0, 2]}))
            inputs[i], in_shapes[i] = name, swapped
    outputs, out_shapes, back = list(v.outputs), list(v.out_shapes), []
    for j, out in enumerate(v.outputs):
        if not out:
            continue
        shape = tuple(out_shapes[j])
        if j == 0:  # Y: [B, T, D, H] <- [T, D, B, H]
            canon, perm = (shape[1], shape[2], shape[0], shape[3]), [2, 0, 1, 3]
        else:  # Y_h / Y_c: [B, D, H] <- [D, B, H]
            canon, perm = (shape[1], shape[0], shape[2]), [1, 0, 2]
        outputs[j] = v.new_value(f"time_major_out{j}", canon)
        out_shapes[j] = canon
        back.append(Node(f"{v.name}/batch_major_out{j}", "Transpose", (outputs[j],), (out,), {"perm": perm}))
    inner = v.derived(v.op, inputs, in_shapes, {**v.attrs, "layout": 0}, v.consts)
    inner.outputs, inner.out_shapes = outputs, out_shapes
    inner.consts = [None if i in (0, 5, 6) else c for i, c in enumerate(inner.consts)]
    return nodes + canonical(inner) + back


def training_mode(v) -> None:
    """Dropout with ``training_mode`` not a constant false (opset 12+): its mask is random.

    Decided: onnx's reference Dropout draws the mask from ``numpy.random.RandomState(seed)`` when the node
    has a ``seed`` attribute, so a seeded training-mode Dropout is a deterministic function of its inputs
    and runs on the ASIC's reference kernel (bit-identical to onnx's expected values; a mask generator
    on the chip would have to implement that same generator). Without ``seed`` every run would draw a
    different mask, which no emulation can reproduce or check: refused with a sentence. A constant false
    ``training_mode`` (or none) is inference: Identity.
    """
    from .onnx_einsum import RunOnReference

    if len(v.inputs) < 3 or not v.inputs[2]:
        return
    flag = v.consts[2]
    if flag is not None and not bool(np.asarray(flag).reshape(())):
        return
    if "seed" not in v.attrs:
        raise Refused(
            f"node {v.name!r} (Dropout): training_mode may be true and the node has no seed attribute, so its "
            "mask is random and no run could reproduce it; give the node a seed (onnx's reference mask, "
            "RandomState(seed)) or export the model in inference mode")
    raise RunOnReference(f"node {v.name!r} (Dropout): training mode with seed {v.attrs['seed']} runs on its "
                         "reference kernel")
