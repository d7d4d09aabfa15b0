"""Inputs whose values set shapes (AffineGrid's size, a Reshape target) are bound by value by the backend."""

import numpy as np
import pytest
from onnx import TensorProto, helper

from adept_core import onnx_backend
from adept_core.graph.onnx_control_flow import bind_time_inputs


def _model(nodes, inputs, outputs, opset=20):
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def test_an_input_reaching_a_shape_argument_is_bound_a_data_input_is_not():
    nodes = [helper.make_node("Add", ["dims", "one"], ["dims1"]),  # through arithmetic
             helper.make_node("Reshape", ["x", "dims1"], ["y"]),
             helper.make_node("Gather", ["table", "ids"], ["z"]),  # ids: data
             helper.make_node("Shape", ["ids"], ["ids_shape"]),  # a shape, not values
             helper.make_node("Reshape", ["z", "ids_shape2"], ["w"])]
    model = _model(nodes, [_vi("x", TensorProto.FLOAT, [6]), _vi("dims", TensorProto.INT64, [2]),
                           _vi("one", TensorProto.INT64, [2]), _vi("table", TensorProto.FLOAT, [5, 2]),
                           _vi("ids", TensorProto.INT64, [3]), _vi("ids_shape2", TensorProto.INT64, [2])],
                   [_vi("y", TensorProto.FLOAT, [None, None]), _vi("w", TensorProto.FLOAT, [None, None])])
    assert bind_time_inputs(model, ["x", "dims", "one", "table", "ids", "ids_shape2"]) == ["dims", "ids_shape2",
                                                                                            "one"]


def _affine_grid_expanded():
    import warnings

    from onnx.backend.test.case import node

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # onnx's case generators warn about their own casts
        return next(c for c in node.collect_testcases("") if c.name == "test_affine_grid_2d_expanded")


def test_affine_grid_expanded_runs_with_its_size_bound_and_a_photonic_matmul():
    case = _affine_grid_expanded()
    (theta, size), (want,) = case.data_sets[0]
    rep = onnx_backend.prepare(case.model)
    assert rep.bound_names == ["size"]
    got = rep.run([theta, size])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    graph = next(iter(rep._cache.values())).graph
    assert "MatMul" in [n.op for n in graph.nodes if "onnx_opset" not in n.attrs]  # static shapes: photonic
    # another size is another import, with its own output shape
    other = np.array([size[0], size[1], size[2] + 1, size[3] + 2], np.int64)
    assert rep.run([theta, other])[0].shape == (size[0], size[2] + 1, size[3] + 2, 2)


def test_wrap_pad_with_constant_pads_runs_on_its_reference_kernel():
    model = _model([helper.make_node("Pad", ["x", "pads"], ["y"], mode="wrap")],
                   [_vi("x", TensorProto.FLOAT, [3, 4]), _vi("pads", TensorProto.INT64, [4])],
                   [_vi("y", TensorProto.FLOAT, [None, None])], opset=19)
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    pads = np.array([1, 2, 0, 1], np.int64)
    got = onnx_backend.prepare(model).run([x, pads])[0]
    np.testing.assert_array_equal(got, np.pad(x, [(1, 0), (2, 1)], mode="wrap"))


def test_canonical_reshape_keeps_a_zero_sized_axis():
    model = _model([helper.make_node("Reshape", ["x", "s"], ["y"], allowzero=1)],
                   [_vi("x", TensorProto.FLOAT, [0, 3, 4]), _vi("s", TensorProto.INT64, [3])],
                   [_vi("y", TensorProto.FLOAT, [None, None, None])], opset=19)
    got = onnx_backend.prepare(model).run([np.zeros((0, 3, 4), np.float32), np.array([3, 4, 0], np.int64)])[0]
    assert got.shape == (3, 4, 0)


def test_from_onnx_defers_a_model_whose_shapes_need_input_values_and_run_binds_them():
    import adept_core as ac

    case = _affine_grid_expanded()
    (theta, size), (want,) = case.data_sets[0]
    g = ac.from_onnx(case.model)
    assert g.meta["bind_by_value"] == ["size"] and not g.nodes
    model = ac.prepare(g, precision="fp32")
    np.testing.assert_allclose(model.run({"theta": theta, "size": size}).outputs[case.model.graph.output[0].name],
                               want, rtol=1e-5, atol=1e-6)
    with pytest.raises(Exception, match="'size'"):
        model.run({"theta": theta})  # the input it waits for, named
    with pytest.raises(Exception, match="'size'.*int64"):
        model.run({"theta": theta, "size": size.astype(np.int32)})
    # given up front, the graph is static at once
    static = ac.from_onnx(case.model, input_values={"size": size})
    assert "deferred" not in static.meta and static.nodes


def test_a_model_that_binding_cannot_cure_still_raises_at_import():
    from adept_core.errors import UnsupportedOpError
    import adept_core as ac

    # No input reaches a shape argument: nothing to wait for, the error stays an import error.
    model = _model([helper.make_node("StringNormalizer", ["x"], ["y"])],
                   [_vi("x", TensorProto.STRING, [2])], [_vi("y", TensorProto.STRING, [2])])
    with pytest.raises(UnsupportedOpError):
        ac.from_onnx(model)


def test_an_unknown_op_is_refused_at_import_even_when_an_input_could_be_bound():
    # A Reshape target fed as input makes the import deferrable; an op adept has no kernel for is not
    # cured by any bound value, so it is refused at import, naming the node, as without that input.
    from adept_core.errors import UnknownOpError
    from adept_core.graph.onnx_import import from_onnx

    nodes = [helper.make_node("Reshape", ["x", "dims"], ["r"]),
             helper.make_node("NoSuchOp", ["r"], ["y"], name="mystery", domain="example.custom")]
    model = _model(nodes, [_vi("x", TensorProto.FLOAT, [6]), _vi("dims", TensorProto.INT64, [2])],
                   [_vi("y", TensorProto.FLOAT, [None, None])])
    model.opset_import.append(helper.make_opsetid("example.custom", 1))
    assert bind_time_inputs(model, ["x", "dims"]) == ["dims"]
    with pytest.raises(UnknownOpError, match="'mystery'.*'NoSuchOp'.*custom domain"):
        from_onnx(model)
