"""The numba row loop of :func:`adept_core.emulate.fp32_product.fp32_product` (few rows).

A module of its own so importing the executor does not import numba.
"""

from __future__ import annotations

import numpy as np

from ..kernels.numba_jit import kernel_jit


@kernel_jit()
def rows_f64(x, w, out):  # pragma: no cover - compiled
    """``out[i, j] = float32(sum_p float64(x[i, p]) * float64(w[p, j]))``, summed in order of ``p``."""
    m, k = x.shape
    n = w.shape[1]
    acc = np.empty(n, np.float64)
    for i in range(m):
        acc[:] = 0.0
        for p in range(k):
            a = np.float64(x[i, p])
            for j in range(n):  # the product is exact in float64: one rounding per add, fused or not
                acc[j] += a * np.float64(w[p, j])
        for j in range(n):
            out[i, j] = np.float32(acc[j])
