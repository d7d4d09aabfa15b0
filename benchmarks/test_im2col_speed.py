"""Does the Cython im2col earn its place? Cython vs NumPy (sliding_window_view) on ResNet-50 conv shapes.

Both lowerings of every non-pointwise ResNet-50 convolution (batch 1; the
1x1 convs take a shared zero-copy path and are excluded) are timed in
interleaved rounds in one run; the ratio of the summed medians is reported
and the outputs must be identical.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

from adept_core.asic.im2col import ConvGeometry, cython_available, im2col

pytestmark = pytest.mark.skipif(not cython_available(), reason="Cython im2col not built (pip install -e .)")

#: (channels, height/width of the input, kernel, stride, pad) of ResNet-50's spatial convolutions.
RESNET50_SPATIAL = [
    (3, 224, 7, 2, 3),      # stem
    (64, 56, 3, 1, 1),      # layer1 conv2 (x3)
    (128, 56, 3, 2, 1),     # layer2.0 conv2
    (128, 28, 3, 1, 1),     # layer2 conv2 (x3)
    (256, 28, 3, 2, 1),     # layer3.0 conv2
    (256, 14, 3, 1, 1),     # layer3 conv2 (x5)
    (512, 14, 3, 2, 1),     # layer4.0 conv2
    (512, 7, 3, 1, 1),      # layer4 conv2 (x2)
]


def _cases():
    rng = np.random.default_rng(0)
    for c, hw, k, s, p in RESNET50_SPATIAL:
        yield rng.standard_normal((1, c, hw, hw)).astype(np.float32), ConvGeometry(k, k, s, s, 1, 1, p, p, p, p)


def test_cython_im2col_vs_numpy_resnet50(benchmark, request):
    cases = list(_cases())
    rounds = 1 if request.config.getoption("benchmark_disable") else 9
    totals = {"cython": [], "numpy": []}
    for _ in range(rounds):
        for impl in ("cython", "numpy"):
            t0 = time.perf_counter()
            for x, geo in cases:
                im2col(x, geo, impl)
            totals[impl].append(time.perf_counter() - t0)
    for x, geo in cases:
        assert np.array_equal(im2col(x, geo, "cython"), im2col(x, geo, "numpy"))
    benchmark.pedantic(lambda: [im2col(x, g, "cython") for x, g in cases], rounds=1, iterations=1)
    cy, npy = statistics.median(totals["cython"]), statistics.median(totals["numpy"])
    benchmark.extra_info.update({"cython_s": cy, "numpy_s": npy, "speedup": npy / cy})
    print(f"\nim2col over ResNet-50's spatial convs: Cython {cy * 1e3:.1f} ms, NumPy {npy * 1e3:.1f} ms, "
          f"speedup {npy / cy:.2f}x")
