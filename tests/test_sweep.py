"""Sweep engine on the real cost model: serial vs a 2-process LocalCluster, worker death, resume, crash safety.

Points are evaluated by the built-in evaluator (``adept_core.energy.evaluate``
on zoo graphs). The fault and resume tests wrap it in :class:`Hooked`, which
can log, interrupt or kill its own process at a chosen point; its
``sweep_id`` is fixed so all its variants hash points alike and resume one
another's results. A 0.01 MiB SRAM cannot hold ResNet-50's first layer: the
cost model raises for those points (an impossible design found by a worker).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from adept_core.energy import evaluate
from adept_core.errors import ConfigError
from adept_core.graph import zoo
from adept_core.hardware import load_config
from adept_core.dse import evaluate_point, read_results, run_sweep
from adept_core.dse import store as store_mod

SPEC = {
    "name": "engine-test",
    "workloads": ["resnet50"],
    "axes": {
        "sram.capacity_mib": [0.01, 16.0, 64.0, 256.0],   # 0.01 MiB: the cost model raises
        "photonic.num_cores": [1, 2, 4],
        "batch": [1, 8],
    },
}
NUM_POINTS = 4 * 3 * 2
NUM_FAILING = 3 * 2


class Interrupt(BaseException):
    """Stands for Ctrl-C: not an Exception, so it is not recorded as a failed point."""


class Hooked:
    """The built-in evaluator, plus hooks keyed by (SRAM MiB, cores, batch).

    Parameters
    ----------
    log : str, optional
        File that gets a line "hash pid" per successfully evaluated point (short appends are atomic).
    interrupt_at, kill_at : tuple, optional
        The point at which to raise :class:`Interrupt` / SIGKILL the process.
    kill_marker : str, optional
        Created (holding the pid) before the kill; if it already exists the kill is skipped (kill once).
    """

    sweep_id = "builtin-with-test-hooks"

    def __init__(self, log=None, interrupt_at=None, kill_at=None, kill_marker=None):
        self.log, self.interrupt_at, self.kill_at, self.kill_marker = log, interrupt_at, kill_at, kill_marker

    def __call__(self, point):
        key = (point.config.sram.capacity_mib, point.config.photonic.num_cores, point.batch)
        if key == self.interrupt_at:
            raise Interrupt()
        if key == self.kill_at:
            try:
                fd = os.open(self.kill_marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)
        metrics = evaluate_point(point)
        if self.log:
            with open(self.log, "a") as fh:
                fh.write(f"{point.point_hash} {os.getpid()}\n")
        return metrics


def _evaluated(log: Path) -> list[str]:
    """Hashes of the points evaluated, in order, one per evaluation."""
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def _metrics(table) -> dict[str, tuple]:
    """point_hash -> every value except the timing column, for exact comparison."""
    cols = [c for c in table.column_names if c != "eval_time_s"]
    rows = table.select(cols).to_pylist()
    return {row["point_hash"]: tuple(sorted(row.items())) for row in rows}


@pytest.fixture(scope="module")
def client():
    """A real LocalCluster of 2 single-threaded worker processes, shared by the Dask tests."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


def test_serial_run_has_one_row_per_point_with_units_and_provenance(tmp_path):
    result = run_sweep(SPEC, out=tmp_path / "r.parquet", workers=0)
    table = result.table
    assert (result.total, result.computed, result.skipped, result.lost) == (NUM_POINTS, NUM_POINTS, 0, 0)
    assert table.num_rows == NUM_POINTS
    for col in ("workload", "sram.capacity_mib", "photonic.num_cores", "batch", "seed", "latency_s",
                "inferences_per_s", "power_w", "inferences_per_s_per_w", "energy_per_inference_j",
                "energy_breakdown_laser_j", "error", "adept_version", "config_hash", "point_hash"):
        assert col in table.column_names, col
    assert "layers" not in table.column_names
    assert len(set(table.column("point_hash").to_pylist())) == NUM_POINTS
    rows = table.to_pylist()
    failed = [r for r in rows if r["error"]]
    assert len(failed) == result.failed == NUM_FAILING
    assert all(r["sram.capacity_mib"] == 0.01 and "do not fit in SRAM" in r["error"] for r in failed)
    assert all(r["latency_s"] is None for r in failed)
    # A row holds exactly what the cost model says for that design.
    row = next(r for r in rows if (r["sram.capacity_mib"], r["photonic.num_cores"], r["batch"]) == (16.0, 2, 8))
    cfg = load_config("adept", {"sram.capacity_mib": 16.0, "photonic.num_cores": 2})
    report = evaluate(zoo.build("resnet50", batch=8), cfg, batch=8).to_dict()
    for key in ("latency_s", "inferences_per_s", "power_w", "inferences_per_s_per_w", "energy_per_inference_j"):
        assert row[key] == report[key], key
    assert row["energy_breakdown_adc_j"] == report["energy_breakdown_j"]["adc"]
    assert row["config_hash"] == report["provenance"]["config_hash"]
    # The file on disk holds exactly the returned rows (and no journal is left).
    assert _metrics(pq.read_table(tmp_path / "r.parquet")) == _metrics(table)
    assert not (tmp_path / "r.parquet.journal").exists()


