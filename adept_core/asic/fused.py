"""Fused element-wise passes: a conv's epilogue and Add, each with an optional trailing Relu.

The executor fuses a Relu into the Conv or Add that feeds it when the Relu
is that value's only reader (:meth:`~adept_core.emulate.executor.PreparedModel`),
and runs Relu / Add over a dead input's memory. Every function here computes
exactly the float32 operations of the unfused ops, in the same order, so the
results are bit-identical; the Cython loops (:mod:`adept_core.asic._epilogue`)
only save passes over memory, which is what element-wise work costs at
activation sizes. The NumPy branches are the readable reference (and what
runs from an uncompiled source tree); tests compare the two bit for bit.
"""

from __future__ import annotations

import numpy as np

try:
    from . import _epilogue
except ImportError:  # uncompiled source tree: the NumPy branches compute the same bits
    _epilogue = None

_EMPTY = np.zeros(1, np.float32)


def relu_(x: np.ndarray) -> np.ndarray:
    """ONNX Relu over ``x`` itself (``np.maximum(x, 0)``: ``-0.0`` becomes ``+0.0``, NaN stays)."""
    return np.maximum(x, x.dtype.type(0), out=x)


def conv_epilogue_(y: np.ndarray, bias: np.ndarray | None, fmt: str, relu: bool, cython: bool = True) -> np.ndarray:
    """In place over GEMM rows ``y [pixels, Cout]``: round to ``fmt``, add ``bias [Cout]``, then Relu if asked.

    The bias add itself is not rounded (it is part of the conv); a fused Relu
    of the sum is what the Relu op would compute.
    """
    fast = (cython and _epilogue is not None and y.ndim == 2 and y.dtype == np.float32 and y.flags.c_contiguous
            and y.flags.writeable and (bias is None or (bias.dtype == np.float32 and bias.shape == y.shape[1:]))
            and fmt in ("bf16", "fp32"))
    if fast:
        b = _EMPTY if bias is None else np.ascontiguousarray(bias)
        _epilogue.conv_epilogue_rows(y, b, bias is not None, fmt == "bf16", relu)
        return y
    from .numfmt import rounder  # local: numfmt needs nothing from here

    rounder(fmt)(y, out=y)
    if bias is not None:
        y += bias
    return relu_(y) if relu else y


def add_(a: np.ndarray, b: np.ndarray, out: np.ndarray, fmt: str, relu: bool, cython: bool = True) -> np.ndarray:
    """``out = relu?(round(a + b))`` for same-shape float32 arrays; ``out`` may be ``a`` or ``b``."""
    flat = [_dense_flat(v) for v in (a, b, out)] if cython and _epilogue is not None else None
    if flat is not None and all(f is not None for f in flat) and _same_order(a, b, out) and fmt in ("bf16", "fp32"):
        _epilogue.add_into(flat[0], flat[1], flat[2], fmt == "bf16", relu)
        return out
    from .numfmt import rounder

    np.add(a, b, out=out)
    rounder(fmt)(out, out=out)
    return relu_(out) if relu else out


def _dense_flat(x: np.ndarray):
    """``x``'s memory as a 1-D view in memory order, or None when it has gaps or reversed axes."""
    if x.dtype != np.float32 or min(x.strides, default=0) < 0:
        return None
    flat = x.ravel(order="K")
    return flat if np.may_share_memory(flat, x) or x.size == 0 else None


def _same_order(*arrays: np.ndarray) -> bool:
    """Same shape and the same axis order in memory, so K-order ravels pair up element for element."""
    first = arrays[0]
    order = np.argsort(first.strides, kind="stable")
    return all(a.shape == first.shape and np.array_equal(np.argsort(a.strides, kind="stable"), order)
               for a in arrays[1:])


def max_pool_nhwc(x: np.ndarray, geo) -> np.ndarray | None:
    """MaxPool of float32 ``x`` (logical NCHW) over channels-last memory; None when not built.

    ``geo`` already carries any ceil_mode padding. Returns an NCHW view of NHWC memory.
    """
    if _epilogue is None or x.dtype != np.float32 or x.ndim != 4:
        return None
    b, c, h, w = x.shape
    ho, wo = geo.output_hw(h, w)
    out = np.empty((b, ho, wo, c), np.float32)
    _epilogue.max_pool_nhwc_into(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), out, geo.kh, geo.kw, geo.sh,
                                 geo.sw, geo.dh, geo.dw, geo.pt, geo.pl)
    return out.transpose(0, 3, 1, 2)
