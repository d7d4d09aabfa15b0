"""The channels-last fast paths of AveragePool and Reshape equal their NumPy definitions bit for bit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from adept_core.asic.im2col import ConvGeometry
from adept_core.asic.pool import _average_pool_nhwc, _average_pool_reference, _ceil_extension
from adept_core.asic.tensor import reshape_keep_layout


def _input(layout: str) -> np.ndarray:
    x = np.random.default_rng(0).standard_normal((2, 5, 9, 10)).astype(np.float32)
    x[0, 0, 0, 0] = -0.0
    x[1, 2, 3, 4] = np.nan
    x[1, 3, 0, 1] = np.inf
    x.view(np.uint32)[1, 2, 3, 5] = 0x7FC00ABC  # a second NaN with another payload: sums of two NaNs
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) if layout == "nhwc" else x


GEOMETRIES = [g for g in itertools.product((1, 2, 3), (2, 3), (1, 2), (1, 3), (1, 2), (0, 1), (0, 2), (0, 1), (0, 1))
              if g[5] < g[0] and g[7] < g[0] and g[6] < g[1] and g[8] < g[1]]


@pytest.mark.parametrize("typed", [True, False])
@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
@pytest.mark.parametrize("ceil_mode", [0, 1])
@pytest.mark.parametrize("include_pad", [False, True])
def test_average_pool_nhwc_is_the_reference(layout, ceil_mode, include_pad, typed, monkeypatch):
    from adept_core.asic import pool

    if not typed:
        monkeypatch.setattr(pool, "_epilogue", None)  # the NumPy taps of an uncompiled tree
    elif pool._epilogue is None:
        pytest.skip("Cython epilogue module not built")
    x = _input(layout)
    checked = 0
    for kh, kw, sh, sw, dh, pt, pl, pb, pr in GEOMETRIES:
        base = ConvGeometry(kh, kw, sh, sw, dh, 1, pt, pl, pb, pr)
        geo = _ceil_extension(base, 9, 10, bool(ceil_mode))
        with np.errstate(all="ignore"):
            fast = _average_pool_nhwc(x, base, geo, include_pad)
            want = _average_pool_reference(x, base, geo, include_pad)
        assert fast.shape == want.shape
        assert np.array_equal(np.ascontiguousarray(fast).view(np.uint32), np.ascontiguousarray(want).view(np.uint32)), \
            (kh, kw, sh, sw, dh, pt, pl, pb, pr)
        checked += 1
    assert checked == len(GEOMETRIES)


def _shuffled(c: int, h: int, groups: int) -> np.ndarray:
    """ShuffleNet's channel shuffle input: a conv output (stored NHWC) split into groups and transposed."""
    x = np.ascontiguousarray(np.random.default_rng(1).standard_normal((2, h, h, c)).astype(np.float32))
    return x.transpose(0, 3, 1, 2).reshape(2, groups, c // groups, h, h).transpose(0, 2, 1, 3, 4)


@pytest.mark.parametrize("groups", [2, 3, 8, 24])
def test_channel_shuffle_is_copied_channels_last(groups):
    t = _shuffled(48, 5, groups)
    got = reshape_keep_layout(t, (2, 48, 5, 5))
    assert np.array_equal(got, t.reshape(2, 48, 5, 5))
    assert got.strides[1] == got.itemsize  # channels innermost: the next Conv needs no second copy
    assert np.array_equal(reshape_keep_layout(t, (2, -1, 5, 5)), t.reshape(2, 48, 5, 5))


@pytest.mark.parametrize("shape", [(2, 1200), (50, 48), (2, 48, 25), (2, 6, 8, 25), (8, 12, 5, 5), (2, 48, 25, 1)])
def test_other_reshapes_equal_numpy(shape):
    t = _shuffled(48, 5, 3)
    got = reshape_keep_layout(t, shape)
    assert got.shape == np.empty(shape).shape and np.array_equal(got, t.reshape(shape))


def test_views_stay_views_and_bad_shapes_fail():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert np.shares_memory(reshape_keep_layout(x, (6, 4)), x)
    with pytest.raises(ValueError):
        reshape_keep_layout(_shuffled(48, 5, 3), (2, 47, 5, 5))


@pytest.mark.parametrize("rows,cin,groups,n", [(784, 240, 3, 80), (49, 960, 3, 320), (5, 12, 3, 4), (1, 9, 3, 7)])
def test_grouped_gemm_into_output_columns_is_the_concatenation(rows, cin, groups, n):
    """Fp32Engine.weight_gemm(out=column view) of row-strided inputs equals contiguous GEMMs concatenated."""
    from adept_core.emulate.engine import Fp32Engine

    rng = np.random.default_rng(2)
    x = rng.standard_normal((rows, cin)).astype(np.float32)
    cg = cin // groups
    ws = [rng.standard_normal((cg, n)).astype(np.float32) for _ in range(groups)]
    ws[0][:, 1] = ws[0][:, 0]  # a repeated column: the gather path writes into out too
    want = np.concatenate([Fp32Engine().weight_gemm("ref", "conv", g, np.ascontiguousarray(x[:, g * cg:(g + 1) * cg]),
                                                    lambda g=g: ws[g]) for g in range(groups)], axis=1)
    engine, out = Fp32Engine(), np.empty((rows, groups * n), np.float32)
    for g in range(groups):
        got = engine.weight_gemm("n", "conv", g, x[:, g * cg:(g + 1) * cg], lambda g=g: ws[g],
                                 out=out[:, g * n:(g + 1) * n])
        assert np.shares_memory(got, out)
    assert np.array_equal(out.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("op,ufunc", [("Mul", np.multiply), ("Add", np.add), ("Sub", np.subtract)])
@pytest.mark.parametrize("fmt", ["fp32", "bf16"])
def test_broadcast_ops_over_a_dead_input_equal_the_allocating_path(op, ufunc, fmt):
    """Mul / Add / Sub of a per-channel constant written over their dead input: the same bits."""
    from types import SimpleNamespace

    from adept_core.asic.elementwise import IN_PLACE
    from adept_core.asic.numfmt import rounder

    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 5, 7)).astype(np.float32)
    x[0, 0, 0, :2] = [np.nan, -0.0]
    c = rng.standard_normal((6, 1, 1)).astype(np.float32)
    c[1] = np.nan
    c.view(np.uint32)[0] = 0x7FC00ABC  # meets x's NaN at [0, 0, 0, 0]: two payloads, the first operand's wins
    ctx = SimpleNamespace(round=rounder(fmt), take_fused_relu=lambda: False)
    want = rounder(fmt)(ufunc(x, c))
    with np.errstate(all="ignore"):
        got = IN_PLACE[op](None, [x.copy(), c], ctx, donor := x.copy())[0]
        got_b = IN_PLACE[op](None, [c, x.copy()], ctx, donor_b := x.copy())[0]
    assert got is donor and np.array_equal(got.view(np.uint32), want.view(np.uint32))
    assert got_b is donor_b and np.array_equal(got_b.view(np.uint32), rounder(fmt)(ufunc(c, x)).view(np.uint32))
    assert IN_PLACE[op](None, [x, c], ctx, np.empty((6, 1, 1), np.float32)) is None  # out of the wrong shape


