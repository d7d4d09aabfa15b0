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


def conv_epilogue_(y: np.ndarray, bias: np.ndarray | None, fmt: str, relu: bool, cython: bool = True,
                   bias_has_nan: bool | None = None) -> np.ndarray:
    """In place over GEMM rows ``y [pixels, Cout]``: round to ``fmt``, add ``bias [Cout]``, then Relu if asked.

    The bias add itself is not rounded (it is part of the conv); a fused Relu
    of the sum is what the Relu op would compute. ``bias_has_nan``: whether
    ``bias`` holds a NaN, when the caller knows it (a weight's, found once);
    ``None`` looks.
    """
    fast = (cython and _epilogue is not None and y.ndim == 2 and y.dtype == np.float32 and y.flags.c_contiguous
            and y.flags.writeable and (bias is None or (bias.dtype == np.float32 and bias.shape == y.shape[1:]))
            and fmt in ("bf16", "fp32"))
    if fast:
        b = _EMPTY if bias is None else np.ascontiguousarray(bias)
        _epilogue.conv_epilogue_rows(y, b, bias is not None, fmt == "bf16", relu,
                                     _has_nan(bias) if bias_has_nan is None else bias_has_nan)
        return y
    from .numfmt import rounder  # local: numfmt needs nothing from here

    rounder(fmt)(y, out=y)
    if bias is not None:
        y += bias
    return relu_(y) if relu else y


def add_(a: np.ndarray, b: np.ndarray, out: np.ndarray, fmt: str, relu: bool, cython: bool = True) -> np.ndarray:
    """``out = relu?(round(a + b))`` for same-shape float32 arrays; ``out`` may be ``a`` or ``b``."""
    if cython and _epilogue is not None and fmt in ("bf16", "fp32") and _same_dense_layout(a, b, out):
        # Always the exact NaN rule (adept_sum): it gives the plain sum's bits whenever no addend is
        # NaN, and costs less than the pass over b that _has_nan(b) would take to choose (a
        # 784x136 Add: 20 us against 33 us, ResNet's 56x56x256: 197 against 254 us).
        _epilogue.add_into(a.ravel(order="K"), b.ravel(order="K"), out.ravel(order="K"), fmt == "bf16", relu, True)
        return out
    from .numfmt import rounder

    np.add(a, b, out=out)
    rounder(fmt)(out, out=out)
    return relu_(out) if relu else out


def _has_nan(x: np.ndarray | None) -> bool:
    """Whether ``x`` holds a NaN (one fast reduction; ``max`` propagates NaN).

    Only sums with a NaN in both addends depend on the operand order (the
    first operand's payload wins); without one, the loops use a plain ``+``.
    """
    return x is not None and x.size > 0 and bool(np.isnan(np.max(x)))


def _same_dense_layout(*arrays: np.ndarray) -> bool:
    """Same float32 shape and strides, memory without gaps: K-order ravels are views that pair up."""
    first = arrays[0]
    if any(a.dtype != np.float32 or a.shape != first.shape or a.strides != first.strides for a in arrays):
        return False
    expected = first.itemsize
    for stride, dim in sorted((s, d) for s, d in zip(first.strides, first.shape) if d != 1):
        if stride != expected:
            return False
        expected *= dim
    return True


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
