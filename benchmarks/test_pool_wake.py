"""What a sleeping pool thread costs a 2-thread GEMM issued after an idle gap (docs/kernel.md, "Worker threads").

The C++ backend's pool threads poll (yielding) for ``ADEPT_POOL_SPIN_US`` after a job, then sleep.
Each case runs in its own process (the backend reads the variable when it makes its pool): a
784 x 1152 x 128 GEMM (ResNet-50 conv3_x), all three noise terms, called after ``gap_ms`` of
sleep, medians over the rounds, on 1 thread and on 2; the speed-up 1T / 2T is the number to read
(both threads' times are measured in the same process, alternately). Single-threaded OpenBLAS.

    pytest benchmarks/test_pool_wake.py -s -p no:cacheprovider
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

native = pytest.importorskip("adept_core._native", reason="C++ extension not built (pip install -e .)")

_SCRIPT = textwrap.dedent("""
    import hashlib, json, statistics, sys, time
    import numpy as np
    from adept_core import NoiseSpec, PhotonicCore, PhotonicGemmSpec
    gap_s, rounds = float(sys.argv[1]) / 1e3, int(sys.argv[2])
    gen = np.random.default_rng(0)
    x = gen.standard_normal((784, 1152), dtype=np.float32)
    core = PhotonicCore(gen.standard_normal((1152, 128), dtype=np.float32),
                        PhotonicGemmSpec(noise=NoiseSpec(sigma_const=2.0, shot_coeff=0.5, rin_coeff=1e-3)))
    fs = core.calibrate_full_scale(x[:8])
    times, digests = {1: [], 2: []}, set()
    for threads in (1, 2):
        core(x, seed=1, adc_full_scale=fs, backend="cpp", threads=threads)  # pack; start the pool
    for _ in range(rounds):
        for threads in (1, 2):
            time.sleep(gap_s)
            t0 = time.perf_counter()
            y = core(x, seed=1, adc_full_scale=fs, backend="cpp", threads=threads).out
            times[threads].append(time.perf_counter() - t0)
            digests.add(hashlib.sha256(y.tobytes()).hexdigest())
    print(json.dumps({"ms_1t": 1e3 * statistics.median(times[1]), "ms_2t": 1e3 * statistics.median(times[2]),
                      "digests": sorted(digests)}))
""")


@pytest.mark.parametrize("gap_ms", [0, 20])
@pytest.mark.parametrize("spin", ["0", "default"])
def test_two_threads_after_an_idle_gap(benchmark, request, gap_ms, spin):
    rounds = 2 if request.config.getoption("benchmark_disable") else 41
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env.pop("ADEPT_POOL_SPIN_US", None)
    if spin != "default":
        env["ADEPT_POOL_SPIN_US"] = spin

    def run():
        out = subprocess.run([sys.executable, "-c", _SCRIPT, str(gap_ms), str(rounds)], env=env, check=True,
                             capture_output=True, text=True, timeout=300)
        return json.loads(out.stdout.strip().splitlines()[-1])

    report = benchmark.pedantic(run, rounds=1, iterations=1)
    assert len(report["digests"]) == 1  # 1 and 2 threads, asleep or polling: the same bits
    speedup = report["ms_1t"] / report["ms_2t"]
    benchmark.extra_info.update(report, speedup_2t=speedup)
    spin_us = native.WorkerPool.default_spin_us if spin == "default" else int(spin)
    print(f"\nspin {spin_us} us, gap {gap_ms} ms: 1 thread {report['ms_1t']:.2f} ms, 2 threads "
          f"{report['ms_2t']:.2f} ms, speed-up {speedup:.2f}")
