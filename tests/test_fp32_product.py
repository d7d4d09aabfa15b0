"""The float32 reference's products: identical weight columns give identical outputs (issue 9, section 6).

Found on an AVX2/FMA machine (OpenBLAS 0.3.31 Haswell sgemm): ``a @ w`` with all columns of ``w``
equal gives two distinct values per row (columns 0-7 and the last few are summed in another order),
which made the light SqueezeNet's equal ~1e10 logits a non-uniform Softmax.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from adept_core.emulate import prepare
from adept_core.emulate.fp32_product import MAX_TWINS_COMPARED, distinct_columns, fp32_product
from adept_core.errors import ConfigError
from adept_core.graph.onnx_import import from_onnx

ACCUMULATE = ("float32", "float64")


def _model(op: str, w: np.ndarray, in_shape):
    """One Conv (1x1), Gemm or MatMul node with weight ``w``, as an ONNX model."""
    if op == "Conv":
        node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[1, 1])
        out_shape = [in_shape[0], w.shape[0], *in_shape[2:]]
    elif op == "Gemm":
        node = helper.make_node("Gemm", ["x", "w"], ["y"])
        out_shape = [in_shape[0], w.shape[1]]
    else:
        node = helper.make_node("MatMul", ["x", "w"], ["y"])
        out_shape = [*in_shape[:-1], w.shape[1]]
    graph = helper.make_graph([node], "one", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
                              [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


@pytest.mark.parametrize("accumulate", ACCUMULATE)
@pytest.mark.parametrize("op", ["Conv", "Gemm", "MatMul"])
def test_identical_weight_columns_give_identical_outputs(op, accumulate):
    rng = np.random.default_rng(0)
    k, n = 512, 1000
    column = (rng.random(k) * 0.04).astype(np.float32)  # one weight column, repeated n times
    if op == "Conv":
        w = np.broadcast_to(column[None, :, None, None], (n, k, 1, 1)).copy()
        in_shape = [1, k, 13, 13]
    else:
        w = np.broadcast_to(column[:, None], (k, n)).copy()
        in_shape = [169, k]
    x = (rng.random(in_shape) * 1e6).astype(np.float32)  # large sums: a 1-ulp spread is ~1e3
    y = prepare(from_onnx(_model(op, w, in_shape)), precision="fp32", fp32_accumulate=accumulate).run({"x": x})
    y = y.outputs["y"]
    channels = np.moveaxis(y, 1, -1) if op == "Conv" else y
    spread = int(np.max(np.sum(channels != channels[..., :1], axis=-1)))
    assert spread == 0, f"{spread} of {n} identical columns differ from column 0 in some row"


def test_distinct_columns_is_bit_exact_and_bounded():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((7, 5)).astype(np.float32)
    assert distinct_columns(w)[1] is None  # no repeats: the weight itself, no gather
    rep = np.concatenate([w, w[:, [3, 0]], -w[:, :1] * 0 + 0.0], axis=1)  # repeats of 3 and 0, a zero column
    rep = np.concatenate([rep, -np.zeros((7, 2), np.float32)], axis=1)  # two -0.0 columns: not 0.0's twins
    keep, inverse = distinct_columns(rep)
    assert keep.shape[1] == 7 and np.array_equal(keep[:, inverse].view(np.uint32), rep.view(np.uint32))
    nan = np.full((3, 4), np.nan, np.float32)
    keep, inverse = distinct_columns(nan)
    assert keep.shape[1] == 1 and np.isnan(keep[:, inverse]).all()
    # Many different columns with one column sum: at most MAX_TWINS_COMPARED representatives are compared.
    crafted = np.zeros((2, 40), np.float32)
    crafted[0] = np.arange(40)
    crafted[1] = -np.arange(40)
    crafted = np.concatenate([crafted, crafted], axis=1)
    keep, inverse = distinct_columns(crafted)
    assert np.array_equal(keep[:, inverse], crafted)
    assert keep.shape[1] == 80 - MAX_TWINS_COMPARED


@pytest.mark.parametrize("m", [3, 40])  # the numba row loop and the float64 BLAS route
def test_float64_product_is_the_rounded_exact_sum(m):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((m, 300)).astype(np.float32)
    w = rng.standard_normal((300, 9)).astype(np.float32)
    exact = np.array([[np.float32(math.fsum(float(a) * float(b) for a, b in zip(x[i], w[:, j])))
                       for j in range(9)] for i in range(m)])
    assert np.array_equal(fp32_product(x, w), exact)


def test_unknown_accumulate_is_a_named_error():
    g = from_onnx(_model("Gemm", np.ones((4, 2), np.float32), [1, 4]))
    with pytest.raises(ConfigError, match="fp32_accumulate 'float16' is unknown"):
        prepare(g, precision="fp32", fp32_accumulate="float16")


def test_calibration_with_a_zero_range_layer_warns_naming_it():
    """Issue 9, section 5: a layer whose calibrated range comes out 0 is a warning naming the layer."""
    relu = helper.make_node("Relu", ["x"], ["r"], name="clamp")
    neg = helper.make_node("Neg", ["r"], ["n"], name="negate")
    relu2 = helper.make_node("Relu", ["n"], ["z"], name="zero")  # -relu(x) <= 0: all zeros
    gemm = helper.make_node("Gemm", ["z", "w"], ["y"], name="fc_dead")
    graph = helper.make_graph([relu, neg, relu2, gemm], "dead",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
                              [numpy_helper.from_array(np.ones((4, 3), np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    prepared = prepare(from_onnx(model), adc="calibrated")
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match=r"1 layer\(s\) saw only zero inputs.*fc_dead"):
        prepared.calibrate({"x": x})
