"""The kernels that replace the onnx reference where it is wrong (adept_core/asic/reference_fixes.py), against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import adept_core as ac
from adept_core.asic.reference_fixes import gather_elements

ort = pytest.importorskip("onnxruntime")


def _gather_model(data_shape, index_shape, axis, dtype=np.float32, constant_data=None, constant_indices=None):
    """GatherElements of a graph input (or a constant, which the importer folds) -> Identity."""
    inputs, inits = [], []
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    if constant_data is None:
        inputs.append(helper.make_tensor_value_info("data", elem, list(data_shape)))
    else:
        inits.append(numpy_helper.from_array(constant_data, "data"))
    if constant_indices is None:
        inputs.append(helper.make_tensor_value_info("idx", TensorProto.INT64, list(index_shape)))
    else:
        inits.append(numpy_helper.from_array(constant_indices, "idx"))
    nodes = [helper.make_node("GatherElements", ["data", "idx"], ["g"], axis=axis),
             helper.make_node("Identity", ["g"], ["y"])]
    graph = helper.make_graph(nodes, "ge", inputs, [helper.make_tensor_value_info("y", elem, list(index_shape))],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def _ort(model, feeds):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)[0]


def _adept(model, feeds):
    graph = ac.from_onnx(model, input_shapes={n: a.shape for n, a in feeds.items()} or None)
    return ac.prepare(graph, precision="fp32").run(feeds).outputs["y"]


@st.composite
def _cases(draw):
    rank = draw(st.integers(1, 4))
    axis = draw(st.integers(-rank, rank - 1))
    data_shape = [draw(st.integers(1, 4)) for _ in range(rank)]
    data_shape[axis] = draw(st.sampled_from([1, 3, 64, 65, 130, 513]))  # the onnx reference fails above 64
    index_shape = [draw(st.integers(1, d)) for d in data_shape]  # at most the data's extent off the axis
    index_shape[axis] = draw(st.integers(1, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    return data_shape, index_shape, axis, seed


@settings(max_examples=60, deadline=None)
@given(_cases(), st.sampled_from([np.float32, np.int64, np.bool_]))
def test_gather_elements_matches_onnxruntime(case, dtype):
    data_shape, index_shape, axis, seed = case
    gen = np.random.default_rng(seed)
    data = (gen.standard_normal(data_shape) * 10).astype(dtype)
    size = data_shape[axis]
    idx = gen.integers(-size, size, index_shape, dtype=np.int64)  # negative indices count from the end
    model = _gather_model(data_shape, index_shape, axis, dtype)
    want = _ort(model, {"data": data, "idx": idx})
    got = _adept(model, {"data": data, "idx": idx})
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_folded_gather_elements_over_a_long_axis_is_the_albert_embedding_buffer():
    # Hugging Face ALBERT / ELECTRA export their token_type_ids as GatherElements over a [1, 512]
    # constant buffer at positions [1, 16]: folded at import, where the onnx reference raised.
    gen = np.random.default_rng(0)
    buffer = gen.integers(0, 2, (1, 512), dtype=np.int64)
    positions = np.arange(100, 116, dtype=np.int64).reshape(1, 16)
    model = _gather_model((1, 512), (1, 16), 1, np.int64, constant_data=buffer, constant_indices=positions)
    graph = ac.from_onnx(model)
    assert not [n for n in graph.nodes if n.op == "GatherElements"]  # folded
    np.testing.assert_array_equal(ac.prepare(graph, precision="fp32").run({}).outputs["y"], buffer[:, 100:116])


@pytest.mark.parametrize("data_shape, idx, axis, message", [
    ((3, 4), np.array([[0, 4]]), 1, r"an index is out of range \[-4, 4\) on axis 1 \(min 0, max 4\)"),
    ((3, 4), np.array([[0, -5]]), 1, r"an index is out of range \[-4, 4\) on axis 1 \(min -5, max 0\)"),
    ((3, 4), np.array([[0], [1], [2], [0]]), 1, r"indices \(4, 1\) exceed data \(3, 4\) on an axis other than 1"),
    ((3, 4), np.array([0, 1]), 0, r"data and indices need the same rank >= 1, got 2 and 1"),
    ((3, 4), np.array([[0.0]]), 0, r"indices must be integers, got float64"),
    ((3, 4), np.array([[0]]), 2, r"axis 2 is out of range for rank 2"),
])
def test_gather_elements_refuses_what_the_specification_does_not_define(data_shape, idx, axis, message):
    with pytest.raises(ValueError, match=r"GatherElements: " + message):
        gather_elements(np.zeros(data_shape, np.float32), idx, axis)


def test_empty_indices_give_an_empty_result_of_the_data_type():
    out = gather_elements(np.zeros((0, 3), np.int32), np.zeros((0, 3), np.int64), 0)
    assert out.shape == (0, 3) and out.dtype == np.int32
