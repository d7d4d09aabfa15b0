"""Import rewrites of the less common ONNX ops (issue 9): deprecated aliases, batch-major recurrences,
training-mode Dropout and DeformConv.

Kept apart from :mod:`.onnx_normalize` so the canonical rewrites of the common ops stay short.
"""

from __future__ import annotations

#: Deprecated op -> (the op whose reference kernel computes it, the first opset of that op). ``Scatter``
#: (opsets 9-10, removed in 11) is exactly ``ScatterElements`` of opset 11 (same inputs, same ``axis``).
DEPRECATED_ALIASES = {"Scatter": ("ScatterElements", 11)}


def rename_deprecated(op: str, opset: int) -> tuple[str, int] | None:
    """The (op, opset) a deprecated ``op`` runs as on the ASIC's reference kernels, or None."""
    successor = DEPRECATED_ALIASES.get(op)
    if successor is None:
        return None
    return successor[0], max(opset, successor[1])
