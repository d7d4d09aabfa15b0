"""Sweep spec: strict parsing (every bad key named), ranges, and the example specs shipped in the repo."""

from __future__ import annotations

from pathlib import Path

import pytest

from adept_core.errors import ConfigError
from adept_core.dse import load_spec
from adept_core.dse.spec import expand_range

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "sweeps"
BASE = {"workloads": ["resnet50"]}


@pytest.mark.parametrize("spec, message", [
    ({**BASE, "axis": {}}, r"unknown key\(s\) \['axis'\]"),
    ({"axes": {}}, "'workloads' is required"),
    ({"workloads": []}, "non-empty list"),
    ({"workloads": [{"name": "resnet50", "parms": {}}]}, r"workloads\[0\]: unknown key\(s\) \['parms'\]"),
    ({"workloads": ["resnet50", "resnet50"]}, "appear more than once"),
    ({"workloads": ["rnnt", {"name": "rnnt", "label": "again"}]}, "same model with the same params"),
    ({"workloads": [{"name": "bert-large", "params": {"seq_len": {"a": 1}}}]}, "numbers, booleans or strings"),
    ({**BASE, "fidelity": {"adc": "best"}}, "fidelity.adc must be 'calibrated' or 'worst_case'"),
    ({**BASE, "fidelity": {"seeds": 3}}, r"\[fidelity\]: unknown key\(s\) \['seeds'\]"),
    ({**BASE, "axes": {"batch": []}}, "axes.batch has no values"),
    ({**BASE, "axes": {"batch": [0, 1]}}, r"integers >= 1"),
    ({**BASE, "axes": {"seed": [-1]}}, r"integers >= 0"),
    ({**BASE, "axes": {"batch": [1.5]}}, r"integers >= 1"),
    ({**BASE, "axes": {"photonic.adc_bits": [8, 8]}}, "repeats values"),
    ({**BASE, "axes": {"photonic.adc_bits": 8}}, "list of values or a range table"),
    ({**BASE, "axes": {"photonic.adc_bits": {"from": 4, "to": 8}}}, "exactly one of step, factor, num"),
    ({**BASE, "axes": {"photonic.adc_bits": {"from": 4, "to": 8, "stp": 1}}}, r"unknown key\(s\) \['stp'\]"),
    ({**BASE, "axes": {"photonic.adc_bits": {"from": 8, "to": 4, "step": 1}}}, "below 'from'"),
    ({**BASE, "axes": {"optics.laser_power_mw": {"from": 0, "to": 8, "factor": 2}}}, "factor > 1 and from > 0"),
    ({**BASE, "axes": {"optics.laser_power_mw": [float("nan")]}}, "finite"),
    ({**BASE, "axes": {"core": {"keys": "photonic.rows", "values": [64]}}}, "linked axis"),
    ({**BASE, "axes": {"core": {"keys": ["photonic.rows"], "values": [64], "extra": 1}}}, r"\['extra'\]"),
    ({**BASE, "axes": {"core": {"keys": ["photonic.rows"], "values": [64]}, "photonic.rows": [32]}},
     r"\['photonic.rows'\] are set by more than one"),
    ({**BASE, "overrides": {"photonic.rows": 64}, "axes": {"photonic.rows": [32]}}, "more than one"),
    ({**BASE, "overrides": {"batch": 4}}, "not config keys"),
    ({**BASE, "axes": {"error": {"keys": ["photonic.rows"], "values": [64]}}}, "'error' is a results column"),
    ({**BASE, "compute": ["cost", "energy"]}, r"compute must be a non-empty list from \['cost', 'fidelity'\]"),
    ({**BASE, "compute": []}, "compute must be"),
    ({**BASE, "points_per_task": 0}, "points_per_task must be a positive integer"),
    ({**BASE, "preset": 3}, "preset must be a string"),
])
def test_bad_specs_name_the_problem(spec, message):
    with pytest.raises(ConfigError, match=message):
        load_spec(spec)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("workloads = [resnet50\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(ConfigError, match="a SweepSpec, a dict or a TOML path"):
        load_spec(42)


@pytest.mark.parametrize("table, values", [
    ({"from": 4, "to": 10, "step": 2}, (4, 6, 8, 10)),
    ({"from": 4, "to": 9, "step": 2}, (4, 6, 8)),
    ({"from": 0.1, "to": 0.3, "step": 0.1}, (0.1, 0.2, 0.3)),
    ({"from": 1, "to": 16, "factor": 2}, (1, 2, 4, 8, 16)),
    ({"from": 1, "to": 20, "factor": 2}, (1, 2, 4, 8, 16)),
    ({"from": 500.0, "to": 8000.0, "factor": 2}, (500.0, 1000.0, 2000.0, 4000.0, 8000.0)),
    ({"from": 0, "to": 1, "num": 5}, (0.0, 0.25, 0.5, 0.75, 1.0)),
    ({"from": 1, "to": 100, "num": 3, "scale": "log"}, (1.0, 10.0, 100.0)),
    ({"from": 7, "to": 7, "step": 1}, (7,)),
])
def test_ranges_include_their_end(table, values):
    got = expand_range(table)
    assert got == values
    assert [type(v) for v in got] == [type(v) for v in values]


def test_spec_fields_and_point_count():
    spec = load_spec({
        "name": "demo", "workloads": ["resnet50", {"name": "bert-large", "params": {"seq_len": 128}}],
        "compute": "both", "overrides": {"photonic.wdm_channels": 2},
        "axes": {"photonic.num_cores": {"from": 1, "to": 4, "factor": 2},
                 "core_size": {"keys": ["photonic.rows", "photonic.cols"], "values": [64, 128]}, "seed": [0, 1]},
    })
    assert spec.compute == ("cost", "fidelity")
    assert [w.label for w in spec.workloads] == ["resnet50", "bert-large(seq_len=128)"]
    assert spec.num_points == 2 * 3 * 2 * 2
    assert spec.config_keys == ("photonic.wdm_channels", "photonic.num_cores", "photonic.rows", "photonic.cols")
    assert spec.axes[2].config_keys == ()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_specs_load(path):
    spec = load_spec(path)
    assert spec.num_points > 0


def test_metrics_are_flattened_with_units_last_and_plain_types():
    import numpy as np

    from adept_core.dse.evaluate import flatten_metrics

    flat = flatten_metrics({"energy_breakdown_j": {"adc": np.float64(1.5), "laser": 2},
                            "utilization": {"asic": 0.5}, "layer_shares": {"conv": 1.0},
                            "macs": np.int64(7), "ok": np.bool_(True), "bound": "adc", "shape": (1, 2)})
    assert flat == {"energy_breakdown_adc_j": 1.5, "energy_breakdown_laser_j": 2, "utilization_asic": 0.5,
                    "layer_shares_conv": 1.0, "macs": 7, "ok": True, "bound": "adc", "shape": "(1, 2)"}
    assert [type(v) for v in flat.values()] == [float, int, float, float, int, bool, str, str]


def test_a_relative_preset_file_is_found_next_to_the_spec(tmp_path):
    (tmp_path / "mine.toml").write_text('base = "adept"\n[photonic]\nnum_cores = 3\n')
    (tmp_path / "spec.toml").write_text('preset = "mine.toml"\nworkloads = ["rnnt"]\n')
    spec = load_spec(tmp_path / "spec.toml")
    assert spec.preset == str(tmp_path / "mine.toml")
    from adept_core.dse.points import expand

    assert expand(spec, "test")[0].config.photonic.num_cores == 3
