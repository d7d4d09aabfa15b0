"""Integer MaxPool is exact in its own type (issue 9 section 3): it selects, it never rounds."""

import numpy as np
import pytest
from onnx import TensorProto, helper

import adept_core as ac


# ONNX's MaxPool takes int8 / uint8 besides the float types (opset 12+).
@pytest.mark.parametrize("np_type,onnx_type", [(np.uint8, TensorProto.UINT8), (np.int8, TensorProto.INT8)])
def test_integer_maxpool_is_exact_in_its_type(np_type, onnx_type):
    info = np.iinfo(np_type)
    rng = np.random.default_rng(0)
    # the full range, padded windows included: the output must be the input's type, values untouched
    x = rng.integers(info.min, info.max, size=(2, 3, 6, 5), dtype=np_type, endpoint=True)
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", onnx_type, list(x.shape))],
                              [helper.make_tensor_value_info("y", onnx_type, [2, 3, 4, 5])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    got = ac.prepare(ac.from_onnx(model), precision="fp32").run({"x": x}).outputs["y"]
    assert got.dtype == np_type
    # the pool by hand: pad with the type's minimum (never selected over a real tap)
    padded = np.pad(x, [(0, 0), (0, 0), (1, 1), (0, 1)], constant_values=info.min)
    ho, wo = (6 + 2 - 3) // 2 + 1, (5 + 1 - 2) // 1 + 1
    want = np.array([[[[padded[n, c, 2 * i:2 * i + 3, j:j + 2].max() for j in range(wo)] for i in range(ho)]
                      for c in range(3)] for n in range(2)], np_type)
    np.testing.assert_array_equal(got, want)
