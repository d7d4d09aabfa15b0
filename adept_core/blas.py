"""Keep NumPy's BLAS to a set number of threads (the executor's float32 passes, the numba backend).

BLAS serves the executor's float32 reference and calibration passes, and the
numba kernel backend's exact float32 tile products (each of its threads
calls BLAS single-threaded, see ``docs/kernel.md``). OpenBLAS workers spin after
every call; when small GEMMs alternate with NumPy element-wise work, or the
machine's cores are shared with other processes or the kernel's own
threads, the spinning workers steal the cores. Measured on the 2-core CI
machine under load: the RNN-T float32 reference took 13 s with OpenBLAS's
default threads and 2.2 s with one thread (see ``docs/executor.md``).

Only OpenBLAS (NumPy's bundled build) is handled, found through
``/proc/self/maps`` (Linux) and its exported ``*openblas_set_num_threads*``;
anywhere else :func:`blas_threads` does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
from functools import lru_cache

_PREFIXES = ("scipy_openblas_", "openblas_")
_SUFFIXES = ("64_", "")


@lru_cache(maxsize=1)
def _controls() -> tuple:
    """(get, set) pairs of every loaded OpenBLAS."""
    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower() and "/" in line})
    except OSError:
        return ()
    found = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                get = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype = ctypes.c_int
                    set_.argtypes = [ctypes.c_int]
                    found.append((get, set_))
                    break
            else:
                continue
            break
    return tuple(found)


@contextlib.contextmanager
def blas_threads(n: int | None):
    """Within the block, OpenBLAS uses ``n`` threads (``None``: leave it alone)."""
    controls = _controls() if n is not None else ()
    before = [get() for get, _ in controls]
    for _, set_ in controls:
        set_(int(n))
    try:
        yield
    finally:
        for (_, set_), value in zip(controls, before):
            set_(value)
