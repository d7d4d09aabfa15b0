"""Kernels that replace the onnx reference implementation where it is wrong, and the one evaluator factory.

Every reference evaluator adept builds (constant folding at import, reference-kernel ASIC ops, control-flow
bodies) comes from :func:`reference_evaluator`, so a replacement here applies everywhere. Each kernel
follows the ONNX operator specification and is checked against onnxruntime in
``tests/test_reference_fixes.py``.

- ``GatherElements`` (onnx 1.23's ``op_gather_elements``): it gathers with ``np.choose``, which takes at most
  64 choices, so an axis longer than 64 fails, and its fallback for 2-D inputs reads only the first index of
  each row (wrong values or a reshape error; Hugging Face's ALBERT and ELECTRA fold their
  ``token_type_ids`` buffer this way, over 512 positions). It also refuses indices smaller than the data on
  the other axes, which the specification allows (``out[i][j] = data[index[i][j]][j]`` only reads
  ``j < indices.shape[1]``) and onnxruntime runs.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def gather_elements(data: np.ndarray, indices: np.ndarray, axis: int) -> np.ndarray:
    """``out[..., i_axis, ...] = data[..., indices[..., i_axis, ...], ...]`` (ONNX GatherElements, opset 11+)."""
    data, indices = np.asarray(data), np.asarray(indices)
    if data.ndim != indices.ndim or data.ndim == 0:
        raise ValueError(f"GatherElements: data and indices need the same rank >= 1, got {data.ndim} and "
                         f"{indices.ndim}")
    if not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"GatherElements: indices must be integers, got {indices.dtype}")
    if not -data.ndim <= axis < data.ndim:
        raise ValueError(f"GatherElements: axis {axis} is out of range for rank {data.ndim}")
    axis %= data.ndim
    if any(i > d for k, (i, d) in enumerate(zip(indices.shape, data.shape)) if k != axis):
        raise ValueError(f"GatherElements: indices {indices.shape} exceed data {data.shape} on an axis other "
                         f"than {axis}")
    if indices.size == 0:
        return np.empty(indices.shape, dtype=data.dtype)
    size = data.shape[axis]
    if indices.min() < -size or indices.max() >= size:
        raise ValueError(f"GatherElements: an index is out of range [-{size}, {size}) on axis {axis} "
                         f"(min {indices.min()}, max {indices.max()})")
    window = tuple(slice(None) if k == axis else slice(0, n) for k, n in enumerate(indices.shape))
    positive = np.where(indices < 0, indices + size, indices).astype(np.intp)
    return np.take_along_axis(data[window], positive, axis=axis)


@lru_cache(maxsize=1)
def fixed_ops() -> tuple:
    """The replacement OpRun classes (built on first use: importing onnx.reference costs ~0.8 s)."""
    from onnx.reference.op_run import OpRun

    class GatherElements(OpRun):
        op_domain = ""

        def _run(self, data, indices, axis=None):
            return (gather_elements(data, indices, 0 if axis is None else int(axis)),)

    return (GatherElements,)


def reference_evaluator(model):
    """``onnx.reference.ReferenceEvaluator(model)`` with :func:`fixed_ops` in place of the onnx kernels."""
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(model, new_ops=list(fixed_ops()))
