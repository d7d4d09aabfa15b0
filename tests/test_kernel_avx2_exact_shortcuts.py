"""The AVX2 body's exact shortcuts hold on adversarial inputs (docs/kernel.md, AVX2 section).

The AVX2 quantizer and (in the noisy modes) its ADC divide through a reciprocal and re-divide a
vector exactly when a lane lies near a rounding tie (kernel_avx2.cpp, ``quotient_recip_ps`` and
``rint_quotient_pd``). These inputs put x / scale and y / lsb exactly on half-integers (and x /
scale one float32 ulp either side) where a reciprocal product without the re-check rounds some of
them the other way: each test fails with the re-check removed (checked when it was written).
Every backend must agree bit for bit, in tensor and abfp scaling, coherent and dual-rail
detection. On a machine without AVX2 the C++ backend runs another body and the tests still hold.
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_helpers import assert_backends_equal, run_backends

from adept_core import NoiseSpec, PhotonicCore, PhotonicGemmSpec
from adept_core.kernels import rng
from adept_core.kernels.reference import NumpyBackend

SCALES = [3.0, 5.0 / 16.0, 7.0 * 2.0**-10, 11.0]


def _tie_inputs(scale: float, m: int, k: int) -> np.ndarray:
    """Rows of (j + 1/2) * scale, exactly representable, with neighbours one ulp away; the first
    element of each row is 127 * scale, so a data-derived scale max|x| / 127 is ``scale`` again."""
    gen = np.random.default_rng(int(scale * 1024))
    halves = (gen.integers(-127, 127, size=(m, k)) + 0.5) * scale  # exact in float32: few significant bits
    x = halves.astype(np.float32)
    assert np.array_equal(x.astype(np.float64), halves)
    nudge = gen.integers(-1, 2, size=(m, k))  # -1, 0, +1 ulp
    x = np.where(nudge > 0, np.nextafter(x, np.float32(np.inf)), np.where(nudge < 0, np.nextafter(x, -np.inf), x))
    x[:, 0] = np.float32(127 * scale) * np.where(np.arange(m) % 2 == 0, 1, -1)
    return x.astype(np.float32)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(
    "mode",
    [
        {},
        {"scaling": "abfp", "analog_gain": 1.5},
        {"noise": NoiseSpec(sigma_const=0.5, shot_coeff=0.2, detection="dual_rail")},
    ],
    ids=["tensor", "abfp", "dual_rail"],
)
def test_quantizer_ties_round_like_the_division(scale, mode):
    spec = PhotonicGemmSpec(rows=64, cols=32, **mode)
    m, k, n = 9, 150, 40  # a short last tile (150 = 2 * 64 + 22) and a partial 8-column vector
    x = _tie_inputs(scale, m, k)
    w = np.random.default_rng(2).standard_normal((k, n)).astype(np.float32)
    core = PhotonicCore(w, spec)
    assert_backends_equal(run_backends(core, x, seed=4))
    if "scaling" not in mode:  # the caller's scale: every element is a tie or next to one
        assert_backends_equal(run_backends(core, x, seed=4, x_scale=scale))


def test_exact_ties_are_common_in_these_inputs():
    """Guard of the test above: at least a third of x / scale are exact half-integers."""
    x = _tie_inputs(3.0, 9, 150).astype(np.float64) / 3.0
    assert np.mean(np.abs(x - np.round(x)) == 0.5) > 0.3


#: Noise so small that y == p exactly for |p| >= 2^8 (sigma ~ 1e-14 < half an ulp of p), yet the
#: noisy kernels (sqrt per element, where the ADC divides through 1/lsb) run.
TINY = {"sigma_const": 1e-15, "shot_coeff": 1e-32}
NOISY_MODE_IDS = ["coherent", "dual_rail", "abfp"]


def noisy_modes(noise: dict) -> list[dict]:
    """The three modes whose ADC divides through 1/lsb (a square root per element), with ``noise``."""
    return [{"noise": NoiseSpec(**noise)}, {"noise": NoiseSpec(**noise, detection="dual_rail")},
            {"noise": NoiseSpec(**noise), "scaling": "abfp", "analog_gain": 1.5}]


@pytest.mark.parametrize("adc_bits", [8, 12])
@pytest.mark.parametrize("mode", noisy_modes(TINY), ids=NOISY_MODE_IDS)
def test_adc_ties_round_like_the_division(adc_bits, mode):
    """lsb = 98, 246, 234: an even lsb makes p / lsb an exact tie j + 1/2 for one sum in lsb, and
    for these three fl(p * fl(1/lsb)) rounds about 0.3 % of the integers |p| < 60000 the other way
    (found by search: the product error must exceed half an ulp of j + 1/2), so the ~19000
    conversions here hit dozens of them; a last column with a tiny lsb clips. Every backend must
    round and count them alike."""
    spec = PhotonicGemmSpec(rows=64, cols=32, input_bits=8, weight_bits=8, adc_bits=adc_bits, **mode)
    gen = np.random.default_rng(adc_bits)
    x = gen.standard_normal((200, 100)).astype(np.float32)
    w = gen.standard_normal((100, 48)).astype(np.float32)
    q_adc = 2 ** (adc_bits - 1) - 1
    lsb = np.resize(np.array([98.0, 246.0, 234.0]), 48)
    lsb[-1] = 1.0 / 3.0
    core = PhotonicCore(w, spec)
    results = run_backends(core, x, seed=9, adc_full_scale=lsb * q_adc)
    assert_backends_equal(results)
    assert results["numpy"][1].clipped > 0


#: Noise large against the lsb, so a float32 square root would move y by a few ulps.
LOUD = {"sigma_const": 3.0, "shot_coeff": 0.5, "rin_coeff": 1e-3}


def _float_sqrt_y(p, xt, wt, plan, t, m_idx, n_idx):
    """y with s = sqrt(float32(var)) instead of the double sqrt: the shortcut docs/kernel.md measured
    and rejected (independent RIN only, the modes of the test below)."""
    pd = p.astype(np.float64)
    z = rng.standard_normals(plan.base_key, t, m_idx, n_idx)
    light = np.abs(pd) if plan.detection == "coherent" else (np.abs(xt) @ np.abs(wt)).astype(np.float64)
    var = (plan.sigma_const * plan.sigma_const + plan.shot_coeff * light) + (plan.rin_coeff * pd) * (plan.rin_coeff * pd)
    return pd + np.sqrt(var.astype(np.float32)).astype(np.float64) * z


def _noisy_sums_of(core, x, monkeypatch, **call):
    """(exact y, float-sqrt y) of the oracle's one tile, gain applied (abfp), from a numpy-backend call."""
    seen = []
    exact = NumpyBackend._noisy_sums

    def spy(p, xt, wt, plan, t, m_idx, n_idx):
        y = exact(p, xt, wt, plan, t, m_idx, n_idx)
        seen.append((y, _float_sqrt_y(p, xt, wt, plan, t, m_idx, n_idx), plan.analog_gain))
        return y

    with monkeypatch.context() as patch:
        patch.setattr(NumpyBackend, "_noisy_sums", staticmethod(spy))
        core(x, backend="numpy", **call)
    ((y, y_fs, gain),) = seen
    if core.spec.scaling == "abfp":
        y, y_fs = y * np.float64(gain), y_fs * np.float64(gain)
    return y, y_fs


