"""ASIC ops in float32 against onnxruntime, op by op (ONNX semantics incl. the awkward attributes)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from asic_oracle import assert_close, run_both  # noqa: E402

from adept_core.asic import ASIC_OPS, DATA_MOVEMENT  # noqa: E402
from adept_core.emulate import EXECUTABLE_OPS  # noqa: E402
from adept_core.graph.ops import GRAPH_OPS  # noqa: E402

RNG = np.random.default_rng(42)


def _x(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def test_every_graph_op_has_an_executor_implementation():
    assert GRAPH_OPS <= EXECUTABLE_OPS, sorted(GRAPH_OPS - EXECUTABLE_OPS)
    assert DATA_MOVEMENT <= set(ASIC_OPS)


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 0, 0], ceil_mode=1),
    dict(kernel_shape=[2, 3], strides=[1, 2], pads=[1, 0, 0, 2], dilations=[2, 1]),
])
def test_max_pool(attrs):
    assert_close(*run_both("MaxPool", {"x": _x(2, 3, 9, 10)}, {}, attrs), rtol=0)


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0),
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 0, 0], ceil_mode=1, count_include_pad=1),
    dict(kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0], ceil_mode=1),
])
def test_average_pool(attrs):
    assert_close(*run_both("AveragePool", {"x": _x(2, 3, 9, 10)}, {}, attrs))


def test_global_pools():
    assert_close(*run_both("GlobalAveragePool", {"x": _x(2, 5, 7, 3)}, {}, {}))
    assert_close(*run_both("GlobalMaxPool", {"x": _x(2, 5, 7, 3)}, {}, {}), rtol=0)


@pytest.mark.parametrize("impl", ["numpy", "cython"])
@pytest.mark.parametrize("cin, cout, group, attrs", [
    (4, 6, 1, dict(kernel_shape=[3, 3], strides=[2, 1], pads=[1, 0, 2, 1], dilations=[1, 2])),
    (6, 4, 2, dict(kernel_shape=[3, 2], strides=[1, 2], pads=[0, 1, 1, 0], dilations=[2, 1])),
    (4, 8, 4, dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),  # depthwise, multiplier 2
    (5, 3, 1, dict(kernel_shape=[1, 1], strides=[2, 2], pads=[0, 0, 0, 0])),  # pointwise fast path
])
def test_conv(cin, cout, group, attrs, impl):
    w = _x(cout, cin // group, *attrs["kernel_shape"])
    got = run_both("Conv", {"x": _x(2, cin, 9, 8)}, {"w": w, "b": _x(cout)}, dict(attrs, group=group),
                   im2col_impl=impl)
    assert_close(*got)


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
def test_lstm(direction):
    d, seq, batch, inp, hid = (2 if direction == "bidirectional" else 1), 5, 3, 4, 6
    weights = {"W": _x(d, 4 * hid, inp), "R": _x(d, 4 * hid, hid) * 0.5, "B": _x(d, 8 * hid), "": None,
               "h0": _x(d, batch, hid), "c0": _x(d, batch, hid)}
    exp, got = run_both("LSTM", {"x": _x(seq, batch, inp)}, weights,
                        dict(hidden_size=hid, direction=direction), n_out=3)
    assert_close(exp, got)


@pytest.mark.parametrize("lbr", [0, 1])
@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_gru(direction, lbr):
    d, seq, batch, inp, hid = (2 if direction == "bidirectional" else 1), 4, 2, 3, 5
    weights = {"W": _x(d, 3 * hid, inp), "R": _x(d, 3 * hid, hid) * 0.5, "B": _x(d, 6 * hid)}
    exp, got = run_both("GRU", {"x": _x(seq, batch, inp)}, weights,
                        dict(hidden_size=hid, direction=direction, linear_before_reset=lbr), n_out=2)
    assert_close(exp, got)


@pytest.mark.parametrize("op, attrs, opset", [
    ("Softmax", dict(axis=1), 17), ("Sigmoid", {}, 17), ("Tanh", {}, 17), ("Erf", {}, 17), ("Relu", {}, 17),
    ("Sqrt", {}, 17), ("Gelu", dict(approximate="none"), 20), ("Gelu", dict(approximate="tanh"), 20),
])
def test_unary(op, attrs, opset):
    x = _x(3, 7, 5) * 4
    if op == "Sqrt":
        x = np.abs(x)
    assert_close(*run_both(op, {"x": x}, {}, attrs, opset=opset), rtol=2e-6)


def test_sigmoid_extremes_do_not_warn():
    x = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4]], np.float32)
    assert_close(*run_both("Sigmoid", {"x": x}, {}, {}))


@pytest.mark.parametrize("axis", [1, 2])
def test_layer_norm(axis):
    exp, got = run_both("LayerNormalization", {"x": _x(2, 3, 8) * 3 + 1}, {"s": _x(*([3, 8][axis - 1:])),
                        "b": _x(*([3, 8][axis - 1:]))}, dict(axis=axis, epsilon=1e-5))
    assert_close(exp, got, rtol=2e-6)


def test_batchnorm_unfolded():
    c = 4
    weights = {"s": _x(c), "b": _x(c), "m": _x(c), "v": np.abs(_x(c)) + 0.5}
    assert_close(*run_both("BatchNormalization", {"x": _x(2, c, 3, 3)}, weights, dict(epsilon=1e-3)))


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Pow"])
def test_binary_broadcast(op):
    a, b = np.abs(_x(2, 3, 4)) + 0.5, _x(3, 1)
    assert_close(*run_both(op, {"a": a}, {"b": b}, {}), rtol=1e-6)


def test_where_and_gather_negative_indices():
    cond = np.array([[True, False, True]])
    from adept_core.asic.tensor import op_gather
    from adept_core.asic.elementwise import op_where
    from adept_core.graph.ir import Node

    table = _x(5, 3)
    (g,) = op_gather(Node("g", "Gather", ("t", "i"), ("o",), {"axis": 0}), [table, np.array([[-1, 0]])], None)
    assert np.array_equal(g, table[[[4, 0]]])
    (w,) = op_where(Node("w", "Where", ("c", "a", "b"), ("o",)), [cond, table[:1], table[1:2]], None)
    assert np.array_equal(w, np.where(cond, table[:1], table[1:2]))


def test_erf_approximation_within_two_ulp_of_libm():
    import math

    from adept_core.asic.elementwise import erf

    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, -0.0, 1e-30, -1e-20, np.inf, -np.inf]]).astype(np.float32)
    want = np.array([math.erf(float(v)) for v in x]).astype(np.float32)
    got = erf(x)
    ulps = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
    assert ulps.max() <= 2
    assert np.isnan(erf(np.array([np.nan], np.float32)))[0]


@pytest.mark.parametrize("shape, k, stride, dil, pads, mult", [
    ((2, 6, 9, 8), 3, (2, 1), (1, 2), (1, 0, 2, 1), 1),
    ((1, 3, 7, 7), 5, (1, 1), (1, 1), (2, 2, 2, 2), 2),
    ((2, 4, 5, 6), 1, (2, 2), (1, 1), (0, 0, 0, 0), 1),
])
def test_depthwise_cython_and_numpy_identical(shape, k, stride, dil, pads, mult):
    from adept_core.asic.im2col import ConvGeometry
    from adept_core.asic.pool import _depthwise, depthwise_conv

    if _depthwise is None:
        pytest.skip("Cython depthwise module not built")
    x = _x(*shape) * 3
    x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # as conv outputs are stored
    w = _x(shape[1] * mult, 1, k, k)
    geo = ConvGeometry(k, k, *stride, *dil, *pads, groups=shape[1])
    for bias in (None, _x(shape[1] * mult)):
        a = depthwise_conv(x, w, bias, geo, "numpy")
        b = depthwise_conv(x, w, bias, geo, "cython")
        assert a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("with_bias", [False, True])
def test_depthwise_non_finite_tap_next_to_padding_is_nan_on_every_path(bad, with_bias):
    # The compiled loops skip the taps that fall on padding; the definition multiplies the zeros there,
    # and 0 * inf is NaN. A non-finite tap with padding must give the definition's NaN on every path.
    from adept_core.asic.im2col import ConvGeometry
    from adept_core.asic.pool import depthwise_conv
    from adept_core.asic.shuffle import unshuffle_depthwise_conv, unshuffle_taps

    x = np.ascontiguousarray(_x(1, 4, 5, 5).transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    w = _x(4, 1, 3, 3)
    w[0, 0, 0, 0] = bad
    bias = _x(4) if with_bias else None
    geo = ConvGeometry(3, 3, 1, 1, 1, 1, 1, 1, 1, 1, groups=4)
    with np.errstate(invalid="ignore"):  # 0 * inf (the executor runs every op under this errstate too)
        want = depthwise_conv(x, w, bias, geo, "numpy")
        got = depthwise_conv(x, w, bias, geo, "auto")
    assert np.isnan(want[0, 0, 0, 0])  # the corner output reads the inf tap on a padded zero
    assert np.array_equal(want.view(np.uint32), got.view(np.uint32))
    if with_bias:  # the fused path declines, so the caller materialises the shuffle and runs the above
        taps, b = unshuffle_taps(w, bias, 2)
        assert unshuffle_depthwise_conv(x, taps, b, geo, 2) is None
