"""ONNX If / Loop / Scan: folded at bind time when the condition is known, else run per call (bounded)."""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from adept_core.emulate import prepare
from adept_core.errors import BudgetError, ShapeError
from adept_core.graph import onnx_control_flow
from adept_core.graph.lowering import GEMM_OPS, gemm_calls
from adept_core.graph.onnx_import import from_onnx

F = TensorProto.FLOAT


def _model(nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _reference(model, feeds):
    return ReferenceEvaluator(model).run(None, feeds)


def _run(model, feeds, **kw):
    graph = from_onnx(model, **kw)
    return graph, prepare(graph, precision="fp32").run(feeds).outputs


def _vad_like():
    """Equal(sr, 16000) -> If: then Conv with w16, else Conv with w8 (a speech VAD's sample-rate switch)."""
    rng = np.random.default_rng(0)
    w16 = numpy_helper.from_array(rng.standard_normal((4, 1, 3, 3)).astype(np.float32), "w16")
    w8 = numpy_helper.from_array(rng.standard_normal((4, 1, 3, 3)).astype(np.float32), "w8")
    k16 = numpy_helper.from_array(np.array(16000, dtype=np.int64), "k16")
    then_g = helper.make_graph([helper.make_node("Conv", ["x", "w16"], ["y_then"], pads=[1, 1, 1, 1])], "then", [],
                               [helper.make_tensor_value_info("y_then", F, [1, 4, 8, 8])])
    else_g = helper.make_graph([helper.make_node("Conv", ["x", "w8"], ["y_else"], pads=[1, 1, 1, 1])], "else", [],
                               [helper.make_tensor_value_info("y_else", F, [1, 4, 8, 8])])
    nodes = [helper.make_node("Equal", ["sr", "k16"], ["is16"]),
             helper.make_node("If", ["is16"], ["y"], then_branch=then_g, else_branch=else_g, name="rate_switch")]
    return _model(nodes, [helper.make_tensor_value_info("x", F, [1, 1, 8, 8]),
                          helper.make_tensor_value_info("sr", TensorProto.INT64, [])],
                  [helper.make_tensor_value_info("y", F, [1, 4, 8, 8])], [w16, w8, k16])


@pytest.mark.parametrize("rate", [16000, 8000])
def test_if_folded_at_bind_inlines_the_taken_conv_on_the_photonic_core(rate):
    model = _vad_like()
    x = np.random.default_rng(1).standard_normal((1, 1, 8, 8)).astype(np.float32)
    sr = np.array(rate, dtype=np.int64)
    graph, outs = _run(model, {"x": x}, input_values={"sr": sr})
    assert "If" not in {n.op for n in graph.nodes}
    convs = [n for n in graph.nodes if n.op == "Conv"]
    assert len(convs) == 1 and convs[0].name.startswith("rate_switch/")
    assert convs[0].inputs[1] == ("w16" if rate == 16000 else "w8")
    assert convs[0].op in GEMM_OPS and sum(c.macs for c in gemm_calls(convs[0], graph)) == 4 * 9 * 64
    np.testing.assert_allclose(outs["y"], _reference(model, {"x": x, "sr": sr})[0], rtol=1e-5, atol=1e-5)


def test_if_without_bound_condition_runs_at_run_time_and_picks_per_input():
    model = _vad_like()
    graph = from_onnx(model)
    assert [n.op for n in graph.nodes if n.op == "If"] == ["If"]
    prepared = prepare(graph, precision="fp32")
    x = np.random.default_rng(2).standard_normal((1, 1, 8, 8)).astype(np.float32)
    results = {}
    for rate in (16000, 8000):
        sr = np.array(rate, dtype=np.int64)
        results[rate] = prepared.run({"x": x, "sr": sr}).outputs["y"]
        np.testing.assert_allclose(results[rate], _reference(model, {"x": x, "sr": sr})[0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(results[16000], results[8000])


def test_input_values_bad_dtype_and_name_are_named_errors():
    with pytest.raises(ShapeError, match="'sr'.*int64"):
        from_onnx(_vad_like(), input_values={"sr": np.array(16000, dtype=np.int32)})
    with pytest.raises(ShapeError, match="'rate'"):
        from_onnx(_vad_like(), input_values={"rate": np.array(1, dtype=np.int64)})


def _loop_model(trip_const=None):
    """Loop: state s <- s + x * i (x from the outer scope), scan output s per iteration."""
    body = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["i_f"], to=F),
         helper.make_node("Mul", ["x", "i_f"], ["xi"]),
         helper.make_node("Add", ["s_in", "xi"], ["s_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Identity", ["s_out"], ["scan"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("s_in", F, [3])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("s_out", F, [3]),
         helper.make_tensor_value_info("scan", F, [3])])
    inits = [numpy_helper.from_array(np.array(True), "true")]
    inputs = [helper.make_tensor_value_info("x", F, [3]), helper.make_tensor_value_info("s0", F, [3])]
    if trip_const is None:
        inputs.append(helper.make_tensor_value_info("M", TensorProto.INT64, []))
    else:
        inits.append(numpy_helper.from_array(np.array(trip_const, dtype=np.int64), "M"))
    return _model([helper.make_node("Loop", ["M", "true", "s0"], ["s_final", "s_all"], body=body, name="acc_loop")],
                  inputs, [helper.make_tensor_value_info("s_final", F, [3]),
                           helper.make_tensor_value_info("s_all", F, ["T", 3])], inits)


def test_loop_carries_state_reads_outer_scope_and_stacks_scan_outputs():
    model = _loop_model()
    x = np.array([1.0, 2.0, -1.0], dtype=np.float32)
    s0 = np.array([0.5, 0.0, 0.0], dtype=np.float32)
    prepared = prepare(from_onnx(model), precision="fp32")
    for trips in (4, 1, 7):
        feeds = {"x": x, "s0": s0, "M": np.array(trips, dtype=np.int64)}
        outs = prepared.run(feeds).outputs
        want = _reference(model, feeds)
        assert outs["s_all"].shape == (trips, 3)
        np.testing.assert_allclose(outs["s_final"], want[0], rtol=1e-6)
        np.testing.assert_allclose(outs["s_all"], want[1], rtol=1e-6)
        np.testing.assert_allclose(outs["s_final"], s0 + x * sum(range(trips)), rtol=1e-6)


def test_loop_iteration_bomb_is_refused_with_the_node_name():
    model = _loop_model(trip_const=2 ** 62)
    feeds = {"x": np.ones(3, np.float32), "s0": np.zeros(3, np.float32)}
    with pytest.raises(ShapeError, match=r"'acc_loop'.*4,611,686,018,427,387,904 iterations.*MAX_ITERATIONS"):
        prepare(from_onnx(model), precision="fp32").run(feeds)


def test_loop_scan_outputs_respect_the_element_budget():
    model = _loop_model()
    feeds = {"x": np.ones(3, np.float32), "s0": np.zeros(3, np.float32), "M": np.array(100, dtype=np.int64)}
    with pytest.raises(BudgetError, match="'acc_loop'.*scan outputs.*budget of 50"):
        prepare(from_onnx(model, max_elements=50), precision="fp32").run(feeds)


def test_condition_only_loop_that_never_stops_is_refused(monkeypatch):
    monkeypatch.setattr(onnx_control_flow, "MAX_ITERATIONS", 25)
    model = _loop_model()
    loop = model.graph.node[0]
    loop.input[0] = ""  # no trip count: runs while the (always true) condition holds
    model.graph.input.pop()
    feeds = {"x": np.ones(3, np.float32), "s0": np.zeros(3, np.float32)}
    with pytest.raises(ShapeError, match="'acc_loop'.*still running after 25 iterations"):
        prepare(from_onnx(model), precision="fp32").run(feeds)


def _scan_model(in_dir=0, out_dir=0, out_axis=0):
    """Scan over axis 1 of x [2, 5]: cumulative sum state, a MatMul with an outer-scope weight per step."""
    w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3) / 7, "w")
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "xt"], ["acc_out"]),
         helper.make_node("Unsqueeze", ["acc_out", "zero"], ["acc_row"]),
         helper.make_node("MatMul", ["acc_row", "w"], ["proj"])],
        "body", [helper.make_tensor_value_info("acc_in", F, [2]), helper.make_tensor_value_info("xt", F, [2])],
        [helper.make_tensor_value_info("acc_out", F, [2]), helper.make_tensor_value_info("proj", F, [1, 3])])
    zero = numpy_helper.from_array(np.array([0], dtype=np.int64), "zero")
    node = helper.make_node("Scan", ["acc0", "x"], ["acc", "ys"], body=body, num_scan_inputs=1,
                            scan_input_axes=[1], scan_input_directions=[in_dir],
                            scan_output_directions=[out_dir], scan_output_axes=[out_axis], name="cumsum")
    model = _model([node], [helper.make_tensor_value_info("acc0", F, [2]), helper.make_tensor_value_info("x", F, [2, 5])],
                   [helper.make_tensor_value_info("acc", F, [2]), helper.make_tensor_value_info("ys", F, ["A", "B", "C"])],
                   [w, zero])
    feeds = {"acc0": np.array([1.0, -1.0], np.float32),
             "x": np.random.default_rng(3).standard_normal((2, 5)).astype(np.float32)}
    return model, feeds, w


