"""Sweeps against careless and hostile input (issue 8 items 3, 9, 11, 12, 13).

Loopback-only clusters, grids sized before expansion, workload-parameter typos, one writer per
results file, axis types checked against the file, foreign / truncated files named with the fix.
Every refusal must come before any point is evaluated: the evaluators here log each call.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adept_core.dse import load_spec, read_results, run_sweep
from adept_core.dse.spec import DEFAULT_MAX_POINTS
from adept_core.errors import ConfigError

CALLS: list[str] = []


def _const(point):
    """A cheap evaluator (no cost model) that records every call."""
    CALLS.append(point.point_hash)
    return {"latency_s": 1.0}


@pytest.fixture(autouse=True)
def no_calls():
    CALLS.clear()
    yield


def _spec(axes: dict, workloads=("resnet50",)) -> dict:
    return {"workloads": list(workloads), "axes": axes}


# --- 3: the LocalCluster faces the loopback interface only ------------------------------------------------


def _bound_hosts(cluster) -> set[str]:
    """Hosts the scheduler's and workers' comms and the dashboard's HTTP server listen on."""
    hosts = {cluster.scheduler_address.split("://")[1].rsplit(":", 1)[0]}
    hosts |= {address.split("://")[1].rsplit(":", 1)[0] for address in cluster.scheduler_info["workers"]}
    sockets = cluster.scheduler.http_server._sockets.values()
    hosts |= {sock.getsockname()[0] for sock in sockets}
    return hosts


def test_local_cluster_listens_on_loopback_only_unless_asked():
    pytest.importorskip("distributed")
    from adept_core.dse.engine import _client

    with _client(None, 1) as client:
        cluster = client.cluster
        assert _bound_hosts(cluster) == {"127.0.0.1"}
        assert "127.0.0.1" in cluster.dashboard_link
    opened = _client(None, 1, listen_all=True)
    with opened as client:
        assert "0.0.0.0" in _bound_hosts(client.cluster) or "::" in _bound_hosts(client.cluster)


# --- 9: grids are sized before they are built; workload-parameter typos --------------------------------


@pytest.mark.parametrize("axes, count", [
    ({"batch": {"from": 1, "to": 100_000_000, "step": 1}}, "100,000,000"),
    ({"photonic.num_cores": {"from": 1, "to": 1e300, "factor": 1.000001}}, "690,"),
    ({"photonic.adc_bits": {"from": 1, "to": 8, "num": 10**9}}, "1,000,000,000"),
    ({"batch": list(range(1, 1001)), "seed": list(range(1000)), "photonic.num_cores": list(range(1, 1001))},
     "1,000,000,000"),
])
def test_a_huge_grid_is_refused_with_its_point_count(axes, count):
    with pytest.raises(ConfigError, match=count) as info:
        load_spec(_spec(axes))
    assert f"{DEFAULT_MAX_POINTS:,}" in str(info.value) and "max_points" in str(info.value)


def test_the_point_limit_can_be_raised_or_lowered():
    spec = {**_spec({"batch": [1, 2, 3]}), "max_points": 2}
    with pytest.raises(ConfigError, match="3 points, above the limit of 2"):
        load_spec(spec)
    assert load_spec(spec, max_points=3).num_points == 3
    with pytest.raises(ConfigError, match="above the limit of 2"):
        run_sweep(_spec({"batch": [1, 2, 3]}), workers=0, max_points=2, evaluator=_const)
    assert CALLS == []


def test_a_workload_parameter_typo_is_caught_before_any_point_runs(tmp_path):
    spec = {"workloads": [{"name": "bert-large", "params": {"seq_lne": 128}}], "axes": {"batch": [1, 2]}}
    with pytest.raises(ConfigError, match=r"seq_lne.*allowed: \['seq_len'\]"):
        run_sweep(spec, workers=0, out=tmp_path / "r.parquet")
    assert not (tmp_path / "r.parquet").exists()


def test_an_axis_mixing_types_is_refused():
    with pytest.raises(ConfigError, match="mixes numbers and strings"):
        load_spec(_spec({"x": {"keys": ["name"], "values": [1, "a"]}}))


