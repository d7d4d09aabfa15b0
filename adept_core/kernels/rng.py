"""Counter-based noise for the photonic GEMM: the same bits on every backend and thread count.

A standard normal ``z`` for partial sum ``(t, m, n)`` of call
``(seed, call_key)`` is a pure function of those five integers:

1. ``base = splitmix64(splitmix64(seed) ^ call_key)``, once per call;
2. ``rk = splitmix64(base ^ ((t << 32) | m))``, once per (tile, input row);
3. ``h = lowbias32(((n * 0x9E3779B9 + (rk >> 32)) mod 2**32) ^ (rk & 0xFFFFFFFF))``,
   once per output: 32-bit integer ops only, so it vectorizes;
4. ``z = double(NORMAL_TABLE[h >> 16])``, where ``NORMAL_TABLE[i]`` is the
   float32 standard-normal quantile at ``(i + 0.5) / 65536``.

No transcendental function is evaluated on the hot path; the table is built
once in Python and handed to every backend, so all three read the same
65,536 values. The table truncates the normal at +-4.32 sigma; its variance
is 1 - 2.0e-5 (tests/test_kernel_noise_stats.py), below what the statistics
tests can see with 10**6 samples and far below any physical uncertainty of
the noise model.

``splitmix64`` is Steele, Lea and Flood's SplitMix64 finalizer; ``lowbias32``
is Chris Wellons' 2-round 32-bit hash (bias 0.17), both public domain.
"""

from __future__ import annotations

from functools import lru_cache
from statistics import NormalDist

import numpy as np

from ..errors import ConfigError

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1
TABLE_BITS = 16
TABLE_SIZE = 1 << TABLE_BITS
GOLDEN32 = 0x9E3779B9


def splitmix64(x: int) -> int:
    """SplitMix64 output function on a Python int (wraps modulo 2**64)."""
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def check_key(name: str, value: object) -> int:
    """Validate a seed or call key: an integer in [0, 2**64)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be an integer in [0, 2**64), got {value!r}")
    value = int(value)
    if not 0 <= value <= MASK64:
        raise ConfigError(f"{name} must be in [0, 2**64), got {value}")
    return value


def call_base(seed: int, call_key: int) -> int:
    """The 64-bit key of one kernel call."""
    return splitmix64(splitmix64(check_key("seed", seed)) ^ check_key("call_key", call_key))


def _splitmix64_array(x: np.ndarray) -> np.ndarray:
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def row_keys(base: int, t: int, m: np.ndarray) -> np.ndarray:
    """Row keys ``splitmix64(base ^ ((t << 32) | m))`` for one tile, as uint64."""
    counters = (np.uint64(t) << np.uint64(32)) | np.asarray(m, dtype=np.uint64)
    return _splitmix64_array(np.uint64(base) ^ counters)


def lowbias32(x: np.ndarray) -> np.ndarray:
    """Wellons' lowbias32 hash on uint32 arrays (wrapping arithmetic).

    The Numba backend compiles this very function for uint32 scalars, where
    Numba widens integer arithmetic to 64 bits; the ``np.uint32`` casts
    restore the 32-bit wrap there and are no-ops on uint32 arrays.
    """
    x = x ^ (x >> np.uint32(16))
    x = np.uint32(x * np.uint32(0x7FEB352D))
    x = x ^ (x >> np.uint32(15))
    x = np.uint32(x * np.uint32(0x846CA68B))
    return np.uint32(x ^ (x >> np.uint32(16)))


def element_hash(rk: np.ndarray, n: np.ndarray) -> np.ndarray:
    """32-bit hash for every (row key, column) pair: ``rk`` [R] x ``n`` [C] -> [R, C] uint32."""
    hi = (rk >> np.uint64(32)).astype(np.uint32)[:, None]
    lo = (rk & np.uint64(MASK32)).astype(np.uint32)[:, None]
    counter = np.asarray(n, dtype=np.uint32)[None, :] * np.uint32(GOLDEN32) + hi
    return lowbias32(counter ^ lo)


def standard_normals(base: int, t: int, m: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``z`` for tile ``t``, rows ``m`` and columns ``n`` of a call: float64 [len(m), len(n)]."""
    h = element_hash(row_keys(base, t, m), n)
    return normal_table()[h >> np.uint32(32 - TABLE_BITS)].astype(np.float64)


@lru_cache(maxsize=1)
def normal_table() -> np.ndarray:
    """The shared inverse-CDF table: float32 [65536], read-only."""
    inv_cdf = NormalDist().inv_cdf
    table = np.array([inv_cdf((i + 0.5) / TABLE_SIZE) for i in range(TABLE_SIZE)], dtype=np.float32)
    table.flags.writeable = False
    return table
