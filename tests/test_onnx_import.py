"""ONNX import: structure, shapes, folded constants, canonical attributes, errors, the shipped ResNet-50."""

import os
import re

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import adept_core
from adept_core.errors import AdeptError, ShapeError, SymbolicShapeError, UnknownOpError, UnsupportedOpError
from adept_core.graph import gemm_calls, graph_macs, node_macs
from adept_core.graph.onnx_import import from_onnx
from adept_core.graph.ops import CANONICAL_ATTRS, FOLDED_OPS, GRAPH_OPS, SUPPORTED_OPS
from adept_core.graph.zoo import build
from adept_core.emulate import prepare

from onnx_models import MODELS, sample_inputs, save

LIGHT_RESNET50 = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "light_resnet50.onnx")


def _ops(graph):
    return [node.op for node in graph.nodes]


def _node(graph, op, index=0):
    return [node for node in graph.nodes if node.op == op][index]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_test_model_imports_in_canonical_form_with_onnxruntime_output_shapes(name, tmp_path):
    model = MODELS[name]()
    graph = adept_core.from_onnx(save(model, tmp_path / f"{name}.onnx"))
    graph.validate()
    assert graph.name == name
    for node in graph.nodes:
        assert node.op in GRAPH_OPS, node.name
        assert set(CANONICAL_ATTRS.get(node.op, ())) <= set(node.attrs), node.name
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    results = session.run(graph.outputs, sample_inputs(model))
    assert [graph.shape(o) for o in graph.outputs] == [r.shape for r in results]


def test_supported_op_lists_are_consistent():
    assert FOLDED_OPS <= SUPPORTED_OPS
    assert not FOLDED_OPS & GRAPH_OPS
    assert set(CANONICAL_ATTRS) <= GRAPH_OPS
    covered = {node.op_type for build_model in MODELS.values() for node in build_model().graph.node}
    assert SUPPORTED_OPS - covered == set()  # the test models exercise every supported op


def test_small_cnn_structure_weights_and_resolved_padding():
    model = MODELS["small_cnn"]()
    graph = from_onnx(model)
    assert _ops(graph) == ["Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "Relu", "GlobalAveragePool",
                           "Flatten", "Gemm", "Identity"]
    conv2 = _node(graph, "Conv", 1)
    # SAME_UPPER, 8x8 input, stride 2, kernel 3: output 4x4 needs 1 pad row/column, placed at the end.
    assert conv2.attrs["pads"] == [0, 0, 1, 1]
    assert graph.shape(conv2.outputs[0]) == (2, 16, 4, 4)
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    np.testing.assert_array_equal(graph.weights["c1.w"], init["c1.w"])
    assert _node(graph, "Gemm").attrs == {"alpha": 0.5, "beta": 2.0, "transA": 0, "transB": 1}
    conv1_calls = gemm_calls(_node(graph, "Conv"), graph)
    assert [(c.m, c.k, c.n, c.weight) for c in conv1_calls] == [(2 * 16 * 16, 27, 8, "c1.w")]
    assert graph_macs(graph) == 2 * 16 * 16 * 27 * 8 + 2 * 4 * 4 * 72 * 16 + 2 * 16 * 10


def test_grouped_and_depthwise_conv():
    graph = from_onnx(MODELS["grouped_conv"]())
    grouped, depthwise = _node(graph, "Conv", 0), _node(graph, "Conv", 1)
    assert grouped.attrs["group"] == 2 and depthwise.attrs["group"] == 8
    (call,) = gemm_calls(grouped, graph)
    assert (call.m, call.k, call.n, call.count) == (12 * 12, 4 * 9, 4, 2)
    assert gemm_calls(depthwise, graph) == []  # depthwise runs on the ASIC (lowering decision)
    assert _node(graph, "Clip").attrs == {"min": 0.0, "max": 6.0}
    assert _node(graph, "Pad").attrs == {"pads": [0, 0, 1, 1, 0, 0, 1, 1], "mode": "constant", "value": 0.25}


