"""ASIC ops on ONNX reference kernels: the node's own opset, ASIC rounding of floats, exact integers."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from adept_core.asic import round_bf16
from adept_core.emulate import prepare
from adept_core.graph.onnx_import import from_onnx


def _model(nodes, inputs, outputs, opset, inits=()):
    graph = helper.make_graph(nodes, "m", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_reduce_sum_axes_as_attribute_or_input_per_opset(opset):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
    inits = []
    if opset < 13:
        node = helper.make_node("ReduceSum", ["x"], ["y"], axes=[1], keepdims=0)
    else:
        inits = [numpy_helper.from_array(np.array([1], np.int64), "axes")]
        node = helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0)
    g = from_onnx(_model([node], [x], [y], opset, inits))
    x_val = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    out = prepare(g, precision="fp32").run({"x": x_val}).outputs["y"]
    np.testing.assert_allclose(out, x_val.sum(axis=1), rtol=1e-6)


def test_constants_fold_with_the_models_own_opset():
    """Opset 12 Unsqueeze takes axes as an attribute; the newest kernel would reject it (DenseNet-121)."""
    c = numpy_helper.from_array(np.arange(3, dtype=np.float32), "c")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    nodes = [helper.make_node("Unsqueeze", ["c"], ["cu"], axes=[0]), helper.make_node("Add", ["x", "cu"], ["y"])]
    g = from_onnx(_model(nodes, [x], [y], 12, [c]))
    assert g.meta["folded_nodes"] == 1
    out = prepare(g, precision="fp32").run({"x": np.ones((1, 3), np.float32)}).outputs["y"]
    np.testing.assert_array_equal(out, [[1, 2, 3]])


def test_emulated_floats_are_rounded_and_integers_exact():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, [2, 5])
    i = helper.make_tensor_value_info("i", TensorProto.INT64, [2, 1])
    nodes = [helper.make_node("Softplus", ["x"], ["s"]), helper.make_node("ArgMax", ["x"], ["i"], axis=1)]
    g = from_onnx(_model(nodes, [x], [s, i], 17))
    assert all("onnx_opset" in n.attrs for n in g.nodes)
    x_val = np.random.default_rng(1).standard_normal((2, 5)).astype(np.float32)
    out = prepare(g).run({"x": x_val}).outputs
    xb = round_bf16(x_val)
    np.testing.assert_array_equal(out["s"], round_bf16(np.log1p(np.exp(xb)).astype(np.float32)))
    np.testing.assert_array_equal(out["i"], np.argmax(xb, axis=1, keepdims=True))
    assert out["i"].dtype == np.int64


def test_cost_model_names_a_value_bound_only_at_run_time():
    from adept_core.errors import ShapeError
    from adept_core.schedule.asic_ops import asic_node_ops

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6])
    t = helper.make_tensor_value_info("t", TensorProto.INT64, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None])
    nodes = [helper.make_node("Reshape", ["x", "t"], ["r"], name="dyn"), helper.make_node("Celu", ["r"], ["y"])]
    g = from_onnx(_model(nodes, [x, t], [y], 17))
    with pytest.raises(ShapeError, match="'y'.*bound only at run time"):
        asic_node_ops(g.nodes[1], g)
