"""float16 models run node by node in float16 (adept_core/graph/half_types.py), as onnx's reference does."""

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

import adept_core as ac
from adept_core.asic.norm import softmax


def _chain_model(elem=TensorProto.FLOAT16, n=16):
    """x * s + b, then Softmax: every intermediate is typed like x."""
    nodes = [helper.make_node("Mul", ["x", "s"], ["xs"]), helper.make_node("Add", ["xs", "b"], ["z"]),
             helper.make_node("Softmax", ["z"], ["y"], axis=-1)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(v, elem, [4, n]) for v in ("x", "s", "b")],
                              [helper.make_tensor_value_info("y", elem, [4, n])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _feeds(dtype, n=16, seed=0):
    rng = np.random.default_rng(seed)
    return {v: (rng.standard_normal((4, n)) * 3).astype(dtype) for v in ("x", "s", "b")}


def test_float16_chain_is_bit_exact_with_the_reference():
    model = _chain_model()
    feeds = _feeds(np.float16)
    want = ReferenceEvaluator(model).run(None, feeds)[0]
    g = ac.from_onnx(model)
    assert g.meta["half_values"] == {"xs": "float16", "z": "float16", "y": "float16"}
    got = ac.prepare(g, precision="fp32").run(feeds).outputs["y"]
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, want)


def test_float32_body_then_one_rounding_would_differ():
    # The reason for the rule: the same chain in float32, rounded only at the end, is not the reference.
    feeds = _feeds(np.float16)
    want = ReferenceEvaluator(_chain_model()).run(None, feeds)[0]
    x, s, b = (feeds[v].astype(np.float32) for v in ("x", "s", "b"))
    once = softmax(x * s + b).astype(np.float16)
    assert not np.array_equal(once, want)


def test_float32_model_lists_no_half_values():
    g = ac.from_onnx(_chain_model(TensorProto.FLOAT))
    assert g.meta["half_values"] == {}
    feeds = _feeds(np.float32)
    got = ac.prepare(g, precision="fp32").run(feeds).outputs["y"]
    assert got.dtype == np.float32


def test_half_softmax_stores_each_step_in_half():
    x = (np.random.default_rng(1).standard_normal((3, 7)) * 4).astype(np.float16)
    y = softmax(x)
    assert y.dtype == np.float16
    e = np.exp(x - x.max(-1, keepdims=True))  # float16 steps, float32 sum (NumPy's float16 sum does the same)
    np.testing.assert_array_equal(y, e / e.sum(-1, keepdims=True))


def test_float16_attention_matches_the_reference_function():
    from onnx.reference.ops.op_attention import _compute_attention

    node = helper.make_node("Attention", ["Q", "K", "V"], ["Y"], is_causal=1)
    shapes = {"Q": [2, 3, 4, 8], "K": [2, 3, 6, 8], "V": [2, 3, 6, 8]}
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(k, TensorProto.FLOAT16, s)
                                            for k, s in shapes.items()],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT16, [2, 3, 4, 8])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
    rng = np.random.default_rng(2)
    feeds = {k: rng.random(s).astype(np.float16) for k, s in shapes.items()}
    want = _compute_attention(feeds["Q"], feeds["K"], feeds["V"], is_causal=1)[0]
    got = ac.prepare(ac.from_onnx(model), precision="fp32").run(feeds).outputs["Y"]
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-3, atol=1e-7)


def test_adept_precision_rounds_half_results_to_the_asic_format_too():
    # A float16 Add computes in float16 (NumPy); in precision="adept" its result is on the bf16 ASIC grid
    # like every ASIC op's, then stored as float16.
    from adept_core.asic import rounder

    model = _chain_model()
    feeds = _feeds(np.float16, seed=4)
    g = ac.from_onnx(model)
    g.outputs = ["z"]  # the Add's result
    g.meta["output_dtypes"] = {"z": "float16"}
    got = ac.prepare(g, precision="adept").run(feeds).outputs["z"]
    bf16 = rounder("bf16")
    xs = bf16((feeds["x"] * feeds["s"]).astype(np.float32)).astype(np.float16)
    want = bf16((xs + feeds["b"]).astype(np.float32)).astype(np.float16)
    np.testing.assert_array_equal(got, want)


def test_bfloat16_chain_stays_bfloat16_within_one_ulp_of_the_reference():
    import ml_dtypes

    model = _chain_model(TensorProto.BFLOAT16)
    feeds = _feeds(ml_dtypes.bfloat16, seed=5)
    want = ReferenceEvaluator(model).run(None, feeds)[0]
    g = ac.from_onnx(model)
    assert set(g.meta["half_values"].values()) == {"bfloat16"}
    got = ac.prepare(g, precision="fp32").run(feeds).outputs["y"]
    assert got.dtype == ml_dtypes.bfloat16
    # The softmax sum accumulates in float32 (the ASIC's accumulator); onnx's reference rounds it to
    # bfloat16 after every addition: at most an ulp of bfloat16 (2**-8 relative) apart.
    np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=2 ** -7, atol=1e-6)
