"""Hardware configuration: presets, the strict loader, overrides, validation, hashing."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from adept_core.errors import ConfigError
from adept_core.hardware import (
    PRESETS, SECTIONS, HardwareConfig, config_hash, from_dict, load_config, to_dict, with_overrides,
)


def test_presets_load_and_default_is_adept():
    assert load_config() == load_config("adept")
    for name in PRESETS:
        cfg = load_config(name)
        assert isinstance(cfg, HardwareConfig) and cfg.name == name and cfg.accelerator == name.split("-")[0]


def test_presets_are_discovered_from_the_preset_directory():
    from adept_core.hardware.loader import PRESET_DIR

    assert set(PRESETS) == {path.stem for path in PRESET_DIR.glob("*.toml")}
    assert {"adept", "adept-svd-mesh", "systolic", "systolic-tpuv1"} <= set(PRESETS)


#: What issue 11's reconstruction changed (adept-svd-mesh value, adept value); everything else is shared.
RECONSTRUCTED = {
    "photonic.scaling": ("tensor", "abfp"),
    "photonic.analog_gain": (1.0, 1.86),
    "photonic.weight_array": ("svd_mesh", "crossbar"),
    "optics.laser_power_mw": (11000.0, 900.0),
    "optics.detection": ("coherent", "dual_rail"),
    "optics.rin_correlation": ("independent", "laser"),
    "asic.static_power_mw": (2000.0, 1953.0),
}


def test_adept_svd_mesh_keeps_the_old_adept_values_and_differs_only_where_reconstructed():
    adept, frozen = to_dict(load_config("adept")), to_dict(load_config("adept-svd-mesh"))
    assert frozen.pop("name") == "adept-svd-mesh" and adept.pop("name") == "adept"
    diff = {f"{s}.{k}": (frozen[s][k], adept[s][k]) for s in adept if isinstance(adept[s], dict)
            for k in adept[s] if adept[s][k] != frozen[s][k]}
    assert diff == RECONSTRUCTED


def test_adept_preset_is_feasible_and_its_laser_meets_its_stated_rule():
    from adept_core.hardware.linkbudget import effective_bits, required_laser_power, waveguide_limit_note

    cfg = load_config("adept")
    assert waveguide_limit_note(cfg) is None
    need = required_laser_power(cfg, 8.2).optical_mw  # the preset's rule: smallest 100 mW step with ENOB >= 8.2
    assert cfg.optics.laser_power_mw == pytest.approx(100.0 * np.ceil(need / 100.0))
    assert effective_bits(cfg) >= 8.2


def test_systolic_shares_memory_sizes_vector_unit_and_host_with_adept():
    adept, systolic = load_config("adept"), load_config("systolic")
    for section in ("dram", "host"):
        assert getattr(adept, section) == getattr(systolic, section)
    for key in ("capacity_mib", "bandwidth_gb_per_s", "leakage_mw_per_mib"):
        assert getattr(adept.sram, key) == getattr(systolic.sram, key)
    for key in ("lanes", "clock_ghz", "energy_pj_per_op"):
        assert getattr(adept.asic, key) == getattr(systolic.asic, key)


def test_systolic_cores_is_a_config_key():
    cfg = load_config("systolic", {"systolic.cores": 4})
    assert cfg.systolic.cores == 4 and cfg.systolic.peak_macs_per_s == 4 * load_config("systolic").systolic.peak_macs_per_s
    with pytest.raises(ConfigError, match="systolic.cores"):
        load_config("systolic", {"systolic.cores": 0})


def test_known_adept_numbers_from_issue_3():
    ph, op = load_config().photonic, load_config().optics
    assert (ph.clock_ghz, ph.input_bits, ph.adc_bits) == (10.0, 8, 8)
    assert (op.laser_wall_plug_efficiency, op.edge_coupler_loss_db, op.modulator_insertion_loss_db) == (0.2, 2.0, 1.2)
    assert op.responsivity_a_per_w == 0.8
    assert (ph.transmitter_power_mw_per_channel, ph.adc_power_mw_per_channel, ph.phase_shifter_hold_power_mw) == (11.06, 29.0, 0.0)
    assert ph.adc_energy_pj_per_sample == pytest.approx(2.9)
    assert (ph.die_area_mm2, load_config().asic.electronic_die_area_mm2) == (56.0, 651.0)


def test_every_field_documents_its_meaning():
    for cls in SECTIONS.values():
        for f in dataclasses.fields(cls):
            assert f.metadata["doc"], f"{cls.__name__}.{f.name} has no doc"


def test_overrides_apply_and_revalidate():
    cfg = load_config("adept", {"photonic.num_cores": 4, "photonic.double_buffered_weights": True, "optics.laser_power_mw": 500})
    assert cfg.photonic.num_cores == 4 and cfg.photonic.double_buffered_weights is True
    assert cfg.optics.laser_power_mw == 500.0
    assert with_overrides(load_config(), {"photonic.num_cores": 4, "photonic.double_buffered_weights": True,
                                          "optics.laser_power_mw": 500}) == cfg


def test_numpy_scalars_from_sweeps_are_accepted_as_plain_values():
    cfg = load_config("adept", {"photonic.num_cores": np.int64(4), "optics.laser_power_mw": np.float32(100.0),
                                "photonic.double_buffered_weights": np.bool_(True)})
    assert cfg == load_config("adept", {"photonic.num_cores": 4, "optics.laser_power_mw": 100.0,
                                        "photonic.double_buffered_weights": True})
    assert type(cfg.photonic.num_cores) is int and type(cfg.photonic.double_buffered_weights) is bool
    for bad in (np.float64(4.0), np.bool_(True)):
        with pytest.raises(ConfigError, match="photonic.num_cores must be an integer"):
            load_config("adept", {"photonic.num_cores": bad})


@pytest.mark.parametrize("key", ["photonic.num_corez", "photonics.rows", "rows", "photonic.rows.x", "optics."])
def test_unknown_override_key_is_named(key):
    with pytest.raises(ConfigError, match="unknown key") as exc:
        load_config("adept", {key: 1})
    assert repr(key) in str(exc.value)


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("photonic.adc_bits", 0, "integer in [2, 16]"),
        ("photonic.input_bits", 17, "integer in [2, 16]"),
        ("photonic.rows", 0, "integer in [1, 4096]"),
        ("photonic.num_cores", 2.0, "integer"),          # floats are not silently cast
        ("photonic.wdm_channels", True, "integer"),      # nor bools
        ("photonic.double_buffered_weights", 1, "true or false"),
        ("photonic.clock_ghz", 0.0, "> 0"),
        ("photonic.adc_power_mw_per_channel", -1.0, "> 0"),
        ("photonic.tia_power_mw_per_channel", -0.5, ">= 0"),
        ("optics.laser_power_mw", float("nan"), "> 0"),
        ("optics.laser_power_mw", "10", "> 0"),
        ("optics.laser_wall_plug_efficiency", 1.5, "(0, 1]"),
        ("optics.edge_coupler_loss_db", -1.0, ">= 0"),
        ("optics.rin_db_per_hz", 3.0, "< 0"),
        ("sram.bandwidth_gb_per_s", 0, "> 0"),
        ("dram.bandwidth_gb_per_s", 0.0, "> 0"),
        ("dram.energy_pj_per_bit", -3.9, "> 0"),
        ("dram.technology", "", "non-empty string"),
        ("asic.lanes", 0, "integer"),
        ("host.host_power_mw", -1.0, ">= 0"),
        ("systolic.accumulator_bits", 4, "integer in [8, 64]"),
        ("accelerator", "gpu", "one of 'adept', 'systolic'"),
    ],
)
def test_impossible_values_name_the_key_and_what_is_allowed(key, value, allowed):
    with pytest.raises(ConfigError) as exc:
        load_config("adept", {key: value})
    assert key in str(exc.value) and allowed in str(exc.value)


def test_file_with_base_inherits_and_overrides(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text('base = "adept"\n[photonic]\nrows = 64\ncols = 32\n')
    cfg = load_config(path)
    assert cfg.name == "small" and (cfg.photonic.rows, cfg.photonic.cols) == (64, 32)
    assert cfg.optics == load_config().optics
    assert load_config(str(path), {"photonic.rows": 16}).photonic.rows == 16


def test_file_base_may_be_a_relative_path(tmp_path):
    (tmp_path / "a.toml").write_text('base = "adept"\n[photonic]\nnum_cores = 2\n')
    (tmp_path / "b.toml").write_text('base = "a.toml"\n[photonic]\nwdm_channels = 4\n')
    cfg = load_config(tmp_path / "b.toml")
    assert (cfg.photonic.num_cores, cfg.photonic.wdm_channels, cfg.name) == (2, 4, "b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('base = "adept"\n[photonic]\nrowz = 64\n', "unknown key 'photonic.rowz'"),
        ('base = "adept"\n[laser]\npower_mw = 1.0\n', "unknown key 'laser'"),
        ('base = "adept"\ncolour = "red"\n', "unknown key 'colour'"),
        ('base = "adept"\n[photonic]\nrows = -3\n', "photonic.rows must be an integer in [1, 4096]"),
        ('name = "x"\naccelerator = "adept"\n', "missing key 'photonic'"),
        ('base = "adept"\n[photonic\n', "invalid TOML"),
        ('base = "nosuchpreset"\n', "unknown hardware config 'nosuchpreset'"),
        ('base = 3\n', "base must be"),
    ],
)
def test_bad_files_are_refused_with_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert message in str(exc.value)


def test_missing_field_in_a_section_is_named():
    data = to_dict(load_config())
    del data["dram"]["energy_pj_per_bit"]
    with pytest.raises(ConfigError, match="missing key 'dram.energy_pj_per_bit'"):
        from_dict(data)


def test_base_cycle_is_refused(tmp_path):
    (tmp_path / "loop.toml").write_text('base = "loop.toml"\n')
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "loop.toml")


@pytest.mark.parametrize("name", ["tpu", "adept.json", "/no/such/file.toml"])
def test_unknown_preset_or_file(name):
    with pytest.raises(ConfigError, match="unknown hardware config|not found"):
        load_config(name)


def test_dict_round_trip_and_frozen():
    cfg = load_config("systolic")
    assert from_dict(to_dict(cfg)) == cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.photonic.rows = 3  # type: ignore[misc]


def test_hash_is_stable_across_loads_and_processes():
    h = config_hash(load_config())
    assert h == config_hash(load_config()) and len(h) == 16 and int(h, 16) >= 0
    code = "from adept_core.hardware import config_hash, load_config; print(config_hash(load_config()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": ""})
    assert out.stdout.strip() == h


def test_hash_changes_when_any_value_changes():
    cfg = load_config()
    base_hash = config_hash(cfg)
    data = to_dict(cfg)
    seen = {base_hash}
    for section in SECTIONS:
        for key, value in data[section].items():
            if isinstance(value, bool):
                new = not value
            elif isinstance(value, int):
                new = value + 1
            elif isinstance(value, float):
                new = value * 1.5 + 0.25 if value >= 0 else value - 1.0
            elif key in ("scaling", "weight_array", "detection", "rin_correlation"):  # closed sets
                new = {"tensor": "abfp", "abfp": "tensor", "svd_mesh": "crossbar", "crossbar": "svd_mesh",
                       "coherent": "dual_rail", "dual_rail": "coherent", "independent": "laser",
                       "laser": "independent"}[value]
            else:
                new = value + "x"
            over = {f"{section}.{key}": new}
            if key == "analog_gain":  # a gain other than 1 needs the abfp mode
                over["photonic.scaling"] = "abfp"
            if key == "scaling" and new == "tensor":  # the tensor mode has no gain
                over["photonic.analog_gain"] = 1.0
            h = config_hash(with_overrides(cfg, over))
            assert h not in seen, f"hash did not change (or collided) for {section}.{key}"
            seen.add(h)
    assert config_hash(with_overrides(cfg, {"name": "other"})) != base_hash


def _preset_lines(preset="adept"):
    from adept_core.hardware.loader import PRESET_DIR

    section = None
    for line in (PRESET_DIR / f"{preset}.toml").read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[] ")
        elif section and "=" in line and not line.lstrip().startswith("#"):
            yield section, line


@pytest.mark.parametrize("preset", ["adept", "adept-svd-mesh"])
def test_every_preset_value_carries_a_source_comment(preset):
    lines = list(_preset_lines(preset))
    assert len(lines) == sum(len(dataclasses.fields(cls)) for cls in SECTIONS.values())
    for section, line in lines:
        key, _, rest = line.partition("=")
        assert "#" in rest and rest.split("#", 1)[1].strip(), f"{section}.{key.strip()} has no source comment"


def test_docs_table_matches_the_adept_preset():
    import pathlib
    import re

    doc = (pathlib.Path(__file__).parents[1] / "docs" / "hardware.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+\.\w+)` \| ([^|]+?) \|", doc, flags=re.M))
    data = to_dict(load_config())
    for section in SECTIONS:
        for key, value in data[section].items():
            shown = rows.get(f"{section}.{key}")
            assert shown is not None, f"docs/hardware.md lacks {section}.{key}"
            if isinstance(value, bool):
                assert shown == str(value).lower()
            elif isinstance(value, str):
                assert shown == f'"{value}"'
            else:
                assert float(shown) == value, f"docs/hardware.md shows {section}.{key} = {shown}, preset has {value}"


@pytest.mark.parametrize("bits", [4, 6, 8, 10])
def test_adc_energy_per_conversion_scales_with_resolution(bits):
    # Walden figure of merit: energy per conversion ~ 2**bits, quoted at the 8-bit reference;
    # the transmitter (modulator swing) does not depend on the resolution.
    ph = load_config("adept", {"photonic.adc_bits": bits, "photonic.input_bits": bits}).photonic
    assert ph.converter_reference_bits == 8
    assert ph.adc_energy_pj_per_sample == pytest.approx(2.9 * 2.0 ** (bits - 8))
    assert ph.transmitter_energy_pj_per_symbol == pytest.approx(1.106)


def test_systolic_preset_double_buffers_weights_like_tpu_v1():
    assert load_config("systolic").systolic.double_buffered_weights is True
