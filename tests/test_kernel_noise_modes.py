"""Noise modes of step 3: dual-rail shot noise (light on both rails) and laser-common RIN."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adept_core.errors import ConfigError
from adept_core.kernels import NoiseSpec, PhotonicCore, PhotonicGemmSpec
from adept_core.kernels import rng
from adept_core.kernels.spec import RIN_COMMON_COLUMN
from kernel_helpers import KERNEL_SETTINGS, assert_backends_equal, random_operands, run_backends

MODES = [(d, r) for d in ("coherent", "dual_rail") for r in ("independent", "laser")]


def _z(seed: int, t: int, m: int, n: int) -> float:
    return float(rng.standard_normals(rng.call_base(seed, 0), t, np.array([m]), np.array([n], np.uint32))[0, 0])


def test_dual_rail_shot_noise_follows_the_light_not_the_sum():
    # codes qx = [1, -1], qw = [1, 1]: p = 0 but both rails carry light, L = |1|*1 + |-1|*1 = 2.
    x = np.array([[1.0, -1.0]], np.float32)
    w = np.ones((2, 1), np.float32)
    lsb = 12.7 / 127
    for detection, expected_code in (("coherent", 0), ("dual_rail", round(math.sqrt(2.0) * _z(0, 0, 0, 0) / lsb))):
        spec = PhotonicGemmSpec(input_bits=2, weight_bits=2, noise=NoiseSpec(shot_coeff=1.0, detection=detection))
        results = run_backends(PhotonicCore(w, spec), x, adc_full_scale=12.7)
        assert_backends_equal(results)
        assert results["numpy"][0][0, 0] == np.float32(expected_code * (lsb * 1.0))
    assert expected_code == 6  # z = 0.44596...: sqrt(2) z = 0.6307, 6.307 steps of 0.1


def test_laser_rin_is_one_draw_for_every_output_of_a_pulse():
    # p = [2, 2] in both columns; only RIN: independent draws differ per column, the laser's is shared.
    x = np.ones((1, 2), np.float32)
    w = np.ones((2, 2), np.float32)
    zc = _z(0, 0, 0, RIN_COMMON_COLUMN)
    for corr in ("independent", "laser"):
        spec = PhotonicGemmSpec(input_bits=2, weight_bits=2, noise=NoiseSpec(rin_coeff=0.1, rin_correlation=corr))
        results = run_backends(PhotonicCore(w, spec), x, adc_full_scale=12.7)
        assert_backends_equal(results)
        y = results["numpy"][0][0]
        if corr == "laser":
            code = np.rint(((2.0 + 0.0 * _z(0, 0, 0, 0)) + (0.1 * 2.0) * zc) / (12.7 / 127))
            assert y[0] == y[1] == np.float32(code * (12.7 / 127))
        else:
            assert y[0] != y[1]  # z = 0.446 and -0.430 (docs/kernel.md worked example)


def test_common_rin_correlates_outputs():
    x, w = random_operands(1, 400, 64, 32)
    w = np.abs(w)
    x = np.abs(x)
    exact = PhotonicCore(w, PhotonicGemmSpec(adc_bits=16))(x, adc_full_scale="worst_case").out
    corr = {}
    for mode in ("independent", "laser"):
        spec = PhotonicGemmSpec(adc_bits=16, noise=NoiseSpec(rin_coeff=0.05, rin_correlation=mode))
        err = PhotonicCore(w, spec)(x, backend="numba").out - exact
        corr[mode] = float(np.corrcoef(err[:, 0], err[:, 1])[0, 1])
    assert corr["laser"] > 0.9 and abs(corr["independent"]) < 0.2


@pytest.mark.parametrize("detection,rin", MODES)
@pytest.mark.parametrize("bits", [(2, 2, 4), (8, 8, 8), (4, 6, 10), (12, 12, 14), (16, 16, 16)])
@pytest.mark.parametrize("scaling,gain", [("tensor", 1.0), ("abfp", 2.0)])
def test_backends_agree(detection, rin, bits, scaling, gain):
    x, w = random_operands(9, 9, 300, 70)
    noise = NoiseSpec(2.0, 0.5, 1e-3, detection, rin)
    spec = PhotonicGemmSpec(input_bits=bits[0], weight_bits=bits[1], adc_bits=bits[2], noise=noise,
                            scaling=scaling, analog_gain=gain)
    core = PhotonicCore(w, spec)
    for threads in (1, 2, 3):
        assert_backends_equal(run_backends(core, x, seed=11, call_key=5, threads=threads))


def test_backends_agree_on_a_large_call():
    x, w = random_operands(2, 200, 260, 600)
    spec = PhotonicGemmSpec(noise=NoiseSpec(2.0, 0.5, 1e-3, "dual_rail", "laser"))
    core = PhotonicCore(w, spec)
    for threads in (1, 3):
        assert_backends_equal(run_backends(core, x, seed=3, threads=threads))


@KERNEL_SETTINGS
@given(
    m=st.integers(1, 10), k=st.integers(1, 80), n=st.integers(1, 40), rows=st.integers(1, 40),
    bits=st.tuples(st.integers(2, 16), st.integers(2, 16), st.integers(2, 16)),
    mode=st.sampled_from(MODES), abfp=st.booleans(), seed=st.integers(0, 2**64 - 1), threads=st.integers(1, 3),
)
def test_backends_agree_hypothesis(m, k, n, rows, bits, mode, abfp, seed, threads):
    x, w = random_operands(seed % 997, m, k, n)
    spec = PhotonicGemmSpec(rows=rows, input_bits=bits[0], weight_bits=bits[1], adc_bits=bits[2],
                            noise=NoiseSpec(1.0, 0.3, 2e-3, *mode), scaling="abfp" if abfp else "tensor")
    assert_backends_equal(run_backends(PhotonicCore(w, spec), x, seed=seed, threads=threads))


def test_bad_mode_names_are_refused():
    with pytest.raises(ConfigError, match=r"detection must be one of \('coherent', 'dual_rail'\), got 'balanced'"):
        NoiseSpec(detection="balanced")
    with pytest.raises(ConfigError, match=r"rin_correlation must be one of \('independent', 'laser'\)"):
        NoiseSpec(rin_correlation="common")


def test_native_kernel_validates_the_modes_itself():
    from adept_core import _native

    x, w = random_operands(4, 2, 10, 3)
    core = PhotonicCore(w, PhotonicGemmSpec(rows=4))
    packed = _native.pack_weights(core.qw, 4, False)
    for field, message in [("detection", "noise.detection must be 'coherent' or 'dual_rail'"),
                           ("rin_correlation", "noise.rin_correlation must be 'independent' or 'laser'")]:
        spec = _native.GemmSpec()
        spec.rows = 4
        noise = spec.noise
        setattr(noise, field, "bogus")
        spec.noise = noise
        with pytest.raises(ValueError, match=message):
            _native.gemm(packed, x, spec, 0.0, np.ones(3), core.w_scale, 0, rng.normal_table(), 1)


def test_config_modes_reach_the_noise_spec():
    from adept_core.hardware import kernel_spec, link_budget, load_config

    base = link_budget(load_config())
    cfg = load_config("adept", {"optics.detection": "dual_rail", "optics.rin_correlation": "laser"})
    noise = kernel_spec(cfg).noise
    assert (noise.detection, noise.rin_correlation) == ("dual_rail", "laser")
    # at full scale the light equals |p|: the same coefficients and full-scale SNR in every mode
    assert (noise.sigma_const, noise.shot_coeff, noise.rin_coeff) == (
        base.noise.sigma_const, base.noise.shot_coeff, base.noise.rin_coeff)
    assert link_budget(cfg).snr_db == base.snr_db
    with pytest.raises(ConfigError, match="optics.detection must be one of 'coherent', 'dual_rail'"):
        load_config("adept", {"optics.detection": "balanced"})


@pytest.mark.parametrize("isa", ["portable", "auto"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("abfp", [False, True])
def test_both_cpp_instruction_sets_give_the_oracle_bits(monkeypatch, isa, mode, abfp):
    monkeypatch.setenv("ADEPT_ISA", isa)
    x, w = random_operands(21, 37, 260, 75)
    spec = PhotonicGemmSpec(noise=NoiseSpec(2.0, 0.5, 1e-3, *mode), scaling="abfp" if abfp else "tensor",
                            analog_gain=3.0 if abfp else 1.0)
    core = PhotonicCore(w, spec)
    y_ref, s_ref = core(x, backend="numpy", seed=9, return_stats=True)
    for threads in (1, 2):
        y, s = core(x, backend="cpp", seed=9, threads=threads, return_stats=True)
        assert np.array_equal(y.view(np.uint32), y_ref.view(np.uint32)) and s.clipped == s_ref.clipped


@pytest.mark.parametrize("m", range(1, 10))
def test_dual_rail_light_for_every_row_count_of_a_micro_tile(monkeypatch, m):
    """The AVX-512 body runs the dual-rail sums in 4-row pieces of an 8-row tile: every remainder."""
    monkeypatch.setenv("ADEPT_ISA", "auto")
    x, w = random_operands(m, m, 200, 40)
    core = PhotonicCore(w, PhotonicGemmSpec(noise=NoiseSpec(2.0, 0.5, 1e-3, "dual_rail")))
    y_ref = core(x, backend="numpy", seed=4).out
    assert np.array_equal(core(x, backend="cpp", seed=4).out.view(np.uint32), y_ref.view(np.uint32))


@pytest.mark.parametrize("k", [256, 132, 4, 8])
def test_dual_rail_light_at_full_scale(monkeypatch, k):
    """Every code at +-127: the AVX2 body adds the light of two groups in 16 bits (4 * 127^2 = 64516 per
    lane, the largest sum it ever holds), with odd and even group counts per tile. The shot noise is
    several LSBs, so a light off by one 2^16 wrap moves many codes."""
    monkeypatch.setenv("ADEPT_ISA", "auto")
    gen = np.random.default_rng(k)
    x = np.where(gen.random((9, k)) < 0.5, -1.0, 1.0).astype(np.float32)
    w = np.where(gen.random((k, 40)) < 0.5, -1.0, 1.0).astype(np.float32)
    for scaling in ("tensor", "abfp"):
        core = PhotonicCore(w, PhotonicGemmSpec(noise=NoiseSpec(2.0, 2e4, 1e-3, "dual_rail"), scaling=scaling))
        y_ref, s_ref = core(x, backend="numpy", seed=4, return_stats=True)
        y, s = core(x, backend="cpp", seed=4, return_stats=True)
        assert np.array_equal(y.view(np.uint32), y_ref.view(np.uint32)) and s.clipped == s_ref.clipped
