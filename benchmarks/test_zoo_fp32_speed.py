"""fp32 mode vs onnxruntime on the zoo (ResNet-50, BERT-large, RNN-T) via the ONNX exporter (issue 9, section 6).

The zoo has no ONNX files and no trained weights: each model is exported with its seeded random
weights (:func:`adept_core.graph.onnx_export.to_onnx`), and adept runs ``from_onnx`` of that file,
as a user would, against onnxruntime on the same file. Single-threaded both sides, rounds
interleaved, ratio of medians of one run (as ``test_fp32_speed.py``). Sizes (a benchmark must finish
on a shared 2-core machine): ResNet-50 at batch 1; BERT-large at sequence length 64 (all 24
layers; 384 takes seconds per inference on both sides); RNN-T on a 1.2 s utterance emitting 17
symbols (the default 7.2 s / 107 scaled by 1/6: all five encoder and two prediction LSTMs).

    pytest benchmarks/test_zoo_fp32_speed.py -s -p no:cacheprovider --benchmark-columns=median

With ``--benchmark-disable`` (CI smoke) the models are reduced (BERT-large one layer at sequence 8,
RNN-T 0.36 s / 4 symbols) and run one round: the export, the import and the comparison are exercised,
the ratio is not measured.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from adept_core.emulate import prepare  # noqa: E402
from adept_core.graph import zoo  # noqa: E402
from adept_core.graph.zoo import bert_large  # noqa: E402
from adept_core.graph.onnx_export import to_onnx  # noqa: E402
from adept_core.graph.onnx_import import from_onnx  # noqa: E402
from test_fp32_speed import TARGET_RATIO, compare, ort_session, report  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from test_onnx_export import zoo_feeds  # noqa: E402

SIZES = {"resnet50": {"batch": 1}, "bert-large": {"seq_len": 64}, "rnnt": {"utterance_s": 1.2, "symbols": 17}}
SMOKE_SIZES = {"resnet50": {"batch": 1}, "bert-large": {"seq_len": 8}, "rnnt": {"utterance_s": 0.36, "symbols": 4}}


@pytest.mark.parametrize("name", list(SIZES))
def test_zoo_fp32_vs_onnxruntime(benchmark, request, name, monkeypatch):
    smoke = request.config.getoption("benchmark_disable")
    if smoke and name == "bert-large":
        monkeypatch.setattr(bert_large, "LAYERS", 1)  # every op of the 24-layer model, 1/24 of the weights
    size = (SMOKE_SIZES if smoke else SIZES)[name]
    model = to_onnx(zoo.build(name, **size))
    graph = from_onnx(model)
    feeds = zoo_feeds(graph)
    prepared = prepare(graph, precision="fp32", blas_threads=1)
    session = ort_session(model)
    want = session.run(None, feeds)
    got = list(prepared.run(feeds).outputs.values())  # programs the weights (one time)
    for ours, theirs in zip(got, want):
        assert np.max(np.abs(ours - theirs)) <= 1e-4 * np.max(np.abs(theirs))
    rounds = 1 if smoke else 5
    cpu: dict = {}
    ours, theirs, seconds = compare(prepared, session, feeds, rounds, cpu)
    benchmark.pedantic(prepared.run, args=(feeds,), rounds=1, iterations=1)
    benchmark.extra_info.update({"adept_fp32_s": ours, "onnxruntime_s": theirs, "ratio": ours / theirs,
                                 "target_ratio": TARGET_RATIO, "adept_seconds": seconds, "size": size, **cpu})
    print(f"\n{name} {size}: {report(ours, theirs, seconds, cpu)}")