@pytest.mark.parametrize("mode", noisy_modes(LOUD), ids=NOISY_MODE_IDS)
def test_noisy_adc_ties_round_like_the_double_sqrt(mode, monkeypatch):
    """Per column, an lsb that puts one noisy y / lsb exactly on a half-integer where the same y with
    a float32 square root (and the reciprocal) rounds the other way (found by search over the
    half-integers). Guards the rejected shortcut of docs/kernel.md (float32 sqrt in the AVX2 ADC):
    an AVX2 build of it without its near-tie re-check (branch kern2, commit 63d5095 with the check
    forced true) gave 48 wrong outputs of 48 targeted in each mode; with the re-check, and on main,
    all pass. Every backend must agree."""
    spec = PhotonicGemmSpec(rows=64, cols=32, input_bits=8, weight_bits=8, adc_bits=8, **mode)
    gen = np.random.default_rng(5)
    m, k, n = 64, 60, 48  # one tile
    x = gen.standard_normal((m, k)).astype(np.float32)
    w = gen.standard_normal((k, n)).astype(np.float32)
    core = PhotonicCore(w, spec)
    q_adc = 127.0
    y, y_fs = _noisy_sums_of(core, x, monkeypatch, seed=11, adc_full_scale=1000.0)
    full_scale = np.full(n, 1000.0)
    found = 0
    for c in range(n):
        hit = None
        for row in range(m):
            yv, fv = y[row, c], y_fs[row, c]
            for j in range(3, 120):  # j + 1/2 codes well inside +-127: no clipping
                fs = (abs(yv) / (j + 0.5)) * q_adc
                lsb = fs / q_adc  # as PhotonicCore.__call__ derives it
                if fs < 2.0**-20 or abs(yv / lsb) != j + 0.5:
                    continue
                if np.rint(fv * (1.0 / lsb)) != np.rint(yv / lsb):
                    hit = fs
                    break
            if hit is not None:
                break
        if hit is not None:
            full_scale[c] = hit
            found += 1
    assert found >= n // 2, found  # the search finds most columns a case
    results = run_backends(core, x, seed=11, adc_full_scale=full_scale)
    assert_backends_equal(results)
