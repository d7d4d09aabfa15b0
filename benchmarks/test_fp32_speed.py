"""fp32 mode vs onnxruntime on the onnx wheel's nine light models (issue 9, section 6: within 2x).

Both single-threaded (adept's BLAS at 1 thread, onnxruntime intra/inter-op 1 thread, no spinning),
rounds interleaved on the same input, ratio of medians measured in one run. Two weight sets:

- ``stock``: the files as shipped. They build every weight with ConstantOfShape (one value per
  tensor), which the fp32 reference's repeated-column rule (``docs/executor.md``) turns into
  one-column GEMMs; and their initializers are all listed as graph inputs (IR 3), so onnxruntime
  folds none of them. Both flatter adept.
- ``random``: the same graphs with seeded random weights of the same shapes
  (:func:`onnx_weights.random_weights`), initializers no longer graph inputs; adept and onnxruntime
  run the same rewritten model. This is the honest ratio (a trained model's GEMMs are full width).

    pytest benchmarks/test_fp32_speed.py -s -p no:cacheprovider --benchmark-columns=median
"""

from __future__ import annotations

import glob
import os
import statistics
import time

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")

import onnx  # noqa: E402

from adept_core.emulate import prepare  # noqa: E402
from adept_core.graph.onnx_import import from_onnx  # noqa: E402
from onnx_weights import random_weights  # noqa: E402

LIGHT = sorted(glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "*.onnx")))
TARGET_RATIO = 2.0


def ort_session(model: onnx.ModelProto):
    """A single-threaded, non-spinning onnxruntime CPU session (the baseline of every fp32 benchmark)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def compare(prepared, session, feeds: dict, rounds: int, cpu: dict | None = None) -> tuple[float, float, dict]:
    """Median wall seconds of adept and onnxruntime over ``rounds`` interleaved runs, and adept's last breakdown.

    ``cpu``, if given, receives the medians of the calling thread's CPU seconds too
    (``adept_cpu_s``, ``onnxruntime_cpu_s``): both sides compute on that one thread (BLAS at 1
    thread, onnxruntime's intra-op pool of 1 runs on the caller), so on a machine shared with
    other jobs the CPU-time ratio is the steadier one (it does not count time-slicing; it still
    counts the caches and memory bandwidth others share).
    """
    ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
    result = None
    for _ in range(rounds):
        c0, t0 = time.thread_time(), time.perf_counter()
        result = prepared.run(feeds)
        ours.append(time.perf_counter() - t0)
        ours_cpu.append(time.thread_time() - c0)
        c0, t0 = time.thread_time(), time.perf_counter()
        session.run(None, feeds)
        theirs.append(time.perf_counter() - t0)
        theirs_cpu.append(time.thread_time() - c0)
    if cpu is not None:
        cpu.update(adept_cpu_s=statistics.median(ours_cpu), onnxruntime_cpu_s=statistics.median(theirs_cpu))
    return statistics.median(ours), statistics.median(theirs), result.seconds


@pytest.mark.parametrize("weights", ["stock", "random"])
@pytest.mark.parametrize("path", LIGHT, ids=[os.path.basename(p)[6:-5] for p in LIGHT])
def test_fp32_vs_onnxruntime(benchmark, request, path, weights):
    model = onnx.load(path)
    if weights == "random":
        model = random_weights(model, seed=0)
    graph = from_onnx(model)
    (name,) = graph.inputs
    x = {name: np.random.default_rng(0).standard_normal(graph.inputs[name]).astype(np.float32)}
    prepared = prepare(graph, precision="fp32", blas_threads=1)
    session = ort_session(model)
    want = session.run(None, x)[0]
    got = next(iter(prepared.run(x).outputs.values()))  # programs the weights (one time)
    assert np.max(np.abs(got - want)) <= 1e-4 * np.max(np.abs(want))
    rounds = 1 if request.config.getoption("benchmark_disable") else 5
    cpu: dict = {}
    ours, theirs, seconds = compare(prepared, session, x, rounds, cpu)
    ratio = ours / theirs
    benchmark.pedantic(prepared.run, args=(x,), rounds=1, iterations=1)
    benchmark.extra_info.update({"adept_fp32_s": ours, "onnxruntime_s": theirs, "ratio": ratio,
                                 "target_ratio": TARGET_RATIO, "adept_seconds": seconds, **cpu})
    print(f"\n{os.path.basename(path)} [{weights}]: {report(ours, theirs, seconds, cpu)}")


def report(ours: float, theirs: float, seconds: dict, cpu: dict) -> str:
    """One line: wall medians and ratio, adept's time split, CPU-time medians and ratio."""
    split = ", ".join(f"{k} {v * 1e3:.1f}" for k, v in seconds.items() if k != "total")
    cpu_ratio = cpu["adept_cpu_s"] / cpu["onnxruntime_cpu_s"]
    return (f"adept fp32 {ours * 1e3:.1f} ms ({split}), onnxruntime {theirs * 1e3:.1f} ms, ratio {ours / theirs:.2f}; "
            f"CPU {cpu['adept_cpu_s'] * 1e3:.1f} / {cpu['onnxruntime_cpu_s'] * 1e3:.1f} ms, ratio {cpu_ratio:.2f} "
            f"(target <= {TARGET_RATIO})")
