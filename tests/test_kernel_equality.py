"""NumPy oracle == Numba == C++, bit for bit, over a grid of shapes, resolutions, noise, seeds, threads.

Shapes cover M = 1, K and N that are not multiples of the core, K smaller than one tile, exact
multiples, and several K-tiles and N-tiles. Every comparison is ``np.array_equal`` plus equal
clipped counts (see ``kernel_helpers.assert_backends_equal``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st
from kernel_helpers import KERNEL_SETTINGS, assert_backends_equal, random_operands, run_backends

from adept_core import NoiseSpec, PhotonicCore, PhotonicGemmSpec
from adept_core.kernels import numba_backend, numba_kernels, rng

@pytest.fixture(autouse=True, scope="module")
def split_even_tiny_calls():
    """Let the Numba backend hand even a few elements to each thread, so threads=2 really splits."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(numba_backend, "MIN_ELEMENTS_PER_THREAD", 1)
        yield


#: (M, K, N) on a 64 x 32 core: K < tile, K = tile, K not a multiple, N < / = / not a multiple of cols.
SHAPES = [(1, 5, 3), (1, 200, 70), (4, 64, 32), (9, 130, 33), (17, 40, 100), (3, 257, 1)]
BITS = [2, 4, 8, 12, 16]
NOISES = {"off": NoiseSpec(), "on": NoiseSpec(sigma_const=1.5, shot_coeff=0.3, rin_coeff=0.02)}
SEEDS = [0, 7, 2**64 - 1]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("noise", list(NOISES), ids=lambda k: f"noise-{k}")
def test_backends_agree_on_the_grid(shape, bits, noise):
    m, k, n = shape
    spec = PhotonicGemmSpec(rows=64, cols=32, input_bits=bits, weight_bits=bits, adc_bits=bits, noise=NOISES[noise])
    x, w = random_operands(bits * 1000 + m * k * n, m, k, n)
    core = PhotonicCore(w, spec)
    for seed in SEEDS:
        for threads in (1, 2):
            assert_backends_equal(run_backends(core, x, seed=seed, call_key=seed // 3, threads=threads))


@pytest.mark.parametrize("bits", [(4, 8, 6), (8, 4, 12), (16, 2, 8), (3, 13, 16)], ids=str)
@pytest.mark.parametrize("per_column", [False, True])
def test_mixed_bits_and_a_calibrated_range_that_clips(bits, per_column):
    """A data-calibrated ADC range shrunk by half clips; every backend counts the same clips."""
    input_bits, weight_bits, adc_bits = bits
    spec = PhotonicGemmSpec(rows=48, cols=16, input_bits=input_bits, weight_bits=weight_bits, adc_bits=adc_bits,
                            noise=NoiseSpec(sigma_const=0.7, rin_coeff=0.01))
    x, w = random_operands(sum(bits), 11, 150, 37)
    core = PhotonicCore(w, spec)
    full_scale = core.calibrate_full_scale(x, per_column=per_column) * 0.5
    results = run_backends(core, x, seed=3, adc_full_scale=full_scale)
    assert_backends_equal(results)
    assert results["numpy"][1].clipped > 0


def test_caller_input_scale_saturates_the_dac_identically():
    spec = PhotonicGemmSpec(rows=32, cols=32, noise=NoiseSpec(shot_coeff=0.5))
    x, w = random_operands(5, 6, 100, 20, scale=4.0)
    core = PhotonicCore(w, spec)
    assert_backends_equal(run_backends(core, x, seed=1, x_scale=0.01))


@pytest.mark.parametrize("rows", [1, 3, 128, 1024])
def test_tile_lengths_from_one_to_many(rows):
    spec = PhotonicGemmSpec(rows=rows, cols=8, noise=NoiseSpec(sigma_const=1.0))
    x, w = random_operands(rows, 3, 70 if rows < 128 else 1100, 9)
    assert_backends_equal(run_backends(PhotonicCore(w, spec), x, seed=rows))


def test_numba_thread_count_never_changes_bits():
    """Row ranges split differently across 1..5 threads (M = 7 is not divisible by most)."""
    spec = PhotonicGemmSpec(rows=16, cols=8, noise=NoiseSpec(sigma_const=2.0, shot_coeff=1.0))
    x, w = random_operands(9, 7, 50, 13)
    core = PhotonicCore(w, spec)
    ref = core(x, seed=4, backend="numpy").out
    for threads in range(1, 6):
        assert np.array_equal(core(x, seed=4, backend="numba", threads=threads).out, ref)


def test_numba_row_blocks_never_change_bits(monkeypatch):
    """Tiny row blocks (many BLAS calls, acc reset per block) give the same bits."""
    spec = PhotonicGemmSpec(rows=16, cols=8, noise=NoiseSpec(sigma_const=2.0))
    x, w = random_operands(10, 23, 50, 13)
    core = PhotonicCore(w, spec)
    ref = core(x, seed=4, backend="numpy").out
    monkeypatch.setattr(numba_backend, "BLOCK_ELEMENTS", 13 * 5)
    assert np.array_equal(core(x, seed=4, backend="numba", threads=2).out, ref)


def test_numba_wide_paths_equal_the_narrow_ones(monkeypatch):
    """Force float64 products and int64 accumulators (normally only for 16-bit or huge K)."""
    spec = PhotonicGemmSpec(rows=32, cols=8, noise=NoiseSpec(sigma_const=1.0, rin_coeff=0.01))
    x, w = random_operands(12, 5, 100, 10)
    core = PhotonicCore(w, spec)
    ref = core(x, seed=9, backend="numpy").out
    monkeypatch.setattr(numba_backend, "product_dtype", lambda *a: np.dtype(np.float64))
    monkeypatch.setattr(numba_backend, "accumulator_dtype", lambda *a: np.dtype(np.int64))
    assert np.array_equal(PhotonicCore(w, spec)(x, seed=9, backend="numba").out, ref)


def test_small_calls_stay_on_one_thread_and_large_ones_split():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(numba_backend, "MIN_ELEMENTS_PER_THREAD", 1 << 16)
        assert numba_backend.row_chunks(7, 2, 100) == [(0, 7)]
        assert numba_backend.row_chunks(1000, 2, 4096) == [(0, 500), (500, 1000)]
        assert numba_backend.row_chunks(1, 4, 1 << 20) == [(0, 1)]
    assert numba_backend.row_chunks(7, 3, 1) == [(0, 2), (2, 4), (4, 7)]


def test_product_and_accumulator_types_are_exact_at_their_bounds():
    """float32 only while every tile sum is < 2**24; int32 only while the code sum cannot overflow."""
    assert numba_backend.product_dtype(128, 127, 127) == np.float32       # 8-bit, 128 rows
    assert numba_backend.product_dtype(1040, 127, 127) == np.float32      # 16,774,160 < 2**24
    assert numba_backend.product_dtype(1041, 127, 127) == np.float64      # 16,790,289 >= 2**24
    assert numba_backend.product_dtype(4096, 32767, 32767) == np.float64  # largest spec: < 2**42
    assert numba_backend.accumulator_dtype(65538, 32767) == np.int32      # 2,147,483,646 < 2**31
    assert numba_backend.accumulator_dtype(65539, 32767) == np.int64      # 2,147,516,413


def test_jitted_hash_is_rng_arithmetic():
    """The Numba scalar path of the noise generator equals rng's vectorized NumPy path."""
    table = rng.normal_table()
    gen = np.random.default_rng(0)
    for seed, call_key in [(0, 0), (2**64 - 1, 2**64 - 1), (12345, 678)]:
        base = rng.call_base(seed, call_key)
        for t in (0, 1, 2**31 - 1):
            m = np.concatenate([[0, 1, 2**32 - 1], gen.integers(0, 2**32, 5)]).astype(np.uint64)
            n = np.concatenate([[0, 1, 2**32 - 1], gen.integers(0, 2**32, 9)]).astype(np.uint32)
            expected = rng.standard_normals(base, t, m, n)
            got = np.array([[numba_kernels.standard_normal(np.uint64(base), t, int(mi), int(ni), table)
                             for ni in n] for mi in m])
            assert np.array_equal(got, expected)
    x = gen.integers(0, 2**32, 1000, dtype=np.uint32)
    assert [numba_kernels.lowbias32(v) for v in x] == rng.lowbias32(x).tolist()
    y = gen.integers(0, 2**63, 1000, dtype=np.uint64)
    assert [numba_kernels.splitmix64(v) for v in y] == [rng.splitmix64(int(v)) for v in y]


@st.composite
def gemm_cases(draw):
    m, k, n = draw(st.integers(1, 9)), draw(st.integers(1, 150)), draw(st.integers(1, 40))
    spec = PhotonicGemmSpec(
        rows=draw(st.integers(1, 80)),
        cols=draw(st.integers(1, 40)),
        input_bits=draw(st.integers(2, 16)),
        weight_bits=draw(st.integers(2, 16)),
        adc_bits=draw(st.integers(2, 16)),
        noise=NoiseSpec(
            sigma_const=draw(st.sampled_from([0.0, 0.5, 3.0])),
            shot_coeff=draw(st.sampled_from([0.0, 0.2, 2.0])),
            rin_coeff=draw(st.sampled_from([0.0, 0.01, 0.3])),
        ),
    )
    data_seed = draw(st.integers(0, 2**32 - 1))
    call = {
        "seed": draw(st.integers(0, 2**64 - 1)),
        "call_key": draw(st.integers(0, 2**64 - 1)),
        "threads": draw(st.integers(1, 3)),
    }
    shrink = draw(st.sampled_from([None, 0.3, 1.0]))  # None: worst case; else fraction of calibrated range
    return (m, k, n), spec, data_seed, call, shrink


@KERNEL_SETTINGS
@given(gemm_cases())
def test_backends_agree_on_random_shapes_and_specs(case):
    (m, k, n), spec, data_seed, call, shrink = case
    x, w = random_operands(data_seed, m, k, n)
    core = PhotonicCore(w, spec)
    if shrink is not None:
        call["adc_full_scale"] = max(1.0, core.calibrate_full_scale(x) * shrink)
    assert_backends_equal(run_backends(core, x, **call))
