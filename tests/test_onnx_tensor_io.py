"""TensorProto feeds and outputs, declared output dtypes, shapes bound at run time, loss ops on the ASIC."""

import warnings

import ml_dtypes
import numpy as np
import onnx
import onnx.reference
import pytest
from onnx import TensorProto, helper, numpy_helper

import adept_core as ac
from adept_core.errors import ShapeError


def _reference(model, feed):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(onnx.reference.ReferenceEvaluator(model).run(None, feed)[0])


def _model(nodes, inputs, outputs, opset=21, inits=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _cast_model(to, shape=(3, 4), src=TensorProto.FLOAT, **attrs):
    return _model([helper.make_node("Cast", ["x"], ["y"], to=to, **attrs)],
                  [helper.make_tensor_value_info("x", src, list(shape))],
                  [helper.make_tensor_value_info("y", to, list(shape))])


X = np.array([[0.1, -2.5, 3.3e5, np.inf], [-np.inf, np.nan, 1e-9, 448.0], [500.0, -0.0, 7.0, 1.0 / 3]], np.float32)


@pytest.mark.parametrize("to", [TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.DOUBLE,
                                TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E5M2, TensorProto.INT4,
                                TensorProto.UINT8, TensorProto.INT64])
def test_tensorproto_in_tensorproto_out_matches_reference_evaluator(to):
    model = _cast_model(to)
    x = np.nan_to_num(X, nan=1.0, posinf=2.0, neginf=-2.0) if to in (TensorProto.INT4, TensorProto.UINT8,
                                                                      TensorProto.INT64) else X
    feed = {"x": numpy_helper.from_array(x, "x")}
    out = ac.prepare(ac.from_onnx(model), precision="fp32").run(feed).outputs["y"]
    assert isinstance(out, TensorProto)
    assert out.data_type == to and list(out.dims) == [3, 4] and out.name == "y"
    want = _reference(model, {"x": x})
    got = numpy_helper.to_array(out)
    assert got.dtype == want.dtype
    assert got.tobytes() == np.asarray(want).tobytes()  # bit for bit, NaN patterns included


def test_numpy_in_numpy_out_in_declared_dtype():
    for to, dtype in [(TensorProto.FLOAT16, np.float16), (TensorProto.DOUBLE, np.float64),
                      (TensorProto.BFLOAT16, ml_dtypes.bfloat16)]:
        out = ac.prepare(ac.from_onnx(_cast_model(to)), precision="fp32").run({"x": X}).outputs["y"]
        assert isinstance(out, np.ndarray) and out.dtype == np.dtype(dtype)
        with np.errstate(over="ignore"):
            want = X.astype(dtype).astype(np.float64)
        np.testing.assert_array_equal(out.astype(np.float64), want)


def test_bfloat16_cast_rounds_to_bfloat16():
    # before: the canonical Cast kept float32 values for a bfloat16 target (no rounding at all)
    x = np.array([[1.0 + 2.0 ** -10]], np.float32)
    out = ac.prepare(ac.from_onnx(_cast_model(TensorProto.BFLOAT16, (1, 1))), precision="fp32").run({"x": x})
    assert float(out.outputs["y"][0, 0]) == 1.0


def test_cast_saturate_false_follows_onnx():
    model = _cast_model(TensorProto.FLOAT8E4M3FN, (1, 2), saturate=0)
    x = np.array([[1e6, -1e6]], np.float32)
    got = ac.prepare(ac.from_onnx(model), precision="fp32").run({"x": x}).outputs["y"]
    want = _reference(model, {"x": x})
    assert got.tobytes() == np.asarray(want).tobytes()


def test_tensorproto_of_wrong_dtype_is_a_named_error():
    model = _cast_model(TensorProto.FLOAT16)
    feed = {"x": numpy_helper.from_array(X.astype(np.float64), "x")}
    with pytest.raises(ShapeError, match="input 'x' must be a numpy array of float32, got float64"):
        ac.prepare(ac.from_onnx(model), precision="fp32").run(feed)


def _matmul_model():
    w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3) / 7, "w")
    return _model([helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["z"])],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "t", 4])],
                  [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["n", "t", 3])], inits=[w])


def test_shapes_bound_at_run_time_and_cached_per_signature():
    model = _matmul_model()
    prepared = ac.prepare(ac.from_onnx(model, input_shapes={"x": (1, 2, 4)}), precision="fp32")
    w = np.arange(12, dtype=np.float32).reshape(4, 3) / 7
    for t in (2, 5, 9, 5):  # t=2 fits the import; 5 and 9 are other signatures (rebound), 5 again is cached
        x = np.random.default_rng(t).standard_normal((1, t, 4)).astype(np.float32)
        out = prepared.run({"x": x}).outputs["z"]
        np.testing.assert_allclose(out, np.maximum(x @ w, 0), rtol=1e-6, atol=1e-6)
    assert len(prepared._bound) == 2
    # samples on the batch axis still stream through the bound graph, no rebinding
    x = np.random.default_rng(0).standard_normal((7, 2, 4)).astype(np.float32)
    np.testing.assert_allclose(prepared.run({"x": x}).outputs["z"], np.maximum(x @ w, 0), rtol=1e-6, atol=1e-6)
    assert len(prepared._bound) == 2


def test_bound_signatures_are_bounded():
    prepared = ac.prepare(ac.from_onnx(_matmul_model(), input_shapes={"x": (1, 1, 4)}), precision="fp32")
    for t in range(2, prepared.MAX_BOUND_SIGNATURES + 6):
        prepared.run({"x": np.ones((1, t, 4), np.float32)})
    assert len(prepared._bound) == prepared.MAX_BOUND_SIGNATURES


def test_rebinding_keeps_the_element_budget():
    prepared = ac.prepare(ac.from_onnx(_matmul_model(), input_shapes={"x": (1, 1, 4)}, max_elements=64),
                          precision="fp32")
    with pytest.raises(ShapeError, match="budget|max_elements"):
        prepared.run({"x": np.ones((1, 40, 4), np.float32)})


def test_loss_op_runs_on_the_asic():
    model = _model([helper.make_node("SoftmaxCrossEntropyLoss", ["x", "y"], ["loss"], reduction="mean")],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 5]),
                    helper.make_tensor_value_info("y", TensorProto.INT64, [3])],
                   [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [])])
    x = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    y = np.array([0, 4, 2], np.int64)
    graph = ac.from_onnx(model)
    assert [n.op for n in graph.nodes] == ["SoftmaxCrossEntropyLoss"]
    got = ac.prepare(graph, precision="fp32").run({"x": x, "y": y}).outputs["loss"]
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    np.testing.assert_allclose(got, -logp[np.arange(3), y].mean(), rtol=1e-6)
    from adept_core.graph.lowering import GEMM_OPS
    assert not any(n.op in GEMM_OPS for n in graph.nodes)
