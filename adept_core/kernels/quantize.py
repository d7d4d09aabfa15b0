"""DAC and weight-programming quantization (steps 1 of the kernel contract).

These functions are shared by every backend for the *weights* (programmed
once per :class:`~adept_core.kernels.core.PhotonicCore`) and are the
reference for the *inputs*, which the fast backends quantize inside their
own fused loops.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .spec import qmax


def operand_dtype(bits: int) -> np.dtype:
    """Smallest signed integer type that holds a ``bits``-bit code."""
    return np.dtype(np.int8) if bits <= 8 else np.dtype(np.int16)


def check_finite(name: str, a: np.ndarray) -> None:
    """Raise :class:`InputError` when ``a`` holds NaN or Inf, naming where."""
    finite = np.isfinite(a)
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        raise InputError(
            f"{name} contains a non-finite value ({a[tuple(bad)]!r} at index {tuple(int(i) for i in bad)}); "
            "the DAC can only represent finite numbers"
        )


def tensor_scale(a: np.ndarray, bits: int) -> np.float32:
    """One scale per tensor: ``float32(max|a|) / float32(qmax)``, or 1 for an all-zero tensor."""
    amax = np.float32(np.max(np.abs(a))) if a.size else np.float32(0.0)
    if amax == 0:
        return np.float32(1.0)
    return np.float32(amax / np.float32(qmax(bits)))


def column_scales(w: np.ndarray, bits: int) -> np.ndarray:
    """One scale per output column of ``w`` [K, N]; an all-zero column gets 1."""
    amax = np.max(np.abs(w), axis=0).astype(np.float32) if w.shape[0] else np.zeros(w.shape[1], np.float32)
    scales = amax / np.float32(qmax(bits))
    scales[amax == 0] = np.float32(1.0)
    return scales.astype(np.float32)


def quantize(a: np.ndarray, scale: np.ndarray | np.float32, bits: int) -> np.ndarray:
    """``clamp(rint(a / scale), -qmax, qmax)`` with the division in float32, as ``operand_dtype(bits)``."""
    q = qmax(bits)
    codes = np.rint(a / np.asarray(scale, dtype=np.float32))
    np.clip(codes, -q, q, out=codes)
    return codes.astype(operand_dtype(bits))
