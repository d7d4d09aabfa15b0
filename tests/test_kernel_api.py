"""The public kernel API: names, defaults, determinism, statistics, threads, inputs left untouched."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from kernel_helpers import assert_backends_equal, random_operands, run_backends

import adept_core
from adept_core import GemmStats, NoiseSpec, PhotonicCore, PhotonicGemmSpec, available_backends, photonic_gemm
from adept_core.kernels import BACKEND_NAMES, get_backend

F32 = np.float32
NOISY = PhotonicGemmSpec(rows=32, cols=16, noise=NoiseSpec(sigma_const=1.0, shot_coeff=0.5, rin_coeff=0.01))


def test_public_names_and_defaults():
    for name in ("NoiseSpec", "PhotonicGemmSpec", "PhotonicCore", "photonic_gemm", "GemmStats", "available_backends"):
        assert name in adept_core.__all__ and hasattr(adept_core, name)
    spec = PhotonicGemmSpec()
    assert (spec.rows, spec.cols, spec.input_bits, spec.weight_bits, spec.adc_bits) == (128, 128, 8, 8, 8)
    assert spec.noise == NoiseSpec() and not spec.noise.enabled
    assert (NoiseSpec().sigma_const, NoiseSpec().shot_coeff, NoiseSpec().rin_coeff) == (0.0, 0.0, 0.0)
    assert spec.worst_case_full_scale == 128 * 127 * 127


def test_every_backend_is_available_and_auto_is_the_first():
    """CI builds every backend: a missing one (e.g. the C++ extension) fails here."""
    assert available_backends() == BACKEND_NAMES
    assert get_backend("auto").name == BACKEND_NAMES[0]
    x, w = random_operands(1, 3, 40, 5)
    _, stats = PhotonicCore(w)(x)
    assert stats.backend == BACKEND_NAMES[0]


def test_one_shot_equals_the_programmed_core():
    x, w = random_operands(2, 4, 70, 9)
    core = PhotonicCore(w, NOISY)
    assert np.array_equal(photonic_gemm(x, w, NOISY, seed=3, call_key=4).out, core(x, seed=3, call_key=4).out)
    assert np.array_equal(photonic_gemm(x, w, NOISY).out, core(x, seed=0, call_key=0).out)
    y = core(x).out
    assert isinstance(y, np.ndarray) and y.dtype == F32 and y.shape == (4, 9)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_same_call_same_bits_and_keys_change_the_noise(backend):
    x, w = random_operands(3, 6, 90, 12)
    core = PhotonicCore(w, NOISY)
    y = core(x, seed=1, call_key=2, backend=backend).out
    assert np.array_equal(y, core(x, seed=1, call_key=2, backend=backend).out)
    assert not np.array_equal(y, core(x, seed=2, call_key=2, backend=backend).out)
    assert not np.array_equal(y, core(x, seed=1, call_key=3, backend=backend).out)
    quiet = PhotonicCore(w, PhotonicGemmSpec(rows=32, cols=16))
    assert np.array_equal(quiet(x, seed=1, backend=backend).out, quiet(x, seed=99, call_key=5, backend=backend).out)


def test_gemm_stats_counts():
    # M=5, K=300, N=70 on a 128 x 32 core: k_tiles = 3, n_tiles = 3.
    x, w = random_operands(4, 5, 300, 70)
    _, stats = PhotonicCore(w, PhotonicGemmSpec(cols=32))(x)
    assert isinstance(stats, GemmStats)
    assert (stats.m, stats.k, stats.n, stats.k_tiles, stats.n_tiles) == (5, 300, 70, 3, 3)
    assert stats.passes == 5 * 3 * 3
    assert stats.dac_conversions == 5 * 300 * 3
    assert stats.adc_conversions == 5 * 70 * 3
    assert stats.clipped == 0 and stats.clipped_fraction == 0.0


def test_worst_case_range_reaches_full_scale_without_clipping():
    # Every code at +-qmax and one full tile: |p| = 16 * 127 * 127 = the worst-case full scale, so
    # lsb = 16 * 127 and the ADC code is exactly -127: nothing clips and Y is x @ w = -96 up to the scales' rounding.
    spec = PhotonicGemmSpec(rows=16)
    x = np.full((2, 16), 3.0, dtype=F32)
    w = np.full((16, 3), -2.0, dtype=F32)
    results = run_backends(PhotonicCore(w, spec), x)
    assert_backends_equal(results)
    y, stats = results["numpy"]
    assert stats.clipped == 0
    assert np.allclose(y, x @ w, rtol=1e-6)


def test_calibrated_range_is_the_largest_noiseless_partial_sum():
    # x = (1, 2) -> sx = 2/127, codes rint(63.5) = 64 (tie to even), 127; w = [[1], [-1]] -> codes 127, -127.
    core = PhotonicCore(np.array([[1.0], [-1.0]], dtype=F32), PhotonicGemmSpec(rows=1))
    x = np.array([[1.0, 2.0]], dtype=F32)
    assert core.calibrate_full_scale(x) == 127.0 * 127.0  # tile 1: 127 * -127
    per_column = core.calibrate_full_scale(x, per_column=True)
    assert per_column.shape == (1,) and per_column[0] == 127.0 * 127.0
    _, stats = core(x, adc_full_scale=core.calibrate_full_scale(x))
    assert stats.clipped == 0


def test_eight_bit_result_is_close_to_float_matmul_with_a_calibrated_adc():
    """8/8/8 bits: a few percent with the ADC range calibrated on data; the worst-case range, made
    for partial sums of all-maximal codes, leaves random data about one ADC step and is far worse."""
    x, w = random_operands(5, 64, 512, 96)
    core = PhotonicCore(w)
    exact = x.astype(np.float64) @ w.astype(np.float64)

    def rel(y):
        return np.linalg.norm(y - exact) / np.linalg.norm(exact)

    calibrated = rel(core(x, adc_full_scale=core.calibrate_full_scale(x)).out)
    assert calibrated < 0.05
    assert rel(core(x).out) > 4 * calibrated


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_inputs_are_left_untouched_and_read_only_inputs_work(backend):
    x, w = random_operands(6, 7, 100, 11)
    x_before, w_before = x.copy(), w.copy()
    core = PhotonicCore(w, NOISY)
    x.flags.writeable = False
    y1 = core(x, seed=5, backend=backend).out
    y2 = core(x, seed=5, backend=backend).out
    assert y1 is not y2 and np.array_equal(y1, y2)
    assert np.array_equal(x, x_before) and np.array_equal(w, w_before)
    x2 = x.copy()
    assert np.array_equal(core(x2, seed=5, backend=backend).out, y1)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_concurrent_calls_from_python_threads_equal_sequential_calls(backend):
    x, w = random_operands(7, 40, 300, 50)
    core = PhotonicCore(w, NOISY)
    keys = list(range(6))
    sequential = {k: core(x, seed=k, backend=backend, threads=2).out for k in keys}
    results: dict = {}
    errors: list = []

    def worker(mine):
        try:
            for k in mine:
                results[k] = core(x, seed=k, backend=backend, threads=2).out
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(keys[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(np.array_equal(results[k], sequential[k]) for k in keys)


def test_calls_of_different_backends_on_one_core_share_the_programmed_weights():
    x, w = random_operands(8, 3, 50, 4)
    core = PhotonicCore(w, NOISY)
    assert_backends_equal(run_backends(core, x, seed=11))
    assert not core.qw.flags.writeable
