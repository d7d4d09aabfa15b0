"""The zoo: exact shapes of known layers, MAC totals of the three workloads, parameter scaling."""

import numpy as np
import pytest

from adept_core.errors import ConfigError
from adept_core.graph import LazyWeight, gemm_calls, graph_macs, node_macs
from adept_core.graph.ops import CANONICAL_ATTRS, GRAPH_OPS
from adept_core.graph.zoo import ZOO_NAMES, build
from adept_core.graph.zoo.rnnt import greedy_path


def _node(graph, name):
    return next(n for n in graph.nodes if n.name == name)


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_every_model_validates_with_lazy_weights_and_documented_inputs(name):
    g = build(name)
    g.validate()
    for node in g.nodes:
        for value in (*node.inputs, *node.outputs):
            assert value == "" or value in g.shapes
    big = [w for w in g.weights.values() if not isinstance(w, LazyWeight)]
    assert all(np.asarray(w).size <= 1024 for w in big)  # only small constants are concrete
    assert set(g.meta["inputs"]) == set(g.inputs)
    for node in g.nodes:  # the canonical form of adept_core.graph.ops
        assert node.op in GRAPH_OPS, node.name
        assert set(CANONICAL_ATTRS.get(node.op, ())) <= set(node.attrs), node.name


# MAC totals: ResNet-50 v1.5 is exactly 4.089e9 to four digits (the published figure is rounded there);
# BERT-large 123.2e9 and its attention 7.25e9 to the published rounding; RNN-T "about 7.1" -> within 0.05e9.
def test_resnet50_macs_and_layers():
    g = build("resnet50")
    assert round(graph_macs(g) / 1e9, 3) == 4.089
    assert g.shape("conv1") == (1, 64, 112, 112)
    assert g.shape("maxpool") == (1, 64, 56, 56)
    # v1.5: the stride sits on the 3x3 conv of the first block of stage 2.
    assert g.shape("layer2.0.conv1") == (1, 128, 56, 56)
    assert g.shape("layer2.0.conv2") == (1, 128, 28, 28)
    assert g.shape("layer4.2.relu3") == (1, 2048, 7, 7)
    assert g.shape("fc") == (1, 1000)
    (call,) = gemm_calls(_node(g, "layer1.0.conv2"), g)
    assert (call.m, call.k, call.n) == (56 * 56, 64 * 9, 64)
    assert 25.5e6 < g.parameter_count() < 25.7e6


def test_bert_large_macs_and_layers():
    g = build("bert-large")
    assert round(graph_macs(g) / 1e9, 1) == 123.2
    attention = sum(node_macs(n, g) for n in g.nodes if n.op == "MatMul" and not g.is_weight(n.inputs[1]))
    assert round(attention / 1e9, 2) == 7.25
    assert g.shape("encoder.0.attention.scores") == (1, 16, 384, 384)
    assert g.shape("encoder.23.ffn.intermediate") == (1, 384, 4096)
    assert g.shape("start_logits") == (1, 384)
    ops = {n.op for n in g.nodes}
    assert {"Gather", "LayerNormalization", "Softmax", "Gelu", "Mul", "Add"} <= ops
    (call,) = gemm_calls(_node(g, "encoder.5.attention.context"), g)
    assert (call.m, call.k, call.n, call.count, call.weight) == (384, 384, 64, 16, None)


