"""precision="fp32" reproduces onnxruntime on every small test model (issue 4, section 2)."""

from __future__ import annotations

import numpy as np
import pytest

from adept_core.emulate import prepare
from adept_core.graph.onnx_import import from_onnx

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is the test-only fp32 oracle")
onnx_models = pytest.importorskip("onnx_models")

#: Relative tolerance of issue 4: max|ours - ort| <= RTOL * max|ort|, per output.
RTOL = 1e-4


def _ort_outputs(model, feeds):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


@pytest.mark.parametrize("name", sorted(onnx_models.MODELS))
def test_fp32_matches_onnxruntime(name):
    model = onnx_models.MODELS[name]()
    feeds = onnx_models.sample_inputs(model, seed=1)
    expected = _ort_outputs(model, feeds)
    result = prepare(from_onnx(model), precision="fp32").run(feeds)
    assert set(result.outputs) == set(expected)
    for out, want in expected.items():
        got = result.outputs[out]
        assert got.shape == want.shape, out
        scale = float(np.max(np.abs(want)))
        err = float(np.max(np.abs(got.astype(np.float64) - want)))
        assert err <= RTOL * scale, f"{name}/{out}: max error {err:.3g} vs scale {scale:.3g}"


def _light_models() -> list[str]:
    import os

    import onnx

    folder = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
    return sorted(n[:-5] for n in os.listdir(folder) if n.endswith(".onnx")) if os.path.isdir(folder) else []


@pytest.mark.parametrize("name", _light_models())
def test_light_models_match_onnxruntime(name):
    """The nine classic models of the onnx wheel in fp32 vs onnxruntime: LRN (AlexNet, Inception v1,
    ZFNet), Dropout with a mask output (SqueezeNet, VGG-19) and an opset-12 Unsqueeze folded with its own
    opset's kernel (DenseNet-121, Inception v2) included."""
    import os

    import onnx

    path = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", name + ".onnx")
    model = onnx.load(path)
    graph = from_onnx(path)
    (inp,) = graph.inputs
    x = np.random.default_rng(0).standard_normal(graph.inputs[inp]).astype(np.float32)
    expected = _ort_outputs(model, {inp: x})
    result = prepare(graph, precision="fp32").run({inp: x})
    for out, want in expected.items():
        err = float(np.max(np.abs(result.outputs[out].astype(np.float64) - want)))
        assert err <= RTOL * float(np.max(np.abs(want))), f"{name}/{out}: max error {err:.3g}"
