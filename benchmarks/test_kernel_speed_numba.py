"""Speed of the Numba backend against numpy float32 ``x @ w`` (issue 2, section 4: target <= 3x).

Same problems, noise and groups as ``test_kernel_speed.py`` (the C++ benchmarks), so the
conftest prints the numba ratio next to the cpp one against the same numpy baseline of the run.
Every benchmark checks its answer against the NumPy oracle on the first rows. The one-core CPU-time
comparison of ``test_kernel_speed.py`` (``OPENBLAS_NUM_THREADS=1 ADEPT_BENCH_THREADS=1`` and
``--benchmark-timer=time.process_time``) applies here too.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_kernel_speed import CHECK_ROWS, SEED, SHAPES, THREADS, _group, _problem

NUMBA_TARGET = 3.0


@pytest.mark.parametrize("shape", list(SHAPES), ids=lambda s: f"{_group(s)}-numba_core")
def test_numba_kernel_speed(benchmark, shape):
    x, w, core, full_scale = _problem(shape)
    benchmark.group = _group(shape)
    benchmark.extra_info["target_ratio"] = NUMBA_TARGET

    def run():
        return core(x, seed=SEED, adc_full_scale=full_scale, backend="numba", threads=THREADS)

    run()  # compile (or load the cached machine code) and convert the weights once
    y, stats = benchmark(run)
    ref = core(x[:CHECK_ROWS], seed=SEED, adc_full_scale=full_scale, x_scale=stats.x_scale, backend="numpy").out
    assert np.array_equal(y[:CHECK_ROWS], ref)
    assert stats.backend == "numba" and y.shape == (x.shape[0], w.shape[1])
