"""Benchmark helpers: print, per group, each benchmark's median as a ratio to numpy's x @ w.

Speed targets are ratios measured in one run (issue 2, section 4); this table is what the
README quotes. A benchmark whose name contains ``numpy_matmul`` is the baseline of their group.
"""

from __future__ import annotations

import pytest

BASELINE = "numpy_matmul"
_RATIOS: list[tuple[str, str, float, object]] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_benchmark_group_stats(config, benchmarks, group_by):
    outcome = yield
    _RATIOS.clear()
    for group, benches in outcome.get_result():
        base = [b for b in benches if BASELINE in b["name"]]
        if len(base) != 1 or not base[0]["median"]:
            continue
        for b in benches:
            if b is not base[0]:
                impl = b["name"].rsplit("-", 1)[-1].rstrip("]")
                target = (b.get("extra_info") or {}).get("target_ratio")
                _RATIOS.append((group or "", impl, b["median"] / base[0]["median"], target))


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    if not _RATIOS:
        return
    terminalreporter.section("median time / median numpy float32 x @ w (same run)")
    for group, impl, ratio, target in _RATIOS:
        verdict = "" if target is None else f"  (target <= {target:.1f}x: {'met' if ratio <= target else 'NOT met'})"
        terminalreporter.write_line(f"{group:22s} {impl:12s} {ratio:6.2f}x{verdict}")
