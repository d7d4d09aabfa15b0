"""Model files cannot allocate unboundedly: every tensor is checked against an element budget first (issue 8 item 7)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from adept_core.emulate import prepare
from adept_core.errors import BudgetError, ShapeError
from adept_core.graph.onnx_import import MAX_ELEMENTS, from_onnx


def _model(nodes, inputs, outputs, inits=()):
    graph = helper.make_graph(nodes, "bomb", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def _constant_of_shape_bomb(count: int):
    shape = numpy_helper.from_array(np.array([count], np.int64), "s")
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["c"], name="bomb"),
             helper.make_node("ReduceSum", ["c"], ["y"], name="sum")]
    return _model(nodes, [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], [shape])


@pytest.mark.parametrize("count", [3_000_000_000, 2**40])
def test_folded_constant_of_shape_bomb_fails_fast_naming_the_budget(count):
    model = _constant_of_shape_bomb(count)
    assert len(model.SerializeToString()) < 200
    t0 = time.perf_counter()
    with pytest.raises(BudgetError, match=r"'bomb'.*budget of 1,073,741,824 elements.*max_elements=N"):
        from_onnx(model)
    assert time.perf_counter() - t0 < 5  # refused from the shape, not after allocating


def test_budget_can_be_raised_and_lowered():
    model = _constant_of_shape_bomb(1000)
    assert from_onnx(model).meta["max_elements"] == MAX_ELEMENTS
    with pytest.raises(ShapeError, match="budget of 999 elements"):
        from_onnx(model, max_elements=999)
    with pytest.raises(ShapeError, match="max_elements must be a positive integer"):
        from_onnx(model, max_elements=0)


def test_expand_to_a_huge_declared_shape_is_a_shape_error():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4])
    target = numpy_helper.from_array(np.array([100000, 100000, 4], np.int64), "t")
    node = helper.make_node("Expand", ["x", "t"], ["y"], name="expand")
    model = _model([node], [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * 3)], [target])
    with pytest.raises(ShapeError, match=r"'expand'.*40,000,000,000 elements.*budget"):
        from_onnx(model)


@pytest.mark.parametrize("rows", [2**40, 2**62])
def test_inputs_with_huge_row_counts_are_shape_errors(rows):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [x],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 8])])
    with pytest.raises(ShapeError, match=r"graph input 'x'.*budget"):
        from_onnx(model, input_shapes={"x": (rows, 8)})
    declared = _model([helper.make_node("Relu", ["x"], ["y"])],
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, 8])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, 8])])
    with pytest.raises(ShapeError, match=r"graph input 'x'.*budget"):
        from_onnx(declared)


def test_run_time_constant_of_shape_is_checked_before_it_runs():
    s = helper.make_tensor_value_info("s", TensorProto.INT64, [1])
    node = helper.make_node("ConstantOfShape", ["s"], ["y"], name="dyn")
    model = _model([node], [s], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])])
    model_prepared = prepare(from_onnx(model), precision="fp32")
    np.testing.assert_array_equal(model_prepared.run({"s": np.array([3])}).outputs["y"], np.zeros(3, np.float32))
    with pytest.raises(ShapeError, match=r"'dyn'.*3,000,000,000 elements.*budget"):
        model_prepared.run({"s": np.array([3_000_000_000])})
