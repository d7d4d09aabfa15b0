"""round_bf16: round-to-nearest-even onto the bfloat16 grid, checked against an independent oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adept_core.asic.numfmt import round_bf16, rounder
from adept_core.errors import ConfigError


def _oracle(x: np.float32) -> np.float32:
    """Nearest of the two bf16 neighbours by exact float64 distance; ties to the even mantissa."""
    bits = int(np.float32(x).view(np.uint32))
    if np.isnan(x):
        return x
    lo_bits = bits & 0xFFFF0000
    hi_bits = lo_bits + 0x10000
    lo = np.uint32(lo_bits).view(np.float32)
    hi = np.uint32(hi_bits & 0xFFFFFFFF).view(np.float32)
    if np.isinf(x):
        return x
    # hi may be +-inf when lo is the largest finite bf16: its "value" is the next power of two.
    hi_val = float(hi) if np.isfinite(hi) else float(np.sign(lo)) * 2.0 ** 128
    d_lo, d_hi = abs(float(x) - float(lo)), abs(float(x) - hi_val)
    if d_lo < d_hi or (d_lo == d_hi and (lo_bits >> 16) % 2 == 0):
        return lo
    return hi


@pytest.mark.parametrize("bits, expected", [
    (0x3F808000, 0x3F800000),  # exact tie, even below: down
    (0x3F818000, 0x3F820000),  # exact tie, odd below: up
    (0x3F808001, 0x3F810000),  # just above the tie: up
    (0x3F807FFF, 0x3F800000),  # just below the tie: down
    (0x7F7FFFFF, 0x7F800000),  # largest float32 rounds to +inf (IEEE overflow)
    (0xFF7FFFFF, 0xFF800000),
    (0x80000000, 0x80000000),  # -0 stays -0
    (0x00000001, 0x00000000),  # smallest subnormal rounds to 0
    (0x7F800000, 0x7F800000),  # inf stays inf
])
def test_round_bf16_cases(bits, expected):
    x = np.array([bits], dtype=np.uint32).view(np.float32)
    assert round_bf16(x).view(np.uint32)[0] == expected


def test_round_bf16_keeps_nan_and_shape():
    x = np.array([[np.nan, 1.0009765625], [-np.nan, 3.0]], dtype=np.float32)
    y = round_bf16(x)
    assert y.shape == x.shape and np.isnan(y[:, 0]).all()
    assert y[0, 1] == np.float32(1.0) and y[1, 1] == np.float32(3.0)
    assert np.isnan(x[0, 0])  # input untouched


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2 ** 32 - 1), min_size=1, max_size=64))
def test_round_bf16_matches_oracle(bit_patterns):
    x = np.array(bit_patterns, dtype=np.uint32).view(np.float32)
    y = round_bf16(x)
    for xi, yi in zip(x, y):
        want = _oracle(xi)
        if np.isnan(want):
            assert np.isnan(yi)
        else:
            assert yi.view(np.uint32) == np.float32(want).view(np.uint32), hex(int(xi.view(np.uint32)))
        assert int(yi.view(np.uint32)) & 0xFFFF == 0 or np.isnan(yi)


def test_round_bf16_is_idempotent_and_non_contiguous():
    x = np.random.default_rng(0).standard_normal((6, 8)).astype(np.float32)[:, ::2]
    y = round_bf16(x)
    assert np.array_equal(round_bf16(y), y)
    assert np.array_equal(y, round_bf16(np.ascontiguousarray(x)))


def test_round_bf16_refuses_other_dtypes():
    with pytest.raises(TypeError, match="float32"):
        round_bf16(np.ones(3, dtype=np.float64))


def test_rounder_formats():
    x = np.array([1.0009765625], np.float32)
    assert rounder("fp32")(x) is x
    assert rounder("bf16")(x)[0] == 1.0
    with pytest.raises(ConfigError, match="bf16, fp32"):
        rounder("fp16")


@pytest.mark.parametrize("layout", ["c", "nhwc_view", "fortran", "negative", "strided", "out_alias"])
def test_native_and_numpy_rounding_agree_on_every_layout(layout):
    from adept_core.asic.numfmt import round_bf16_numpy

    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2 ** 32, size=(2, 5, 4, 3), dtype=np.uint64).astype(np.uint32)
    base = bits.view(np.float32)
    x = {"c": base, "nhwc_view": np.ascontiguousarray(base.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),
         "fortran": np.asfortranarray(base), "negative": base[::-1, :, ::-1], "strided": base[:, ::2],
         "out_alias": base.copy()}[layout]
    want = round_bf16_numpy(x)
    got = round_bf16(x, out=x) if layout == "out_alias" else round_bf16(x)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    if layout == "nhwc_view":
        assert got.strides == x.strides  # the layout is kept
