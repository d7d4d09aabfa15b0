"""Graph -> ONNX export (adept_core.graph.onnx_export): round trip and agreement with onnxruntime on the zoo."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from adept_core.emulate import prepare  # noqa: E402
from adept_core.errors import UnsupportedOpError  # noqa: E402
from adept_core.graph import zoo  # noqa: E402
from adept_core.graph.ir import Graph, Node  # noqa: E402
from adept_core.graph.onnx_export import OPSET, to_onnx  # noqa: E402
from adept_core.graph.onnx_import import from_onnx  # noqa: E402
from adept_core.graph.zoo import bert_large  # noqa: E402


def zoo_feeds(graph: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs in each zoo input's documented range (token ids, segment ids 0/1, mask all 1, labels < 28)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, shape in graph.inputs.items():
        if graph.input_dtypes.get(name, "float32") == "int64":
            high = {"input_ids": bert_large.VOCAB, "token_type_ids": 2, "attention_mask": 2}.get(name, 28)
            feeds[name] = np.ones(shape, np.int64) if name == "attention_mask" else rng.integers(0, high, shape)
        else:
            feeds[name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def _small(name: str, monkeypatch) -> Graph:
    if name == "bert-large":
        monkeypatch.setattr(bert_large, "LAYERS", 1)  # every op of the 24-layer model, 1/24 of the weights
        return zoo.build(name, seq_len=8)
    if name == "rnnt":
        return zoo.build(name, utterance_s=0.36, symbols=4)
    return zoo.build(name)


@pytest.mark.parametrize("name", ["resnet50", "bert-large", "rnnt"])
def test_zoo_round_trip_is_bit_exact_and_matches_onnxruntime(name, monkeypatch):
    graph = _small(name, monkeypatch)
    model = to_onnx(graph)
    assert model.opset_import[0].version == OPSET
    feeds = zoo_feeds(graph)
    want = prepare(graph, precision="fp32").run(feeds).outputs
    back = from_onnx(model)
    got = prepare(back, precision="fp32").run(feeds).outputs
    assert list(got) == list(want)
    for key in want:
        assert got[key].shape == want[key].shape
        assert np.array_equal(got[key].view(np.uint32), want[key].view(np.uint32)), key
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for key, theirs in zip(want, session.run(None, feeds)):
        assert np.max(np.abs(theirs - want[key])) <= 1e-4 * np.max(np.abs(theirs)), key


def test_canonical_attributes_become_onnx_inputs():
    graph = Graph("t", {"x": (2, 6)}, ["y"],
                  [Node("s", "Slice", ("x",), ("a",), {"starts": [1], "ends": [5], "axes": [1], "steps": [2]}),
                   Node("c", "Clip", ("a",), ("b",), {"min": 0.0, "max": float("inf")}),
                   Node("r", "Reshape", ("b",), ("y",), {"shape": [4]})],
                  {}, {"x": (2, 6), "a": (2, 2), "b": (2, 2), "y": (4,)})
    model = to_onnx(graph)
    ops = {n.op_type: list(n.input) for n in model.graph.node}
    assert ops == {"Slice": ["x", "s.starts", "s.ends", "s.axes", "s.steps"], "Clip": ["a", "c.min"],
                   "Reshape": ["b", "r.shape"]}
    x = np.arange(12, dtype=np.float32).reshape(2, 6) - 6
    got = prepare(from_onnx(model), precision="fp32").run({"x": x}).outputs["y"]
    assert np.array_equal(got, np.maximum(x[:, 1:5:2], 0).reshape(4))


def test_reference_kernel_nodes_are_refused_by_name():
    graph = Graph("t", {"x": (2,)}, ["y"], [Node("odd", "Hardmax", ("x",), ("y",), {"onnx_opset": 13})],
                  {}, {"x": (2,), "y": (2,)})
    with pytest.raises(UnsupportedOpError, match="'odd'.*Hardmax.*opset 13"):
        to_onnx(graph)
