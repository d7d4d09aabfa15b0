"""adept_core.onnx_backend: the onnx.backend.base.Backend API, shapes bound per call, emulated precision."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from adept_core import onnx_backend
from adept_core.asic import round_bf16
from adept_core.errors import ConfigError, ShapeError


def _celu_model(dims):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)
    node = helper.make_node("Celu", ["x"], ["y"], alpha=0.5)
    return helper.make_model(helper.make_graph([node], "celu", [x], [y]), ir_version=10,
                             opset_imports=[helper.make_opsetid("", 17)])


def _celu(x, alpha=0.5):
    return np.maximum(0, x) + np.minimum(0, alpha * (np.exp(x / alpha) - 1))


def test_devices():
    assert onnx_backend.supports_device("CPU")
    assert not onnx_backend.supports_device("CUDA")
    with pytest.raises(ConfigError, match="CUDA"):
        onnx_backend.prepare(_celu_model([2, 3]), device="CUDA")


def test_symbolic_dims_are_bound_per_call_and_cached():
    rep = onnx_backend.prepare(_celu_model(["n", 3]))
    for rows in (2, 5, 2):
        x = np.linspace(-3, 3, rows * 3, dtype=np.float32).reshape(rows, 3)
        (y,) = rep.run([x])
        np.testing.assert_allclose(y, _celu(x), rtol=1e-6, atol=1e-7)
    assert len(rep._cache) == 2  # one prepared graph per input signature
    (y,) = rep.run({"x": np.ones((1, 3), np.float32)})
    assert y.shape == (1, 3)
    with pytest.raises(ShapeError, match="takes 1 input"):
        rep.run([np.ones((1, 3), np.float32)] * 2)


def test_emulated_precision_rounds_reference_kernel_results_to_bf16():
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(4, 3) + np.float32(1e-3)
    (y,) = onnx_backend.run_model(_celu_model([4, 3]), [x], precision="adept")
    want = round_bf16(_celu(round_bf16(x)).astype(np.float32))
    np.testing.assert_array_equal(y, want)
    (y32,) = onnx_backend.run_model(_celu_model([4, 3]), [x])
    assert not np.array_equal(y32, y)  # fp32 is not rounded
