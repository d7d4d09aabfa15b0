"""Iso-accuracy search wall time: the default ``adept isoaccuracy`` (issue 11: under 10 minutes on 2 cores)
and the ``--quick`` subset (under 60 s, CI's smoke pass).

One round each (a search is minutes, not microseconds); docs/isoaccuracy.md quotes the measured times.
Every benchmark checks its answer (every (model, design) present, reached rows carry numbers,
unreachable rows a reason and none), so ``--benchmark-disable`` is a smoke test.
"""

from __future__ import annotations

import pytest

from adept_core.cli import main

pytest.importorskip("pyarrow")


def _run(tmp_path, *flags):
    import pyarrow.parquet as pq

    out = tmp_path / "iso.parquet"
    if out.exists():
        out.unlink()  # every round searches from scratch (no resume)
    assert main(["isoaccuracy", *flags, "--out", str(out), "--format", "csv"]) == 0
    return pq.read_table(out).to_pylist()


def _check(rows, models, designs):
    assert {(r["model"], r["design"]) for r in rows} == {(m, d) for m in models for d in designs}
    for r in rows:
        assert (r["ips_per_w_ratio"] is not None) == (r["status"] == "reached")
        assert r["status"] == "reached" or r["reason"]


def test_quick(benchmark, tmp_path):
    from adept_core.isoaccuracy import QUICK_DESIGNS

    rows = benchmark.pedantic(_run, args=(tmp_path, "--quick"), rounds=1, iterations=1)
    _check(rows, ["efficientnet-lite0"], [d.name for d in QUICK_DESIGNS])


def test_default(benchmark, tmp_path):
    from adept_core.isoaccuracy import DEFAULT_DESIGNS

    rows = benchmark.pedantic(_run, args=(tmp_path,), rounds=1, iterations=1)
    _check(rows, ["minilm", "efficientnet-lite0"], [d.name for d in DEFAULT_DESIGNS])
