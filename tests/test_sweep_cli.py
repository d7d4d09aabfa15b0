"""`adept sweep` and `adept plot` end to end (serial runs of the real cost model), and the Pareto front."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest

from adept_core import cli
from adept_core.cli import main
from adept_core.errors import ConfigError
from adept_core.plot import pareto_front, plot_metric
from adept_core.dse import read_results

SPEC_TOML = """
name = "cli-test"
workloads = ["resnet50", "rnnt"]
[axes]
"photonic.num_cores" = { from = 1, to = 4, factor = 2 }
core_size = { keys = ["photonic.rows", "photonic.cols"], values = [64, 128] }
"sram.capacity_mib" = [0.01, 64.0]
"""
NUM_POINTS = 2 * 3 * 2 * 2


@pytest.fixture(autouse=True)
def only_our_commands(monkeypatch):
    """Build the real `adept` parser with just these commands, independent of the other commands' modules."""
    monkeypatch.setattr(cli, "COMMANDS", ("sweep", "plot"))


@pytest.fixture
def results(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC_TOML)
    out = tmp_path / "r.parquet"
    assert main(["sweep", str(spec), "--workers", "0", "--out", str(out), "--no-progress"]) == 0
    first = capsys.readouterr().out
    assert f"{NUM_POINTS} points: 0 already in" in first and f"{NUM_POINTS} computed" in first
    return spec, out


def test_sweep_command_writes_and_resumes(results, capsys):
    spec, out = results
    table = read_results(out)
    assert table.num_rows == NUM_POINTS
    rows = table.to_pylist()
    # A 0.01 MiB SRAM is too small for some designs (the cost model says which); 64 MiB fits all.
    assert all(r["sram.capacity_mib"] == 0.01 for r in rows if r["error"])
    assert any(r["error"] for r in rows) and all(r["inferences_per_s_per_w"] > 0 for r in rows if not r["error"])
    assert main(["sweep", str(spec), "--workers", "0", "--out", str(out), "--no-progress"]) == 0
    assert f"{NUM_POINTS} already in" in capsys.readouterr().out


def test_sweep_command_reports_bad_spec(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text('workloads = ["resnet50"]\n[axes]\n"photonic.num_coers" = [1, 2]\n')
    assert main(["sweep", str(spec), "--workers", "0", "--out", str(tmp_path / "r.parquet")]) == 2
    err = capsys.readouterr().err
    assert "photonic.num_coers" in err and "known keys" in err
    assert main(["sweep", str(spec), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "cannot be combined" in capsys.readouterr().err


def _image(path):
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300
    assert np.ptp(img[..., :3]) > 0.5  # not a blank canvas
    return img


def test_plot_command_metric_and_pareto(results, capsys):
    _, out = results
    png = out.with_name("metric.png")
    assert main(["plot", str(out), "--x", "photonic.num_cores", "--y", "inferences_per_s_per_w",
                 "--color", "core_size", "--where", "workload=resnet50", "--where", "sram.capacity_mib=64",
                 "--logx", "--out", str(png)]) == 0
    assert "(6 points)" in capsys.readouterr().out  # 3 core counts x 2 core sizes
    _image(png)
    pareto = out.with_name("pareto.png")
    assert main(["plot", str(out), "--pareto", "--x", "inferences_per_s", "--color", "workload",
                 "--out", str(pareto)]) == 0
    assert "Pareto front" in capsys.readouterr().out
    _image(pareto)
    assert main(["plot", str(out), "--x", "nope", "--y", "power_w", "--out", str(png)]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
    assert main(["plot", str(out), "--x", "batch"]) == 2
    assert main(["plot", str(out), "--pareto"]) == 2
    assert "no fidelity metric" in capsys.readouterr().err


def test_plot_refuses_an_empty_selection(results):
    _, out = results
    with pytest.raises(ConfigError, match="no successful rows"):
        plot_metric(read_results(out), "batch", "power_w", out.with_name("x.png"), where={"workload": "bert"})


def test_pareto_front_maximises_both():
    xs = [1.0, 2.0, 3.0, 2.0, 0.5, 3.0]
    ys = [5.0, 4.0, 1.0, 1.0, 6.0, 0.5]
    assert pareto_front(xs, ys) == [4, 0, 1, 2]          # (2,1) and (3,0.5) are dominated
    assert pareto_front(xs, ys, x_higher_better=False) == [4]  # lowest x also has the highest y


def test_fidelity_sweep_on_a_real_model(tmp_path):
    """compute = both on one photo: cost and fidelity columns; the seed is the noise seed."""
    from adept_core.dse import run_sweep

    spec = {"workloads": [{"name": "efficientnet-lite0", "params": {"photos": ["chelsea"]}, "label": "effnet"}],
            "compute": "both", "axes": {"seed": [0, 1]}}
    rows = run_sweep(spec, out=tmp_path / "f.parquet", workers=0).table.to_pylist()
    assert len(rows) == 2 and not any(r["error"] for r in rows)
    for r in rows:
        assert r["workload"] == "effnet" and r["batch"] is None  # the data set sets the batch
        assert r["inferences_per_s_per_w"] > 0 and 0 < r["link_enob_bits"] < 16
        assert 0.0 <= r["fidelity_top1_agree"] <= 1.0 and -1.0 <= r["fidelity_logit_cos_mean"] <= 1.0
    assert rows[0]["fidelity_logit_cos_mean"] != rows[1]["fidelity_logit_cos_mean"]  # another noise draw
    assert rows[0]["inferences_per_s_per_w"] == rows[1]["inferences_per_s_per_w"]  # same design, same cost
    quiet = run_sweep({**spec, "compute": ["fidelity"], "fidelity": {"noise": False}, "axes": {}},
                      workers=0).table.to_pylist()
    # 8-bit quantization alone keeps the logits close to float32's.
    assert quiet[0]["fidelity_logit_cos_mean"] > 0.9 and quiet[0]["link_enob_bits"] == float("inf")


def test_builtin_evaluator_checks_workloads():
    from adept_core.dse import run_sweep

    with pytest.raises(ConfigError, match="unknown workload 'resnet18'.*resnet50"):
        run_sweep({"workloads": ["resnet18"]}, workers=0)
    with pytest.raises(ConfigError, match="fidelity needs trained weights"):
        run_sweep({"workloads": ["resnet50"], "compute": ["fidelity"]}, workers=0)
    with pytest.raises(ConfigError, match="runs its own data set"):
        run_sweep({"workloads": ["minilm"], "axes": {"batch": [1, 2]}}, workers=0)
