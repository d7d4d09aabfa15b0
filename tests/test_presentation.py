"""What the commands print: the shared table renderer, layer grouping, verdicts, ``config show``, ``--format``."""

from __future__ import annotations

import csv
import io
import json

import pytest

from adept_core import cli
from adept_core.cli import main
from adept_core.energy import evaluate
from adept_core.energy.grouping import group_key, group_layers
from adept_core.errors import ConfigError
from adept_core.graph import zoo
from adept_core.hardware import link_budget, load_config
from adept_core.hardware.config import SECTIONS
from adept_core.hardware.describe import describe, unit_of
from adept_core.tables import Table, render
from adept_core.verdict import threshold_for, verdict_lines

TABLE = Table("t", ["name", "latency (ms)", "ok"], [["a|b", 1.23456789, True], ["c", float("inf"), None]],
              notes=["a note"])


def test_text_aligns_numbers_right_and_words_left():
    lines = render(TABLE, "text").splitlines()
    assert lines[0] == "t" and lines[-1] == "  a note"
    assert lines[3].index("1.235") + len("1.235") == lines[4].index("inf") + len("inf")
    assert lines[3].startswith("  a|b") and lines[4].startswith("  c  ")


def test_markdown_escapes_pipes_and_keeps_notes():
    md = render(TABLE, "markdown")
    assert "| a\\|b | 1.235 | yes |" in md and "| c | inf | - |" in md and md.endswith("a note")


def test_csv_and_json_keep_full_precision():
    rows = list(csv.reader(io.StringIO(render(TABLE, "csv"))))
    assert rows[0] == ["# t"] and rows[1] == TABLE.columns and rows[2] == ["a|b", "1.23456789", "True"]
    data = json.loads(render([TABLE, TABLE], "json"))
    assert len(data["tables"]) == 2 and data["tables"][0]["rows"][0][1] == 1.23456789
    assert data["tables"][0]["rows"][1][1] == "inf"  # JSON has no infinity
    with pytest.raises(ConfigError, match="allowed: text, markdown, csv, json"):
        render(TABLE, "html")


def test_block_grouping_folds_repeated_blocks():
    assert group_key("encoder.13.ffn.output", "MatMul", "photonic", "block") == "encoder.*.ffn.output"
    assert group_key("l3.attn.qk", "MatMul", "photonic", "block") == "l*.attn.qk"
    assert group_key("conv1", "Conv", "photonic", "block") == "conv1"  # a name, not a block index
    assert group_key("x", "Add", "asic", "op") == "Add on asic"
    report = evaluate(zoo.build("bert-large"), load_config("adept"), batch=1)
    blocks = group_layers(report, "block")
    assert blocks[0].name == "encoder.*.ffn.intermediate" and blocks[0].count == 24
    assert blocks[0].latency_s == pytest.approx(24 * report.top_layers(1)[0].latency_s, rel=1e-12)
    for by in ("block", "op", "layer"):
        groups = group_layers(report, by)
        assert sum(g.count for g in groups) == len(report.layers)
        assert sum(g.energy_j for g in groups) == pytest.approx(report.energy_per_inference_j, rel=1e-9)
    assert len(group_layers(report, "layer")) == len(report.layers)
    with pytest.raises(ConfigError, match="grouping"):
        group_layers(report, "stage")


