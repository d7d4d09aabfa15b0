"""Helpers of the kernel tests (``from kernel_helpers import ...``): every backend, one call.

Every backend named in the registry is always compared: a backend that is
not available (for example the C++ extension not built) makes the tests that
use :func:`run_backends` fail with the registry's explanation, never skip.
CI always builds every backend.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings

from adept_core.kernels import BACKEND_NAMES, PhotonicCore, get_backend

#: Hypothesis settings of the kernel property tests: few small examples, reproducible, no
#: deadline (the first call of a shape may compile Numba code).
KERNEL_SETTINGS = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def random_operands(seed: int, m: int, k: int, n: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Reproducible float32 ``x`` [m, k] and ``w`` [k, n] from a normal distribution."""
    gen = np.random.default_rng(seed)
    x = (gen.standard_normal((m, k)) * scale).astype(np.float32)
    w = gen.standard_normal((k, n)).astype(np.float32)
    return x, w


def run_backends(core: PhotonicCore, x: np.ndarray, **call) -> dict:
    """``{backend: (y, GemmStats)}`` for every backend in ``BACKEND_NAMES``.

    ``get_backend`` raises :class:`BackendUnavailableError` for a backend
    that is missing, so the calling test fails and says why.
    """
    results = {}
    for name in BACKEND_NAMES:
        get_backend(name)
        results[name] = core(x, backend=name, **call)
    return results


def assert_backends_equal(results: dict, reference: str = "numpy") -> None:
    """Every backend's output equals the reference bit for bit, with the same clipped count and scale."""
    y_ref, s_ref = results[reference]
    for name, (y, stats) in results.items():
        assert y.dtype == np.float32 and y.shape == y_ref.shape, name
        mismatch = np.flatnonzero(y.view(np.uint32) != y_ref.view(np.uint32))
        assert np.array_equal(y, y_ref), (
            f"{name} differs from {reference} at {mismatch.size} of {y.size} outputs, "
            f"first flat index {mismatch[:5].tolist()}: {y.ravel()[mismatch[:3]]} vs {y_ref.ravel()[mismatch[:3]]}"
        )
        assert stats.clipped == s_ref.clipped, f"{name} clipped {stats.clipped}, {reference} {s_ref.clipped}"
        assert stats.x_scale == s_ref.x_scale, name
        assert stats.backend == name
