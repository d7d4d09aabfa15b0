"""DeformConv: bilinear sampling on the ASIC (DeformSample), the weight product a photonic 1x1 Conv."""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from adept_core.emulate import prepare
from adept_core.errors import BudgetError, UnsupportedOpError
from adept_core.graph import gemm_calls
from adept_core.graph.onnx_import import from_onnx


def _out_len(size, k, s, d, p0, p1):
    return (size + p0 + p1 - ((k - 1) * d + 1)) // s + 1


def _case(n=2, c=4, h=7, w=6, cout=6, k=(3, 2), group=2, offset_group=2, strides=(2, 1), dilations=(1, 2),
          pads=(1, 0, 1, 1), mask=True, bias=True, weight_const=True, seed=0):
    rng = np.random.default_rng(seed)
    ho = _out_len(h, k[0], strides[0], dilations[0], pads[0], pads[2])
    wo = _out_len(w, k[1], strides[1], dilations[1], pads[1], pads[3])
    feeds = {"X": rng.standard_normal((n, c, h, w)).astype(np.float32),
             # offsets of up to +-2.5 pixels: many samples fall between pixels, some outside the image
             "offset": (rng.random((n, offset_group * k[0] * k[1] * 2, ho, wo)) * 5 - 2.5).astype(np.float32)}
    weight = rng.standard_normal((cout, c // group) + tuple(k)).astype(np.float32)
    names = ["X", "W", "offset", "B" if bias else "", "mask" if mask else ""]
    while not names[-1]:
        names.pop()
    inits = []
    if weight_const:
        inits.append(numpy_helper.from_array(weight, "W"))
    else:
        feeds["W"] = weight
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(cout).astype(np.float32), "B"))
    if mask:
        feeds["mask"] = rng.random((n, offset_group * k[0] * k[1], ho, wo)).astype(np.float32)
    node = helper.make_node("DeformConv", names, ["Y"], name="dc", kernel_shape=list(k), group=group,
                            offset_group=offset_group, strides=list(strides), dilations=list(dilations),
                            pads=list(pads))
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(name, TensorProto.FLOAT, a.shape)
                                            for name, a in feeds.items()],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [n, cout, ho, wo])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)]), feeds


@pytest.mark.parametrize("kwargs", [{}, {"mask": False, "bias": False}, {"group": 1, "offset_group": 4, "c": 4},
                                    {"weight_const": False}, {"strides": (1, 1), "dilations": (1, 1),
                                                              "pads": (0, 0, 0, 0), "group": 1, "offset_group": 1}])
def test_deform_conv_matches_the_onnx_reference_in_fp32(kwargs):
    model, feeds = _case(**kwargs)
    want = ReferenceEvaluator(model).run(None, feeds)[0]
    graph = from_onnx(model)
    got = prepare(graph, precision="fp32").run(feeds).outputs["Y"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_the_product_is_one_photonic_conv_with_the_im2col_k_and_charged_by_the_scheduler():
    from adept_core.schedule.digest import digest

    model, feeds = _case()
    graph = from_onnx(model)
    ops = [n.op for n in graph.nodes]
    assert ops == ["DeformSample", "Conv"]
    conv = graph.nodes[1]
    (call,) = gemm_calls(conv, graph)
    n, cout, ho, wo = graph.shape("Y")
    # group 2: two GEMMs [N*Ho*Wo, Cg*kh*kw] x [Cg*kh*kw, Cout/g], the weight stationary
    assert (call.m, call.k, call.n, call.count) == (n * ho * wo, 2 * 3 * 2, cout // 2, 2)
    assert call.weight_stationary
    d = digest(graph)
    assert d.photonic_macs == call.macs
    assert d.asic_macs == 0  # the sampling has no weight product


def test_deform_conv_runs_in_emulated_precision_close_to_fp32():
    model, feeds = _case(seed=3)
    graph = from_onnx(model)
    ref = prepare(graph, precision="fp32").run(feeds).outputs["Y"]
    model = prepare(graph, precision="adept", adc="calibrated")
    model.calibrate(feeds)
    got = model.run(feeds, seed=0).outputs["Y"]
    rel = np.linalg.norm(got - ref) / np.linalg.norm(ref)
    assert 0 < rel < 0.2  # quantised and noisy, but the same function


def test_three_d_deform_conv_is_refused_with_a_sentence():
    node = helper.make_node("DeformConv", ["X", "W", "offset"], ["Y"], kernel_shape=[1, 1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1, 2, 2, 2]),
                                            helper.make_tensor_value_info("offset", TensorProto.FLOAT,
                                                                          [1, 3, 2, 2, 2])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 1, 2, 2, 2])],
                              [numpy_helper.from_array(np.ones((1, 1, 1, 1, 1), np.float32), "W")])
    with pytest.raises(UnsupportedOpError, match="only 2-D DeformConv"):
        from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)]))


def test_samples_over_the_element_budget_are_refused_before_allocating():
    model, feeds = _case(c=8, group=1, offset_group=1)
    graph = from_onnx(model, max_elements=1000)  # every declared tensor fits; the samples (2*8*6*4*5) do not
    with pytest.raises(BudgetError, match="DeformSample.*over the model's budget"):
        prepare(graph, precision="fp32").run(feeds)
