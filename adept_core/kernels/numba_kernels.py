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
def tile_epilogue(
    p: np.ndarray,
    acc: np.ndarray,
    out: np.ndarray,
    m0: int,
    n0: int,
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
    y: np.ndarray,
    h: np.ndarray,
) -> int:
    """Noise, ADC and accumulation of one block of one tile's partial sums (contract steps 3-5).

    The block's rows are taken a group at a time (as many rows as ``y`` holds,
    a few KiB so the group stays in L1), and each step runs as one simple loop
    over the whole group: the hash (per row, as the key is per row), the table
    lookup, the noise, the ADC, the accumulation. Separate loops because LLVM
    vectorizes the hash, noise and ADC loops on their own but leaves a loop
    scalar as a whole when it also holds the table lookup (a gather); loops
    over the group rather than over each row because the fixed cost of a
    vector loop (set-up, alias checks, remainder) is then paid per group,
    which matters for narrow outputs (N = 64: 1.9 instead of 2.6 ns per
    element). The order of operations per element is exactly the contract's.

    Parameters
    ----------
    p : np.ndarray
        float32 or float64 [R, C], C-contiguous: exact integer partial sums of
        tile ``t`` for input rows ``m0 .. m0 + R`` and output columns ``n0 .. n0 + C``.
    acc : np.ndarray
        int32/int64 [R, C], C-contiguous: codes accumulated over the earlier tiles; updated.
    out : np.ndarray
        float32 [M, N], the whole output: its block ``[m0:m0+R, n0:n0+C]`` is
        written on the ``last`` tile as ``float32(double(acc + code) * factor[n])``
        (``acc`` is then not updated).
    m0, n0 : int
        Global index of the block's first row and column (the noise key and
        hash use global indices, so blocking never changes bits).
    t : int
        Tile index.
    last : bool
        True on the last K-tile: dequantize instead of storing ``acc``.
    base : np.uint64
        ``rng.call_base(seed, call_key)``.
    table : np.ndarray
        float32 [65536] inverse-CDF table.
    lsb, factor : np.ndarray
        float64 [G * C]: ADC step and dequantization factor of the block's
        columns, repeated for each of the ``G = y.size // C`` rows of a group.
    sigma_const, shot_coeff, rin_coeff : float
        Noise coefficients (partial-sum units).
    noisy : bool
        False skips the noise (then ``y == p`` exactly, as the contract says).
    q_adc : int
        Largest ADC code.
    y, h : np.ndarray
        float64 and uint32 [G * C] work space (``G >= 1`` whole rows).

    Returns
    -------
    int
        ADC conversions of this block with ``|rint(y / lsb)| > q_adc``.
    """
    qa = np.float64(q_adc)
    var_const = sigma_const * sigma_const
    rows, cols = p.shape
    flat_p = p.reshape(-1)
    flat_acc = acc.reshape(-1)
    group = y.size // cols
    clipped = 0
    for i0 in range(0, rows, group):
        i1 = min(rows, i0 + group)
        size = (i1 - i0) * cols
        pg = flat_p[i0 * cols:i0 * cols + size]
        ag = flat_acc[i0 * cols:i0 * cols + size]
        if noisy:
            for i in range(i0, i1):
                rk = row_key(base, t, m0 + i)
                hr = h[(i - i0) * cols:(i - i0 + 1) * cols]
                for n in range(cols):
                    hr[n] = column_hash(rk, n0 + n) >> _TABLE_SHIFT
            for j in range(size):
                y[j] = table[h[j]]
            for j in range(size):
                pd = np.float64(pg[j])
                ry = rin_coeff * pd
                y[j] = pd + np.sqrt((var_const + shot_coeff * abs(pd)) + ry * ry) * y[j]
        else:
            for j in range(size):
                y[j] = pg[j]
        for j in range(size):
            r = np.rint(y[j] / lsb[j])
            clipped += abs(r) > qa
            y[j] = min(max(r, -qa), qa)
        if last:
            for j in range(size):
                y[j] = np.float32(np.float64(ag[j] + np.int64(y[j])) * factor[j])
            for i in range(i0, i1):
                yr = y[(i - i0) * cols:(i - i0 + 1) * cols]
                row = out[m0 + i, n0:n0 + cols]
                for n in range(cols):
                    row[n] = np.float32(yr[n])
        else:
            for j in range(size):
                ag[j] += np.int64(y[j])
    return clipped
