"""Ops with a weight or activation product reach the photonic core as canonical Conv / MatMul / recurrent GEMMs."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from adept_core.emulate import prepare
from adept_core.graph import gemm_calls
from adept_core.graph.onnx_import import from_onnx


def _model(op, x_shape, w, attrs, y_rank):
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(w.astype(np.float32), "W"),
             numpy_helper.from_array(rng.standard_normal(w.shape[1] * attrs.get("group", 1) if op == "ConvTranspose"
                                                         else w.shape[0]).astype(np.float32), "B")]
    node = helper.make_node(op, ["X", "W", "B"], ["Y"], name="c", **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None] * y_rank)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _check(model, x_shape):
    x = np.random.default_rng(1).standard_normal(x_shape).astype(np.float32)
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"X": x})[0]
    graph = from_onnx(model)
    got = prepare(graph, precision="fp32").run({"X": x}).outputs["Y"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    convs = [n for n in graph.nodes if n.op == "Conv"]
    assert len(convs) == 1 and len(convs[0].attrs["kernel_shape"]) == 2
    calls = gemm_calls(convs[0], graph)
    assert len(calls) == 1 and calls[0].weight_stationary  # the transformed weight is an initializer
    return calls[0], want


def test_conv1d_is_one_photonic_gemm_with_the_direct_im2col_shape():
    w = np.random.default_rng(2).standard_normal((6, 2, 3))  # Cout 6, Cin/g 2, k 3, group 2
    call, want = _check(_model("Conv", [2, 4, 11], w, {"group": 2, "strides": [2], "pads": [1, 2], "dilations": [2]},
                               3), (2, 4, 11))
    lo = want.shape[2]
    assert (call.m, call.k, call.n, call.count) == (2 * lo, 2 * 3, 3, 2)


def test_conv3d_is_one_photonic_gemm_with_the_direct_3d_macs():
    w = np.random.default_rng(3).standard_normal((4, 3, 2, 3, 2))
    call, want = _check(_model("Conv", [1, 3, 5, 6, 5], w, {"strides": [2, 1, 2], "pads": [1, 1, 0, 0, 1, 1]}, 5),
                        (1, 3, 5, 6, 5))
    n, cout, do, ho, wo = want.shape
    assert (call.m, call.k, call.n) == (n * do * ho * wo, 3 * 2 * 3 * 2, cout)


@pytest.mark.parametrize("attrs", [{"strides": [3, 2], "output_padding": [1, 1], "pads": [1, 0, 2, 1]},
                                   {"group": 2, "dilations": [2, 1]},
                                   {"strides": [2, 2], "output_shape": [10, 8]}])
def test_conv_transpose_matches_onnxruntime_as_a_stride1_photonic_conv(attrs):
    cin = 4
    w = np.random.default_rng(4).standard_normal((cin, 3, 3, 3))
    call, want = _check(_model("ConvTranspose", [2, cin, 4, 3], w, attrs, 4), (2, cin, 4, 3))
    group = attrs.get("group", 1)
    assert call.count == group and call.k == cin // group * 9 and call.n == 3
    assert call.m == 2 * want.shape[2] * want.shape[3]


@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_rnn_gates_are_photonic_gemms_charged_by_the_scheduler(direction):
    from adept_core.schedule.digest import digest

    rng = np.random.default_rng(5)
    dirs, hidden, inp, seq, batch = (2 if direction == "bidirectional" else 1), 5, 3, 4, 2
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
             for n, s in (("W", (dirs, hidden, inp)), ("R", (dirs, hidden, hidden)), ("B", (dirs, 2 * hidden)))]
    node = helper.make_node("RNN", ["X", "W", "R", "B"], ["Y", "Y_h"], name="rnn", hidden_size=hidden,
                            direction=direction)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [seq, batch, inp])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None] * 4),
                               helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [None] * 3)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    x = rng.standard_normal((seq, batch, inp)).astype(np.float32)
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"X": x})
    g = from_onnx(model)
    got = prepare(g, precision="fp32").run({"X": x}).outputs
    np.testing.assert_allclose(got["Y"], want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["Y_h"], want[1], rtol=1e-5, atol=1e-6)
    calls = gemm_calls(g.nodes[0], g)
    assert [(c.role, c.m, c.k, c.n, c.count) for c in calls] == [
        ("rnn_input", seq * batch, inp, hidden, dirs), ("rnn_recurrent", batch, hidden, hidden, seq * dirs)]
    assert digest(g).photonic_macs == dirs * (seq * batch * inp * hidden + seq * batch * hidden * hidden)


def _einsum_model(equation, shapes, const_b=None):
    inputs = [helper.make_tensor_value_info(f"x{j}", TensorProto.FLOAT, s) for j, s in enumerate(shapes)]
    inits = []
    names = [f"x{j}" for j in range(len(shapes))]
    if const_b is not None:
        inits, names = [numpy_helper.from_array(const_b.astype(np.float32), "Wb")], names + ["Wb"]
    node = helper.make_node("Einsum", names, ["Y"], name="e", equation=equation)
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None] * len(equation.split("->")[1]))
    graph = helper.make_graph([node], "g", inputs, [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("equation, shapes, const_b, call", [
    ("bi,ij->bj", [[4, 6]], (6, 5), ("fc", 4, 6, 5, 1, True)),
    ("bhqd,bhkd->bhqk", [[2, 3, 4, 8], [2, 3, 5, 8]], None, ("matmul", 4, 8, 5, 6, False)),
    ("ij,kj->ki", [[3, 7], [2, 7]], None, ("matmul", 3, 7, 2, 1, False)),
])
def test_einsum_products_are_one_photonic_matmul(equation, shapes, const_b, call):
    rng = np.random.default_rng(6)
    wb = None if const_b is None else rng.standard_normal(const_b)
    model = _einsum_model(equation, shapes, wb)
    feed = {f"x{j}": rng.standard_normal(s).astype(np.float32) for j, s in enumerate(shapes)}
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feed)[0]
    g = from_onnx(model)
    np.testing.assert_allclose(prepare(g, precision="fp32").run(feed).outputs["Y"], want, rtol=1e-5, atol=1e-5)
    (matmul,) = [n for n in g.nodes if n.op == "MatMul"]
    (c,) = gemm_calls(matmul, g)
    assert (c.role, c.m, c.k, c.n, c.count, c.weight_stationary) == call


def test_einsum_of_three_operands_is_refused_with_a_sentence():
    from adept_core.errors import UnsupportedOpError

    with pytest.raises(UnsupportedOpError, match="Einsum with 3 operands is not supported"):
        from_onnx(_einsum_model("ij,jk,kl->il", [[2, 3], [3, 4], [4, 5]]))


def test_lstm_peepholes_match_onnxruntime():
    rng = np.random.default_rng(7)
    hidden, inp, seq, batch = 4, 3, 5, 2
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
             for n, s in (("W", (1, 4 * hidden, inp)), ("R", (1, 4 * hidden, hidden)), ("B", (1, 8 * hidden)),
                          ("P", (1, 3 * hidden)))]
    node = helper.make_node("LSTM", ["X", "W", "R", "B", "", "", "", "P"], ["Y"], name="lstm", hidden_size=hidden)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [seq, batch, inp])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None] * 4)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    x = rng.standard_normal((seq, batch, inp)).astype(np.float32)
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"X": x})[0]
    got = prepare(from_onnx(model), precision="fp32").run({"X": x}).outputs["Y"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_attention_runs_as_its_function_body_with_photonic_matmuls():
    from onnx.reference import ReferenceEvaluator

    b, h, sq, skv, d = 2, 3, 4, 5, 8
    shapes = {"Q": [b, h, sq, d], "K": [b, h, skv, d], "V": [b, h, skv, d]}
    node = helper.make_node("Attention", ["Q", "K", "V"], ["Y"], name="att", is_causal=1)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
                                            for n, s in shapes.items()],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [b, h, sq, d])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
    rng = np.random.default_rng(8)
    feed = {n: rng.standard_normal(s).astype(np.float32) for n, s in shapes.items()}
    want = ReferenceEvaluator(model).run(None, feed)[0]
    g = from_onnx(model)
    np.testing.assert_allclose(prepare(g, precision="fp32").run(feed).outputs["Y"], want, rtol=1e-5, atol=1e-6)
    calls = [c for n in g.nodes for c in gemm_calls(n, g)]
    assert sorted((c.m, c.k, c.n, c.count) for c in calls) == sorted([(sq, d, skv, b * h), (sq, skv, d, b * h)])
    assert not any(c.weight_stationary for c in calls)  # both operands are activations
