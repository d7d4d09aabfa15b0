"""Sweep throughput: cost-model points per second, serial vs a 2-worker LocalCluster, and Dask's overhead per point.

Read the medians of one run as ratios (docs/sweep.md quotes them):

- ``test_cost_points[serial]`` vs ``test_cost_points[localcluster-2]``: the
  same 64 ResNet-50 cost points evaluated in this process or on two
  single-threaded worker processes (cluster start-up excluded: it is paid
  once per sweep, ~2-4 s). The speed-up is bounded by the 2 cores, which
  the driver process (submitting, receiving, building rows) shares.
- ``test_overhead_per_point[...]``: 256 points of an evaluator that does
  nothing, so the time is all engine and Dask overhead, at 1, 4, 16 and 256
  points per task. ``dask-256`` (a single task) is the fixed cost of a
  distributed sweep (one round trip, pickling the points); the slope from it
  to ``dask-1`` is the cost of one task. It is why points are batched
  (``auto_points_per_task``).

Every benchmark checks its answer (row count, no error, numbers equal to the
serial run's), so ``--benchmark-disable`` is a smoke test.
"""

from __future__ import annotations

import pytest

from adept_core.dse import run_sweep

COST_SPEC = {
    "workloads": ["resnet50"],
    "axes": {
        "photonic.num_cores": [1, 2, 4, 8],
        "core_size": {"keys": ["photonic.rows", "photonic.cols"], "values": [64, 128, 256, 512]},
        "photonic.clock_ghz": [5.0, 10.0],
        "batch": [1, 8],
    },
}
NUM_COST_POINTS = 4 * 4 * 2 * 2
OVERHEAD_SPEC = {"workloads": ["resnet50"], "axes": {"seed": {"from": 0, "to": 255, "step": 1}}}
NUM_OVERHEAD_POINTS = 256


def nothing(point):
    """An evaluator with no work: what remains is the engine's and Dask's overhead."""
    return {"seed_echo": point.seed}


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        # Warm the workers (imports, zoo graph cache) so the timings measure steady-state sweeping.
        run_sweep(COST_SPEC, client=c, points_per_task=8)
        yield c


@pytest.fixture(scope="module")
def serial_reference():
    return _numbers(run_sweep(COST_SPEC, workers=0).table)


def _numbers(table):
    return table.select(["point_hash", "inferences_per_s", "power_w", "energy_per_inference_j"]).to_pylist()


def _record(benchmark, points: int) -> None:
    if not benchmark.disabled:
        median = benchmark.stats.stats.median
        benchmark.extra_info["points_per_s"] = points / median
        benchmark.extra_info["s_per_point"] = median / points


@pytest.mark.parametrize("where", ["serial", "localcluster-2"])
def test_cost_points(benchmark, where, request, serial_reference):
    benchmark.group = "sweep: 64 ResNet-50 cost points"
    kwargs = {"workers": 0} if where == "serial" else {"client": request.getfixturevalue("client")}
    result = benchmark.pedantic(lambda: run_sweep(COST_SPEC, **kwargs), rounds=3, iterations=1)
    assert result.computed == NUM_COST_POINTS and result.failed == 0 and result.lost == 0
    assert _numbers(result.table) == serial_reference
    _record(benchmark, NUM_COST_POINTS)


@pytest.mark.parametrize("points_per_task", [None, 1, 4, 16, 256],
                         ids=["serial", "dask-1", "dask-4", "dask-16", "dask-256"])
def test_overhead_per_point(benchmark, points_per_task, request):
    benchmark.group = "sweep: 256 no-op points (engine + Dask overhead)"
    if points_per_task is None:
        run = lambda: run_sweep(OVERHEAD_SPEC, workers=0, evaluator=nothing)  # noqa: E731
    else:
        client = request.getfixturevalue("client")
        run = lambda: run_sweep(OVERHEAD_SPEC, client=client, evaluator=nothing,  # noqa: E731
                                points_per_task=points_per_task)
    result = benchmark.pedantic(run, rounds=3, iterations=1)
    assert result.computed == NUM_OVERHEAD_POINTS and result.failed == 0
    assert result.table.column("seed_echo").to_pylist() == list(range(NUM_OVERHEAD_POINTS))
    _record(benchmark, NUM_OVERHEAD_POINTS)