# --- 11: one writer per results file ---------------------------------------------------------------------


def test_a_second_writer_is_refused_with_the_first_ones_pid_and_no_row_is_lost(tmp_path):
    out = tmp_path / "r.parquet"
    run_sweep(_spec({"batch": [1, 2]}), workers=0, out=out, evaluator=_const)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from adept_core.dse.store import ResultStore
            store = ResultStore({str(out)!r}, lock=True)
            print("locked", flush=True)
            sys.stdin.read()
            store.add([{{"point_hash": "from-the-other-writer", "error": ""}}])
            store.consolidate()
            store.close()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ConfigError, match=rf"being written by another sweep \(pid {holder.pid}\)"):
            run_sweep(_spec({"batch": [3, 4]}), workers=0, out=out, evaluator=_const)
        assert CALLS[2:] == []
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0
    run_sweep(_spec({"batch": [3, 4]}), workers=0, out=out, evaluator=_const)
    hashes = read_results(out).column("point_hash").to_pylist()
    assert len(hashes) == 5 and "from-the-other-writer" in hashes


# --- 12: axis types against the file's columns -------------------------------------------------------------


def test_an_axis_whose_type_conflicts_with_the_file_is_refused_and_the_file_stays_readable(tmp_path):
    out = tmp_path / "r.parquet"
    run_sweep(_spec({"x": {"keys": ["photonic.num_cores"], "values": [1, 2]}}), workers=0, out=out,
              evaluator=_const)
    CALLS.clear()
    with pytest.raises(ConfigError, match=r"axis 'x' has string values but column 'x'.*int64"):
        run_sweep(_spec({"x": {"keys": ["name"], "values": ["a", "b"]}}), workers=0, out=out, evaluator=_const)
    assert CALLS == []
    assert read_results(out).column("x").to_pylist() == [1, 2]
    # Ints then floats share a column (widened), as before.
    run_sweep(_spec({"x": {"keys": ["optics.laser_power_mw"], "values": [1.5]}}), workers=0, out=out,
              evaluator=_const)
    assert sorted(read_results(out).column("x").to_pylist()) == [1.0, 1.5, 2.0]


# --- 13: the output location and existing files are checked before computing ------------------------------


def test_a_foreign_part_without_point_hash_is_refused_by_name(tmp_path):
    out = tmp_path / "r.parquet"
    journal = tmp_path / "r.parquet.journal"
    journal.mkdir()
    pq.write_table(pa.table({"a": [1, 2]}), journal / "part-0001.parquet")
    with pytest.raises(ConfigError, match=r"part-0001.parquet.*no point_hash.*delete it"):
        run_sweep(_spec({"batch": [1]}), workers=0, out=out, evaluator=_const)
    with pytest.raises(ConfigError, match="part-0001.parquet"):
        read_results(out)
    assert CALLS == []


def test_an_out_that_is_a_directory_is_refused_before_computing(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        run_sweep(_spec({"batch": [1]}), workers=0, out=tmp_path, evaluator=_const)
    assert CALLS == []


@pytest.mark.parametrize("which", ["main", "journal"])
def test_a_truncated_file_is_named_with_the_way_to_recover(tmp_path, which):
    out = tmp_path / "r.parquet"
    run_sweep(_spec({"batch": [1, 2]}), workers=0, out=out, evaluator=_const)
    bad = out
    if which == "journal":
        bad = tmp_path / "r.parquet.journal" / "part-0001.parquet"
        bad.parent.mkdir()
        bad.write_bytes(out.read_bytes())
    bad.write_bytes(bad.read_bytes()[:40])
    recover = "move it away" if which == "main" else "delete it"
    with pytest.raises(ConfigError, match=rf"{bad.name}.*cannot be read as Parquet.*{recover}"):
        run_sweep(_spec({"batch": [1, 2]}), workers=0, out=out, evaluator=_const)
    with pytest.raises(ConfigError, match=bad.name):
        read_results(out)