def test_transformer_shape_arithmetic_is_folded_and_heads_resolve():
    graph = from_onnx(MODELS["tiny_transformer"]())
    ops = _ops(graph)
    assert not {"Shape", "Slice", "Concat", "Sqrt"} & set(ops)
    assert [n.attrs["shape"] for n in graph.nodes if n.op == "Reshape"] == [[2, 6, 2, 8]] * 3 + [[2, 6, 16]]
    div = _node(graph, "Div")
    assert graph.weights[div.inputs[1]] == pytest.approx(np.sqrt(8.0))  # Sqrt of a constant, folded
    assert _node(graph, "Softmax").attrs == {"axis": 3}
    assert _node(graph, "LayerNormalization").attrs["axis"] == 2
    assert _node(graph, "Gelu").attrs == {"approximate": "none"}
    assert _node(graph, "ReduceMean").attrs == {"axes": [2], "keepdims": 1}
    assert {"Erf", "Gather"} <= set(ops)
    scores = _node(graph, "MatMul", 3)
    (call,) = gemm_calls(scores, graph)
    assert (call.m, call.k, call.n, call.count, call.weight) == (6, 8, 6, 4, None)


def test_opset13_axes_as_inputs_become_attributes():
    graph = from_onnx(MODELS["decomposed_ops"]())
    assert _node(graph, "Split").attrs == {"axis": 2, "split": [2, 4]}
    assert _node(graph, "Squeeze").attrs == {"axes": [2]}
    assert _node(graph, "Unsqueeze").attrs == {"axes": [2]}
    assert _node(graph, "Expand").attrs == {"shape": [2, 4, 2]}
    reverse = _node(graph, "Slice", 1)
    assert reverse.attrs == {"starts": [3], "ends": [-5], "axes": [1], "steps": [-1]}
    rows = np.arange(4)  # the canonical bounds are plain NumPy slice bounds: this slice reverses all rows
    assert list(rows[reverse.attrs["starts"][0]:reverse.attrs["ends"][0]:reverse.attrs["steps"][0]]) == [3, 2, 1, 0]
    assert [n.attrs["to"] for n in graph.nodes if n.op == "Cast"] == ["int64", "bool"]
    assert all(len(n.inputs) == 1 for n in graph.nodes if n.op in ("Split", "Squeeze", "Unsqueeze", "Slice"))


def test_opset9_attributes_and_rewrites():
    graph = from_onnx(MODELS["legacy_opset"]())
    assert _node(graph, "Clip").attrs == {"min": -1.0, "max": 1.5}
    assert _node(graph, "Slice").attrs == {"starts": [1], "ends": [5], "axes": [2], "steps": [1]}
    assert _node(graph, "Pad").attrs == {"pads": [0, 0, 1, 0, 0, 1], "mode": "edge", "value": 0.0}
    # Pre-13 Softmax over axis 1 of [2, 3, 4] normalises over the flattened 3 x 4 block.
    softmax = _node(graph, "Softmax")
    assert graph.shape(softmax.inputs[0]) == (2, 12) and softmax.attrs == {"axis": 1}
    assert "Sum" not in _ops(graph) and _ops(graph).count("Add") == 2
    assert "Dropout" not in _ops(graph)
    assert _node(graph, "Transpose").attrs == {"perm": [3, 2, 1, 0]}


def test_recurrent_models_lower_to_input_and_recurrent_gemms():
    lstm = from_onnx(MODELS["lstm"]())
    node = _node(lstm, "LSTM")
    assert node.attrs == {"hidden_size": 3, "direction": "forward", "layout": 0}
    assert node.inputs[4] == ""  # omitted sequence_lens stays omitted; initial states kept
    calls = gemm_calls(node, lstm)
    assert [(c.role, c.m, c.k, c.n, c.count) for c in calls] == [("lstm_input", 10, 4, 12, 1),
                                                                ("lstm_recurrent", 2, 3, 12, 5)]
    assert lstm.shape(node.outputs[1]) == (1, 2, 3)
    gru = from_onnx(MODELS["gru"]())
    node = _node(gru, "GRU")
    assert node.attrs["linear_before_reset"] == 1 and node.attrs["direction"] == "bidirectional"
    assert gru.shape(node.outputs[0]) == (4, 2, 3, 6)
    assert node_macs(node, gru) == 2 * (4 * 3 * 5 * 18 + 4 * 3 * 6 * 18)


