"""Speed of the analytical cost model (issue 3, section 6).

Budgets: a full report of each workload from scratch (build the Graph, lower
it, schedule, price, build every layer's row) in under 50 ms; 1,000 design
points (core size x bits x cores x clock) in under 5 s in one process. The
budgets are checked on the median when benchmarking is enabled; every
benchmark also checks its answer, so ``--benchmark-disable`` is a smoke test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from adept_core.energy import evaluate, evaluate_many
from adept_core.graph import zoo
from adept_core.graph.lowering import graph_macs
from adept_core.hardware import load_config, with_overrides

REPORT_BUDGET_S = 0.050
SWEEP_BUDGET_S = 5.0

#: 5 core sizes x 4 resolutions x 5 core counts x 10 clocks = 1,000 designs.
GRID = {
    "size": (32, 64, 128, 256, 512),
    "bits": (4, 6, 8, 10),
    "cores": (1, 2, 4, 8, 16),
    "clock_ghz": (1.0, 2.0, 4.0, 5.0, 8.0, 10.0, 12.0, 16.0, 20.0, 25.0),
}


def _within_budget(benchmark, budget_s: float) -> None:
    if not benchmark.disabled:
        assert benchmark.stats.stats.median < budget_s


@pytest.mark.parametrize("workload", zoo.ZOO_NAMES)
@pytest.mark.parametrize("preset", ["adept", "systolic"])
def test_full_report_from_scratch(benchmark, workload, preset):
    cfg = load_config(preset)
    report = benchmark(lambda: evaluate(zoo.build(workload), cfg))
    assert report.macs == graph_macs(zoo.build(workload))
    assert math.fsum(report.energy_breakdown_j.values()) == pytest.approx(report.energy_per_inference_j, rel=1e-12)
    assert report.inferences_per_s_per_w > 0
    _within_budget(benchmark, REPORT_BUDGET_S)


def _design_points(base):
    return [
        with_overrides(base, {
            "photonic.rows": size, "photonic.cols": size, "photonic.input_bits": bits, "photonic.weight_bits": bits,
            "photonic.adc_bits": bits, "photonic.num_cores": cores, "photonic.clock_ghz": clock,
        })
        for size, bits, cores, clock in itertools.product(*GRID.values())
    ]


def test_thousand_design_points(benchmark):
    base = load_config("adept")
    graph = zoo.build("resnet50")
    result = benchmark.pedantic(lambda: evaluate_many(graph, _design_points(base)), rounds=3, iterations=1)
    ips = result.inferences_per_s.reshape([len(v) for v in GRID.values()])
    assert ips.size == 1000
    assert np.all(np.isfinite(result.inferences_per_s_per_w)) and np.all(result.inferences_per_s_per_w > 0)
    # More cores never lower throughput, a faster clock never either.
    assert np.all(np.diff(ips, axis=2) >= -1e-9 * ips[:, :, :-1])
    assert np.all(np.diff(ips, axis=3) >= -1e-9 * ips[:, :, :, :-1])
    _within_budget(benchmark, SWEEP_BUDGET_S)
