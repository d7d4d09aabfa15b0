"""fp32 mode vs onnxruntime on the onnx wheel's nine light models (issue 9, section 6: within 2x).

Both single-threaded (adept's BLAS at 1 thread, onnxruntime intra/inter-op 1 thread, no spinning),
rounds interleaved on the same input, ratio of medians measured in one run. Caveat: the light
models build every weight with ConstantOfShape (one value per tensor), which the fp32 reference's
repeated-column rule (``docs/executor.md``) turns into one-column GEMMs, so these ratios understate
the GEMM cost of a trained model of the same shape (measured before that rule, in
/work/notes/speed-readme.md: 0.86-3.0x).

    pytest benchmarks/test_fp32_speed.py -s --benchmark-columns=median
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

LIGHT = sorted(glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "*.onnx")))
TARGET_RATIO = 2.0


@pytest.mark.parametrize("path", LIGHT, ids=[os.path.basename(p)[6:-5] for p in LIGHT])
def test_fp32_vs_onnxruntime(benchmark, request, path):
    model = onnx.load(path)
    graph = from_onnx(model)
    (name,) = graph.inputs
    x = {name: np.random.default_rng(0).standard_normal(graph.inputs[name]).astype(np.float32)}
    prepared = prepare(graph, precision="fp32", blas_threads=1)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    want = session.run(None, x)[0]
    got = next(iter(prepared.run(x).outputs.values()))  # programs the weights (one time)
    assert np.max(np.abs(got - want)) <= 1e-4 * np.max(np.abs(want))
    rounds = 1 if request.config.getoption("benchmark_disable") else 5
    ours, theirs = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        prepared.run(x)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        session.run(None, x)
        theirs.append(time.perf_counter() - t0)
    ratio = statistics.median(ours) / statistics.median(theirs)
    benchmark.pedantic(prepared.run, args=(x,), rounds=1, iterations=1)
    benchmark.extra_info.update({"adept_fp32_s": statistics.median(ours), "onnxruntime_s": statistics.median(theirs),
                                 "ratio": ratio, "target_ratio": TARGET_RATIO})
    print(f"\n{os.path.basename(path)}: adept fp32 {statistics.median(ours) * 1e3:.1f} ms, "
          f"onnxruntime {statistics.median(theirs) * 1e3:.1f} ms, ratio {ratio:.2f} (target <= {TARGET_RATIO})")
