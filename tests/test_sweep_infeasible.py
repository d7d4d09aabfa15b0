"""Sweep rows of designs over a physical limit: error "infeasible: ...", metrics kept, counted apart, not re-run.

The ``adept-svd-mesh`` preset at an 11 W laser puts 46.2 mW into each input waveguide, over
``optics.max_waveguide_power_mw`` = 30 mW; at 1 W it is within the limit (tests/test_linkbudget.py
checks the numbers against the link budget). A 0.01 MiB SRAM makes the cost model raise: a real failure.
"""

from __future__ import annotations

import matplotlib.image
import pyarrow as pa
import pytest

from adept_core import cli
from adept_core.cli import main
from adept_core.dse import read_results, run_sweep
from adept_core.dse.evaluate import run_batch
from adept_core.dse.feasibility import infeasible_error, is_failure, is_infeasible
from adept_core.plot import plot_metric, plot_pareto, select_rows

LASER = {"optics.laser_power_mw": [1000.0, 11000.0]}
SPEC = {"name": "infeasible", "workloads": ["resnet50"], "preset": "adept-svd-mesh",
        "axes": {**LASER, "sram.capacity_mib": [0.01, 64.0]}}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "r.parquet"
    return out, run_sweep(SPEC, out=out, workers=0)


def _row(table, laser, sram):
    (row,) = [r for r in table.to_pylist()
              if r["optics.laser_power_mw"] == laser and r["sram.capacity_mib"] == sram]
    return row


def test_over_limit_row_has_the_reason_as_error_and_keeps_its_metrics(swept):
    _, result = swept
    over, within = _row(result.table, 11000.0, 64.0), _row(result.table, 1000.0, 64.0)
    assert over["error"] == "infeasible: " + over["infeasible"].removeprefix("INFEASIBLE: ")
    assert over["error"].startswith("infeasible: 46.2 mW per input waveguide exceeds optics.max_waveguide_power_mw")
    assert over["waveguide_power_mw"] == pytest.approx(46.2, abs=0.05)
    assert over["inferences_per_s_per_w"] > 0 and over["power_w"] > within["power_w"]
    assert within["error"] == "" and within["infeasible"] == ""
    # The SRAM failure stays a failure (no metrics), whatever the laser; at 11 W it is not "infeasible".
    failed = _row(result.table, 11000.0, 0.01)
    assert is_failure(failed["error"]) and failed["power_w"] is None


def test_infeasible_rows_are_counted_apart_from_failures(swept):
    _, result = swept
    assert (result.computed, result.failed, result.infeasible, result.lost) == (4, 2, 1, 0)


def test_resume_does_not_rerun_infeasible_or_failed_rows(swept):
    out, first = swept
    again = run_sweep(SPEC, out=out, workers=0)
    assert (again.skipped, again.computed, again.failed, again.infeasible) == (4, 0, 0, 0)
    assert again.table.to_pylist() == first.table.to_pylist()


def test_plot_keeps_infeasible_rows_and_drops_failures(swept, tmp_path):
    out, _ = swept
    table = read_results(out)
    rows, failed = select_rows(table, {"sram.capacity_mib": "64.0"})
    assert rows.num_rows == 2 and failed == 2
    assert plot_metric(table, "optics.laser_power_mw", "power_w", tmp_path / "p.png",
                       where={"sram.capacity_mib": "64.0"}, logx=True) == 2
    assert matplotlib.image.imread(tmp_path / "p.png").shape[0] > 100
    assert plot_metric(table, "optics.laser_power_mw", "power_w", tmp_path / "q.png",
                       where={"sram.capacity_mib": "64.0", "infeasible": ""}) == 1


def test_pareto_front_is_over_feasible_designs_only(tmp_path):
    # The infeasible design dominates both others; the front must skip it (it cannot be built).
    table = pa.table({"workload": ["w"] * 3, "fid": [0.5, 0.9, 1.0], "eff": [2.0, 1.0, 3.0],
                      "error": ["", "", "infeasible: 46.2 mW per input waveguide exceeds ..."]})
    assert plot_pareto(table, "fid", "eff", tmp_path / "f.png") == [0, 1]
    only_over = table.slice(2)
    assert plot_pareto(only_over, "fid", "eff", tmp_path / "g.png") == []


def test_run_batch_marks_a_custom_evaluator_infeasible_by_its_metric():
    from adept_core.dse.points import Point

    point = Point.__new__(Point)
    object.__setattr__(point, "point_hash", "h")
    (rec,) = run_batch(lambda p: {"x_j": 1.0, "infeasible": "INFEASIBLE: too hot"}, [point])
    assert rec["error"] == "infeasible: too hot" and rec["x_j"] == 1.0
    (rec,) = run_batch(lambda p: {"x_j": 1.0, "infeasible": ""}, [point])
    assert rec["error"] == ""
    assert infeasible_error({"infeasible": None}) == "" and not is_infeasible("ValueError: infeasible: x")


def test_sweep_command_summary_names_the_infeasible_points(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "COMMANDS", ("sweep",))
    spec = tmp_path / "s.toml"
    spec.write_text('workloads = ["resnet50"]\npreset = "adept-svd-mesh"\n[axes]\n'
                    '"optics.laser_power_mw" = [1000.0, 11000.0]\n')
    assert main(["sweep", str(spec), "--workers", "0", "--out", str(tmp_path / "r.parquet"), "--no-progress"]) == 0
    assert "(0 failed with an error, 1 over a physical limit: error 'infeasible: ...', metrics kept)" in \
        capsys.readouterr().out
