"""The numba backend's output blocking never changes a bit.

With the production block sizes, the small shapes of the equality grid fit in
one or two blocks, so blocks that start at a non-zero column (and rows split
across threads) are rarely reached. Shrinking ``BLOCK_ELEMENTS``,
``MIN_BLOCK_COLS`` and the per-thread work threshold forces many blocks with
``m0 > 0`` and ``n0 > 0`` on every thread count.
"""

from __future__ import annotations

import numpy as np
import pytest

from adept_core import NoiseSpec, PhotonicCore, PhotonicGemmSpec
from adept_core.kernels import numba_backend
from kernel_helpers import random_operands


def test_output_blocks_tile_the_output_exactly():
    for m, n, parts in [(1, 1, 1), (7, 300, 2), (37, 5, 3), (128, 1024, 2), (1000, 64, 4)]:
        covered = np.zeros((m, n), dtype=np.int64)
        for m0, m1, n0, n1 in numba_backend.output_blocks(m, n, parts):
            covered[m0:m1, n0:n1] += 1
        assert (covered == 1).all(), (m, n, parts)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("m, k, n, bits", [(37, 300, 70, 8), (9, 130, 200, 8), (23, 64, 33, 12)])
def test_small_blocks_are_bit_identical_to_the_oracle(monkeypatch, threads, m, k, n, bits):
    monkeypatch.setattr(numba_backend, "BLOCK_ELEMENTS", 64)
    monkeypatch.setattr(numba_backend, "MIN_BLOCK_COLS", 8)
    monkeypatch.setattr(numba_backend, "MIN_ELEMENTS_PER_THREAD", 16)
    blocks = numba_backend.output_blocks(m, n, threads)
    assert any(b[0] > 0 for b in blocks) and any(b[2] > 0 for b in blocks), blocks
    x, w = random_operands(m * 1000 + n, m, k, n)
    noise = NoiseSpec(sigma_const=40.0, shot_coeff=2.0, rin_coeff=0.01)
    core = PhotonicCore(w, PhotonicGemmSpec(rows=64, input_bits=bits, weight_bits=bits, adc_bits=bits, noise=noise))
    fs = core.calibrate_full_scale(x) * 0.5  # clips some outputs, so clip counts are compared too
    y_ref, s_ref = core(x, seed=3, adc_full_scale=fs, backend="numpy")
    y, s = core(x, seed=3, adc_full_scale=fs, backend="numba", threads=threads)
    assert np.array_equal(y, y_ref)
    assert s.clipped == s_ref.clipped > 0
