"""The AVX2 body's exact shortcuts hold on adversarial inputs (docs/kernel.md, AVX2 section).

The AVX2 quantizer divides through a reciprocal and re-divides a vector exactly when a lane lies
near a rounding tie (kernel_avx2.cpp, ``quantize_rows``). These inputs put x / scale exactly on
half-integers, and one float32 ulp either side, for scales whose reciprocal is inexact (3, 5/16,
7 * 2^-10, 11): a reciprocal product without the re-check rounds some of them the other way. Every
backend must agree bit for bit, in tensor and abfp scaling, coherent and dual-rail detection.
On a machine without AVX2 the C++ backend runs its portable body and the test still holds.
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_helpers import assert_backends_equal, run_backends

from adept_core import NoiseSpec, PhotonicCore, PhotonicGemmSpec

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
