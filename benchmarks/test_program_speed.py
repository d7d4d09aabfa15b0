"""Programming a core: packing a 4096 x 4096 int8 weight matrix into the kernel's tile layout.

Every design point of a sweep reprograms the cores, and BERT-large has ~300 M weights, so packing is part
of what a sweep waits for. The yardstick is numpy's transposed copy of the same int8 matrix
(``np.ascontiguousarray(qw.T)``: one strided read and one write of every code, as the packing does).
Measured 2026-12-04 on the 2-core AVX2 VM: 54.5 ms against 148 ms (0.37x); before the checks in the packing
loop stopped building their error text for every weight, 656 ms (4.4x). Run by hand:

    pytest benchmarks/test_program_speed.py -s
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

from adept_core.kernels.registry import available_backends

pytestmark = pytest.mark.skipif("cpp" not in available_backends(), reason="C++ extension not built")
TARGET = 1.0  # packing at most as slow as one transposed copy


def test_pack_weights_vs_a_transposed_copy(benchmark, request):
    from adept_core import _native as native

    smoke = bool(request.config.getoption("benchmark_disable"))
    n = 512 if smoke else 4096
    qw = np.random.default_rng(0).integers(-127, 128, (n, n)).astype(np.int8)
    rounds = 1 if smoke else 7
    ratios = []
    for _ in range(rounds):  # paired: each round times both
        t0 = time.perf_counter()
        native.pack_weights(qw, 128, False)
        pack = time.perf_counter() - t0
        t0 = time.perf_counter()
        np.ascontiguousarray(qw.T)
        ratios.append(pack / (time.perf_counter() - t0))
    packed = benchmark.pedantic(native.pack_weights, args=(qw, 128, False), rounds=1, iterations=1)
    assert packed.k == n and packed.n == n
    ratio = statistics.median(ratios)
    benchmark.extra_info.update({"ratio_to_transposed_copy": ratio, "target_ratio": TARGET})
    if not smoke:
        print(f"\npack_weights {n} x {n}: {ratio:.2f}x numpy's transposed copy "
              f"(target <= {TARGET:.1f}x: {'met' if ratio <= TARGET else 'NOT met'})")
