"""Emulation speed (issue 4, section 5): ResNet-50 vs onnxruntime, BERT-large and RNN-T per inference.

Ratios are measured in one run: the ResNet-50 test interleaves emulation and
onnxruntime rounds on the same input and compares medians. BERT-large and
RNN-T run in a fresh subprocess (``emulate_probe.py``) so the peak RSS is
theirs alone; with ``--benchmark-disable`` (CI smoke) they use reduced sizes
(BERT seq 16, RNN-T 0.6 s), the full sizes otherwise. Manual full-size run:

    pytest benchmarks/test_emulate_speed.py -s --benchmark-columns=median
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")

import onnx  # noqa: E402

from adept_core.emulate import compare, prepare  # noqa: E402
from adept_core.graph.onnx_import import from_onnx  # noqa: E402
from adept_core.hardware import kernel_spec, load_config  # noqa: E402

LIGHT_RESNET50 = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light",
                              "light_resnet50.onnx")
PROBE = os.path.join(os.path.dirname(__file__), "emulate_probe.py")
#: Peak RSS limits of issue 4 (MB).
RSS_LIMIT_MB = {"resnet50": 2048, "bert-large": 6144}


def _smoke(config) -> bool:
    return bool(config.getoption("benchmark_disable"))


def _median_time(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@pytest.mark.skipif(not os.path.exists(LIGHT_RESNET50), reason="onnx wheel without light_resnet50.onnx")
def test_resnet50_emulation_vs_onnxruntime(benchmark, request):
    graph = from_onnx(LIGHT_RESNET50)
    (name,) = graph.inputs
    x = {name: np.random.default_rng(0).standard_normal(graph.inputs[name]).astype(np.float32)}
    spec = kernel_spec(load_config("adept"))
    assert spec.noise.enabled
    model = prepare(graph, spec=spec, backend="auto")
    # onnxruntime's intra-op threads spin after each run by default and take both cores from whatever
    # runs next in the process (here: the emulator, interleaved for equal machine load). Measured on the
    # 2-core CI machine: interleaved, onnxruntime took 38.5-39.2 ms with spinning and 39.0-39.7 ms
    # without, while the emulator's kernel took 61-62 ms next to a spinning session and 43-45 ms
    # without. Back to back on its own, onnxruntime's median was 38.3 ms with spinning and 41.9 ms
    # without, so the README also quotes the ratio against the spinning standalone time.
    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(LIGHT_RESNET50, options, providers=["CPUExecutionProvider"])
    ort_out = session.run(None, x)[0]
    model.run(x, progress=False)  # programs the cores (one-time, like loading the model into ORT)

    rounds = 1 if _smoke(request.config) else 7
    emu_times, ort_times = [], []
    for i in range(rounds):  # interleaved, so both see the same machine load
        emu_times.append(_median_time(lambda: model.run(x, seed=i, progress=False), 1))
        ort_times.append(_median_time(lambda: session.run(None, x), 1))
    ratio = statistics.median(emu_times) / statistics.median(ort_times)
    result = benchmark.pedantic(model.run, args=(x,), kwargs={"seed": 0, "progress": False}, rounds=1, iterations=1)
    out = next(iter(result.outputs.values()))
    fid = compare(out, ort_out, classifier=True)
    assert fid.top1_agreement == 1.0 and fid.rel_error < 0.05, fid
    benchmark.extra_info.update({
        "emulation_s": statistics.median(emu_times), "onnxruntime_s": statistics.median(ort_times),
        "ratio_emulation_over_onnxruntime": ratio, "target_ratio": 1.5, "breakdown_s": result.seconds,
    })
    print(f"\nResNet-50 batch 1: emulation {statistics.median(emu_times) * 1e3:.1f} ms, onnxruntime "
          f"{statistics.median(ort_times) * 1e3:.1f} ms, ratio {ratio:.2f} (target <= 1.5); breakdown {result.seconds}")


def _probe(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, PROBE, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("model, full, reduced", [
    ("resnet50", ["--samples", "8"], ["--samples", "2", "--repeats", "1"]),
    ("bert-large", ["--seq-len", "384"], ["--seq-len", "16", "--repeats", "1"]),
    ("rnnt", ["--utterance-s", "7.2"], ["--utterance-s", "0.6", "--repeats", "1"]),
])
def test_zoo_seconds_per_inference_and_peak_rss(benchmark, request, model, full, reduced):
    args = [model] + (reduced if _smoke(request.config) else full)
    report = benchmark.pedantic(_probe, args=(args,), rounds=1, iterations=1)
    assert report["output_finite"]
    s = report["breakdown_s"]
    # Python glue (executor bookkeeping) must be a small share of an inference.
    assert s["glue"] < 0.05 * s["total"] + 0.01, s
    if model in RSS_LIMIT_MB:
        assert report["peak_rss_mb"] < RSS_LIMIT_MB[model], report
    benchmark.extra_info.update(report)
    print(f"\n{model} {report['params']}: {report['per_inference_s']:.2f} s per inference ({report['gmac']:.1f} GMAC), "
          f"{report['samples']} streamed per run, "
          f"first run {report['first_run_s']:.2f} s, breakdown {s}, peak RSS {report['peak_rss_mb']:.0f} MB")
