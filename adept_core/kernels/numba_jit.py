"""One place that fixes how every Numba kernel of adept is compiled.

Every jitted function in :mod:`adept_core.kernels` is built by :func:`kernel_jit`
so that the options that decide its *bits* cannot differ between kernels.
Importing this module imports Numba; the registry turns an ImportError into
"backend unavailable".
"""

from __future__ import annotations

import numba


def kernel_jit(cache: bool = True):
    """The ``numba.njit`` decorator used for every adept kernel.

    Options and why:

    - ``fastmath=False`` (Numba's default, spelled out): fast-math would let
      LLVM reassociate sums, contract ``a*b + c`` into FMA and replace
      ``x / y`` by ``x * (1/y)``; each of these changes result bits, and the
      kernel contract fixes every floating-point operation.
    - ``error_model="numpy"``: division by zero yields inf/NaN instead of
      raising. With the default (``"python"``) Numba guards every float
      division with a zero test, which stops LLVM vectorizing the ADC loop.
      The divisors (ADC step, input scale) are validated > 0 before any
      kernel runs, so the guard could never fire.
    - ``nogil=True``: the kernels touch only NumPy buffers, so they release
      the GIL; the backend's worker threads run them in parallel this way.
    - ``cache=True``: compiled machine code is stored next to the module
      (or in Numba's user cache dir when that is read-only), so only the
      first run on a machine pays the compile time. Safe because the kernels
      read no mutable global state: every constant they use is a literal,
      an argument, or a module constant frozen at compile time. Numba
      re-validates a cache entry against its own source file only, so after
      editing :mod:`adept_core.kernels.rng` (whose hash functions the
      kernels compile in) in a source checkout, delete
      ``adept_core/kernels/__pycache__/*.nb*``; an installed package never
      changes one file without the other.
    - no ``parallel=True``: threading is done by the caller over disjoint
      row ranges (see :mod:`adept_core.kernels.numba_backend` for why not
      ``prange``), so every kernel is a plain serial loop nest.

    Parameters
    ----------
    cache : bool
        Store compiled code on disk.
    """
    return numba.njit(fastmath=False, error_model="numpy", nogil=True, cache=cache)