@pytest.mark.parametrize("in_dir,out_dir,out_axis", [(0, 0, 0), (1, 0, 0), (0, 1, 1), (1, 1, 1)])
def test_scan_directions_and_axes_match_onnx(in_dir, out_dir, out_axis):
    model, feeds, w = _scan_model(in_dir, out_dir, out_axis)
    _, outs = _run(model, feeds)
    # onnx's reference Scan implements axis 0 / forward only: the expected values are spelled out here.
    acc, rows = feeds["acc0"].copy(), []
    steps = range(4, -1, -1) if in_dir else range(5)
    for t in steps:
        acc = acc + feeds["x"][:, t]
        rows.append(acc[None, :] @ numpy_helper.to_array(w))
    ys = np.moveaxis(np.stack(rows[::-1] if out_dir else rows), 0, out_axis)
    np.testing.assert_allclose(outs["acc"], acc, rtol=1e-5)
    assert outs["ys"].shape == ys.shape
    np.testing.assert_allclose(outs["ys"], ys, rtol=1e-5, atol=1e-6)


def test_onnx_backend_binds_the_vad_sample_rate_per_value_and_folds_the_if():
    from adept_core.onnx_backend import AdeptBackend

    model = _vad_like()
    rep = AdeptBackend.prepare(model)
    assert rep.bound_names == ["sr"]
    x = np.random.default_rng(4).standard_normal((1, 1, 8, 8)).astype(np.float32)
    for rate in (16000, 8000, 16000):
        sr = np.array(rate, dtype=np.int64)
        got = rep.run({"x": x, "sr": sr})[0]
        np.testing.assert_allclose(got, _reference(model, {"x": x, "sr": sr})[0], rtol=1e-5, atol=1e-5)
    assert len(rep._cache) == 2  # one import per distinct rate
    for prepared in rep._cache.values():
        ops = [n.op for n in prepared.graph.nodes]
        assert "If" not in ops and ops.count("Conv") == 1


