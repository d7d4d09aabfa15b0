"""float64 models: ops without a weight product run on their reference kernel in float64 (docs/executor.md)."""

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import adept_core as ac


def _model(nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_float64_add_keeps_values_float32_cannot_hold():
    # Values like the pytorch-operator cases' uninitialised memory: 5.9e199 overflows float32, 6.9e-310
    # flushes; in float64 they add exactly as ONNX (and the reference) defines.
    x = np.array([[5.9e199, 6.9e-310, 1.0 + 2 ** -40]], np.float64)
    c = np.array([[1.0, 6.9e-310, 1.0]], np.float64)
    model = _model([helper.make_node("Add", ["x", "c"], ["y"])],
                   [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [1, 3])],
                   [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [1, 3])], [numpy_helper.from_array(c, "c")])
    g = ac.from_onnx(model)
    assert "onnx_opset" in g.nodes[0].attrs  # a reference node: says it is not ASIC arithmetic
    got = ac.prepare(g, precision="fp32").run({"x": x}).outputs["y"]
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, x + c)


def test_float64_bitcast_sees_the_64_bit_pattern():
    x = np.array([1.5, -2.0, 1e300], np.float64)
    model = _model([helper.make_node("BitCast", ["x"], ["y"], to=TensorProto.INT64)],
                   [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [3])],
                   [helper.make_tensor_value_info("y", TensorProto.INT64, [3])], opset=26)
    got = ac.prepare(ac.from_onnx(model), precision="fp32").run({"x": x}).outputs["y"]
    np.testing.assert_array_equal(got, x.view(np.int64))


def test_float64_matmul_is_photonic_and_returns_float64():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 8)), rng.standard_normal((8, 3))
    model = _model([helper.make_node("MatMul", ["x", "w"], ["p"]), helper.make_node("Tanh", ["p"], ["y"])],
                   [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [4, 8])],
                   [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [4, 3])], [numpy_helper.from_array(w, "w")])
    g = ac.from_onnx(model)
    assert [n.op for n in g.nodes] == ["MatMul", "Tanh"] and "onnx_opset" not in g.nodes[0].attrs
    got = ac.prepare(g, precision="fp32").run({"x": x}).outputs["y"]
    assert got.dtype == np.float64
    want = ReferenceEvaluator(model).run(None, {"x": x})[0]
    # The DACs take the operands as float32: float32 accuracy, not float64's.
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.array_equal(got, want)


def test_hand_built_graph_float64_weights_still_run_as_float32():
    from adept_core.graph.ir import Graph, Node

    w = np.arange(6, dtype=np.float64).reshape(2, 3)  # NumPy's default dtype, not a float64 model
    g = Graph("g", {"x": (2, 3)}, ["y"], [Node("add", "Add", ("x", "w"), ("y",), {})], {"w": w},
              {"x": (2, 3), "w": (2, 3), "y": (2, 3)})
    got = ac.prepare(g, precision="fp32").run({"x": np.ones((2, 3), np.float32)}).outputs["y"]
    assert got.dtype == np.float32
