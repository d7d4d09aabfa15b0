"""The jitted loops of the Numba backend: input quantization and the fused tile epilogue.

The tile products themselves are not here: :class:`~adept_core.kernels.numba_backend.NumbaBackend`
hands them to BLAS, which is exact for the integer codes it multiplies (see
that module). What is here is everything that touches each element once:

- :func:`absmax_bits` and :func:`quantize_codes`: step 1 of the contract for the inputs;
- :func:`tile_epilogue`: steps 3-5 (noise, ADC, accumulation, and on the last
  tile the dequantization) fused, so a partial sum is read once and never stored.

The noise hash is :mod:`adept_core.kernels.rng`'s own arithmetic compiled by
Numba (``splitmix64`` and ``lowbias32`` are the very functions the NumPy
oracle runs), so the two cannot drift apart.
"""

from __future__ import annotations

import numpy as np
from . import rng
from .numba_jit import kernel_jit

splitmix64 = kernel_jit()(rng._splitmix64_array)
lowbias32 = kernel_jit()(rng.lowbias32)

_TABLE_SHIFT = np.uint32(32 - rng.TABLE_BITS)
_GOLDEN32 = np.uint32(rng.GOLDEN32)
_MASK32 = np.uint64(rng.MASK32)


@kernel_jit()
def row_key(base: np.uint64, t: int, m: int) -> np.uint64:
    """``splitmix64(base ^ ((t << 32) | m))``: the key of input row ``m`` in tile ``t``."""
    return splitmix64(base ^ ((np.uint64(t) << np.uint64(32)) | np.uint64(m)))


@kernel_jit()
def column_hash(rk: np.uint64, n: int) -> np.uint32:
    """The 32-bit hash of output column ``n`` under row key ``rk`` (rng step 3)."""
    hi = np.uint32(rk >> np.uint64(32))
    lo = np.uint32(rk & _MASK32)
    return lowbias32(np.uint32(np.uint32(n) * _GOLDEN32 + hi) ^ lo)


@kernel_jit()
def standard_normal(base: np.uint64, t: int, m: int, n: int, table: np.ndarray) -> float:
    """``z`` of partial sum ``(t, m, n)``; the scalar twin of :func:`rng.standard_normals` (for tests)."""
    return np.float64(table[column_hash(row_key(base, t, m), n) >> _TABLE_SHIFT])


#: float32 bit patterns with ``bits & 0x7FFFFFFF`` at or above this are Inf or NaN.
NON_FINITE_BITS = 0x7F800000


@kernel_jit()
def absmax_bits(x: np.ndarray) -> int:
    """``max |x|`` of a C-contiguous float32 array, as the float32's bit pattern.

    With the sign bit cleared, the bit patterns of float32 values sort like
    their magnitudes, and Inf and NaN sort above every finite value
    (``>= NON_FINITE_BITS``). An integer max is associative, so LLVM
    vectorizes this loop; a float max reduction it may not reorder.
    """
    bits = x.reshape(-1).view(np.uint32)
    peak = np.uint32(0)
    for i in range(bits.size):
        peak = max(peak, bits[i] & np.uint32(0x7FFFFFFF))
    return peak


@kernel_jit()
def quantize_codes(x: np.ndarray, scale: np.float32, q: int, codes: np.ndarray) -> None:
    """``codes = clamp(rint(x / scale), -q, q)`` with the division and rint in float32.

    Same operations as :func:`adept_core.kernels.quantize.quantize`; the codes
    are written as floats (exact small integers) because BLAS multiplies them next.
    """
    m_rows, k = x.shape
    lo = np.float32(-q)
    hi = np.float32(q)
    for m in range(m_rows):
        for j in range(k):
            c = np.rint(x[m, j] / scale)
            codes[m, j] = min(max(c, lo), hi)


@kernel_jit()
def epilogue_row(p, acc, out, rk, last, table, lsb, factor, var_const, shot_coeff, rin_coeff, noisy, qa, y):
    """Steps 3-5 of the contract for one input row of one tile; returns its clipped count.

    Written as separate simple loops (hash and table lookup; noise; ADC;
    accumulation) through the float64 scratch row ``y`` because LLVM
    vectorizes each of them, but not the fused loop (gather + sqrt + divide).
    The order of operations per element is exactly the contract's.
    """
    n_cols = p.size
    if noisy:
        for n in range(n_cols):
            y[n] = table[column_hash(rk, n) >> _TABLE_SHIFT]
        for n in range(n_cols):
            pd = np.float64(p[n])
            ry = rin_coeff * pd
            y[n] = pd + np.sqrt((var_const + shot_coeff * abs(pd)) + ry * ry) * y[n]
    else:
        for n in range(n_cols):
            y[n] = p[n]
    clipped = 0
    for n in range(n_cols):
        r = np.rint(y[n] / lsb[n])
        clipped += abs(r) > qa
        y[n] = min(max(r, -qa), qa)
    if last:
        for n in range(n_cols):
            out[n] = np.float32(np.float64(acc[n] + np.int64(y[n])) * factor[n])
    else:
        for n in range(n_cols):
            acc[n] += np.int64(y[n])
    return clipped


@kernel_jit()
def tile_epilogue(
    p: np.ndarray,
    acc: np.ndarray,
    out: np.ndarray,
    m0: int,
    t: int,
    last: bool,
    base: np.uint64,
    table: np.ndarray,
    lsb: np.ndarray,
    factor: np.ndarray,
    sigma_const: float,
    shot_coeff: float,
    rin_coeff: float,
    noisy: bool,
    q_adc: int,
    scratch: np.ndarray,
) -> int:
    """Noise, ADC and accumulation of one tile's partial sums (contract steps 3-5).

    Parameters
    ----------
    p : np.ndarray
        float32 or float64 [R, N]: exact integer partial sums of tile ``t``
        for input rows ``m0 .. m0 + R``.
    acc : np.ndarray
        int32/int64 [R, N]: codes accumulated over the earlier tiles; updated.
    out : np.ndarray
        float32 [R, N]: written on the ``last`` tile as
        ``float32(double(acc + code) * factor[n])`` (``acc`` is then not updated).
    m0 : int
        Global index of ``p``'s first row (the noise key uses global rows).
    t : int
        Tile index.
    last : bool
        True on the last K-tile: dequantize instead of storing ``acc``.
    base : np.uint64
        ``rng.call_base(seed, call_key)``.
    table : np.ndarray
        float32 [65536] inverse-CDF table.
    lsb, factor : np.ndarray
        float64 [N]: ADC step and dequantization factor per column.
    sigma_const, shot_coeff, rin_coeff : float
        Noise coefficients (partial-sum units).
    noisy : bool
        False skips the noise (then ``y == p`` exactly, as the contract says).
    q_adc : int
        Largest ADC code.
    scratch : np.ndarray
        float64 [N] work row.

    Returns
    -------
    int
        ADC conversions of this tile with ``|rint(y / lsb)| > q_adc``.
    """
    qa = np.float64(q_adc)
    var_const = sigma_const * sigma_const
    clipped = 0
    for i in range(p.shape[0]):
        rk = row_key(base, t, m0 + i)
        clipped += epilogue_row(
            p[i], acc[i], out[i], rk, last, table, lsb, factor, var_const, shot_coeff, rin_coeff, noisy, qa, scratch
        )
    return clipped
