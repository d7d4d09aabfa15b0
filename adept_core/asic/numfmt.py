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
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

#: Number formats the ASIC emulation supports.
FORMATS = ("bf16", "fp32")

_LOW16 = np.uint32(0xFFFF0000)
_HALF = np.uint32(0x7FFF)


def round_bf16(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
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


def _identity(x: np.ndarray) -> np.ndarray:
    return x