def test_localcluster_gives_identical_numbers_to_serial(tmp_path, client):
    serial = run_sweep(SPEC, out=tmp_path / "serial.parquet", workers=0).table
    dist = run_sweep(SPEC, client=client, out=tmp_path / "dask.parquet", points_per_task=3).table
    assert dist.num_rows == NUM_POINTS
    assert _metrics(dist) == _metrics(serial)
    # Rows come back in spec order whatever order the tasks finished in.
    assert dist.column("point_hash").to_pylist() == serial.column("point_hash").to_pylist()


def test_scheduler_address_and_own_localcluster_give_the_same_numbers(client):
    """The two other ways to get workers: a running scheduler's address, and a LocalCluster started for the call."""
    spec = {"workloads": ["rnnt"], "axes": {"photonic.num_cores": [1, 4], "batch": [1, 2]}}
    serial = run_sweep(spec, workers=0).table
    by_address = run_sweep(spec, client=client.scheduler.address).table
    own_cluster = run_sweep(spec, workers=2).table
    assert _metrics(by_address) == _metrics(serial) == _metrics(own_cluster)
    assert by_address.num_rows == 4


def test_a_killed_worker_costs_only_its_in_flight_points(tmp_path, client):
    log, marker = tmp_path / "evaluated.log", tmp_path / "killed"
    evaluator = Hooked(log=str(log), kill_at=(64.0, 1, 8), kill_marker=str(marker))
    result = run_sweep(SPEC, client=client, out=tmp_path / "r.parquet", evaluator=evaluator, points_per_task=2)
    assert marker.exists(), "the worker was never killed: the test did not test anything"
    table = read_results(tmp_path / "r.parquet")
    hashes = table.column("point_hash").to_pylist()
    assert result.lost == 0 and len(hashes) == len(set(hashes)) == NUM_POINTS
    serial = run_sweep(SPEC, out=None, workers=0, evaluator=Hooked()).table
    assert _metrics(table) == _metrics(serial)
    # Only the killed worker's points were evaluated twice: those of its running task and of finished
    # tasks whose results it had not handed over yet. Points evaluated by the survivor never were.
    killed_pid = marker.read_text()
    evaluations = [line.split() for line in log.read_text().splitlines()]
    first_pid = {}
    for h, pid in evaluations:
        first_pid.setdefault(h, pid)
    repeated = {h for h, _ in evaluations if [e[0] for e in evaluations].count(h) > 1}
    assert all(first_pid[h] == killed_pid for h in repeated)
    assert set(first_pid) == {r["point_hash"] for r in table.to_pylist() if not r["error"]}
    # A handful of tasks at most (observed 1-5 points of 24): nowhere near rerunning the sweep.
    assert len(evaluations) - len(first_pid) <= NUM_POINTS // 2


def test_interrupted_sweep_resumes_with_only_missing_points(tmp_path):
    out, log = tmp_path / "r.parquet", tmp_path / "evaluated.log"
    with pytest.raises(Interrupt):
        run_sweep(SPEC, out=out, workers=0, points_per_task=1, checkpoint_s=0.0,
                  evaluator=Hooked(log=str(log), interrupt_at=(16.0, 4, 1)))
    first = read_results(out)
    done_before = set(first.column("point_hash").to_pylist())
    assert first.num_rows == 10  # every point before (16 MiB, 4 cores, batch 1) in spec order
    result = run_sweep(SPEC, out=out, workers=0, evaluator=Hooked(log=str(log)))
    assert (result.skipped, result.computed) == (first.num_rows, NUM_POINTS - first.num_rows)
    evaluated = _evaluated(log)
    assert len(evaluated) == len(set(evaluated)), "a point was evaluated twice"
    assert result.table.num_rows == NUM_POINTS
    assert done_before <= set(result.table.column("point_hash").to_pylist())
    # A finished sweep rerun does nothing (and starts no cluster: workers=None would start one).
    again = run_sweep(SPEC, out=out, evaluator=Hooked(log=str(log)))
    assert (again.computed, again.skipped, again.table.num_rows) == (0, NUM_POINTS, NUM_POINTS)
    assert _evaluated(log) == evaluated