def test_run_time_body_matmul_is_charged_to_the_photonic_core_per_iteration():
    model, feeds, _ = _scan_model()
    result = prepare(from_onnx(model), precision="adept").run(feeds)
    layers = {st.layer: st for st in result.layers}
    matmul = [st for name, st in layers.items() if name.startswith("cumsum/body/MatMul")]
    assert len(matmul) == 1 and matmul[0].macs == 5 * 2 * 3  # 5 steps of a [1, 2] x [2, 3] product
    assert result.outputs["ys"].shape == (5, 1, 3)  # values: the fp32 tests above (this one checks the charge)


def test_run_time_if_with_an_over_budget_branch_is_refused_not_handed_to_the_fallback():
    # The then-branch folds a ConstantOfShape of 10**6 elements; with max_elements=1000 the branch is refused
    # (BudgetError), where any other ShapeError of a body would send it to the reference evaluator.
    shape = numpy_helper.from_array(np.array([10 ** 6], np.int64), "big_shape")
    then_g = helper.make_graph([helper.make_node("ConstantOfShape", ["big_shape"], ["c"], name="bomb"),
                                helper.make_node("ReduceSum", ["c"], ["y_then"], keepdims=0)], "then", [],
                               [helper.make_tensor_value_info("y_then", F, [])])
    else_g = helper.make_graph([helper.make_node("ReduceSum", ["x"], ["y_else"], keepdims=0)], "else", [],
                               [helper.make_tensor_value_info("y_else", F, [])])
    nodes = [helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g, name="switch")]
    model = _model(nodes, [helper.make_tensor_value_info("x", F, [4]),
                           helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
                   [helper.make_tensor_value_info("y", F, [])], [shape])
    prepared = prepare(from_onnx(model, max_elements=1000), precision="fp32")
    feeds = {"x": np.ones(4, np.float32), "cond": np.array(True)}
    with pytest.raises(BudgetError, match="budget of 1,000"):
        prepared.run(feeds)