def test_perf_group_by_and_formats(capsys):
    assert main(["perf", "bert-large", "--top", "2"]) == 0
    text = capsys.readouterr().out
    assert "encoder.*.ffn.intermediate      24" in text and "bound = what sets the time" in text
    assert main(["perf", "bert-large", "--group-by", "op", "--format", "json"]) == 0
    tables = json.loads(capsys.readouterr().out)["tables"]
    assert [t["title"].split(" (")[0] for t in tables][1] == "energy breakdown"
    assert tables[2]["rows"][0][0] == "MatMul on photonic"
    assert main(["perf", "resnet50", "--group-by", "layer", "--format", "csv", "--top", "1"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert ["# top 1 layers by latency"] in rows


def test_compare_and_linkbudget_formats(capsys):
    assert main(["compare", "--workloads", "resnet50", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "| workload | ADEPT inferences/s |" in md and "| resnet50 |" in md and "7.19x" in md
    assert main(["linkbudget", "--format", "json"]) == 0
    forward = json.loads(capsys.readouterr().out)["tables"][0]
    rows = {r[0]: (r[1], r[2]) for r in forward["rows"]}
    assert rows["effective bits (ENOB)"] == (link_budget(load_config("adept")).enob_bits, "bits")
    assert rows["noise sigma_const"][1] == "partial-sum units"


def test_config_show_lists_every_key_with_unit_range_and_source(capsys):
    assert main(["config", "show", "--set", "photonic.adc_bits=6", "--format", "json"]) == 0
    table = json.loads(capsys.readouterr().out)["tables"][0]
    keys = {r[0]: dict(zip(table["columns"], r)) for r in table["rows"]}
    from dataclasses import fields

    assert set(keys) == {f"{s}.{f.name}" for s, c in SECTIONS.items() for f in fields(c)}
    adc = keys["photonic.adc_bits"]
    assert adc["value"] == 6 and adc["unit"] == "bits" and adc["allowed"] == "an integer in [2, 16]"
    assert adc["source"] == "--set on the command line"
    assert keys["optics.laser_power_mw"]["unit"] == "mW"
    assert keys["photonic.clock_ghz"]["source"].startswith("preset adept: [ISSUE3]")
    assert all(k["source"] and k["meaning"] for k in keys.values())


def test_config_show_names_a_file_as_the_source(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('base = "adept"\nname = "mine"\n\n[photonic]\nnum_cores = 3\n')
    info = {k.key: k for k in describe(load_config(str(path)), str(path))}
    assert info["photonic.num_cores"].source == f"set in {path}"
    assert info["photonic.rows"].source.startswith("preset adept: assumption")


@pytest.mark.parametrize("name, unit", [("adc_power_mw_per_channel", "mW/channel"), ("responsivity_a_per_w", "A/W"),
                                        ("bandwidth_gb_per_s", "GB/s"), ("rin_db_per_hz", "dB/Hz"),
                                        ("tia_noise_pa_per_rthz", "pA/sqrt(Hz)"), ("num_cores", "-"),
                                        ("laser_wall_plug_efficiency", "fraction")])
def test_units_come_from_the_key_suffix(name, unit):
    assert unit_of(name, 1.0) == unit


@pytest.mark.parametrize("value, word", [(0.995, "KEPT"), (0.95, "DEGRADED"), (0.016, "LOST")])
def test_verdict_states_threshold_samples_and_knob(value, word):
    lines = verdict_lines(value, "minilm", 60, 11000.0, 8, "calibrated")
    assert f"fidelity {word} over 60 samples" in lines[0] and "kept >= 0.99" in lines[0]
    assert "optics.laser_power_mw=" in lines[-1]
    assert threshold_for("efficientnet-lite0").metric == "top1_agree" and threshold_for("x.onnx").metric == "cosine"
    one = verdict_lines(value, None, 1, 11000.0, 8, "worst_case")
    assert "1 sample(s) is a thin basis" in one[1]
    assert word == "KEPT" or "--adc calibrated" in one[-1]


def test_a_classifier_is_judged_on_its_argmax_too():
    lines = verdict_lines(0.995, None, 16, 11000.0, 8, "calibrated", argmax=0.5)
    assert "fidelity LOST over 16 samples" in lines[0] and "argmax agreement with float32 0.500" in lines[0]
    assert "fidelity KEPT" in verdict_lines(0.995, None, 16, 11000.0, 8, "calibrated", argmax=1.0)[0]


def test_help_texts_speak_to_users(capsys):
    for command in cli.COMMANDS:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "issue" not in text
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "whole evaluation set as one batch" in " ".join(capsys.readouterr().out.split())


def test_clip_warnings_name_the_worst_layers_and_count_the_rest():
    from adept_core.commands.run import clip_warning_lines

    layers = [(f"l{i}", 0.001 * (i + 1)) for i in range(12)]
    lines = clip_warning_lines(layers, shown=5)
    assert len(lines) == 6
    assert lines[0].startswith("  warning: layer l11 clipped 1.20%")
    assert "7 more layer(s) clip, 0.10% to 0.70%" in lines[-1]
    assert clip_warning_lines(layers[:3], shown=5) == [
        f"  warning: layer l{i} clipped {0.001 * (i + 1):.2%} of its ADC conversions" for i in (2, 1, 0)]


def test_the_laser_hint_stops_at_the_waveguide_limit():
    lines = verdict_lines(0.5, None, 16, 900.0, 8, "calibrated", max_laser_mw=7100.0)
    assert "--set optics.laser_power_mw=7100 " in lines[-1] and "waveguide power limit" in lines[-1]
    assert "adept isoaccuracy" in lines[-1]
    at_limit = verdict_lines(0.5, None, 16, 7100.0, 8, "calibrated", max_laser_mw=7100.0)
    assert "optics.laser_power_mw=" not in at_limit[-1] and "at the waveguide power limit" in at_limit[-1]
    free = verdict_lines(0.5, None, 16, 900.0, 8, "calibrated")
    assert "--set optics.laser_power_mw=9000 " in free[-1]
