"""An ONNX graph imported at batch N is charged per inference (batch from the model or from batch_axes)."""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from adept_core.energy.evaluate import evaluate
from adept_core.errors import ShapeError
from adept_core.graph.onnx_import import from_onnx


def _mlp(batch_dim, time_major=False):
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((32, 64)).astype(np.float32), "W")
    x_shape = [5, batch_dim, 32] if time_major else [batch_dim, 32]
    y_shape = [5, batch_dim, 64] if time_major else [batch_dim, 64]
    node = helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")
    graph = helper.make_graph([node], "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_symbolic_batch_bound_at_import_is_charged_per_inference():
    one = evaluate(from_onnx(_mlp("N"), input_shapes={"x": (1, 32)}))
    sixteen_graph = from_onnx(_mlp("N"), input_shapes={"x": (16, 32)})
    assert sixteen_graph.meta["batch"] == 16
    sixteen = evaluate(sixteen_graph)
    assert sixteen.batch == 16 and sixteen.macs == 16 * one.macs
    # the energy of one inference does not grow 16-fold with the batch it was imported at
    assert sixteen.energy_per_inference_j < 2 * one.energy_per_inference_j


def test_batch_axes_name_a_time_major_batch():
    graph = from_onnx(_mlp(8, time_major=True), batch_axes={"x": 1, "y": 1})
    assert graph.meta["batch"] == 8 and graph.meta["batch_axes"] == {"x": 1, "y": 1}
    assert evaluate(graph).batch == 8
    assert "batch" not in from_onnx(_mlp(8, time_major=True)).meta  # static dims: nothing assumed


@pytest.mark.parametrize("axes, match", [({"z": 0}, "not a graph input or output"),
                                         ({"x": 3}, "is not an axis of its shape"),
                                         ([("x", 0)], "must be a dict")])
def test_bad_batch_axes_are_named_errors(axes, match):
    with pytest.raises(ShapeError, match=match):
        from_onnx(_mlp(4), batch_axes=axes)
