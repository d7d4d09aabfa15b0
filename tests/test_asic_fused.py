"""Fused element-wise passes and in-place ops: bit for bit what the op-by-op NumPy path computes."""

from __future__ import annotations

import numpy as np
import pytest

from adept_core.asic import fused
from adept_core.asic.im2col import ConvGeometry, windows
from adept_core.asic.pool import _ceil_extension, _tap_reduce
from adept_core.emulate import executor, prepare
from adept_core.graph.ir import Graph, Node
from adept_core.kernels import NoiseSpec, PhotonicGemmSpec

needs_cython = pytest.mark.skipif(fused._epilogue is None, reason="Cython module _epilogue not built")

#: Values where the fused and unfused paths could part: signed zeros, NaN, infinities, bf16 ties,
#: the largest finite float32 (rounds to inf), subnormals.
SPECIAL = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, -1.5 - 2 ** -8,
                    np.finfo(np.float32).max, 1e-40, -1e-40, 3.0, -3.0], np.float32)


def _values(shape, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    flat = x.reshape(-1)
    flat[:: max(1, flat.size // 97)][:SPECIAL.size] = SPECIAL[:flat[:: max(1, flat.size // 97)].size]
    return x


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint32)


@needs_cython
@pytest.mark.parametrize("fmt", ["bf16", "fp32"])
@pytest.mark.parametrize("has_bias", [True, False])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("nan_bias", [True, False])
def test_conv_epilogue_cython_equals_numpy(fmt, has_bias, relu, nan_bias):
    y = _values((37, 24), 0)
    bias = _values((24,), 1) if has_bias else None
    if bias is not None:
        bias[0], bias[1] = -0.0, 0.0  # -0.0 + -0.0 stays -0.0, which the Relu turns into +0.0
        if nan_bias:  # meets y's NaN in column 18 (row 0): NaN + NaN keeps the first payload
            bias.view(np.uint32)[18] = 0x7FC10000
    assert np.isnan(y[0, 18])
    with np.errstate(invalid="ignore", over="ignore"):
        want = fused.conv_epilogue_(y.copy(), bias, fmt, relu, cython=False)
    got = fused.conv_epilogue_(y.copy(), bias, fmt, relu)
    np.testing.assert_array_equal(_bits(got), _bits(want))


@needs_cython
@pytest.mark.parametrize("fmt", ["bf16", "fp32"])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("out_is", ["a", "b", "new"])
def test_add_cython_equals_numpy(fmt, relu, out_is):
    # An NCHW view of NHWC memory, as conv outputs are stored.
    a = _values((2, 5, 6, 7), 2).transpose(0, 3, 1, 2)
    b = _values((2, 5, 6, 7), 3).transpose(0, 3, 1, 2)
    b.transpose(0, 2, 3, 1).reshape(-1).view(np.uint32)[::4] = 0x7FC10000  # NaN + NaN keeps the first payload
    ref_out = {"a": a.copy(), "b": b.copy(), "new": np.empty_like(a)}[out_is]
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, max + max: IEEE results, as on the ASIC
        want = fused.add_(a.copy(), b.copy(), ref_out, fmt, relu, cython=False)
    a2, b2 = a.copy(order="K"), b.copy(order="K")
    out = {"a": a2, "b": b2, "new": np.empty_like(a2)}[out_is]
    got = fused.add_(a2, b2, out, fmt, relu)
    assert got is out
    np.testing.assert_array_equal(_bits(got), _bits(want))


@needs_cython
@pytest.mark.parametrize("attrs", [
    {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
    {"kernel_shape": [2, 3], "strides": [1, 2], "dilations": [2, 1], "pads": [0, 1, 1, 0]},
    {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1},
])
def test_max_pool_nhwc_equals_tap_reduce(attrs):
    x = _values((2, 9, 11, 10), 4).transpose(0, 3, 1, 2)  # channels-last memory
    x[0, :, 0, 0] = -0.0
    x[0, :, 0, 1] = 0.0
    geo = _ceil_extension(ConvGeometry.from_attrs(attrs), 11, 10, bool(attrs.get("ceil_mode", 0)))
    want = _tap_reduce(windows(x, geo, pad_value=-np.inf), np.maximum)
    got = fused.max_pool_nhwc(x, geo)
    assert got.shape == want.shape
    np.testing.assert_array_equal(_bits(got), _bits(want))


def _residual_graph() -> Graph:
    """conv+bias -> relu -> conv -> add(skip) -> relu, plus a weight that an Identity exposes to a Relu."""
    rng = np.random.default_rng(0)
    nodes = [
        Node("c1", "Conv", ("x", "w1", "b1"), ("a1",), {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
        Node("r1", "Relu", ("a1",), ("a2",)),
        Node("c2", "Conv", ("a2", "w2", "b2"), ("a3",), {"kernel_shape": [1, 1]}),
        Node("add", "Add", ("a3", "a2"), ("a4",)),
        Node("r2", "Relu", ("a4",), ("y",)),
        Node("id", "Identity", ("k",), ("k1",)),
        Node("rk", "Relu", ("k1",), ("k2",)),
        Node("addk", "Add", ("k2", "k1"), ("z",)),
    ]
    weights = {"w1": rng.standard_normal((8, 3, 3, 3)).astype(np.float32),
               "b1": rng.standard_normal(8).astype(np.float32),
               "w2": rng.standard_normal((8, 8, 1, 1)).astype(np.float32),
               "b2": rng.standard_normal(8).astype(np.float32),
               "k": rng.standard_normal((2, 8)).astype(np.float32)}
    s = (2, 8, 6, 6)
    shapes = {"x": (2, 3, 6, 6), "a1": s, "a2": s, "a3": s, "a4": s, "y": s, "k1": (2, 8), "k2": (2, 8),
              "z": (2, 8)}
    shapes.update({k: v.shape for k, v in weights.items()})
    return Graph("residual", {"x": (2, 3, 6, 6)}, ["y", "z"], nodes, weights, shapes, meta={"batch": 2})


@pytest.mark.parametrize("precision", ["adept", "fp32"])
def test_fusion_and_in_place_ops_do_not_change_bits(monkeypatch, precision):
    g = _residual_graph()
    spec = PhotonicGemmSpec(rows=16, cols=16, noise=NoiseSpec(sigma_const=20.0, shot_coeff=1.0, rin_coeff=1e-3))
    x = {"x": np.random.default_rng(1).standard_normal((2, 3, 6, 6)).astype(np.float32)}
    fast = prepare(g, spec=spec, precision=precision, backend="numpy")
    assert set(fast._relu_into) == {"c1", "add"}  # not "id": an Identity is no Conv / Add
    k_before = fast.weight_array("k").copy()
    got = fast.run(x, seed=3).outputs
    np.testing.assert_array_equal(fast.weight_array("k"), k_before)  # the weight's view was never overwritten
    np.testing.assert_array_equal(got["z"], np.maximum(k_before, 0) + k_before)

    monkeypatch.setattr(executor, "IN_PLACE", {})
    slow = prepare(g, spec=spec, precision=precision, backend="numpy")
    slow._relu_into, slow._absorbed = {}, frozenset()
    monkeypatch.setattr(fused, "_epilogue", None)
    want = slow.run(x, seed=3).outputs
    for name in want:
        np.testing.assert_array_equal(_bits(got[name]), _bits(want[name]))
