"""The channel shuffle read by a depthwise conv without storing it (asic/shuffle.py, emulate/fusion.py).

The fast path must be the NumPy definition bit for bit (shuffle materialised, then the depthwise
conv), including NaN payloads, -0.0 and infinities; and the executor must give the same bits with
the chain fused as with every node run on its own, in both precisions.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from adept_core.asic import shuffle as shuffle_mod
from adept_core.asic.im2col import ConvGeometry
from adept_core.asic.pool import padded_nonfinite_taps
from adept_core.asic.shuffle import (channel_shuffle, shuffled_depthwise_conv, unshuffle_depthwise_conv,
                                     unshuffle_taps)
from adept_core.emulate import prepare
from adept_core.emulate.fusion import shuffle_depthwise_chains
from adept_core.graph.onnx_import import from_onnx

needs_c = pytest.mark.skipif(shuffle_mod._depthwise is None
                             or not hasattr(shuffle_mod._depthwise, "depthwise_unshuffle_nhwc_into"),
                             reason="Cython depthwise module not built")


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint32)


def specials(rng, shape) -> np.ndarray:
    """Normal values with -0.0, +-inf and NaNs of two payloads (sign bit and mantissa differ) mixed in."""
    a = rng.standard_normal(shape).astype(np.float32)
    flat = a.reshape(-1)
    idx = rng.permutation(flat.size)
    n = max(1, flat.size // 40)
    flat[idx[:n]] = -0.0
    flat[idx[n:2 * n]] = np.inf
    flat[idx[2 * n:3 * n]] = -np.inf
    flat[idx[3 * n:4 * n]] = np.array(0x7FC00001, np.uint32).view(np.float32)
    flat[idx[4 * n:5 * n]] = np.array(0xFFC00123, np.uint32).view(np.float32)
    return a


def test_channel_shuffle_is_the_index_formula():
    """Shuffled channel j * G + g is channel g * (C/G) + j (the Reshape / Transpose / Reshape of ShuffleNet)."""
    x = np.arange(2 * 12 * 3 * 2, dtype=np.float32).reshape(2, 12, 3, 2)
    y = channel_shuffle(x, 4)
    for g in range(4):
        for j in range(3):
            assert np.array_equal(y[:, j * 4 + g], x[:, g * 3 + j])


@needs_c
@pytest.mark.parametrize("channels,groups,hw,stride,pads,kernel", [
    (112, 4, 9, 2, (1, 1, 1, 1), 3), (136, 4, 7, 1, (1, 1, 1, 1), 3), (12, 3, 6, 1, (0, 1, 2, 0), 3),
    (6, 6, 5, 2, (2, 2, 2, 2), 5), (8, 1, 4, 1, (0, 0, 0, 0), 1), (10, 2, 1, 1, (1, 1, 1, 1), 3)])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
def test_unshuffled_depthwise_is_the_shuffle_then_depthwise(channels, groups, hw, stride, pads, kernel, with_bias,
                                                            layout):
    """The C loop equals shuffling first and running depthwise_conv's NumPy path, bit for bit (NaN, -0.0, inf)."""
    rng = np.random.default_rng(channels * 7 + groups + stride)
    if layout == "nhwc":  # a conv output: NCHW view of channels-last memory
        x = specials(rng, (2, hw, hw, channels)).transpose(0, 3, 1, 2)
    else:
        x = specials(rng, (2, channels, hw, hw))
    w_special = specials(rng, (channels, 1, kernel, kernel))
    bias = specials(rng, (channels,)) if with_bias else None
    geo = ConvGeometry(kernel, kernel, stride, stride, 1, 1, *pads, groups=channels)
    # With inf / NaN taps next to padding the C loop declines (it skips padded taps, the definition
    # multiplies their zeros: 0 * inf is NaN); the same weights made finite then take it.
    for w in (w_special, np.nan_to_num(w_special, nan=0.5, posinf=3.0, neginf=-3.0)):
        with np.errstate(all="ignore"):
            want = shuffled_depthwise_conv(x, w, bias, geo, groups)  # what the executor computed before
            taps, b = unshuffle_taps(w, bias, groups)
            got = unshuffle_depthwise_conv(x, taps, b, geo, groups)
        if bias is None or padded_nonfinite_taps(taps, geo):
            assert got is None  # bias-less: depthwise_conv's Cython loop picks other NaN payloads
            continue
        assert got is not None and got.shape == want.shape
        assert np.array_equal(bits(got), bits(want))


def test_unshuffled_depthwise_declines_what_it_does_not_cover():
    """Not float32, or taps that do not match: None (the executor then materialises the shuffle)."""
    geo = ConvGeometry(3, 3, 1, 1, 1, 1, 1, 1, 1, 1, groups=8)
    taps, b = unshuffle_taps(np.ones((8, 1, 3, 3), np.float32), np.ones(8, np.float32), 2)
    assert unshuffle_depthwise_conv(np.ones((1, 8, 4, 4)), taps, b, geo, 2) is None  # float64
    assert unshuffle_depthwise_conv(np.ones((1, 6, 4, 4), np.float32), taps, b, geo, 2) is None  # channels