def test_hard_crash_of_the_driver_loses_only_in_flight_points(tmp_path):
    """SIGKILL the sweeping process itself: no cleanup runs; checkpoints must already be on disk."""
    out, marker, log = tmp_path / "r.parquet", tmp_path / "killed", tmp_path / "evaluated.log"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_sweep import SPEC, Hooked
        from adept_core.dse import run_sweep
        run_sweep(SPEC, out={str(out)!r}, workers=0, points_per_task=1, checkpoint_s=0.0,
                  evaluator=Hooked(log={str(log)!r}, kill_at=(64.0, 1, 1), kill_marker={str(marker)!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not out.exists() and (tmp_path / "r.parquet.journal").is_dir()
    before = _evaluated(log)
    partial = read_results(out)  # the journal alone is a readable result
    assert partial.num_rows == 12  # points before (64 MiB, 1 core, batch 1) in spec order
    result = run_sweep(SPEC, out=out, workers=0, evaluator=Hooked(log=str(log)))
    assert (result.skipped, result.computed, result.table.num_rows) == (12, NUM_POINTS - 12, NUM_POINTS)
    # The 12 remaining points all succeed (the failing 0.01 MiB ones came first) and are logged once each.
    assert len(_evaluated(log)) == len(before) + 12
    assert not (tmp_path / "r.parquet.journal").exists()


def test_a_failed_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    out = tmp_path / "r.parquet"
    run_sweep(SPEC, out=out, workers=0)
    before = out.read_bytes()

    def broken_write(table, where, **kwargs):
        where.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(store_mod.pq, "write_table", broken_write)
    spec = {**SPEC, "axes": {**SPEC["axes"], "batch": [1, 8, 16]}}
    with pytest.raises(OSError, match="disk full"):
        run_sweep(spec, out=out, workers=0, checkpoint_s=0.0)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_impossible_configs_are_recorded_and_the_sweep_goes_on(tmp_path):
    spec = {"workloads": ["rnnt"], "axes": {"photonic.num_cores": [0, 2], "photonic.adc_bits": [8, 99]}}
    result = run_sweep(spec, out=tmp_path / "r.parquet", workers=0)
    rows = {(r["photonic.num_cores"], r["photonic.adc_bits"]): r for r in result.table.to_pylist()}
    assert len(rows) == 4 and result.failed == 3
    assert rows[(2, 8)]["error"] == "" and rows[(2, 8)]["latency_s"] > 0
    assert "photonic.num_cores" in rows[(0, 8)]["error"] and "ConfigError" in rows[(0, 8)]["error"]
    assert "photonic.adc_bits" in rows[(2, 99)]["error"]


def test_unknown_axis_key_is_rejected_before_anything_runs(tmp_path):
    spec = {"workloads": ["resnet50"], "axes": {"photonic.num_coers": [1, 2]}}
    with pytest.raises(ConfigError, match=r"photonic\.num_coers.*known keys: .*photonic\.num_cores"):
        run_sweep(spec, out=tmp_path / "r.parquet", workers=0)
    with pytest.raises(ConfigError, match="whole section"):
        run_sweep({"workloads": ["resnet50"], "axes": {"photonic": [1]}}, workers=0)
    assert not (tmp_path / "r.parquet").exists()
    with pytest.raises(ConfigError, match="pass one or the other"):
        run_sweep({"workloads": ["rnnt"]}, client="tcp://127.0.0.1:1", workers=2)
    with pytest.raises(ConfigError, match="workers must be an integer >= 0"):
        run_sweep({"workloads": ["rnnt"]}, workers=-1)


def test_linked_axis_sets_every_key(tmp_path):
    spec = {"workloads": ["resnet50"],
            "axes": {"core_size": {"keys": ["photonic.rows", "photonic.cols"], "values": [64, 256]}}}

    result = run_sweep(spec, workers=0, evaluator=_core_shape)
    assert [(r["core_size"], r["rows"], r["cols"]) for r in result.table.to_pylist()] == [(64, 64, 64),
                                                                                         (256, 256, 256)]


def test_an_evaluator_that_returns_no_dict_fails_its_points_clearly():
    result = run_sweep({"workloads": ["rnnt"], "axes": {"batch": [1, 2]}}, workers=0, evaluator=_no_metrics)
    assert result.failed == 2
    assert result.table.column("error").to_pylist() == ["TypeError: the evaluator returned float, not a dict of "
                                                         "metrics"] * 2


def _no_metrics(point):
    return 1.0


def _core_shape(point):
    return {"rows": point.config.photonic.rows, "cols": point.config.photonic.cols}


def test_top_level_api_returns_a_pyarrow_table_always(tmp_path, monkeypatch):
    import types

    import pyarrow

    import adept_core

    # The result type must not depend on what happens to be importable: pretend pandas is.
    monkeypatch.setitem(sys.modules, "pandas", types.ModuleType("pandas"))
    out = adept_core.sweep({"workloads": ["rnnt"], "axes": {"batch": [1, 2]}}, out=tmp_path / "r.parquet", workers=0)
    assert type(out) is pyarrow.Table  # even when pandas is importable (dask usually brings it)
    assert out.num_rows == 2 and out.column("batch").to_pylist() == [1, 2]
