"""The less common ONNX ops of issue 9: which unit each runs on (photonic and charged, or ASIC) and its values."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

import adept_core as ac
from adept_core.errors import UnsupportedOpError
from adept_core.graph.lowering import gemm_calls, graph_macs


def _model(node, inputs, outputs, opset, inits=()):
    """A one-node model; the outputs' shapes (declared unknown here) come from ONNX shape inference."""
    graph = helper.make_graph([node], "g", inputs, [helper.make_empty_tensor_value_info(o.name) for o in outputs],
                              list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    inferred = onnx.shape_inference.infer_shapes(model)
    known = {v.name: v for v in inferred.graph.value_info}
    del model.graph.output[:]
    model.graph.output.extend(known.get(o.name, o) for o in outputs)
    return model


def _run(model, feed):
    graph = ac.from_onnx(model)
    return graph, ac.prepare(graph, precision="fp32").run(feed).outputs


@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
def test_batch_major_recurrence_is_photonic_and_matches_onnx(op):
    batch, seq, inp, hidden = 3, 5, 4, 6  # batch != seq, so a wrong transpose cannot pass
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    rng = np.random.default_rng(0)
    w = rng.standard_normal((1, gates * hidden, inp)).astype(np.float32)
    r = rng.standard_normal((1, gates * hidden, hidden)).astype(np.float32) * 0.3
    x = rng.standard_normal((batch, seq, inp)).astype(np.float32)
    node = helper.make_node(op, ["X", "W", "R"], ["Y", "Y_h"], hidden_size=hidden, layout=1)
    model = _model(node, [helper.make_tensor_value_info("X", TensorProto.FLOAT, x.shape)],
                   [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None),
                    helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, None)], 22,
                   [onnx.numpy_helper.from_array(w, "W"), onnx.numpy_helper.from_array(r, "R")])
    graph, out = _run(model, {"X": x})
    want = ReferenceEvaluator(model).run(None, {"X": x})
    np.testing.assert_allclose(out["Y"], want[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["Y_h"], want[1], rtol=1e-5, atol=1e-5)
    (rec,) = [n for n in graph.nodes if n.op == op]
    assert rec.attrs["layout"] == 0
    calls = {c.role: c for c in gemm_calls(rec, graph)}
    role = op.lower()
    assert calls[f"{role}_input"].macs == seq * batch * inp * gates * hidden
    assert calls[f"{role}_recurrent"].macs == seq * batch * hidden * gates * hidden


def test_loss_ops_run_on_the_asic_uncharged():
    scores = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    labels = np.array([0, 3, 1, 4], np.int64)
    node = helper.make_node("SoftmaxCrossEntropyLoss", ["s", "y"], ["loss"], reduction="mean")
    model = _model(node, [helper.make_tensor_value_info("s", TensorProto.FLOAT, scores.shape),
                          helper.make_tensor_value_info("y", TensorProto.INT64, labels.shape)],
                   [helper.make_tensor_value_info("loss", TensorProto.FLOAT, None)], 22)
    graph, out = _run(model, {"s": scores, "y": labels})
    logp = scores - np.log(np.exp(scores).sum(1, keepdims=True))
    np.testing.assert_allclose(out["loss"], -logp[np.arange(4), labels].mean(), rtol=1e-5)
    assert [n.op for n in graph.nodes] == ["SoftmaxCrossEntropyLoss"]
    assert graph_macs(graph) == 0


def test_scatter_runs_as_scatter_elements_on_the_asic():
    data = np.zeros((3, 3), np.float32)
    idx = np.array([[1, 0, 2], [0, 2, 1]], np.int64)
    upd = np.array([[1, 2, 3], [4, 5, 6]], np.float32)
    node = helper.make_node("Scatter", ["d", "i", "u"], ["o"], axis=0)
    ins = [helper.make_tensor_value_info(n, t, a.shape) for n, t, a in
           (("d", TensorProto.FLOAT, data), ("i", TensorProto.INT64, idx), ("u", TensorProto.FLOAT, upd))]
    model = _model(node, ins, [helper.make_tensor_value_info("o", TensorProto.FLOAT, None)], 10)
    graph, out = _run(model, {"d": data, "i": idx, "u": upd})
    want = data.copy()
    for r in range(2):
        for c in range(3):
            want[idx[r, c], c] = upd[r, c]
    np.testing.assert_array_equal(out["o"], want)
    assert [n.op for n in graph.nodes] == ["ScatterElements"] and graph.nodes[0].attrs["onnx_opset"] == 11


def test_causal_conv_with_state_conv_is_photonic_and_charged():
    b, c, t, k = 2, 3, 7, 3
    rng = np.random.default_rng(2)
    x = rng.standard_normal((b, c, t)).astype(np.float32)
    w = rng.standard_normal((c, 1, k)).astype(np.float32)
    node = helper.make_node("CausalConvWithState", ["x", "w"], ["y", "state"])
    model = _model(node, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                    helper.make_tensor_value_info("state", TensorProto.FLOAT, None)], 27,
                   [onnx.numpy_helper.from_array(w, "w")])
    graph, out = _run(model, {"x": x})
    want = ReferenceEvaluator(model).run(None, {"x": x})
    np.testing.assert_allclose(out["y"], want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["state"], want[1], rtol=1e-5, atol=1e-6)
    assert "CausalConvWithState" not in {n.op for n in graph.nodes}
    assert any(n.op == "Conv" for n in graph.nodes)


def test_training_dropout_needs_a_seed():
    node = helper.make_node("Dropout", ["x", "r", "t"], ["y"])
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
           helper.make_tensor_value_info("r", TensorProto.FLOAT, []),
           helper.make_tensor_value_info("t", TensorProto.BOOL, [])]
    model = _model(node, ins, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], 22)
    with pytest.raises(UnsupportedOpError, match="no seed"):
        ac.from_onnx(model)
    node.attribute.append(helper.make_attribute("seed", 0))
    model = _model(node, ins, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], 22)
    x = np.arange(6, dtype=np.float32).reshape(2, 3) + 1
    feed = {"x": x, "r": np.array(0.5, np.float32), "t": np.array(True)}
    _, out = _run(model, feed)
    np.testing.assert_array_equal(out["y"], ReferenceEvaluator(model).run(None, feed)[0])