def shuffle_model(groups=4, channels=8, hw=6, second_reader=False, perm=(0, 2, 1, 3, 4), mult=1, relu=False):
    """Conv 1x1 (grouped) -> Relu -> channel shuffle -> depthwise Conv (+ optional Relu) -> Conv 1x1."""
    rng = np.random.default_rng(3)
    init = lambda name, shape: numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
    c = channels
    nodes = [
        helper.make_node("Conv", ["x", "w0", "b0"], ["a"], group=groups if c % groups == 0 else 1),
        helper.make_node("Relu", ["a"], ["r"]),
        helper.make_node("Reshape", ["r", "s5"], ["r5"]),
        helper.make_node("Transpose", ["r5"], ["t5"], perm=list(perm)),
        helper.make_node("Reshape", ["t5", "s4"], ["sh"]),
        helper.make_node("Conv", ["sh", "wd", "bd"], ["d"], group=c, pads=[1, 1, 1, 1], strides=[2, 2]),
    ]
    last = "d"
    if relu:
        nodes.append(helper.make_node("Relu", ["d"], ["dr"]))
        last = "dr"
    nodes.append(helper.make_node("Conv", [last, "w2"], ["y"], group=1))
    ho = (hw - 1) // 2 + 1
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5, ho, ho])]
    if second_reader:
        outputs.append(helper.make_tensor_value_info("sh", TensorProto.FLOAT, [1, c, hw, hw]))
    mid = [1, groups, c // groups, hw, hw]
    inits = [init("w0", (c, c // groups if c % groups == 0 else c, 1, 1)), init("b0", (c,)),
             numpy_helper.from_array(np.array(mid, np.int64), "s5"),
             numpy_helper.from_array(np.array([1, c, hw, hw], np.int64), "s4"),
             init("wd", (c * mult, 1, 3, 3)), init("bd", (c * mult,)), init("w2", (5, c * mult, 1, 1))]
    graph = helper.make_graph(nodes, "shuffle", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                               [1, c, hw, hw])], outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def test_the_chain_is_found_only_where_nothing_else_reads_it():
    g = from_onnx(shuffle_model())
    chains = shuffle_depthwise_chains(g)
    assert sorted(v for v in chains.values()) == [0, 0, 0, 4]
    assert shuffle_depthwise_chains(from_onnx(shuffle_model(second_reader=True))) == {}  # shuffled value observed


def test_the_chain_is_not_found_for_other_permutations():
    assert shuffle_depthwise_chains(from_onnx(shuffle_model(perm=(0, 1, 2, 4, 3)))) == {}


@pytest.mark.parametrize("precision", ["fp32", "adept"])
@pytest.mark.parametrize("relu", [False, True])
def test_fused_chain_gives_the_bits_of_the_nodes_one_by_one(precision, relu):
    """The executor with the chain fused equals fuse=False bit for bit (fp32 with NaN / inf / -0.0 inputs)."""
    graph = from_onnx(shuffle_model(relu=relu))
    x = specials(np.random.default_rng(9), (1, 8, 6, 6))
    if precision == "adept":
        x = np.random.default_rng(9).standard_normal((1, 8, 6, 6)).astype(np.float32)  # DACs refuse NaN / inf
    fused = prepare(graph, precision=precision)
    plain = prepare(graph, precision=precision, fuse=False)
    with np.errstate(all="ignore"):
        got = fused.run({"x": x}, seed=1).outputs["y"]
        want = plain.run({"x": x}, seed=1).outputs["y"]
    assert any(entry[-1] for entry in fused._plan()) and not any(entry[-1] for entry in plain._plan())
    assert np.array_equal(bits(got), bits(want))


def test_fused_chain_without_the_c_loop_materialises_the_shuffle(monkeypatch):
    """An uncompiled tree (no C loop): the conv reads the materialised shuffle, the same bits."""
    graph = from_onnx(shuffle_model())
    x = specials(np.random.default_rng(2), (1, 8, 6, 6))
    with np.errstate(all="ignore"):
        want = prepare(graph, precision="fp32", fuse=False).run({"x": x}).outputs["y"]
        monkeypatch.setattr(shuffle_mod, "_depthwise", None)
        got = prepare(graph, precision="fp32").run({"x": x}).outputs["y"]
    assert np.array_equal(bits(got), bits(want))


def test_the_chain_is_not_found_for_a_depthwise_multiplier():
    """A multiplier > 1 maps input channels to several outputs: the shuffle is not a per-channel relabelling."""
    assert shuffle_depthwise_chains(from_onnx(shuffle_model(mult=2))) == {}
