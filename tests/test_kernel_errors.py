"""Bad input raises the right adept exception, with a message naming the problem, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from adept_core import ConfigError, InputError, NoiseSpec, PhotonicCore, PhotonicGemmSpec, ShapeError, photonic_gemm
from adept_core.kernels import BACKEND_NAMES

F32 = np.float32


@pytest.fixture
def core():
    return PhotonicCore(np.ones((6, 3), dtype=F32), PhotonicGemmSpec(rows=4, cols=2))


@pytest.fixture
def x():
    return np.ones((2, 6), dtype=F32)


# ---------------------------------------------------------------- arrays
@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int8, np.int32, np.complex64, bool])
def test_wrong_input_dtype_is_refused_not_cast(core, dtype):
    with pytest.raises(ShapeError, match=r"x must have dtype float32, got"):
        core(np.ones((2, 6), dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.int16])
def test_wrong_weight_dtype_is_refused(dtype):
    with pytest.raises(ShapeError, match=r"w must have dtype float32"):
        PhotonicCore(np.ones((6, 3), dtype=dtype))


@pytest.mark.parametrize("bad", [[[1.0, 2.0]], 3.0, None], ids=["list", "float", "None"])
def test_non_arrays_are_refused(core, bad):
    with pytest.raises(ShapeError, match=r"x must be a numpy.ndarray"):
        core(bad)


@pytest.mark.parametrize("shape", [(6,), (1, 2, 6), ()])
def test_wrong_input_ndim(core, shape):
    with pytest.raises(ShapeError, match=r"x must be 2-D, got shape"):
        core(np.ones(shape, dtype=F32))


def test_wrong_weight_ndim():
    with pytest.raises(ShapeError, match=r"w must be 2-D"):
        PhotonicCore(np.ones(6, dtype=F32))


@pytest.mark.parametrize("shape", [(0, 6), (2, 0)])
def test_empty_input(core, shape):
    with pytest.raises(ShapeError, match=r"no empty dimension"):
        core(np.ones(shape, dtype=F32))


def test_shape_mismatch_names_both_sizes(core):
    with pytest.raises(ShapeError, match=r"x has 5 columns but the core holds weights for K=6"):
        core(np.ones((2, 5), dtype=F32))
    with pytest.raises(ShapeError, match=r"x has 5 columns"):
        photonic_gemm(np.ones((2, 5), dtype=F32), np.ones((6, 3), dtype=F32))


@pytest.mark.parametrize("view", ["strided", "transposed", "fortran"])
def test_non_contiguous_input_is_refused(core, view):
    base = np.ones((6, 12), dtype=F32)
    bad = {"strided": base[:2, ::2], "transposed": np.ones((6, 2), dtype=F32).T,
           "fortran": np.asfortranarray(np.ones((2, 6), dtype=F32))}[view]
    with pytest.raises(ShapeError, match=r"x must be C-contiguous; pass numpy.ascontiguousarray\(x\)"):
        core(bad)


def test_non_contiguous_weights_are_refused():
    with pytest.raises(ShapeError, match=r"w must be C-contiguous"):
        PhotonicCore(np.ones((3, 6), dtype=F32).T)


# ---------------------------------------------------------------- values
@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [(0, 0), (1, 5), (1, 2)])
def test_non_finite_input_is_an_error_on_every_backend(core, x, backend, value, where):
    x[where] = value
    message = rf"x contains a non-finite value \(.*{value}.*at index \({where[0]}, {where[1]}\)"
    with pytest.raises(InputError, match=message):
        core(x, backend=backend)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weight_is_an_error(value):
    w = np.ones((6, 3), dtype=F32)
    w[4, 1] = value
    with pytest.raises(InputError, match=r"w contains a non-finite value .* at index \(4, 1\)"):
        PhotonicCore(w)


def test_non_finite_input_to_calibration_is_an_error(core, x):
    x[1, 1] = np.nan
    with pytest.raises(InputError, match=r"x contains a non-finite value"):
        core.calibrate_full_scale(x)


# ---------------------------------------------------------------- spec
@pytest.mark.parametrize("field", ["input_bits", "weight_bits", "adc_bits"])
@pytest.mark.parametrize("value", [1, 17, 0, -8, 64])
def test_bits_out_of_range(field, value):
    with pytest.raises(ConfigError, match=rf"PhotonicGemmSpec.{field} must be in \[2, 16\], got {value}"):
        PhotonicGemmSpec(**{field: value})


@pytest.mark.parametrize("field", ["input_bits", "weight_bits", "adc_bits", "rows", "cols"])
@pytest.mark.parametrize("value", [8.0, "8", True, None, np.float64(8)])
def test_bits_and_geometry_must_be_integers(field, value):
    with pytest.raises(ConfigError, match=rf"PhotonicGemmSpec.{field} must be an integer"):
        PhotonicGemmSpec(**{field: value})


@pytest.mark.parametrize("field", ["rows", "cols"])
@pytest.mark.parametrize("value", [0, -1, 4097])
def test_core_geometry_out_of_range(field, value):
    with pytest.raises(ConfigError, match=rf"PhotonicGemmSpec.{field} must be in \[1, 4096\]"):
        PhotonicGemmSpec(**{field: value})


@pytest.mark.parametrize("field", ["sigma_const", "shot_coeff", "rin_coeff"])
@pytest.mark.parametrize("value", [-1e-9, -1.0, float("nan"), float("inf"), -float("inf")])
def test_noise_coefficients_must_be_finite_and_non_negative(field, value):
    with pytest.raises(ConfigError, match=rf"NoiseSpec.{field} must be finite and >= 0"):
        NoiseSpec(**{field: value})


@pytest.mark.parametrize("value", ["1.0", None, True, [1.0]])
def test_noise_coefficients_must_be_real_numbers(value):
    with pytest.raises(ConfigError, match=r"NoiseSpec.shot_coeff must be a real number"):
        NoiseSpec(shot_coeff=value)


def test_spec_and_noise_types():
    with pytest.raises(ConfigError, match=r"PhotonicGemmSpec.noise must be a NoiseSpec, got dict"):
        PhotonicGemmSpec(noise={"sigma_const": 1.0})
    with pytest.raises(ConfigError, match=r"spec must be a PhotonicGemmSpec, got NoiseSpec"):
        PhotonicCore(np.ones((2, 2), dtype=F32), NoiseSpec())


def test_spec_is_frozen():
    spec = PhotonicGemmSpec()
    with pytest.raises(AttributeError):
        spec.adc_bits = 4  # type: ignore[misc]


# ---------------------------------------------------------------- call arguments
@pytest.mark.parametrize(
    "value, match",
    [
        (float("nan"), r"adc_full_scale must be finite and > 0"),
        (float("inf"), r"adc_full_scale must be finite and > 0"),
        (0.0, r"adc_full_scale must be finite and > 0"),
        (-5.0, r"adc_full_scale must be finite and > 0"),
        (np.array([1.0, np.nan, 1.0]), r"adc_full_scale must be finite and > 0"),
        ("largest", r"adc_full_scale policy 'largest' is unknown; use 'worst_case'"),
        (["a", "b", "c"], r"adc_full_scale must be 'worst_case', a positive number or"),
        (None, r"adc_full_scale must be 'worst_case', a positive number or"),
        (True, r"adc_full_scale must be 'worst_case', a positive number or"),
    ],
)
def test_bad_adc_full_scale(core, x, value, match):
    with pytest.raises(ConfigError, match=match):
        core(x, adc_full_scale=value)


@pytest.mark.parametrize("value", [np.ones(2), np.ones((3, 1))])
def test_adc_full_scale_of_the_wrong_shape(core, x, value):
    with pytest.raises(ShapeError, match=r"adc_full_scale must be a scalar or have shape \(3,\)"):
        core(x, adc_full_scale=value)


@pytest.mark.parametrize("name", ["gpu", "CPP", "", None])
def test_unknown_backend(core, x, name):
    with pytest.raises(ConfigError, match=r"unknown backend .*; choose one of auto, cpp, numba, numpy"):
        core(x, backend=name)


@pytest.mark.parametrize("key", ["seed", "call_key"])
@pytest.mark.parametrize("value", [1.5, "1", None, True, np.float64(2.0), [1]])
def test_seed_and_call_key_must_be_integers(core, x, key, value):
    with pytest.raises(ConfigError, match=rf"{key} must be an integer in \[0, 2\*\*64\)"):
        core(x, **{key: value})


@pytest.mark.parametrize("key", ["seed", "call_key"])
@pytest.mark.parametrize("value", [-1, 2**64, -(2**70)])
def test_seed_and_call_key_range(core, x, key, value):
    with pytest.raises(ConfigError, match=rf"{key} must be in \[0, 2\*\*64\), got {value}"):
        core(x, **{key: value})


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "2"])
def test_threads_must_be_a_positive_integer(core, x, value):
    with pytest.raises(ConfigError, match=r"threads must be a positive integer or None"):
        core(x, threads=value)


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf"), 1e-50, 1e300])
def test_input_scale_must_be_a_positive_finite_float32(core, x, value):
    with pytest.raises(ConfigError, match=r"x_scale must be a finite float32 > 0"):
        core(x, x_scale=value)


@pytest.mark.parametrize("value", ["0.5", True, [0.5]])
def test_input_scale_must_be_a_real_number(core, x, value):
    with pytest.raises(ConfigError, match=r"x_scale must be a real number"):
        core(x, x_scale=value)