def test_shape_arithmetic_reshape_folds_to_exact_target():
    graph = from_onnx(MODELS["shape_arithmetic"]())
    assert _ops(graph) == ["Reshape", "Mul", "Add", "Flatten", "Identity"]
    assert graph.nodes[0].attrs == {"shape": [2, 3, 20]}
    # Shape, 2 x (Gather, Unsqueeze), Slice, Constant, 2 x Cast, Mul, ReduceProd (not even a supported op), Concat,
    # ConstantOfShape.
    assert graph.meta["folded_nodes"] == 13
    add = graph.nodes[2]
    np.testing.assert_array_equal(graph.weights[add.inputs[1]], np.full(20, 0.25, np.float32))
    assert set(graph.weights) == {"s", add.inputs[1]}  # shape tensors are not weights


def test_input_shapes_resolve_a_dynamic_batch():
    model = MODELS["small_cnn"]()
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    model.graph.output[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    with pytest.raises(SymbolicShapeError, match="symbolic dimension 0 .'batch'.*input_shapes"):
        from_onnx(model)
    graph = from_onnx(model, input_shapes={"image": (5, 3, 16, 16)})
    assert graph.shape("logits") == (5, 10)
    with pytest.raises(ShapeError, match="no_such_input"):
        from_onnx(model, input_shapes={"no_such_input": (1,)})


def _one_node_model(node, inputs, outputs, opset=17, inits=()):
    graph = helper.make_graph([node], "one", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def test_unsupported_op_names_node_op_and_supported_list():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    model = _one_node_model(helper.make_node("Bernoulli", ["x"], ["y"], name="mystery"), [x], [y])
    with pytest.raises(UnsupportedOpError) as info:
        from_onnx(model)
    message = str(info.value)
    assert "'mystery'" in message and "'Bernoulli'" in message and "Conv" in message and "Hardmax" in message
    assert "random generator, which is not DNN inference" in message and "opset 17" in message


@pytest.mark.parametrize("op, inputs", [("RandomNormal", []), ("RandomUniformLike", ["c"]), ("Bernoulli", ["c"])])
def test_random_generators_with_constant_inputs_are_refused_not_folded(op, inputs):
    # Folding one would bake a different constant into every import (ViTMAE's patch shuffle,
    # RandomUniformLike of a ConstantOfShape, did): refused like any random generator.
    attrs = {"shape": [1, 4]} if op == "RandomNormal" else {}
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["c"], value=numpy_helper.from_array(np.array([0.5], np.float32))),
             helper.make_node(op, inputs, ["r"], name="noise", **attrs),
             helper.make_node("Add", ["x", "r"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
                              [numpy_helper.from_array(np.array([1, 4], np.int64), "shape")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    with pytest.raises(UnknownOpError, match=rf"node 'noise' has op type '{op}'.*it needs a random generator, "
                                             r"which is not DNN inference"):
        from_onnx(model)


@pytest.mark.parametrize("inner", ["random", "custom"])
def test_a_loop_body_with_an_op_adept_refuses_is_refused_at_import(inner):
    # A run-time body adept cannot import falls back to the onnx reference evaluator, which would run a
    # random generator (other numbers on every run) or fail only at run time on a custom domain.
    if inner == "random":
        op = helper.make_node("RandomUniformLike", ["v"], ["r"], name="draw")
    else:
        op = helper.make_node("Fancy", ["v"], ["r"], name="draw", domain="com.example")
    body = helper.make_graph(
        [op, helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Add", ["v", "r"], ["v_out"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                 helper.make_tensor_value_info("v", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1, 4])])
    loop = helper.make_node("Loop", ["n", "", "x"], ["y"], name="steps", body=body)
    graph = helper.make_graph([loop], "g", [helper.make_tensor_value_info("n", TensorProto.INT64, []),
                                            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("com.example", 1)] if inner == "custom" else [])
    model = helper.make_model(graph, opset_imports=opsets, ir_version=10)
    why = (r"it needs a random generator, which is not DNN inference; in the body of Loop 'steps'" if inner == "random"
           else r"custom domain 'com.example', in the body of Loop 'steps'")
    with pytest.raises(UnknownOpError, match=r"node 'steps/draw' has op type .*" + why):
        from_onnx(model)


def test_custom_domain_and_unsupported_features_are_clear_errors():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("FusedThing", ["x"], ["y"], name="fused", domain="com.example")
    model = helper.make_model(helper.make_graph([node], "g", [x], [y]), ir_version=10,
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    with pytest.raises(UnsupportedOpError, match="fused.*custom domain 'com.example'"):
        from_onnx(model)
    lstm = MODELS["lstm"]()
    lstm.graph.node[0].attribute.append(helper.make_attribute("input_forget", 1))  # (layout=1 is supported now)
    with pytest.raises(UnsupportedOpError, match="input_forget=0"):
        from_onnx(lstm)


def test_data_dependent_reshape_target_is_bound_at_run_time():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6])
    target = helper.make_tensor_value_info("target", TensorProto.INT64, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None])
    model = _one_node_model(helper.make_node("Reshape", ["x", "target"], ["y"], name="dyn"), [x, target], [y])
    g = from_onnx(model)
    x_val = np.arange(12, dtype=np.float32).reshape(2, 6)
    out = prepare(g, precision="fp32").run({"x": x_val, "target": np.array([3, 4])}).outputs["y"]
    np.testing.assert_array_equal(out, x_val.reshape(3, 4))


def test_data_dependent_shape_into_a_photonic_op_is_a_shape_error():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6])
    target = helper.make_tensor_value_info("target", TensorProto.INT64, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])
    w = numpy_helper.from_array(np.ones((4, 2), np.float32), "w")
    nodes = [helper.make_node("Reshape", ["x", "target"], ["r"], name="dyn"),
             helper.make_node("MatMul", ["r", "w"], ["y"], name="mm")]
    model = helper.make_model(helper.make_graph(nodes, "g", [x, target], [y], [w]), ir_version=10,
                              opset_imports=[helper.make_opsetid("", 17)])
    # The shape comes from the 'target' input's values: the import waits for them (graph/onnx_deferred.py).
    g = from_onnx(model)
    assert g.meta["bind_by_value"] == ["target"] and not g.nodes
    assert re.search("'mm'.*depends on input data", g.meta["deferred"])
    from adept_core.schedule.digest import digest

    with pytest.raises(ShapeError, match=r"\['target'\].*'mm'.*depends on input data.*input_values"):
        digest(g)
    from adept_core.emulate import prepare

    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    got = prepare(g, precision="fp32").run({"x": x, "target": np.array([3, 4], np.int64)}).outputs["y"]
    np.testing.assert_allclose(got, x.reshape(3, 4) @ np.ones((4, 2), np.float32))


@pytest.mark.parametrize("content", [b"", b"this is not an onnx file\n", "truncated"])
def test_malformed_files_are_adept_errors(content, tmp_path):
    path = tmp_path / "bad.onnx"
    if content == "truncated":
        data = MODELS["small_cnn"]().SerializeToString()
        content = data[: len(data) // 2]
    path.write_bytes(content)
    with pytest.raises(AdeptError, match="not a valid ONNX model"):
        from_onnx(path)


def test_missing_file_and_wrong_argument_type():
    with pytest.raises(AdeptError, match="does not exist"):
        from_onnx("/nonexistent/model.onnx")
    with pytest.raises(AdeptError, match="expects a path"):
        from_onnx(42)


def test_onnx_shipped_resnet50_matches_zoo_macs_layer_by_layer():
    graph = from_onnx(LIGHT_RESNET50)
    zoo = build("resnet50")
    # The file stores its 25 M weights as ConstantOfShape nodes (every value 0.02): all folded to arrays.
    assert graph.meta["folded_nodes"] == 239 and graph.meta["opset"] == 9
    assert graph.weights["gpu_0/conv1_w_0"].shape == (64, 3, 7, 7)
    assert graph.shape("gpu_0/softmax_1") == (1, 1000)
    convs = [node_macs(n, graph) for n in graph.nodes if n.op == "Conv"]
    assert convs == [node_macs(n, zoo) for n in zoo.nodes if n.op == "Conv"]
    assert graph_macs(graph) == graph_macs(zoo) == 4_089_184_256


def test_missing_or_duplicate_node_names_become_unique():
    model = MODELS["lstm"]()
    for node in model.graph.node:
        node.name = "same" if node.op_type == "Identity" else ""
    graph = from_onnx(model)
    names = [node.name for node in graph.nodes]
    assert len(set(names)) == len(names) and names[0] == "LSTM_0"


def test_opsets_before_broadcasting_are_upgraded_by_the_version_converter():
    """Opset 6 Add broadcasts only with broadcast=1 (and axis): onnx's converter rewrites it for opset 7."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    b = numpy_helper.from_array(np.array([1.0, 2.0, 3.0], np.float32), "b")
    node = helper.make_node("Add", ["x", "b"], ["y"], broadcast=1)
    b_in = helper.make_tensor_value_info("b", TensorProto.FLOAT, [3])  # IR 3 lists initializers as inputs
    model = helper.make_model(helper.make_graph([node], "old", [x, b_in], [y], [b]), ir_version=3,
                              opset_imports=[helper.make_opsetid("", 6)])
    graph = from_onnx(model)
    assert graph.meta["opset"] == 7
    x_val = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = prepare(graph, precision="fp32").run({"x": x_val}).outputs["y"]
    np.testing.assert_array_equal(out, x_val + np.array([1, 2, 3], np.float32))


def _i64(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


# One-node models for normalisations the test models do not reach: (opset, node, input shape, initializers,
# expected canonical attributes).
ONE_NODE_CASES = {
    "pad_axes_input": (18, helper.make_node("Pad", ["x", "p", "", "ax"], ["y"], mode="reflect"), [2, 3, 4],
                       [_i64("p", [1, 2]), _i64("ax", [-1])], {"pads": [0, 0, 1, 0, 0, 2], "mode": "reflect",
                                                                "value": 0.0}),
    "split_num_outputs": (18, helper.make_node("Split", ["x"], ["y", "z"], axis=-1, num_outputs=2), [2, 3, 5], [],
                          {"axis": 2, "split": [3, 2]}),
    "squeeze_all_ones": (13, helper.make_node("Squeeze", ["x"], ["y"]), [1, 3, 1, 4], [], {"axes": [0, 2]}),
    "reduce_mean_noop": (18, helper.make_node("ReduceMean", ["x"], ["y"], noop_with_empty_axes=1), [2, 3], [], {}),
    "reduce_mean_all": (13, helper.make_node("ReduceMean", ["x"], ["y"], keepdims=0), [2, 3], [],
                        {"axes": [0, 1], "keepdims": 0}),
    "clip_max_only": (13, helper.make_node("Clip", ["x", "", "hi"], ["y"]), [2, 3],
                      [numpy_helper.from_array(np.float32(0.5), "hi")], {"min": -np.inf, "max": 0.5}),
    "maxpool_same_lower": (17, helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], auto_pad="SAME_LOWER"),
                           [1, 2, 5, 5], [], {"kernel_shape": [2, 2], "strides": [1, 1], "pads": [1, 1, 0, 0],
                                              "dilations": [1, 1], "ceil_mode": 0}),
    "softmax_old_last_axis": (11, helper.make_node("Softmax", ["x"], ["y"], axis=-1), [2, 3, 4], [], {"axis": 2}),
}


@pytest.mark.parametrize("case", sorted(ONE_NODE_CASES))
def test_one_node_normalisations(case):
    opset, node, shape, inits, expected = ONE_NODE_CASES[case]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    ranks = {"squeeze_all_ones": 2, "reduce_mean_all": 0}  # output rank where it differs from the input's
    outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, [None] * ranks.get(case, len(shape)))
               for o in node.output]
    model = _one_node_model(node, [x], outputs, opset, inits)
    graph = from_onnx(model)
    (imported,) = graph.nodes
    assert imported.attrs == expected
    assert imported.inputs == ("x",)  # parameter inputs became attributes
    feeds = {"x": np.random.default_rng(0).standard_normal(shape).astype(np.float32)}
    results = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)
    assert [graph.shape(o) for o in graph.outputs] == [r.shape for r in results]


def test_lstm_full_length_sequence_lens_is_dropped_and_shorter_is_refused():
    model = MODELS["lstm"]()
    lstm = model.graph.node[0]
    lstm.input[4] = "lens"
    model.graph.initializer.append(numpy_helper.from_array(np.array([5, 5], np.int32), "lens"))
    assert from_onnx(model).nodes[0].inputs[4] == ""
    model.graph.initializer[-1].CopyFrom(numpy_helper.from_array(np.array([5, 3], np.int32), "lens"))
    with pytest.raises(UnsupportedOpError, match="sequence_lens"):
        from_onnx(model)
