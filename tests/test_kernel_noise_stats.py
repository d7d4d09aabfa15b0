"""Statistics of the analog noise: the right size for each term, and independent streams.

All tolerances are 5 standard errors of the estimate for the sample size used (>= 10**6
samples), with the inverse-CDF table's own moments as the expected values. The samples are
deterministic (counter-based generator), so these tests cannot flake; a bias or a correlation
in the generator larger than the tolerance makes them fail.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from adept_core import NoiseSpec, PhotonicCore, PhotonicGemmSpec
from adept_core.kernels import rng

M_SAMPLES = N_SAMPLES = 1000  # 10**6 partial sums per call
P_ABS = 127 * 127  # every partial sum of the setup below
TABLE = rng.normal_table().astype(np.float64)
TABLE_VAR = float(np.mean(TABLE**2))  # the table's mean is exactly 0 (checked below)


def _noisy_minus_p(noise: NoiseSpec, sign: int, seed: int = 0) -> np.ndarray:
    """``y - p`` read through the full NumPy oracle pipeline, 10**6 samples.

    x = +-127 with x_scale 1 and w = 127 (scale 1) make every partial sum p = +-127*127 on one
    K-tile; a 16-bit ADC with full scale 32767 has lsb = 1, so the output is ``rint(y)`` exactly
    and ``Y - p`` is the noise plus a rounding error of variance 1/12 (accounted for).
    """
    spec = PhotonicGemmSpec(input_bits=8, weight_bits=8, adc_bits=16, noise=noise)
    x = np.full((M_SAMPLES, 1), 127.0 * sign, dtype=np.float32)
    core = PhotonicCore(np.full((1, N_SAMPLES), 127.0, dtype=np.float32), spec)
    y = core(x, seed=seed, x_scale=1.0, adc_full_scale=32767.0, backend="numpy").out
    return y.astype(np.float64).ravel() - sign * P_ABS


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize(
    "noise, sigma",
    [
        (NoiseSpec(sigma_const=100.0), 100.0),
        (NoiseSpec(shot_coeff=1.5), math.sqrt(1.5 * P_ABS)),
        (NoiseSpec(rin_coeff=0.01), 0.01 * P_ABS),
    ],
    ids=["sigma_const", "shot", "rin"],
)
def test_single_noise_term_has_the_specified_mean_and_std(noise, sigma, sign):
    d = _noisy_minus_p(noise, sign)
    n = d.size
    assert n >= 10**6
    expected_std = math.sqrt(sigma**2 * TABLE_VAR + 1.0 / 12.0)  # + ADC rounding of step 1
    assert abs(d.mean()) < 5 * expected_std / math.sqrt(n), f"mean {d.mean()} for std {expected_std}"
    std = d.std(ddof=1)
    assert abs(std - expected_std) < 5 * expected_std / math.sqrt(2 * (n - 1)), f"std {std} vs {expected_std}"


def test_noise_off_is_exactly_zero():
    assert np.count_nonzero(_noisy_minus_p(NoiseSpec(), 1)) == 0


def _z(seed: int = 0, call_key: int = 0, t: int = 0, rows: int = 1000, cols: int = 1000) -> np.ndarray:
    return rng.standard_normals(
        rng.call_base(seed, call_key), t, np.arange(rows, dtype=np.uint64), np.arange(cols, dtype=np.uint32)
    )


def test_standard_normals_match_the_table_moments_and_shape():
    z = _z(seed=123, rows=1200).ravel()
    n = z.size
    assert abs(z.mean()) < 5 * math.sqrt(TABLE_VAR / n)
    var_se = math.sqrt((np.mean(TABLE**4) - TABLE_VAR**2) / n)
    assert abs(np.mean(z**2) - TABLE_VAR) < 5 * var_se
    inside = NormalDist().cdf(1.0) - NormalDist().cdf(-1.0)  # 0.6827
    frac = np.mean(np.abs(z) < 1.0)
    assert abs(frac - inside) < 5 * math.sqrt(inside * (1 - inside) / n) + 1 / rng.TABLE_SIZE


def test_table_indices_are_uniform():
    """Chi-square of the top 8 bits of the table index over 1.2e6 draws (255 degrees of freedom)."""
    base = rng.call_base(9, 9)
    h = rng.element_hash(rng.row_keys(base, 3, np.arange(1200, dtype=np.uint64)), np.arange(1000, dtype=np.uint32))
    counts = np.bincount((h >> np.uint32(24)).ravel(), minlength=256)
    expected = h.size / 256
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert abs(chi2 - 255) < 5 * math.sqrt(2 * 255), chi2


@pytest.mark.parametrize(
    "other",
    [dict(seed=1), dict(call_key=1), dict(t=1), dict(seed=2**64 - 1, call_key=2**64 - 1)],
    ids=["seed", "call_key", "tile", "extreme_keys"],
)
def test_different_keys_give_uncorrelated_streams(other):
    a = _z().ravel()
    b = _z(**other).ravel()
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) < 5 / math.sqrt(a.size), r
    assert np.mean(a == b) < 0.01  # not the same stream shifted into agreement


def test_neighbouring_rows_and_columns_are_uncorrelated():
    z = _z(seed=5)
    bound = 5 / math.sqrt(z.size)
    assert abs(np.corrcoef(z[:, 1:].ravel(), z[:, :-1].ravel())[0, 1]) < bound
    assert abs(np.corrcoef(z[1:, :].ravel(), z[:-1, :].ravel())[0, 1]) < bound


def test_pipeline_streams_for_two_seeds_are_uncorrelated():
    a = _noisy_minus_p(NoiseSpec(sigma_const=50.0), 1, seed=0)
    b = _noisy_minus_p(NoiseSpec(sigma_const=50.0), 1, seed=1)
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / math.sqrt(a.size)


def test_table_moments():
    """Symmetric, increasing, mean 0; truncation at 4.32 sigma loses 2e-5 of the variance."""
    assert TABLE.size == rng.TABLE_SIZE
    assert np.all(np.diff(TABLE) > 0)
    assert np.array_equal(TABLE, -TABLE[::-1])
    assert TABLE.sum() == 0.0
    assert 1.0e-5 < 1.0 - TABLE_VAR < 3.0e-5
    assert TABLE[-1] == pytest.approx(NormalDist().inv_cdf(1 - 0.5 / rng.TABLE_SIZE), rel=1e-6)
