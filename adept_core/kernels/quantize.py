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


def _block_scales(amax: np.ndarray, bits: int) -> np.ndarray:
    """float32 ``amax / qmax``; a zero result (all-zero block or underflow) becomes 1."""
    scales = (amax.astype(np.float32) / np.float32(qmax(bits))).astype(np.float32)
    scales[scales == 0] = np.float32(1.0)
    return scales


def tile_column_scales(w: np.ndarray, bits: int, rows: int) -> np.ndarray:
    """ABFP weight scales: float32 [K-tiles, N], one per (K-tile of ``rows``, column)."""
    k, n = w.shape
    amax = np.stack([np.max(np.abs(w[k0:k0 + rows]), axis=0) for k0 in range(0, k, rows)]) if k else np.zeros((0, n))
    return _block_scales(amax, bits)


def row_tile_scales(x: np.ndarray, bits: int, rows: int) -> np.ndarray:
    """ABFP input scales: float32 [M, K-tiles], one per (row, K-tile of ``rows``)."""
    m, k = x.shape
    amax = np.stack([np.max(np.abs(x[:, k0:k0 + rows]), axis=1) for k0 in range(0, k, rows)], axis=1)
    return _block_scales(amax, bits)


def zero_block_scales(qw: np.ndarray, scales: np.ndarray, rows: int) -> np.ndarray:
    """The dequantization scales of weight codes ``qw`` [K, N]: ``scales`` ([N], or [K-tiles, N] for abfp),
    0 where a column (or its block) has only zero codes.

    Such a column was all zero (or below float32's range) and was quantized with scale 1; dequantizing it with
    1 would turn the analog noise of its (empty) dot products into outputs in units of 1, hundreds of times
    the layer's own (OPT's tied embedding has an all-zero padding row: its logit came out at +-60 against
    true logits below 1). A data-derived scale of such a block is 0, so its outputs are exactly 0.
    """
    if scales.ndim == 1:
        return np.where(np.any(qw != 0, axis=0), scales, np.float32(0.0)).astype(np.float32)
    live = np.stack([np.any(qw[k0:k0 + rows] != 0, axis=0) for k0 in range(0, qw.shape[0], rows)]) \
        if qw.shape[0] else np.zeros(scales.shape, bool)
    return np.where(live, scales, np.float32(0.0)).astype(np.float32)


def quantize_tiles(a: np.ndarray, scales: np.ndarray, bits: int, rows: int, axis: int) -> np.ndarray:
    """Quantize ``a`` block by block along ``axis`` (the K axis), each K-tile with its own scales.

    ``axis=0``: ``a`` is W [K, N], ``scales`` [T, N]; ``axis=1``: ``a`` is X [M, K], ``scales`` [M, T].
    """
    out = np.empty(a.shape, dtype=operand_dtype(bits))
    for t, k0 in enumerate(range(0, a.shape[axis], rows)):
        if axis == 0:
            out[k0:k0 + rows] = quantize(a[k0:k0 + rows], scales[t][None, :], bits)
        else:
            out[:, k0:k0 + rows] = quantize(a[:, k0:k0 + rows], scales[:, t][:, None], bits)
    return out