def test_rnnt_macs_and_layers():
    g = build("rnnt")
    assert abs(graph_macs(g) - 7.1e9) < 0.05e9
    assert g.shape("encoder.time_major") == (240, 1, 240)
    assert g.shape("encoder.stack_time.time_major") == (120, 1, 2048)
    assert g.shape("encoder.post_rnn.2.Y") == (120, 1, 1, 1024)
    assert g.shape("prediction.dec_rnn.1.squeeze") == (108, 1, 320)
    assert g.shape("joint.concat") == (227, 1, 1344)
    assert g.shape("joint.fc2.add_bias") == (227, 1, 29)
    lstm = _node(g, "encoder.pre_rnn.0")
    assert g.shape(lstm.inputs[1]) == (1, 4096, 240)
    assert g.shape(lstm.inputs[2]) == (1, 4096, 1024)
    assert g.shape(lstm.inputs[3]) == (1, 8192)
    two = build("rnnt", batch=2)
    for value, axis in two.meta["batch_axes"].items():  # the declared batch axis is the one that holds the batch
        assert two.shape(value)[axis] == 2 and g.shape(value)[axis] == 1


def test_greedy_path_is_monotone_and_complete():
    t, u = greedy_path(120, 107)
    assert t.size == 120 + 107
    steps = np.diff(t) + np.diff(u)
    assert np.all(steps == 1)  # each joint step advances exactly one of t (blank) or u (symbol)
    assert (t[0], u[0], t[-1], u[-1]) == (0, 0, 119, 107)


@pytest.mark.parametrize(("name", "params", "factor"), [
    ("resnet50", {"batch": 4}, 4),
    ("bert-large", {"batch": 2}, 2),
    ("rnnt", {"batch": 3}, 3),
])
def test_macs_scale_linearly_with_batch(name, params, factor):
    assert graph_macs(build(name, **params)) == factor * graph_macs(build(name))


def test_bert_sequence_scaling_separates_linear_and_quadratic_parts():
    def macs(seq):
        return graph_macs(build("bert-large", seq_len=seq))
    linear = 24 * (4 * 1024 * 1024 + 2 * 1024 * 4096) + 1024 * 2
    quadratic = 24 * 2 * 1024
    for seq in (128, 384, 512):
        assert macs(seq) == linear * seq + quadratic * seq * seq


def test_rnnt_utterance_and_symbol_scaling():
    base = build("rnnt")
    longer = build("rnnt", utterance_s=14.4, symbols=214)
    assert longer.shape("encoder.stack_time.time_major")[0] == 240
    encoder = sum(node_macs(n, base) for n in base.nodes if n.name.startswith("encoder"))
    encoder_long = sum(node_macs(n, longer) for n in longer.nodes if n.name.startswith("encoder"))
    assert encoder_long == 2 * encoder
    one_more = build("rnnt", symbols=108)
    per_symbol = 4 * 320 * 640 * 2 + (1344 * 512 + 512 * 29)  # two prediction LSTM steps + one joint step
    assert graph_macs(one_more) - graph_macs(base) == per_symbol
    assert build("rnnt", utterance_s=7.25).meta["frames"] == 726  # padded to a whole 60 ms group


def test_weights_are_deterministic_and_independent_of_batch():
    a, b = build("resnet50", batch=1), build("resnet50", batch=2)
    np.testing.assert_array_equal(a.weight("layer3.1.conv2.weight"), b.weight("layer3.1.conv2.weight"))
    assert not np.array_equal(a.weight("layer3.1.conv2.weight")[0], a.weight("layer3.2.conv2.weight")[0])
    std = a.weight("fc.weight").std()  # He-normal, fan_in 2048; 2 M samples pin the std to well under 1 %
    assert abs(std - np.sqrt(2 / 2048)) < 0.01 * np.sqrt(2 / 2048)


@pytest.mark.parametrize(("name", "params", "match"), [
    ("vgg16", {}, "unknown zoo model"),
    ("resnet50", {"seq_len": 3}, "no parameter"),
    ("resnet50", {"batch": 0}, "batch"),
    ("bert-large", {"seq_len": 513}, "seq_len"),
    ("rnnt", {"utterance_s": -1.0}, "utterance_s"),
    ("rnnt", {"symbols": 2.5}, "symbols"),
])
def test_bad_parameters_are_config_errors(name, params, match):
    with pytest.raises(ConfigError, match=match):
        build(name, **params)
