"""TensorProto outputs come back in the encoding their element type was fed in (raw_data or typed field)."""

import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import adept_core as ac


def _quant_model(dst=TensorProto.INT4, n=6):
    node = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n]),
                                            helper.make_tensor_value_info("s", TensorProto.FLOAT, []),
                                            helper.make_tensor_value_info("z", dst, [])],
                              [helper.make_tensor_value_info("y", dst, [n])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


_X = np.array([0.0, 1.0, -2.5, 3.0, 40.0, -40.0], np.float32)


@pytest.mark.parametrize("dst,np_type", [(TensorProto.INT4, ml_dtypes.int4), (TensorProto.UINT4, ml_dtypes.uint4),
                                         (TensorProto.FLOAT8E4M3FN, ml_dtypes.float8_e4m3fn)])
def test_zero_point_fed_in_the_typed_field_gives_the_output_in_it(dst, np_type):
    z = helper.make_tensor("z", dst, [], [0], raw=False)  # as onnx's own cases store it: int32_data
    assert not z.raw_data
    model = _quant_model(dst)
    out = ac.prepare(ac.from_onnx(model), precision="fp32").run({"x": _X, "s": np.float32(0.5), "z": z}).outputs["y"]
    values = numpy_helper.to_array(out)
    assert values.dtype == np_type
    assert not out.raw_data and out.int32_data
    assert out == helper.make_tensor("y", dst, [6], values, raw=False)


def test_zero_point_fed_in_raw_data_gives_raw_data():
    z = numpy_helper.from_array(np.array(0, ml_dtypes.int4), name="z")
    assert z.raw_data
    model = _quant_model()
    out = ac.prepare(ac.from_onnx(model), precision="fp32").run({"x": _X, "s": np.float32(0.5), "z": z}).outputs["y"]
    assert out.raw_data and not out.int32_data
    assert out == numpy_helper.from_array(numpy_helper.to_array(out), name="y")


def test_a_type_not_fed_comes_back_in_raw_data():
    node = helper.make_node("Cast", ["x"], ["y"], to=TensorProto.INT4)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.INT4, [3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    x = helper.make_tensor("x", TensorProto.FLOAT, [3], [1.0, -3.0, 7.0], raw=False)  # float in float_data
    out = ac.prepare(ac.from_onnx(model), precision="fp32").run({"x": x}).outputs["y"]
    assert out.raw_data  # int4 was not fed: the canonical raw_data
    np.testing.assert_array_equal(numpy_helper.to_array(out).astype(np.int8), [1, -3, 7])