@pytest.mark.parametrize("channels,hw,stride,pads",
                         [(136, 9, 1, (1, 1, 1, 1)), (7, 6, 2, (0, 1, 2, 0)), (33, 5, 1, (2, 2, 2, 2))])
def test_depthwise_with_bias_in_the_c_loop_is_the_numpy_definition(channels, hw, stride, pads):
    """The vectorised C depthwise (bias in the same pass) equals the per-tap NumPy path bit for bit (-0.0, inf)."""
    from adept_core.asic.pool import _depthwise, depthwise_conv

    if _depthwise is None:
        pytest.skip("Cython depthwise module not built")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, hw, hw, channels)).astype(np.float32)
    x[0, 0, 0, :3] = [-0.0, np.inf, -np.inf]
    x = np.ascontiguousarray(x).transpose(0, 3, 1, 2)
    w = rng.standard_normal((channels, 1, 3, 3)).astype(np.float32)
    w[0] = -0.0
    bias = rng.standard_normal(channels).astype(np.float32)
    bias[0] = -0.0
    geo = ConvGeometry(3, 3, stride, stride, 1, 1, *pads, groups=channels)
    with np.errstate(all="ignore"):
        want = depthwise_conv(x, w, bias, geo, "numpy")
        got = depthwise_conv(x, w, bias, geo, "cython")
    assert np.array_equal(np.ascontiguousarray(got).view(np.uint32), np.ascontiguousarray(want).view(np.uint32))


@pytest.mark.parametrize("repeat", [False, True])
def test_stacked_grouped_gemm_is_the_per_group_gemms(repeat):
    """Fp32Engine.grouped_weight_gemm (one stacked matmul) equals the per-group GEMMs, or declines (repeats)."""
    from adept_core.emulate.engine import Fp32Engine

    rng = np.random.default_rng(5)
    rows, groups, cg, n = 196, 4, 68, 68
    x = rng.standard_normal((rows, groups * cg)).astype(np.float32)
    x3 = x.reshape(rows, groups, cg).transpose(1, 0, 2)
    ws = [rng.standard_normal((cg, n)).astype(np.float32) for _ in range(groups)]
    if repeat:
        ws[2][:, 5] = ws[2][:, 4]
    want = np.empty((rows, groups * n), np.float32)
    for g in range(groups):
        Fp32Engine().weight_gemm("ref", "conv", g, x3[g], lambda g=g: ws[g], out=want[:, g * n:(g + 1) * n])
    engine = Fp32Engine()
    got = np.empty_like(want)
    done = engine.grouped_weight_gemm("n", "conv", x3, [lambda g=g: ws[g] for g in range(groups)],
                                      got.reshape(rows, groups, n).transpose(1, 0, 2))
    assert done is (not repeat)
    if done:
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
        (stats,) = engine.stats.values()
        assert stats.calls == groups and stats.macs == groups * rows * cg * n
