"""Integer products (QLinearMatMul, QLinearConv, MatMulInteger) run as one photonic GEMM, exact in fp32."""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from adept_core.emulate import prepare
from adept_core.graph import gemm_calls
from adept_core.graph.onnx_import import from_onnx

U8, I8 = TensorProto.UINT8, TensorProto.INT8


def _model(op, x_shape, inits, inputs, y_rank, y_elem, **attrs):
    node = helper.make_node(op, inputs, ["Y"], name="q", **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", U8, x_shape)],
                              [helper.make_tensor_value_info("Y", y_elem, [None] * y_rank)],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


def _run_both(model, x):
    want = ReferenceEvaluator(model).run(None, {"X": x})[0]
    graph = from_onnx(model)
    got = prepare(graph, precision="fp32").run({"X": x}).outputs["Y"]
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    products = [n for n in graph.nodes if n.op in ("MatMul", "Conv")]
    assert len(products) == 1
    (call,) = gemm_calls(products[0], graph)
    assert call.weight_stationary  # the centred int8 weight is programmed once
    return call


def test_qlinearmatmul_int8_weight_per_column_scale_matches_the_reference_exactly():
    rng = np.random.default_rng(0)
    k, n = 16, 5
    inits = {"xs": np.float32(0.02), "xz": np.uint8(128), "w": rng.integers(-127, 128, (k, n)).astype(np.int8),
             "ws": rng.uniform(0.001, 0.01, n).astype(np.float32), "wz": np.zeros(n, np.int8),
             "ys": np.float32(0.05), "yz": np.int8(3)}
    model = _model("QLinearMatMul", [3, k], inits, ["X", "xs", "xz", "w", "ws", "wz", "ys", "yz"], 2, I8)
    call = _run_both(model, rng.integers(0, 256, (3, k)).astype(np.uint8))
    assert (call.m, call.k, call.n) == (3, k, n)


def test_qlinearconv_per_channel_with_bias_matches_the_reference_exactly():
    rng = np.random.default_rng(1)
    cout, cin = 4, 3
    inits = {"xs": np.float32(0.03), "xz": np.uint8(100),
             "w": rng.integers(-127, 128, (cout, cin, 3, 3)).astype(np.int8),
             "ws": rng.uniform(0.001, 0.01, cout).astype(np.float32), "wz": np.zeros(cout, np.int8),
             "ys": np.float32(0.04), "yz": np.uint8(120), "b": rng.integers(-500, 500, cout).astype(np.int32)}
    model = _model("QLinearConv", [2, cin, 6, 5], inits, ["X", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], 4, U8,
                   pads=[1, 1, 1, 1])
    call = _run_both(model, rng.integers(0, 256, (2, cin, 6, 5)).astype(np.uint8))
    assert (call.m, call.k, call.n) == (2 * 6 * 5, cin * 9, cout)


@pytest.mark.parametrize("wz", [0, 7])
def test_matmulinteger_int32_output_is_exact(wz):
    rng = np.random.default_rng(2)
    inits = {"w": rng.integers(0, 256, (8, 4)).astype(np.uint8), "xz": np.uint8(12), "wz": np.uint8(wz)}
    model = _model("MatMulInteger", [2, 8], inits, ["X", "w", "xz", "wz"], 2, TensorProto.INT32)
    _run_both(model, rng.integers(0, 256, (2, 8)).astype(np.uint8))


def test_integer_product_past_float32_exactness_warns_naming_the_layer():
    # K=300 full-range uint8 x uint8 (zero points 0): 300 * 255 * 255 = 19.5M >= 2**24
    k = 300
    w = numpy_helper.from_array(np.full((k, 4), 255, np.uint8), "w")
    graph = helper.make_graph([helper.make_node("MatMulInteger", ["X", "w"], ["Y"], name="big_mm")], "g",
                              [helper.make_tensor_value_info("X", TensorProto.UINT8, [2, k])],
                              [helper.make_tensor_value_info("Y", TensorProto.INT32, [2, 4])], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.warns(RuntimeWarning, match=r"node 'big_mm' \(MatMulInteger\): K=300 .*2\*\*24"):
        from_onnx(model)
    # a small K stays silent (the existing exact tests run under filterwarnings=error)
    w_small = numpy_helper.from_array(np.full((200, 4), 255, np.uint8), "w")
    graph.ClearField("initializer"); graph.initializer.append(w_small)
    graph.input[0].type.tensor_type.shape.dim[1].dim_value = 200
    from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
