"""Validation happens once, before dispatch: every backend returns the same bits or raises the same error.

Issue 8 item 10 and issue 12 section 2 (calibrated ADC range, one result type, shape before layout).
"""

from __future__ import annotations

import numpy as np
import pytest

from adept_core import ConfigError, NoiseSpec, PhotonicCore, PhotonicGemmSpec, ShapeError, photonic_gemm
from adept_core.kernels import BACKEND_NAMES, GemmResult, GemmStats

F32 = np.float32
GEN = np.random.default_rng(21)
W = GEN.standard_normal((6, 3)).astype(F32)
X = GEN.standard_normal((4, 6)).astype(F32)
SPEC = PhotonicGemmSpec(rows=4, cols=2, noise=NoiseSpec(sigma_const=0.5, shot_coeff=0.1))


def _unaligned(a: np.ndarray) -> np.ndarray:
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = np.frombuffer(buf[1:].data, dtype=F32).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned and out.flags.c_contiguous
    return out


def _masked(a: np.ndarray) -> np.ndarray:
    mask = np.zeros(a.shape, bool)
    mask[1, 2] = True
    return np.ma.masked_array(a, mask=mask)


class _Sub(np.ndarray):
    pass


#: name -> (call arguments, expected error class and message, or None: all backends return the same bits)
CASES = {
    "masked_x": (dict(x=_masked(X)), (ShapeError, r"x is a numpy masked array.*x.filled\(0\)")),
    "unaligned_x": (dict(x=_unaligned(X)), None),
    "ndarray_subclass": (dict(x=X.view(_Sub)), None),
    "adc_full_scale_denormal": (dict(adc_full_scale=5e-324), (ConfigError, r"adc_full_scale must be in \[2\*\*-20, 2\*\*64\]")),
    "adc_full_scale_subnormal_array": (dict(adc_full_scale=np.array([1.0, 1e-310, 1.0])),
                                       (ConfigError, r"adc_full_scale must be in \[2\*\*-20")),
    "adc_full_scale_huge": (dict(adc_full_scale=1e300), (ConfigError, r"adc_full_scale must be in")),
    "adc_full_scale_smallest": (dict(adc_full_scale=2.0**-20), None),
    "adc_full_scale_largest": (dict(adc_full_scale=2.0**64), None),
    "calibrated": (dict(adc_full_scale="calibrated"), None),
    "calibrated_given_x_scale": (dict(adc_full_scale="calibrated", x_scale=0.01), None),
    "threads_numpy_int": (dict(threads=np.int64(3)), None),
    "threads_2_40": (dict(threads=2**40), (ConfigError, r"threads must be at most 256")),
    "x_wrong_k_and_strided": (dict(x=np.ones((4, 12), F32)[:, :5]), (ShapeError, r"x has 5 columns .*K=6")),
}


def _call(backend: str, x=X, **kwargs):
    return PhotonicCore(W, SPEC)(x, seed=3, backend=backend, **kwargs)


@pytest.mark.parametrize("case", list(CASES))
def test_every_backend_agrees_on_every_input(case):
    kwargs, error = CASES[case]
    if error is not None:
        for backend in BACKEND_NAMES:
            with pytest.raises(error[0], match=error[1]):
                _call(backend, **kwargs)
        return
    results = {b: _call(b, **kwargs) for b in BACKEND_NAMES}
    ref = results["numpy"]
    assert np.isfinite(ref.out).all()
    for backend, res in results.items():
        assert np.array_equal(res.out.view(np.uint32), ref.out.view(np.uint32)), backend
        assert res.stats.clipped == ref.stats.clipped and res.stats.x_scale == ref.stats.x_scale, backend


@pytest.mark.parametrize("value", [1e400, 10**400, 1e16, float("inf")], ids=["1e400", "int_10_400", "1e16", "inf"])
@pytest.mark.parametrize("field", ["sigma_const", "shot_coeff", "rin_coeff"])
def test_noise_coefficients_have_a_finite_physical_range(field, value):
    with pytest.raises(ConfigError, match=rf"NoiseSpec.{field} must be (finite and >= 0|<= 1e\+15)"):
        NoiseSpec(**{field: value})


@pytest.mark.parametrize("field", ["sigma_const", "shot_coeff", "rin_coeff"])
def test_the_largest_noise_coefficient_gives_the_same_bits_everywhere(field):
    spec = PhotonicGemmSpec(rows=4, cols=2, noise=NoiseSpec(**{field: 1e15}))
    core = PhotonicCore(W, spec)
    outs = [core(X, seed=1, backend=b).out for b in BACKEND_NAMES]
    for y in outs[1:]:
        assert np.array_equal(y, outs[0])


def test_calibrated_policy_equals_the_explicit_calibration_and_is_recorded():
    core = PhotonicCore(W, SPEC)
    res = core(X, seed=2, adc_full_scale="calibrated")
    fs = core.calibrate_full_scale(X)
    assert np.array_equal(res.out, core(X, seed=2, adc_full_scale=fs).out)
    assert res.stats.adc_policy == "calibrated" and res.stats.adc_full_scale == fs
    default = core(X, seed=2)
    assert default.stats.adc_policy == "worst_case"
    assert default.stats.adc_full_scale == SPEC.worst_case_full_scale


def test_calibrated_default_is_far_closer_to_the_exact_product():
    gen = np.random.default_rng(4)
    x, w = gen.standard_normal((64, 256)).astype(F32), gen.standard_normal((256, 32)).astype(F32)
    exact = x.astype(np.float64) @ w.astype(np.float64)

    def rel(y):
        return np.linalg.norm(y - exact) / np.linalg.norm(exact)

    assert rel(photonic_gemm(x, w, adc_full_scale="calibrated").out) < 0.05 < rel(photonic_gemm(x, w).out)


def test_calibrated_needs_a_call_not_a_bare_policy():
    core = PhotonicCore(W, SPEC)
    with pytest.raises(ConfigError, match=r"'calibrated' \(in a call\)"):
        core.full_scale("calibrated")


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_one_result_type_with_out_and_stats(backend):
    res = photonic_gemm(X, W, SPEC, backend=backend)
    assert type(res) is GemmResult and isinstance(res.stats, GemmStats)
    assert res.out.dtype == F32 and res.out.shape == (4, 3)
    y, stats = res  # unpacks like the former (y, stats) tuple
    assert y is res.out and stats is res.stats
    # the former flag is accepted and changes nothing
    again = photonic_gemm(X, W, SPEC, backend=backend, return_stats=False)
    assert type(again) is GemmResult and np.array_equal(again.out, y)


def test_shape_is_checked_before_layout():
    core = PhotonicCore(np.ones((1000, 3), F32))
    wide = np.ones((2, 2000), F32)
    with pytest.raises(ShapeError, match=r"x must be C-contiguous"):
        core(wide[:, :1000])  # right shape, wrong layout: the layout is the problem
    core_k = PhotonicCore(np.ones((1500, 3), F32))
    with pytest.raises(ShapeError, match=r"x has 1000 columns but the core holds weights for K=1500"):
        core_k(wide[:, :1000])
