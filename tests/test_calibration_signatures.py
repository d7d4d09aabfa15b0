"""One calibration for every input signature of an ONNX model, in PreparedModel and in onnx_backend.

A graph bound at run time to other input shapes (issue 9, section 4) keeps the layer names of the
graph it came from, so the ADC ranges recorded at one shape apply at every other. Before, a
calibrated model fed another image size raised "has no calibration entry", and calibrating on
inputs of another size recorded nothing (the bound model ran with its own engine).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import adept_core as ac
from adept_core import ConfigError, onnx_backend
from adept_core.hardware import kernel_spec, load_config

SPEC = kernel_spec(load_config("adept"))
#: The preset's analog gain (G = 1.86) clips the top of every calibrated range, so the backend warns;
#: test_backend_says_once_when_layers_clip checks that warning.
pytestmark = pytest.mark.filterwarnings("ignore:adept. .* photonic layer:RuntimeWarning")


def _conv_model():
    """Conv 3x3 (pad 1) -> Relu -> Conv 1x1 on images of any size."""
    gen = np.random.default_rng(3)
    inits = [numpy_helper.from_array((gen.standard_normal((8, 3, 3, 3)) * 0.4).astype(np.float32), "w1"),
             numpy_helper.from_array((gen.standard_normal((4, 8, 1, 1)) * 0.4).astype(np.float32), "w2")]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], name="conv1", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
             helper.make_node("Relu", ["a"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w2"], ["y"], name="conv2", kernel_shape=[1, 1])]
    graph = helper.make_graph(nodes, "convs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4, "h", "w"])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def _x(seed, h, w):
    return np.random.default_rng(seed).standard_normal((1, 3, h, w)).astype(np.float32)


def _static(model, shape, calibration):
    """The model imported at ``shape`` and prepared with ``calibration``: what a bound signature must equal."""
    return ac.prepare(ac.from_onnx(model, input_shapes={"x": shape}), spec=SPEC, adc="calibrated",
                      calibration=calibration)


def test_a_calibrated_model_runs_at_other_shapes_with_its_calibration():
    model = _conv_model()
    prepared = ac.prepare(ac.from_onnx(model, input_shapes={"x": (1, 3, 12, 12)}), spec=SPEC, adc="calibrated")
    calibration = prepared.calibrate(_x(0, 12, 12))
    assert set(calibration) == {"conv1/conv", "conv2/conv"}
    for h, w in ((12, 12), (9, 20), (9, 20)):
        x = _x(h * w, h, w)
        got = prepared.run(x, seed=5).outputs["y"]
        want = _static(model, (1, 3, h, w), calibration).run(x, seed=5).outputs["y"]
        assert np.array_equal(got, want), (h, w)


def test_calibrating_on_inputs_of_another_shape_calibrates_every_signature():
    model = _conv_model()
    prepared = ac.prepare(ac.from_onnx(model, input_shapes={"x": (1, 3, 12, 12)}), spec=SPEC, adc="calibrated")
    other = _x(1, 7, 15)
    calibration = prepared.calibrate(other)
    assert calibration is prepared.calibration and set(calibration) == {"conv1/conv", "conv2/conv"}
    static = _static(model, (1, 3, 7, 15), None)
    assert static.calibrate(other) == calibration  # the ranges are those of the inputs given
    x = _x(2, 12, 12)  # the import's own shape uses them too
    assert np.array_equal(prepared.run(x).outputs["y"], _static(model, (1, 3, 12, 12), calibration).run(x).outputs["y"])


def test_backend_emulated_precision_needs_a_calibration_then_shares_it():
    model = _conv_model()
    rep = onnx_backend.prepare(model, precision="adept")
    assert rep.prepare_kwargs["adc"] == "calibrated" and rep.prepare_kwargs["spec"] == SPEC  # `adept run`'s defaults
    with pytest.raises(ConfigError, match=r"needs the ADC ranges first: call rep.calibrate\(inputs\)"):
        rep.run([_x(0, 12, 12)])
    calibration = rep.calibrate([_x(0, 12, 12)])
    assert calibration is rep.calibration and set(calibration) == {"conv1/conv", "conv2/conv"}
    for h, w in ((12, 12), (5, 31)):
        x = _x(h + w, h, w)
        (got,) = rep.run([x], seed=3)
        assert np.array_equal(got, _static(model, (1, 3, h, w), calibration).run(x, seed=3).outputs["y"])
        assert rep.last_result.outputs["y"] is got
    # calibration= stands for rep.calibrate; adc="worst_case" needs none
    (got,) = onnx_backend.prepare(model, precision="adept", calibration=calibration).run([_x(9, 6, 6)])
    assert np.array_equal(got, _static(model, (1, 3, 6, 6), calibration).run(_x(9, 6, 6)).outputs["y"])
    onnx_backend.prepare(model, precision="adept", adc="worst_case").run([_x(9, 6, 6)])
    with pytest.raises(ConfigError, match=r"calibrate\(\) applies to precision='adept' with adc='calibrated' "
                                          r"\(this model: precision='fp32', adc=None\)"):
        onnx_backend.prepare(model).calibrate([_x(0, 12, 12)])


def test_backend_run_model_calibrates_on_its_inputs():
    model, x = _conv_model(), _x(4, 10, 10)
    (got,) = onnx_backend.run_model(model, [x], precision="adept")
    static = _static(model, (1, 3, 10, 10), None)
    static.calibrate(x)
    assert np.array_equal(got, static.run(x).outputs["y"])


def test_backend_says_once_when_layers_clip():
    model = _conv_model()
    rep = onnx_backend.prepare(model, precision="adept")
    rep.calibrate([_x(0, 12, 12) * np.float32(0.01)])  # ranges far below the data run next: every layer clips
    with pytest.warns(RuntimeWarning, match=r"adept: 2 photonic layer\(s\) clipped more than 0.10% of their ADC "
                                            r"conversions \(worst: conv\d/conv \d+\.\d\d%"):
        rep.run([_x(1, 12, 12)])
    assert {layer for layer, _ in rep.last_result.clipped_layers} == {"conv1/conv", "conv2/conv"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep.run([_x(2, 12, 12)])  # said once per prepared model
