"""The ASIC's number format: bfloat16 (default) or float32, emulated on float32 arrays.

The digital ASIC stores activations and computes vector ops in bfloat16
(1 sign, 8 exponent, 7 mantissa bits: float32 with the low 16 bits dropped).
We keep every tensor as float32 whose low 16 bits are zero, so NumPy does
the arithmetic and :func:`round_bf16` puts each op's result back on the
bf16 grid. Round-to-nearest-even is done with integer operations on the
float32 bit pattern, which is exact and needs no libm:

    bits' = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000

A carry out of the mantissa correctly bumps the exponent (and rounds the
largest finite values to infinity, as IEEE overflow does); NaNs are kept as
NaNs (the add could otherwise turn a NaN payload into an infinity).

:func:`round_bf16` runs the rule in one pass with the Cython loop
:mod:`adept_core.asic._bf16` when it is built and the array's memory is
dense (any axis order, e.g. a conv output's NCHW view of NHWC memory), and
with NumPy ufuncs otherwise; :func:`round_bf16_numpy` is that NumPy
reference (tests compare the two bit for bit).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

#: Number formats the ASIC emulation supports.
FORMATS = ("bf16", "fp32")

_LOW16 = np.uint32(0xFFFF0000)
_HALF = np.uint32(0x7FFF)

try:
    from ._bf16 import round_bf16_into as _round_into
except ImportError:  # uncompiled source tree: the NumPy path does the same
    _round_into = None


def round_bf16(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Round float32 ``x`` to the nearest bfloat16 value (ties to even), as float32.

    Parameters
    ----------
    x : np.ndarray
        float32 array (any shape and memory layout).
    out : np.ndarray, optional
        float32 array of the same shape to write into (may be ``x``).

    Returns
    -------
    np.ndarray
        float32 array (``out`` if given, else new with ``x``'s memory layout)
        whose values are exactly representable in bfloat16.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float32:
        raise TypeError(f"round_bf16 needs a float32 numpy array, got {getattr(x, 'dtype', type(x).__name__)}")
    if _round_into is not None and x.size:
        dst = np.empty_like(x) if out is None else out  # empty_like keeps x's axis order
        if x.flags.c_contiguous and dst.flags.c_contiguous and x.shape == dst.shape:
            # The common case without the layout checks below: an LSTM step calls this ~10^4 times
            # per utterance on small vectors, where those checks cost more than the rounding.
            _round_into(x.reshape(-1).view(np.uint32), dst.reshape(-1).view(np.uint32))
            return dst
        src_flat, dst_flat = x.ravel(order="K"), dst.ravel(order="K")
        # Dense memory only (a ravel that is a view), walked in the same order on both sides.
        if (np.may_share_memory(src_flat, x) and np.may_share_memory(dst_flat, dst)
                and _same_order(x, dst)):
            _round_into(src_flat.view(np.uint32), dst_flat.view(np.uint32))
            return dst
    return round_bf16_numpy(x, out)


def _same_order(a: np.ndarray, b: np.ndarray) -> bool:
    """True when both arrays lay their elements out in the same axis order (so K-order ravels align)."""
    if a.shape != b.shape or min(a.strides + b.strides, default=0) < 0:
        return False
    return np.array_equal(np.argsort(a.strides, kind="stable"), np.argsort(b.strides, kind="stable"))


def round_bf16_numpy(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Round float32 ``x`` to the nearest bfloat16 value (ties to even), as float32.

    Parameters
    ----------
    x : np.ndarray
        float32 array (any shape, C-contiguous or not).
    out : np.ndarray, optional
        float32 array of the same shape to write into (may be ``x``).

    Returns
    -------
    np.ndarray
        float32 array whose values are exactly representable in bfloat16.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float32:
        raise TypeError(f"round_bf16 needs a float32 numpy array, got {getattr(x, 'dtype', type(x).__name__)}")
    src = x  # any memory layout: a same-size view and ufuncs (order K) keep it
    bits = src.view(np.uint32)
    lsb = bits >> np.uint32(16)
    lsb &= np.uint32(1)
    lsb += _HALF
    lsb += bits
    lsb &= _LOW16
    result = lsb.view(np.float32)
    nan = np.isnan(src)
    if nan.any():
        result[nan] = src[nan]
    if out is None:
        return result
    out[...] = result
    return out


def rounder(fmt: str):
    """The rounding function of number format ``fmt`` (``"bf16"`` or ``"fp32"``)."""
    if fmt == "bf16":
        return round_bf16
    if fmt == "fp32":
        return _identity
    raise ConfigError(f"ASIC number format {fmt!r} is unknown; choose one of {', '.join(FORMATS)}")


def _identity(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    if out is None or out is x:
        return x
    out[...] = x
    return out
