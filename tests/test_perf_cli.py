"""``adept perf`` and ``adept compare``: tables, JSON and plot files, errors."""

from __future__ import annotations

import argparse
import json

import pytest

from adept_core import cli
from adept_core.commands import compare, perf
from adept_core.errors import ConfigError


def run(argv: list[str]) -> int:
    # Only the two commands under test are registered, so these tests do not depend on other commands.
    parser = argparse.ArgumentParser(prog="adept")
    sub = parser.add_subparsers(dest="command", required=True)
    perf.register(sub)
    compare.register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_commands_are_registered():
    assert {"perf", "compare"} <= set(cli.COMMANDS)


def test_perf_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert run(["perf", "resnet50", "--json", str(out), "--top", "3"]) == 0
    text = capsys.readouterr().out
    for label in ("latency", "inferences/s/W", "power", "energy breakdown", "laser", "top 3 layer groups"):
        assert label in text
    data = json.loads(out.read_text())
    assert data["workload"] == "resnet50" and data["config"] == "adept" and data["batch"] == 1
    assert abs(sum(data["energy_breakdown_j"].values()) - data["energy_per_inference_j"]) <= 1e-12 * data["energy_per_inference_j"]
    assert len(data["layers"]) == 175


def test_perf_systolic_batch_levers_and_overrides(tmp_path, capsys):
    assert run(["perf", "rnnt", "--config", "systolic", "--batch", "2"]) == 0
    text = capsys.readouterr().out
    assert "rnnt on systolic (systolic" in text and "batch 2" in text and "systolic_array" in text
    out = tmp_path / "l.json"
    assert run(["perf", "bert-large", "--levers", "--set", "photonic.num_cores=2", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "double-buffered weights" in text and "WDM x4" in text and "cores x4" in text
    levers = json.loads(out.read_text())["levers"]
    assert levers[0]["lever"] == "base" and levers[0]["speedup"] == 1.0


def test_perf_refuses_bad_configs():
    with pytest.raises(ConfigError, match="sram.capacity_mib"):
        run(["perf", "resnet50", "--set", "sram.capacity_mib=-1"])
    with pytest.raises(ConfigError, match="cannot run"):
        run(["perf", "resnet50", "--set", "sram.capacity_mib=0.001"])


def test_compare_prints_ratios_and_writes_json_and_plot(tmp_path, capsys):
    js, png = tmp_path / "c.json", tmp_path / "c.png"
    assert run(["compare", "--json", str(js), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "7.19x" in text and "5.73x" in text
    for name in ("resnet50", "bert-large", "rnnt"):
        assert name in text
    data = json.loads(js.read_text())
    rows = data["workloads"]
    assert [r["workload"] for r in rows] == ["resnet50", "bert-large", "rnnt"]
    for r in rows:
        assert r["efficiency_ratio"] == pytest.approx(
            r["adept"]["inferences_per_s_per_w"] / r["systolic"]["inferences_per_s_per_w"], rel=1e-12)
        assert r["adept"]["accelerator"] == "adept" and r["systolic"]["accelerator"] == "systolic"
    assert data["paper_ratios"] == {"arXiv 2109.01126 v1": 7.19, "journal version": 5.73}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_perf_reads_a_toml_file(tmp_path, capsys):
    path = tmp_path / "two_cores.toml"
    path.write_text('base = "adept"\nname = "two_cores"\n\n[photonic]\nnum_cores = 2\n')
    out = tmp_path / "r.json"
    assert run(["perf", "resnet50", "--config", str(path), "--json", str(out)]) == 0
    assert "resnet50 on two_cores (adept" in capsys.readouterr().out
    two = json.loads(out.read_text())
    assert run(["perf", "resnet50", "--json", str(out)]) == 0
    one = json.loads(out.read_text())
    assert two["provenance"]["config_hash"] != one["provenance"]["config_hash"]
    assert two["latency_s"] < one["latency_s"]
