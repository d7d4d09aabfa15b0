"""The float32 reference's matrix products: one result per distinct weight column; optional float64 sums.

Decision (``docs/executor.md``, "The float32 reference's products"):

- default (``fp32_accumulate="float32"``): float32 BLAS, with the distinct columns of a stationary
  weight found once when it is first used (:func:`distinct_columns`) and the product computed on
  those only, each repeated column's output a copy of its twin's. Identical weight columns thus
  give bit-identical outputs whatever BLAS kernel runs, at the cost of one pass over each weight
  at programming time (a column-sum signature) and nothing per inference when no column repeats.
- ``fp32_accumulate="float64"``: :func:`fp32_product` below for every product: the result no longer
  depends on the BLAS kernel at all, at 2-3x the GEMM time (measured, ``docs/executor.md``).

Why either is needed at all:
``precision="fp32"`` is the reference every emulated result is compared against, so its
products must not depend on where a column sits in a matrix, on the BLAS kernel the CPU
selects, or on the thread count. Plain float32 BLAS (``x @ w``) does not give that:
OpenBLAS 0.3.31's Haswell sgemm (AVX2/FMA) computes output columns 0-7 and the last
few with a different summation order than the rest, so identical weight columns give
outputs 1-2 ulp apart (``a @ np.full((512, 1000), 0.02, np.float32)`` has two distinct
values per row there, one on an AVX-512 machine). A network whose logits are huge and
equal (the onnx wheel's light SqueezeNet, weights all 0.02, logits ~1e10) then turns
1 ulp (~1e3) into a non-uniform Softmax.

With ``fp32_accumulate="float64"`` every output element is ``float32(sum_k float64(x[i, k]) * float64(w[k, j]))``: the
product of two float32 values is exact in float64 (24 + 24 significant bits <= 53), the
float64 sum of K terms carries a relative error below ``K * 2**-53`` (K = 4608, ResNet's
widest, gives 5e-13, vs float32's half-ulp 3e-8), and rounding it once to float32 gives
the correctly rounded exact dot product except when the exact sum lies within that error
of a float32 rounding boundary (probability ~ K * 2**-29 per element). So identical
columns give identical outputs whatever the kernel, and the result is at least as close
to the exact product as float32 BLAS.

Two routes, chosen by the number of rows ``M``:

- ``M >= DGEMM_MIN_ROWS``: float64 BLAS (``dgemm``) on upcast copies. Compute-bound; on
  AVX2 a dgemm does 4 lanes per FMA where sgemm does 8.
- fewer rows (fully connected layers at batch 1, RNN steps): the numba loop
  :func:`~adept_core.emulate.fp32_rows.rows_f64` reads the float32 weight once per row, with no float64 copy of it
  (a dgemm would first convert the whole [K, N] weight, which costs more than the
  memory-bound product itself).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

#: ``fp32_accumulate`` choices of :class:`~adept_core.emulate.executor.PreparedModel`.
FP32_ACCUMULATE = ("float32", "float64")


def check_accumulate(accumulate: str) -> str:
    """``accumulate`` if it is one of :data:`FP32_ACCUMULATE`, else the ConfigError naming the choices."""
    if accumulate not in FP32_ACCUMULATE:
        raise ConfigError(f"fp32_accumulate {accumulate!r} is unknown; choose one of {', '.join(FP32_ACCUMULATE)}")
    return accumulate

#: Columns of one signature compared exactly at most: bounds the work on a weight crafted so that
#: many different columns share a column sum (an untrusted model file); further ones stay distinct.
MAX_TWINS_COMPARED = 8

#: Rows from which float64 BLAS beats the numba row loop (measured: see docs/executor.md).
DGEMM_MIN_ROWS = 16

def _rows_kernel():
    """The numba row loop, imported on first use (importing numba costs ~0.3 s)."""
    from .fp32_rows import rows_f64

    return rows_f64


def fp32_product(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` for float32 operands (any matching batch dims), summed in float64, rounded once."""
    x = np.asarray(x, np.float32)
    w = np.asarray(w, np.float32)
    if x.ndim == 2 and w.ndim == 2 and x.shape[0] < DGEMM_MIN_ROWS and x.shape[1] == w.shape[0]:
        out = np.empty((x.shape[0], w.shape[1]), np.float32)
        _rows_kernel()(np.ascontiguousarray(x), np.ascontiguousarray(w), out)
        return out
    y = np.matmul(x.astype(np.float64), w.astype(np.float64))
    return y.astype(np.float32)


def distinct_columns(w: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(w[:, keep], inverse)`` with ``w == w[:, keep][:, inverse]`` bit for bit, or ``(w, None)`` if no column repeats.

    Candidates are columns with equal float64 column sums (NumPy adds the rows of a C-ordered
    array in the same order for every column, so bit-identical columns always have equal sums);
    each candidate is then compared bit for bit (``-0.0`` and ``0.0`` differ, NaN columns are
    compared by their bits too) with at most :data:`MAX_TWINS_COMPARED` representatives.
    """
    w = np.ascontiguousarray(w, np.float32)
    if w.ndim != 2 or w.shape[1] < 2:
        return w, None
    sig = w.sum(axis=0, dtype=np.float64)
    order = np.argsort(sig, kind="stable")
    s = sig[order]
    same = (s[1:] == s[:-1]) | (np.isnan(s[1:]) & np.isnan(s[:-1]))
    if not same.any():
        return w, None
    bits = w.view(np.uint32)
    rep = np.arange(w.shape[1])  # column -> the column whose output it copies
    i, n = 0, len(order)
    while i < n:
        j = i + 1
        while j < n and same[j - 1]:
            j += 1
        reps: list[int] = []
        for c in order[i:j]:  # one run of equal signatures
            twin = next((r for r in reps if np.array_equal(bits[:, c], bits[:, r])), None)
            if twin is not None:
                rep[c] = twin
            elif len(reps) < MAX_TWINS_COMPARED:
                reps.append(int(c))
        i = j
    keep, inverse = np.unique(rep, return_inverse=True)
    if len(keep) == w.shape[1]:
        return w, None
    return np.ascontiguousarray(w[:, keep]), inverse.astype(np.intp)
