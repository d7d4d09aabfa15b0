"""scaling="abfp": block scales, analog gain, per-tile dequantization (spec.py steps 1'-5').

Every backend must return the NumPy oracle's bits; a scalar transcription of the contract
(``abfp_literal``) and hand-computed cases pin the oracle itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adept_core.errors import ConfigError
from adept_core.kernels import NoiseSpec, PhotonicCore, PhotonicGemmSpec, qmax
from adept_core.kernels import rng
from kernel_helpers import KERNEL_SETTINGS, assert_backends_equal, random_operands, run_backends


def abfp_literal(x, w, spec, seed=0, call_key=0, full_scale=None):
    """Steps 1'-5' element by element with Python floats (float32 where the contract says so)."""
    m_rows, k = x.shape
    n_cols = w.shape[1]
    f32 = np.float32
    qx, qw, q_adc = qmax(spec.input_bits), qmax(spec.weight_bits), qmax(spec.adc_bits)
    fs = spec.worst_case_full_scale if full_scale is None else full_scale
    lsb = float(fs) / float(q_adc)
    tiles = [(k0, min(k, k0 + spec.rows)) for k0 in range(0, k, spec.rows)]

    def scale(block, q):
        s = f32(f32(np.max(np.abs(block))) / f32(q))
        return f32(1.0) if s == 0 else s

    def dequant_scale(block, q):  # a block quantized with 1 (codes 0) is dequantized with 0
        return f32(f32(np.max(np.abs(block))) / f32(q))

    def code(v, s, q):
        return max(-q, min(q, int(np.rint(f32(v) / s))))

    base = rng.call_base(seed, call_key)
    nz = spec.noise
    y = np.empty((m_rows, n_cols), np.float32)
    clipped = 0
    for m in range(m_rows):
        for n in range(n_cols):
            acc = 0.0
            for t, (k0, k1) in enumerate(tiles):
                sx = scale(x[m, k0:k1], qx)
                sw = scale(w[k0:k1, n], qw)
                p = sum(code(x[m, i], sx, qx) * code(w[i, n], sw, qw) for i in range(k0, k1))
                pd = float(p)
                if nz.enabled:
                    z = float(rng.standard_normals(base, t, np.array([m]), np.array([n]))[0, 0])
                    var = (nz.sigma_const * nz.sigma_const + nz.shot_coeff * abs(pd)) + (nz.rin_coeff * pd) * (
                        nz.rin_coeff * pd)
                    pd = pd + math.sqrt(var) * z
                r = float(np.rint((pd * spec.analog_gain) / lsb))
                clipped += abs(r) > q_adc
                c = max(-q_adc, min(q_adc, r))
                f = float(dequant_scale(x[m, k0:k1], qx)) * ((lsb / spec.analog_gain) *
                                                               float(dequant_scale(w[k0:k1, n], qw)))
                acc = acc + c * f
            y[m, n] = f32(acc)
    return y, clipped


def abfp(**kw) -> PhotonicGemmSpec:
    return PhotonicGemmSpec(scaling="abfp", **kw)


def test_hand_computed_two_tiles():
    # Tile 0: x [1, 2] -> sx = 2/3, codes [rint(1.5), 3] = [2, 3]; w [1, 1] -> sw = 1/3, codes [3, 3].
    # Tile 1: x [3, 4] -> sx = 4/3, codes [rint(2.25), 3] = [2, 3]; w [2, 4] -> sw = 4/3, codes [2, 3].
    # p = [15, 13]; full scale 2*3*3 = 18, lsb = 18/127; ADC codes rint(15*127/18) = 106, rint(13*127/18) = 92.
    x = np.array([[1, 2, 3, 4]], np.float32)
    w = np.array([[1], [1], [2], [4]], np.float32)
    spec = abfp(rows=2, input_bits=3, weight_bits=3, adc_bits=8)
    core = PhotonicCore(w, spec)
    assert core.qw.ravel().tolist() == [3, 3, 2, 3]
    assert core.w_scale.tolist() == [[np.float32(1) / np.float32(3)], [np.float32(4) / np.float32(3)]]
    lsb = 18.0 / 127.0
    third, four_thirds, two_thirds = (float(np.float32(a) / np.float32(3)) for a in (1, 4, 2))
    expected = np.float32((0.0 + 106 * (two_thirds * (lsb * third))) + 92 * (four_thirds * (lsb * four_thirds)))
    results = run_backends(core, x)
    assert_backends_equal(results)
    y, stats = results["numpy"]
    assert y[0, 0] == expected and abs(float(expected) - 26.52) < 0.01
    assert (stats.clipped, stats.x_scale, stats.scaling) == (0, 0.0, "abfp")
    assert (stats.input_scales, stats.weight_scales, stats.dequantizations) == (2, 2, 2)


def test_gain_two_clips_both_tiles_of_the_hand_case():
    # 2 * 15 and 2 * 13 exceed the full scale 18: both conversions clip to +127.
    x = np.array([[1, 2, 3, 4]], np.float32)
    w = np.array([[1], [1], [2], [4]], np.float32)
    core = PhotonicCore(w, abfp(rows=2, input_bits=3, weight_bits=3, adc_bits=8, analog_gain=2.0))
    results = run_backends(core, x)
    assert_backends_equal(results)
    y, stats = results["numpy"]
    lg = (18.0 / 127.0) / 2.0
    third, four_thirds, two_thirds = (float(np.float32(a) / np.float32(3)) for a in (1, 4, 2))
    assert stats.clipped == 2
    assert y[0, 0] == np.float32((0.0 + 127 * (two_thirds * (lg * third))) + 127 * (four_thirds * (lg * four_thirds)))


def test_gain_gives_finer_codes_without_clipping():
    # One tile, p = 1 * 1 = 1 with full scale 127 (lsb 1): G = 1 gives code 1, G = 4 code 4,
    # and the dequantized value is the same; p = 0.6 of an LSB would round differently.
    x = np.array([[1.0]], np.float32)
    w = np.array([[1.0]], np.float32)
    for gain in (1.0, 4.0):
        core = PhotonicCore(w, abfp(rows=1, input_bits=2, weight_bits=2, adc_bits=8, analog_gain=gain))
        results = run_backends(core, x, adc_full_scale=127.0)
        assert_backends_equal(results)
        assert results["numpy"][0][0, 0] == np.float32(1.0)


def test_all_zero_block_gets_scale_one_and_codes_zero():
    x = np.zeros((2, 6), np.float32)
    x[1, 3:] = [1.0, -2.0, 0.5]
    x[0, :3] = 1e-45  # underflows: 1e-45 / 127 is 0 in float32, so the scale becomes 1
    w = np.ones((6, 2), np.float32)
    core = PhotonicCore(w, abfp(rows=3))
    results = run_backends(core, x)
    assert_backends_equal(results)
    y = results["numpy"][0]
    assert y[0].tolist() == [0.0, 0.0]
    y_lit, _ = abfp_literal(x, w, core.spec)
    assert np.array_equal(y, y_lit)


def test_an_all_zero_block_contributes_exactly_zero_under_noise():
    # Its partial sums are pure noise; dequantized with scale 1 they came out in units of 1, tens to
    # hundreds of times the other blocks' (2.35 % of the emulated ResNet-50's input blocks are all zero).
    gen = np.random.default_rng(8)
    x = gen.standard_normal((4, 9)).astype(np.float32) * np.float32(0.05)
    w = gen.standard_normal((9, 3)).astype(np.float32) * np.float32(0.02)
    x[1, 3:6] = 0.0   # row 1, tile 1
    x[2, :] = 0.0     # every tile of row 2
    w[6:, 2] = 0.0    # column 2, tile 2
    spec = abfp(rows=3, noise=NoiseSpec(sigma_const=50.0, shot_coeff=1.0), analog_gain=2.0)
    core = PhotonicCore(w, spec)
    full_scale = core.calibrate_full_scale(x)
    results = run_backends(core, x, seed=4, adc_full_scale=full_scale)
    assert_backends_equal(results)
    y = results["numpy"][0]
    y_lit, _ = abfp_literal(x, w, spec, seed=4, full_scale=full_scale)
    assert np.array_equal(y, y_lit)
    assert np.array_equal(y[2], np.zeros(3, np.float32))
    # Without the zero blocks' noise, the others keep the error of a noisy 8-bit product.
    exact = x.astype(np.float64) @ w.astype(np.float64)
    assert np.max(np.abs(y - exact)) < 0.5 * np.max(np.abs(exact))


@pytest.mark.parametrize("bits", [(2, 2, 2), (4, 6, 10), (8, 8, 8), (12, 12, 14), (16, 16, 16)])
@pytest.mark.parametrize("noise", [NoiseSpec(), NoiseSpec(2.0, 0.5, 1e-3), NoiseSpec(sigma_const=3.0)])
@pytest.mark.parametrize("gain", [1.0, 2.0, 8.0])
def test_backends_agree(bits, noise, gain):
    x, w = random_operands(3, 9, 300, 70)
    x[0, :128] = 0
    spec = abfp(input_bits=bits[0], weight_bits=bits[1], adc_bits=bits[2], noise=noise, analog_gain=gain)
    core = PhotonicCore(w, spec)
    for threads in (1, 2, 3):
        assert_backends_equal(run_backends(core, x, seed=7, call_key=3, threads=threads))


def test_backends_agree_on_many_rows_and_threads():
    x, w = random_operands(5, 200, 129, 600)
    core = PhotonicCore(w, abfp(noise=NoiseSpec(2.0, 0.5, 1e-3), analog_gain=4.0))
    for threads in (1, 2, 3):
        assert_backends_equal(run_backends(core, x, seed=2**64 - 1, threads=threads))


@pytest.mark.parametrize("noise", [NoiseSpec(), NoiseSpec(1.5, 0.3, 2e-3)])
def test_oracle_is_the_literal_contract(noise):
    x, w = random_operands(11, 3, 21, 4)
    spec = abfp(rows=8, input_bits=5, weight_bits=4, adc_bits=7, noise=noise, analog_gain=2.5)
    core = PhotonicCore(w, spec)
    y, stats = core(x, backend="numpy", seed=5, return_stats=True)
    y_lit, clipped = abfp_literal(x, w, spec, seed=5)
    assert np.array_equal(y, y_lit) and stats.clipped == clipped


@KERNEL_SETTINGS
@given(
    m=st.integers(1, 12), k=st.integers(1, 90), n=st.integers(1, 40), rows=st.integers(1, 40),
    bits=st.tuples(st.integers(2, 16), st.integers(2, 16), st.integers(2, 16)),
    gain=st.floats(0.25, 16.0), noisy=st.booleans(), seed=st.integers(0, 2**64 - 1), threads=st.integers(1, 3),
)
def test_backends_agree_hypothesis(m, k, n, rows, bits, gain, noisy, seed, threads):
    x, w = random_operands(seed % 1000, m, k, n)
    noise = NoiseSpec(1.0, 0.2, 1e-3) if noisy else NoiseSpec()
    spec = abfp(rows=rows, input_bits=bits[0], weight_bits=bits[1], adc_bits=bits[2], noise=noise, analog_gain=gain)
    core = PhotonicCore(w, spec)
    try:
        results = run_backends(core, x, seed=seed, threads=threads)
    except ConfigError as exc:  # a gain that clips every code is refused, the same for all
        assert "makes every non-zero partial sum clip" in str(exc)
        return
    assert_backends_equal(results)


def test_abfp_with_gain_beats_tensor_scaling_on_normal_data():
    x, w = random_operands(0, 64, 512, 64)
    exact = x @ w

    def rel(spec):
        y = PhotonicCore(w, spec)(x, backend="numba").out
        return float(np.linalg.norm(y - exact) / np.linalg.norm(exact))

    tensor = rel(PhotonicGemmSpec())
    errs = [rel(abfp(analog_gain=g)) for g in (1.0, 2.0, 4.0, 8.0)]
    assert errs[0] < tensor
    assert errs == sorted(errs, reverse=True)  # finer codes, no clipping yet at the worst-case range


def test_stats_counts_per_mode():
    x, w = random_operands(1, 5, 300, 7)
    _, s = PhotonicCore(w, abfp(rows=128))(x, return_stats=True)
    assert (s.k_tiles, s.input_scales, s.weight_scales, s.dequantizations) == (3, 15, 21, 105)
    _, s = PhotonicCore(w, PhotonicGemmSpec(rows=128))(x, return_stats=True)
    assert (s.scaling, s.input_scales, s.weight_scales, s.dequantizations) == ("tensor", 1, 7, 35)
    _, s = PhotonicCore(w, PhotonicGemmSpec(rows=128))(x, x_scale=0.1, return_stats=True)
    assert s.input_scales == 0


@pytest.mark.parametrize("gain", [0.0, -1.0, float("nan"), float("inf"), "2", True])
def test_bad_gain_is_refused(gain):
    with pytest.raises(ConfigError, match="analog_gain"):
        abfp(analog_gain=gain)


def test_unknown_scaling_and_gain_without_abfp_are_refused():
    with pytest.raises(ConfigError, match=r"scaling must be one of \('tensor', 'abfp'\), got 'bfp'"):
        PhotonicGemmSpec(scaling="bfp")
    with pytest.raises(ConfigError, match="needs scaling='abfp'"):
        PhotonicGemmSpec(analog_gain=2.0)


def test_x_scale_with_abfp_and_all_clipping_gain_are_refused_on_every_backend():
    x, w = random_operands(2, 3, 10, 4)
    core = PhotonicCore(w, abfp())
    big = PhotonicCore(w, abfp(analog_gain=1e9))
    for backend in ("numpy", "numba", "cpp"):
        with pytest.raises(ConfigError, match="x_scale=0.5 cannot be used with scaling='abfp'"):
            core(x, x_scale=0.5, backend=backend)
        with pytest.raises(ConfigError, match="makes every non-zero partial sum clip"):
            big(x, backend=backend)
    with pytest.raises(ConfigError, match="x_scale"):
        core.calibrate_full_scale(x, x_scale=0.5)


def test_native_kernel_validates_the_mode_itself():
    from adept_core import _native
    from adept_core.kernels.quantize import tile_column_scales

    x, w = random_operands(4, 2, 10, 3)
    core = PhotonicCore(w, abfp(rows=4))
    packed = _native.pack_weights(core.qw, 4, False)
    ws = tile_column_scales(w, 8, 4).reshape(-1)
    lsb = np.full(3, 1.0)
    for field, value, message in [("scaling", "bogus", "scaling must be 'tensor' or 'abfp'"),
                                  ("analog_gain", 0.0, "analog_gain must be finite and > 0")]:
        spec = _native.GemmSpec()
        spec.rows, spec.scaling = 4, "abfp"
        setattr(spec, field, value)
        with pytest.raises(ValueError, match=message):
            _native.gemm(packed, x, spec, 0.0, lsb, ws if spec.scaling == "abfp" else ws[:3], 0, rng.normal_table(), 1)


def test_config_keys_reach_the_kernel_spec():
    from adept_core.hardware import kernel_spec, load_config

    spec = kernel_spec(load_config("adept", {"photonic.scaling": "abfp", "photonic.analog_gain": 4.0}))
    assert (spec.scaling, spec.analog_gain) == ("abfp", 4.0)
    assert kernel_spec(load_config("adept-svd-mesh")).scaling == "tensor"
    adept = kernel_spec(load_config("adept"))  # the reconstruction runs ABFP at Ahmed et al.'s gain
    assert (adept.scaling, adept.analog_gain) == ("abfp", 1.86)
    for over, message in [({"photonic.scaling": "bfp"}, "photonic.scaling must be one of 'tensor', 'abfp'"),
                          ({"photonic.scaling": "abfp", "photonic.analog_gain": 0.0}, "photonic.analog_gain must be"),
                          ({"photonic.analog_gain": 2.0}, "needs photonic.scaling = 'abfp'")]:
        with pytest.raises(ConfigError, match=message):
            load_config("adept-svd-mesh", over)
    with pytest.raises(ConfigError, match="needs photonic.scaling = 'abfp'"):
        load_config("adept", {"photonic.scaling": "tensor"})  # keeps its gain of 1.86


def test_calibration_engine_observes_abfp_codes():
    from adept_core.emulate.engine import CalibrationEngine

    x, w = random_operands(6, 4, 300, 5)
    spec = abfp()
    cal = CalibrationEngine(spec)
    cal.weight_gemm("n", "w", 0, x, lambda: w)
    core = PhotonicCore(w, spec)
    assert cal.calibration["n/w"]["full_scale"] == core.calibrate_full_scale(x)


def test_fidelity_abfp_rows_set_the_mode_and_gain():
    from adept_core.fidelity import ABFP_SETTINGS, hardware_for

    from adept_core.hardware import load_config

    gains = []
    for setting in ABFP_SETTINGS:
        spec, budget = hardware_for(setting)
        assert spec.scaling == "abfp" and budget.laser_power_mw == load_config("adept").optics.laser_power_mw
        gains.append(spec.analog_gain)
    assert gains == [1.0, 2.0, 4.0, 8.0, 1.0]
