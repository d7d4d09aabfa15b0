"""Mixed TensorProto / array feeds: each output comes back in the container its element type was fed in."""

import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import adept_core as ac
from adept_core.errors import ShapeError


def _dequant_model(src=TensorProto.INT4, n=5):
    # Declared with rank 0 on purpose: the caller's (5,) input re-binds the model at run time.
    node = helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"])
    graph = helper.make_graph([node], "g",
                              [helper.make_tensor_value_info("x", src, [n]),
                               helper.make_tensor_value_info("s", TensorProto.FLOAT, []),
                               helper.make_tensor_value_info("z", src, [])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


def _int4(values):
    return np.array(values, dtype=ml_dtypes.int4)


def test_int4_proto_with_numpy_scalar_scale_returns_float32_array():
    model = _dequant_model()
    g = ac.from_onnx(model, input_shapes={"x": (), "s": (), "z": ()})  # shapes as np.shape(TensorProto) gives
    x = numpy_helper.from_array(_int4([0, 3, -8, 7, -1]), name="x")
    z = numpy_helper.from_array(_int4(1), name="z")
    out = ac.prepare(g, precision="fp32").run({"x": x, "s": np.float32(2.0), "z": z}).outputs["y"]
    # float32 was fed as an array (the scale), so the float32 output is an array, not a TensorProto.
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([-2, 4, -18, 12, -4], np.float32))


def test_output_type_fed_only_as_proto_comes_back_as_proto():
    node = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])
    graph = helper.make_graph([node], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4]),
                               helper.make_tensor_value_info("s", TensorProto.FLOAT, []),
                               helper.make_tensor_value_info("z", TensorProto.INT4, [])],
                              [helper.make_tensor_value_info("y", TensorProto.INT4, [4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    feed = {"x": np.array([0.0, 2.0, 100.0, -100.0], np.float32), "s": np.float32(2.0),
            "z": numpy_helper.from_array(_int4(1), name="z")}
    out = ac.prepare(ac.from_onnx(model), precision="fp32").run(feed).outputs["y"]
    assert isinstance(out, TensorProto) and out.name == "y" and out.data_type == TensorProto.INT4
    np.testing.assert_array_equal(numpy_helper.to_array(out).astype(np.int8), [1, 2, 7, -8])


def test_numpy_only_feed_returns_arrays():
    model = _dequant_model(TensorProto.INT8)
    out = ac.prepare(ac.from_onnx(model), precision="fp32").run(
        {"x": np.array([1, 2, 3, 4, 5], np.int8), "s": np.float32(0.5), "z": np.int8(1)}).outputs["y"]
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [0, 0.5, 1, 1.5, 2])


def test_proto_of_wrong_dtype_gets_named_error():
    model = _dequant_model()
    x = numpy_helper.from_array(np.array([1, 2, 3, 4, 5], np.int8), name="x")  # int8, model says int4
    with pytest.raises(ShapeError, match="input 'x' must be a numpy array of int4"):
        ac.prepare(ac.from_onnx(model), precision="fp32").run(
            {"x": x, "s": np.float32(1.0), "z": numpy_helper.from_array(_int4(0), name="z")})


@pytest.mark.parametrize("half", [np.float16])  # ONNX Conv has no bfloat16 (type constraint T)
@pytest.mark.parametrize("precision", ["fp32", "adept"])
def test_half_precision_conv_widens_at_the_dac_and_rounds_to_the_half_type(half, precision):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(half))
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 3)).astype(half)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", elem, [1, 3, 6, 6])],
                              [helper.make_tensor_value_info("y", elem, [1, 4, 6, 6])],
                              initializer=[numpy_helper.from_array(w, name="w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    x = rng.standard_normal((1, 3, 6, 6)).astype(half)
    y = ac.prepare(ac.from_onnx(model), precision=precision).run({"x": x}).outputs["y"]
    assert y.dtype == np.dtype(half)
    # float32 reference of the same widened values (a direct convolution, not adept's code path).
    xf, wf = np.pad(x.astype(np.float32), ((0, 0), (0, 0), (1, 1), (1, 1))), w.astype(np.float32)
    ref = np.zeros((1, 4, 6, 6), np.float32)
    for i in range(6):
        for j in range(6):
            ref[0, :, i, j] = np.tensordot(wf, xf[0, :, i:i + 3, j:j + 3], axes=3)
    tol = 2e-2 if precision == "fp32" else 0.25  # one half-type rounding; ADEPT's analog noise on top
    np.testing.assert_allclose(y.astype(np.float32), ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("half", [np.float16, ml_dtypes.bfloat16])
@pytest.mark.parametrize("precision", ["fp32", "adept"])
def test_half_precision_matmul_returns_the_half_type(half, precision):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(half))
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("a", elem, [2, 5, 8]),
                                            helper.make_tensor_value_info("b", elem, [2, 8, 3])],
                              [helper.make_tensor_value_info("y", elem, [2, 5, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s).astype(half) for s in ((2, 5, 8), (2, 8, 3)))
    y = ac.prepare(ac.from_onnx(model), precision=precision).run({"a": a, "b": b}).outputs["y"]
    assert y.dtype == np.dtype(half)
    ref = np.matmul(a.astype(np.float32), b.astype(np.float32))
    if precision == "fp32":  # exact float32 GEMM of the widened values, one rounding to the half type
        np.testing.assert_array_equal(y, ref.astype(half))
    else:  # widening is exact: the same run as on float32 inputs (same seed), rounded to the half type
        f32 = helper.make_model(helper.make_graph(
            [node], "g", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 5, 8]),
                          helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 8, 3])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5, 3])]),
            opset_imports=[helper.make_opsetid("", 21)])
        y32 = ac.prepare(ac.from_onnx(f32), precision=precision).run(
            {"a": a.astype(np.float32), "b": b.astype(np.float32)}).outputs["y"]
        np.testing.assert_array_equal(y, y32.astype(half))
