"""Cost of the AVX2 kernel body per ADC conversion, part by part (issue 10's speed analysis).

``native/avx2_block_cost.cpp`` includes ``cpp/src/kernel_avx2.cpp`` and times its block body on operands that
stay in cache: one output block of 64 rows x 128 columns x 9 tiles (a ResNet-50 conv, 784 x 1152 x 128), the
best of 10 repetitions. numpy's ``x @ w`` on the whole conv, (784, 1152, 128), one thread, best of 40, is
the yardstick: numpy's time divided by that GEMM's 784 * 128 * 9 conversions (a 64-row GEMM alone would flatter
the kernel: OpenBLAS is ~30 % slower per MAC there). The two alternate, 7 rounds, and the ratio is the median
of the per-round ratios: this machine's speed drifts by up to 1.6x over seconds (seen here), which a kernel
phase followed by a numpy phase would read as a kernel change. docs/kernel.md ("Where the AVX2 time goes")
reads this table. Run by hand:

    OPENBLAS_NUM_THREADS=1 pytest benchmarks/test_avx2_block_cost.py -s

The C++ file is compiled with the flags CMakeLists.txt gives kernel_avx2.cpp (-O3 -mavx2 -ffp-contract=off).
With ``--benchmark-disable`` (CI smoke) it runs one round of 2 repetitions and checks only that the measurement
works.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import time

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "native", "avx2_block_cost.cpp")
INCLUDE = os.path.join(HERE, os.pardir, "cpp", "include")
CXX = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")


def _has_avx2() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return " avx2 " in f.read().replace("\n", " ")
    except OSError:
        return False


pytestmark = [
    pytest.mark.skipif(CXX is None, reason="no C++ compiler to build native/avx2_block_cost.cpp"),
    pytest.mark.skipif(not _has_avx2(), reason="the AVX2 body runs only on CPUs with AVX2"),
]


def _numpy_ns_per_conversion(reps: int) -> float:
    gen = np.random.default_rng(0)
    x = gen.standard_normal((784, 1152), dtype=np.float32)
    w = gen.standard_normal((1152, 128), dtype=np.float32)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        x @ w
        best = min(best, time.perf_counter() - t0)
    return best * 1e9 / (784 * 128 * 9)


def test_avx2_block_cost_per_conversion(benchmark, request, tmp_path):
    smoke = bool(request.config.getoption("benchmark_disable"))
    binary = tmp_path / "avx2_block_cost"
    subprocess.run([CXX, "-std=c++17", "-O3", "-mavx2", "-ffp-contract=off", "-fno-fast-math", f"-I{INCLUDE}",
                    SOURCE, "-o", str(binary)], check=True, capture_output=True, text=True, timeout=300)
    reps, rounds = (2, 1) if smoke else (10, 7)

    def one_round():
        out = subprocess.run([str(binary), str(reps)], check=True, capture_output=True, text=True, timeout=600)
        return [json.loads(line) for line in out.stdout.splitlines()], _numpy_ns_per_conversion(reps)

    results = benchmark.pedantic(lambda: [one_round() for _ in range(rounds)], rounds=1, iterations=1)
    parts = results[0][0]
    names = {p["part"] for p in parts}
    assert {"block_noise_off", "block_abfp", "block_dual_rail_abfp", "partial_sums_coherent"} <= names
    assert all(p["finite"] and p["ns_per_conversion"] > 0 for r, _ in results for p in r)
    ns = {p["part"]: statistics.median(dict((q["part"], q["ns_per_conversion"]) for q in r)[p["part"]]
                                       for r, _ in results) for p in parts}
    ratio = {name: statistics.median(dict((q["part"], q["ns_per_conversion"]) for q in r)[name] / base
                                     for r, base in results) for name in ns}
    numpy_ns = statistics.median(base for _, base in results)
    benchmark.extra_info.update({"ns_per_conversion": ns, "ratio_to_numpy": ratio, "numpy_ns": numpy_ns})
    if smoke:
        return
    print(f"\nper ADC conversion (a 784 x 1152 x 128 conv, 1 thread), medians of {rounds} rounds: "
          f"numpy x @ w {numpy_ns:.2f} ns")
    for name in ns:
        if name.endswith("_per_input"):  # per element of X, not per conversion: no ratio
            print(f"  {name:34s} {ns[name]:6.2f} ns per input element")
        else:
            print(f"  {name:34s} {ns[name]:6.2f} ns  {ratio[name]:5.2f}x numpy")
