"""What run-time shape binding costs (issue 9, sections 4 and 6).

A PreparedModel of an ONNX graph fed inputs of other (non-batch) shapes re-imports the model at
those shapes and caches the bound model per input signature (``PreparedModel._rebound``). Measured
on models whose ONNX graph is valid at any image size (no shape-dependent Reshape): the zoo's
ResNet-50 (exported, seeded random weights; GlobalAveragePool + Flatten + Gemm) and the onnx wheel's
light SqueezeNet (random weights; ends in GlobalAveragePool), imported at 224x224, run at 240, 256
and 272 (three new signatures; medians over them):

- ``static``: a graph imported at the new size (``from_onnx(model, input_shapes=...)``, ``prepare``):
  its first run (which programs the weights) and its warm runs;
- ``bound first``: the 224 model's first call at the new size (re-import + prepare + first run);
- ``bound cached``: its later calls at that size (signature lookup, then the bound model's run).

The binding's own cost is ``bound first - static first`` (import and prepare at the new shapes)
once per signature, and ``bound cached / static`` per call. fp32, single-threaded BLAS, medians.

    pytest benchmarks/test_binding_speed.py -s -p no:cacheprovider --benchmark-columns=median
"""

from __future__ import annotations

import glob
import os
import statistics
import time

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from adept_core.emulate import prepare  # noqa: E402
from adept_core.graph import zoo  # noqa: E402
from adept_core.graph.onnx_export import to_onnx  # noqa: E402
from adept_core.graph.onnx_import import from_onnx  # noqa: E402
from onnx_weights import random_weights  # noqa: E402

NEW_SIZES = (240, 256, 272)
ROUNDS = 5


def _model(name: str) -> onnx.ModelProto:
    if name == "resnet50":
        return to_onnx(zoo.build("resnet50"))
    light = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "light_squeezenet.onnx")
    return random_weights(onnx.load(glob.glob(light)[0]), seed=0)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


@pytest.mark.parametrize("name", ["resnet50", "squeezenet"])
def test_binding_cost(benchmark, name):
    model = _model(name)
    declared = from_onnx(model)
    (inp,) = declared.inputs
    bound = prepare(declared, precision="fp32", blas_threads=1)
    bound.run({inp: np.zeros(declared.inputs[inp], np.float32)})  # its own signature (and the process) warm

    # One new signature per size: the first call of each is a binding (medians over the sizes).
    by_hand, first, parts = [], [], []
    static = x = None
    for hw in NEW_SIZES:
        shape = declared.inputs[inp][:2] + (hw, hw)
        x = {inp: np.random.default_rng(hw).standard_normal(shape).astype(np.float32)}
        import_s, static_graph = _timed(lambda: from_onnx(model, input_shapes={inp: shape}))
        prepare_s, static = _timed(lambda: prepare(static_graph, precision="fp32", blas_threads=1))
        run_s, want = _timed(lambda: static.run(x))
        bind_s, got = _timed(lambda: bound.run(x))
        (key,) = want.outputs
        assert np.array_equal(got.outputs[key], want.outputs[key])  # the same model at the same shapes
        by_hand.append(import_s + prepare_s + run_s)
        first.append(bind_s)
        parts.append((import_s, prepare_s, run_s))

    warm, cached = [], []
    for _ in range(ROUNDS):  # the last size, interleaved
        warm.append(_timed(lambda: static.run(x))[0])
        cached.append(_timed(lambda: bound.run(x))[0])
    warm_s, cached_s = statistics.median(warm), statistics.median(cached)
    hand_s, first_s = statistics.median(by_hand), statistics.median(first)
    import_s, prepare_s, run_s = (statistics.median(p[i] for p in parts) for i in range(3))
    benchmark.pedantic(bound.run, args=(x,), rounds=1, iterations=1)
    benchmark.extra_info.update({"import_s": import_s, "prepare_s": prepare_s, "static_first_s": run_s,
                                 "by_hand_s": hand_s, "bound_first_s": first_s, "static_warm_s": warm_s,
                                 "bound_cached_s": cached_s, "sizes": list(NEW_SIZES)})
    print(f"\n{name} at {NEW_SIZES}: by hand import {import_s * 1e3:.0f} + prepare {prepare_s * 1e3:.0f} + first run "
          f"{run_s * 1e3:.0f} = {hand_s * 1e3:.0f} ms; bound first call {first_s * 1e3:.0f} ms "
          f"({first_s / hand_s:.2f}x "
          f"by hand, {first_s / warm_s:.1f}x a warm run); warm static {warm_s * 1e3:.1f} ms, bound cached "
          f"{cached_s * 1e3:.1f} ms ({cached_s / warm_s:.3f}x)")
