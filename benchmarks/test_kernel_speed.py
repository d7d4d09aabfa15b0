"""Speed of the C++ photonic GEMM against numpy float32 ``x @ w`` (issue 2, section 4).

Noise on (all three terms, so the per-element sqrt runs), 8/8/8 bits, 128 x 128 core, weights
programmed before timing, ADC range calibrated on the input (outside the timed call). Each
shape is one benchmark group; the conftest prints each median as a ratio to numpy's.
Targets: <= 1.0x on the ResNet-50 / BERT-large shapes, <= 2.0x on the RNN-T LSTM steps.

The group ``resnet50 layers`` times every GEMM of ResNet-50 at batch 1 (the 54 convolution /
fully-connected calls of ``graph.lowering.gemm_calls`` over the zoo graph, ReLU-like inputs)
back to back: the kernel's share of an emulated ResNet-50 inference, against numpy's x @ w on
the same shapes.

Every benchmark checks its answer: the cpp output equals the NumPy oracle bit for bit on the
first rows, and its error against float32 matmul is bounded.

On a machine shared with other jobs, wall-clock ratios of two multi-threaded libraries mostly
measure the neighbours. Compare one core with one core in CPU time instead::

    OPENBLAS_NUM_THREADS=1 ADEPT_BENCH_THREADS=1 \
        pytest benchmarks/test_kernel_speed.py --benchmark-timer=time.process_time
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import pytest

from adept_core import NoiseSpec, PhotonicCore, PhotonicGemmSpec
from adept_core.kernels.registry import available_backends

SHAPES = {  # (M, K, N) -> speed target (ratio to numpy)
    (3136, 576, 64): 1.0,    # ResNet-50 conv2_x 3x3 (im2col)
    (784, 1152, 128): 1.0,   # ResNet-50 conv3_x 3x3
    (384, 1024, 4096): 1.0,  # BERT-large FFN up
    (384, 4096, 1024): 1.0,  # BERT-large FFN down
    (1, 2048, 4096): 2.0,    # RNN-T LSTM step, batch 1
    (64, 1024, 4096): 2.0,   # RNN-T LSTM step, batch 64
}
#: Partial-sum units. Assumption: a mid-range link budget; all three terms on so the
#: general (sqrt per element) noise path is the one timed.
NOISE = NoiseSpec(sigma_const=2.0, shot_coeff=0.5, rin_coeff=1e-3)
SEED = 123
CHECK_ROWS = 2
#: Kernel threads (None: every core the process may use); see the module docstring.
THREADS = int(os.environ.get("ADEPT_BENCH_THREADS", "0")) or None

needs_cpp = pytest.mark.skipif("cpp" not in available_backends(), reason="C++ extension not built")


@lru_cache(maxsize=1)  # one shape alive at a time keeps memory small
def _problem(shape):
    m, k, n = shape
    gen = np.random.default_rng(sum(shape))
    x = gen.standard_normal((m, k), dtype=np.float32)
    w = gen.standard_normal((k, n), dtype=np.float32)
    core = PhotonicCore(w, PhotonicGemmSpec(noise=NOISE))
    full_scale = core.calibrate_full_scale(x[:8])  # a few rows keep the numpy int64 pass short
    return x, w, core, full_scale


@lru_cache(maxsize=1)
def _resnet50_layers():
    """One (x, w, core, full_scale) per ResNet-50 GEMM call, in network order."""
    from adept_core.graph.lowering import gemm_calls
    from adept_core.graph.zoo import build

    graph = build("resnet50")
    problems = []
    for node in graph.nodes:
        for call in gemm_calls(node, graph):
            for _ in range(call.count):
                gen = np.random.default_rng(len(problems))
                # post-ReLU activations, as every ResNet-50 GEMM but the first sees
                x = np.maximum(gen.standard_normal((call.m, call.k), dtype=np.float32), 0.0)
                w = gen.standard_normal((call.k, call.n), dtype=np.float32)
                core = PhotonicCore(w, PhotonicGemmSpec(noise=NOISE))
                problems.append((x, w, core, core.calibrate_full_scale(x[:8])))
    return problems


def _group(shape):
    return "gemm {}x{}x{}".format(*shape)


def _cases():
    for shape in SHAPES:  # numpy and cpp of one shape run back to back on the same data
        yield pytest.param(shape, "numpy_matmul", id=f"{_group(shape)}-numpy_matmul")
        yield pytest.param(shape, "cpp_core", id=f"{_group(shape)}-cpp_core", marks=needs_cpp)


@pytest.mark.parametrize("shape, impl", list(_cases()))
def test_kernel_speed(benchmark, shape, impl):
    x, w, core, full_scale = _problem(shape)
    benchmark.group = _group(shape)
    if impl == "numpy_matmul":
        y = benchmark(np.matmul, x, w)
        assert y.shape == (x.shape[0], w.shape[1]) and np.isfinite(y).all()
        return
    benchmark.extra_info["target_ratio"] = SHAPES[shape]

    def run():
        return core(x, seed=SEED, adc_full_scale=full_scale, backend="cpp", threads=THREADS)

    run()  # pack the weights for this tile length once, as a programmed core would be
    y, stats = benchmark(run)
    ref = core(x[:CHECK_ROWS], seed=SEED, adc_full_scale=full_scale, x_scale=stats.x_scale, backend="numpy").out
    assert np.array_equal(y[:CHECK_ROWS], ref)
    exact = x.astype(np.float64) @ w.astype(np.float64)
    rel = np.linalg.norm(y - exact) / np.linalg.norm(exact)
    assert rel < 0.2, f"relative error {rel:.3f} vs float matmul"


@pytest.mark.parametrize("impl", [
    pytest.param("numpy_matmul", id="resnet50 layers-numpy_matmul"),
    pytest.param("cpp_core", id="resnet50 layers-cpp_core", marks=needs_cpp),
])
def test_resnet50_layers_speed(benchmark, impl):
    problems = _resnet50_layers()
    assert len(problems) == 54  # 53 convolutions + the classifier
    benchmark.group = "resnet50 layers"
    if impl == "numpy_matmul":
        ys = benchmark(lambda: [x @ w for x, w, _, _ in problems])
        assert all(np.isfinite(y).all() for y in ys)
        return
    benchmark.extra_info["target_ratio"] = 1.0

    def run():
        return [core(x, seed=SEED, call_key=i, adc_full_scale=fs, backend="cpp", threads=THREADS)
                for i, (x, _, core, fs) in enumerate(problems)]

    run()  # pack every core's weights once
    for i, ((x, _, core, fs), (y, stats)) in enumerate(zip(problems, benchmark(run))):
        ref = core(x[:CHECK_ROWS], seed=SEED, call_key=i, adc_full_scale=fs, x_scale=stats.x_scale, backend="numpy").out
        assert np.array_equal(y[:CHECK_ROWS], ref), f"layer {i}: cpp differs from the NumPy oracle"
