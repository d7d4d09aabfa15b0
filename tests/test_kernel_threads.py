"""Thread counts are validated once, capped at the work, and pooled (issue 8, items 5 and 6)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from adept_core import ConfigError, PhotonicCore, PhotonicGemmSpec
from adept_core.kernels import BACKEND_NAMES
from adept_core.kernels.spec import MAX_THREADS

F32 = np.float32


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("threads", [2**40, 2**31 - 1, MAX_THREADS + 1])
def test_too_many_threads_is_the_same_config_error_everywhere(backend, threads):
    core = PhotonicCore(np.ones((7, 3), F32), PhotonicGemmSpec())
    with pytest.raises(ConfigError, match=rf"threads must be at most {MAX_THREADS} .*got {threads}"):
        core(np.ones((5, 7), F32), backend=backend, threads=threads)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_tiny_gemm_starts_no_thread_whatever_it_asks_for(backend):
    # 5x7x3 is one work item on every backend: the caller's thread does it alone.
    gen = np.random.default_rng(1)
    x, w = gen.standard_normal((5, 7)).astype(F32), gen.standard_normal((7, 3)).astype(F32)
    core = PhotonicCore(w)
    ref = core(x, backend="numpy").out
    core(x, backend=backend, threads=1)  # compile / load outside the count
    before = _os_threads()
    y = core(x, backend=backend, threads=MAX_THREADS).out
    assert _os_threads() - before <= 0
    assert np.array_equal(y, ref)


_POOL_SCRIPT = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from adept_core import PhotonicCore
    def os_threads():
        for line in open("/proc/self/status"):
            if line.startswith("Threads:"):
                return int(line.split()[1])
    gen = np.random.default_rng(0)
    x = gen.standard_normal((512, 64)).astype(np.float32)
    core = PhotonicCore(gen.standard_normal((64, 512)).astype(np.float32))
    ref = core(x, backend="numpy").out
    for backend in sys.argv[1:]:
        core(x, backend=backend, threads=1)
        base = os_threads()
        for t in range(2, 42):
            assert np.array_equal(core(x, backend=backend, threads=t).out, ref), (backend, t)
        print(backend, base, os_threads(), flush=True)
    print("exit", time.monotonic(), flush=True)
""")


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
@pytest.mark.parametrize("backend", ["numba", "cpp"])
def test_pools_are_reused_bounded_and_torn_down(backend):
    proc = subprocess.run([sys.executable, "-c", _POOL_SCRIPT, backend], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")
    name, base, after = lines[0].split()
    # One pool of at most the largest team (41 threads, the caller's included), not one per count.
    assert int(after) - int(base) <= 40, proc.stdout
    # Idle pool threads must not hold up interpreter exit (5000 of them once took 28 s). CLOCK_MONOTONIC
    # is system-wide, so the child's stamp compares with ours; 10 s is far above a clean exit.
    assert lines[1].startswith("exit")
    assert time.monotonic() - float(lines[1].split()[1]) < 10.0
