"""Link budget: physics scaling, both directions, the kernel's NoiseSpec, and `adept linkbudget`."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adept_core import cli
from adept_core.commands import linkbudget as command
from adept_core.errors import ConfigError
from adept_core.hardware import effective_bits, kernel_spec, link_budget, load_config, noise_spec, required_laser_power
from adept_core.hardware.linkbudget import max_enob_bits
from adept_core.kernels import PhotonicGemmSpec, photonic_gemm

# The module tests the SVD mesh's link budget (and the crossbar against it): the pre-issue-11 design.
MESH_PRESET = "adept-svd-mesh"
MESH = ["--config", MESH_PRESET]
CFG = load_config(MESH_PRESET)
POWERS_MW = np.geomspace(1.0, 1e5, 11)


def _slope(values) -> float:
    """Exponent a of values ~ P**a, least squares in log-log."""
    return float(np.polyfit(np.log(POWERS_MW), np.log(np.asarray(values)), 1)[0])


def test_noise_terms_scale_as_physics_says():
    budgets = [link_budget(CFG, p) for p in POWERS_MW]
    assert _slope([b.photocurrent_ua for b in budgets]) == pytest.approx(1.0, abs=1e-9)
    assert _slope([b.shot_noise_ua for b in budgets]) == pytest.approx(0.5, abs=1e-9)   # shot ~ sqrt(P)
    assert _slope([b.rin_noise_ua for b in budgets]) == pytest.approx(1.0, abs=1e-9)    # RIN ~ P
    assert np.ptp([b.thermal_noise_ua for b in budgets]) == 0.0                        # thermal constant


def test_noise_spec_scaling_in_partial_sum_units():
    # Photocurrent per partial-sum unit grows ~P, so in partial-sum units the thermal std
    # falls ~1/P, the shot std at a fixed p ~1/sqrt(P), and RIN (relative) does not move.
    specs = [noise_spec(CFG, p) for p in POWERS_MW]
    assert _slope([s.sigma_const for s in specs]) == pytest.approx(-1.0, abs=1e-9)
    assert _slope([math.sqrt(s.shot_coeff) for s in specs]) == pytest.approx(-0.5, abs=1e-9)
    assert np.ptp([s.rin_coeff for s in specs]) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-3, 1e6), st.floats(1.0, 100.0))
def test_more_laser_power_never_lowers_snr(p_mw, factor):
    assert link_budget(CFG, p_mw * factor).snr_db >= link_budget(CFG, p_mw).snr_db


def test_one_ulp_more_light_never_lowers_snr():
    for p in np.geomspace(1e-3, 1e7, 2001):
        assert link_budget(CFG, float(np.nextafter(p, np.inf))).snr_db >= link_budget(CFG, float(p)).snr_db


def test_snr_approaches_the_rin_ceiling_from_below():
    ceiling = max_enob_bits(CFG)
    enobs = [link_budget(CFG, p).enob_bits for p in np.geomspace(1, 1e9, 19)]
    assert all(e < ceiling for e in enobs) and ceiling - enobs[-1] < 1e-3


def test_noise_spec_reproduces_the_physical_snr():
    lb = link_budget(CFG)
    p = lb.full_scale_partial_sum
    n = lb.noise
    var = n.sigma_const**2 + n.shot_coeff * p + (n.rin_coeff * p) ** 2
    assert 10 * math.log10(0.5 * p * p / var) == pytest.approx(lb.snr_db, rel=1e-12)
    assert (lb.total_noise_ua / lb.photocurrent_ua) == pytest.approx(math.sqrt(var) / p, rel=1e-12)


@pytest.mark.parametrize("enob", [2.0, 4.0, 6.0, 7.5, 8.0, 8.5, 8.8])
def test_round_trip_enob_to_laser_to_enob(enob):
    req = required_laser_power(CFG, enob, check_waveguide_limit=False)
    assert link_budget(CFG, req.optical_mw).enob_bits == pytest.approx(enob, abs=1e-9)
    assert req.wall_plug_mw == pytest.approx(req.optical_mw / CFG.optics.laser_wall_plug_efficiency)


@pytest.mark.parametrize("p_mw", [0.5, 30.0, 11000.0, 2e5])
def test_round_trip_laser_to_enob_to_laser(p_mw):
    req = required_laser_power(CFG, link_budget(CFG, p_mw).enob_bits, check_waveguide_limit=False)
    assert req.optical_mw == pytest.approx(p_mw, rel=1e-9)


def test_unreachable_and_bad_targets_are_refused():
    with pytest.raises(ConfigError, match="rin_db_per_hz"):
        required_laser_power(CFG, max_enob_bits(CFG) + 0.01)
    for bad in (float("nan"), float("inf"), True, "8"):
        with pytest.raises(ConfigError, match="target_enob"):
            required_laser_power(CFG, bad)
    with pytest.raises(ConfigError, match="laser_power_mw"):
        link_budget(CFG, 0.0)


def test_default_laser_gives_a_bit_more_than_eight_bits():
    assert 8.0 < link_budget(CFG).enob_bits < 8.5


def test_losses_and_levers_move_the_budget_the_right_way():
    base = link_budget(CFG)
    lossy = link_budget(load_config(MESH_PRESET, {"optics.mzi_insertion_loss_db": 0.1}))
    assert lossy.total_loss_db == pytest.approx(base.total_loss_db + 0.05 * CFG.photonic.mesh_depth_mzis)
    assert lossy.snr_db < base.snr_db
    wdm = link_budget(load_config(MESH_PRESET, {"photonic.wdm_channels": 4}))
    assert wdm.total_loss_db == pytest.approx(base.total_loss_db + CFG.optics.wdm_mux_demux_loss_db)
    cores = link_budget(load_config(MESH_PRESET, {"photonic.num_cores": 4, "photonic.wdm_channels": 2}))
    assert cores.total_wall_plug_mw == pytest.approx(8 * cores.wall_plug_power_mw)
    small = link_budget(load_config(MESH_PRESET, {"photonic.rows": 64, "photonic.cols": 64}))
    assert small.snr_db > base.snr_db  # shorter mesh, less fan-out


def test_receiver_bandwidth_follows_the_clock():
    slow = load_config(MESH_PRESET, {"photonic.clock_ghz": 5.0})
    assert link_budget(slow).bandwidth_ghz == pytest.approx(2.5) and link_budget(CFG).bandwidth_ghz == pytest.approx(5.0)
    assert effective_bits(slow) > effective_bits(CFG) == link_budget(CFG).enob_bits
    # Only B changes: the thermal variance halves with the clock.
    assert link_budget(slow).thermal_noise_ua == pytest.approx(link_budget(CFG).thermal_noise_ua / math.sqrt(2))


def test_kernel_spec_matches_config_and_link_budget():
    cfg = load_config(MESH_PRESET, {"photonic.rows": 64, "photonic.cols": 32, "photonic.adc_bits": 10})
    spec = kernel_spec(cfg)
    assert isinstance(spec, PhotonicGemmSpec)
    assert (spec.rows, spec.cols, spec.input_bits, spec.weight_bits, spec.adc_bits) == (64, 32, 8, 8, 10)
    assert spec.noise == noise_spec(cfg) and spec.noise.enabled
    assert kernel_spec(cfg, 1.0).noise.sigma_const > spec.noise.sigma_const


def test_kernel_realises_the_link_budget_noise_at_full_scale():
    """The kernel's sampled noise std at a full-scale partial sum equals the link budget's sigma."""
    spec = kernel_spec(load_config(MESH_PRESET, {"photonic.adc_bits": 16}))
    m, k, n = 2000, spec.rows, spec.cols
    x = np.ones((m, k), np.float32)
    w = np.ones((k, n), np.float32)
    p_fs = spec.worst_case_full_scale
    y = photonic_gemm(x, w, spec, seed=7, backend="numpy", adc_full_scale=2.0 * p_fs).out
    noise = spec.noise
    sigma_p = math.sqrt(noise.sigma_const**2 + noise.shot_coeff * p_fs + (noise.rin_coeff * p_fs) ** 2)
    # y = p * (1/qmax)**2 for all-ones operands; noiseless value is k.
    measured = float(np.std(y.astype(np.float64) * 127.0**2))
    assert float(np.mean(y)) == pytest.approx(k, rel=1e-3)
    assert measured == pytest.approx(sigma_p, rel=0.02)  # 256k samples: 1-sigma error of a std is ~0.14%


def _run(argv, capsys):
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    return capsys.readouterr().out


def test_command_is_registered():
    assert "linkbudget" in cli.COMMANDS


def test_command_prints_both_directions(capsys):
    out = _run(["linkbudget", *MESH], capsys)
    lb = link_budget(CFG)
    assert f"{lb.enob_bits:8.3f} bits" in out and f"{lb.snr_db:8.2f} dB" in out
    assert f"{required_laser_power(CFG, 8, check_waveguide_limit=False).optical_mw:12.1f}" in out
    assert "unreachable" not in out
    noisy = _run(["linkbudget", *MESH, "--set", "optics.rin_db_per_hz=-140"], capsys)
    assert "8.5  unreachable: above the RIN ceiling" in noisy


def test_command_bits_laser_and_overrides(capsys):
    out = _run(["linkbudget", *MESH, "--bits", "6", "--set", "photonic.num_cores=2"], capsys)
    cfg = load_config(MESH_PRESET, {"photonic.num_cores": 2})
    req = required_laser_power(cfg, 6)
    assert f"{req.total_wall_plug_mw / 1e3:17.3f}" in out and "2 core(s)" in out
    out = _run(["linkbudget", *MESH, "--laser-mw", "100"], capsys)
    assert "laser 100 mW" in out and f"{link_budget(CFG, 100).enob_bits:8.3f} bits" in out


def test_command_refuses_unreachable_bits_and_bad_overrides(capsys):
    with pytest.raises(ConfigError, match="unreachable"):
        _run(["linkbudget", *MESH, "--bits", "12"], capsys)
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        _run(["linkbudget", *MESH, "--set", "photonic.rows"], capsys)
    with pytest.raises(ConfigError, match="photonic.rows"):
        _run(["linkbudget", *MESH, "--set", "photonic.rows=0"], capsys)


@pytest.mark.parametrize("rows,cols", [(128, 128), (64, 256), (256, 16)])
def test_split_and_fan_out_are_each_counted_once(rows, cols):
    # The ideal 1->rows input split is recombined coherently (only its excess is a loss); the
    # intrinsic 1/cols fan-out is the one geometric term. Nothing else depends on the tile size.
    cfg = load_config(MESH_PRESET, {"photonic.rows": rows, "photonic.cols": cols})
    lb = link_budget(cfg)
    terms = dict(lb.losses_db)
    assert terms[f"fan-out to {cols} outputs"] == pytest.approx(10 * math.log10(cols))
    stages = math.ceil(math.log2(rows))
    assert terms[f"splitter excess ({stages} stages)"] == pytest.approx(0.1 * stages)
    assert lb.total_loss_db == pytest.approx(sum(terms.values()))
    geometric = 10 * math.log10(cols) + 0.1 * stages + 0.05 * (rows + cols + 1)
    fixed = 2.0 + 1.2 + 1.0  # coupler, modulator, waveguide
    assert lb.total_loss_db == pytest.approx(geometric + fixed)


def test_waveguide_power_and_limit():
    from adept_core.hardware.linkbudget import waveguide_power_mw

    lb = link_budget(CFG)
    op = CFG.optics
    stages = math.ceil(math.log2(CFG.photonic.rows))
    expected = op.laser_power_mw * 10 ** (-(op.edge_coupler_loss_db + stages * op.splitter_excess_loss_db_per_stage) / 10)
    assert lb.waveguide_power_mw == pytest.approx(expected / CFG.photonic.rows, rel=1e-12)
    assert waveguide_power_mw(CFG) == lb.waveguide_power_mw
    assert op.max_waveguide_power_mw == 30.0 and not lb.feasible  # the preset laser is over the silicon limit
    assert link_budget(CFG, 1000.0).feasible


def test_required_laser_power_refuses_targets_over_the_waveguide_limit():
    with pytest.raises(ConfigError, match="max_waveguide_power_mw = 30 mW"):
        required_laser_power(CFG, 8.0)
    ok = required_laser_power(CFG, 6.0)
    assert ok.waveguide_power_mw <= 30.0
    sin = load_config(MESH_PRESET, {"optics.max_waveguide_power_mw": 120.0})
    assert required_laser_power(sin, 8.0).waveguide_power_mw > 30.0


def test_commands_report_an_over_limit_design_as_infeasible(capsys):
    out = _run(["linkbudget", *MESH], capsys)
    assert "power per input waveguide" in out and "INFEASIBLE" in out and "infeasible: " in out
    ok = _run(["linkbudget", *MESH, "--laser-mw", "1000"], capsys)
    assert "INFEASIBLE" not in ok
    with pytest.raises(ConfigError, match="max_waveguide_power_mw"):
        _run(["linkbudget", *MESH, "--bits", "8"], capsys)
    from adept_core.commands import perf

    def run_perf(argv):
        parser = argparse.ArgumentParser()
        perf.register(parser.add_subparsers())
        args = parser.parse_args(argv)
        assert args.func(args) == 0
        return capsys.readouterr().out

    assert "INFEASIBLE" in run_perf(["perf", "resnet50", *MESH])
    assert "INFEASIBLE" not in run_perf(["perf", "resnet50", *MESH, "--set", "optics.laser_power_mw=1000"])


def test_crossbar_pays_one_element_and_both_trees():
    mesh = link_budget(CFG)
    bar_cfg = load_config(MESH_PRESET, {"photonic.weight_array": "crossbar"})
    bar = link_budget(bar_cfg)
    op = CFG.optics
    stages = math.ceil(math.log2(CFG.photonic.rows))
    mesh_only = op.mzi_insertion_loss_db * CFG.photonic.mesh_depth_mzis
    bar_only = op.crossbar_element_loss_db + 2 * stages * op.splitter_excess_loss_db_per_stage
    assert bar.total_loss_db == pytest.approx(mesh.total_loss_db - mesh_only + bar_only, rel=1e-12)
    assert bar.enob_bits > mesh.enob_bits  # 12.85 dB of mesh loss against 1.9 dB
    lossy = load_config(MESH_PRESET, {"photonic.weight_array": "crossbar", "optics.crossbar_element_loss_db": 0.99})
    assert link_budget(lossy).total_loss_db == pytest.approx(bar.total_loss_db + 0.49, rel=1e-12)
    # the mesh's 257-deep path at 0.3 dB per MZI loses >= 77 dB; the crossbar does not care
    deep = {"optics.mzi_insertion_loss_db": 0.3}
    assert link_budget(load_config(MESH_PRESET, deep)).total_loss_db > 77.0
    assert link_budget(load_config(MESH_PRESET, {**deep, "photonic.weight_array": "crossbar"})).total_loss_db == bar.total_loss_db


def test_crossbar_element_count_and_programming_energy():
    from adept_core.schedule.params import cost_params

    bar_cfg = load_config(MESH_PRESET, {"photonic.weight_array": "crossbar"})
    ratio = cost_params(bar_cfg).program_energy_j_per_tile / cost_params(CFG).program_energy_j_per_tile
    assert ratio == pytest.approx(128 * 128 / (2 * (128 * 127 + 128)))
    bar = load_config(MESH_PRESET, {"photonic.weight_array": "crossbar"}).photonic
    mesh = CFG.photonic
    assert bar.weight_elements_per_tile == 128 * 128 == bar.phase_shifters_per_tile
    assert mesh.weight_elements_per_tile == 2 * (2 * 128 * 127 // 2 + 128) == mesh.phase_shifters_per_tile
    assert "dual-rail" in bar.signed_weights and "phase" in mesh.signed_weights
    with pytest.raises(ConfigError, match="photonic.weight_array must be one of 'svd_mesh', 'crossbar'"):
        load_config(MESH_PRESET, {"photonic.weight_array": "mesh"})


@pytest.mark.parametrize("array", ["svd_mesh", "crossbar"])
def test_full_scale_snr_matches_the_noise_spec_in_every_topology(array):
    cfg = load_config(MESH_PRESET, {"photonic.weight_array": array})
    lb = link_budget(cfg)
    p = lb.full_scale_partial_sum
    n = lb.noise
    var = n.sigma_const**2 + n.shot_coeff * p + (n.rin_coeff * p) ** 2
    assert 10 * math.log10(0.5 * p * p / var) == pytest.approx(lb.snr_db, rel=1e-12)
    req = required_laser_power(cfg, 6.0)
    assert link_budget(cfg, req.optical_mw).enob_bits == pytest.approx(6.0, abs=1e-9)


def test_linkbudget_command_follows_the_topology(capsys):
    out = _run(["linkbudget", *MESH, "--set", "photonic.weight_array=crossbar"], capsys)
    assert "crossbar weight element (1 deep)" in out and "MZI mesh" not in out and "16384 programmable" in out
    assert "MZI mesh (257 MZIs deep)" in _run(["linkbudget", *MESH], capsys)
    default = _run(["linkbudget"], capsys)  # the adept preset is the crossbar reconstruction, within the limit
    assert "crossbar weight element (1 deep)" in default and "INFEASIBLE" not in default


def test_sweep_rows_say_when_a_design_is_over_the_waveguide_limit(tmp_path):
    from adept_core.dse import run_sweep

    spec = {"name": "waveguide-limit", "workloads": ["resnet50"], "preset": MESH_PRESET,
            "axes": {"optics.laser_power_mw": [1000.0, 11000.0]}}
    rows = {r["optics.laser_power_mw"]: r for r in run_sweep(spec, out=tmp_path / "r.parquet", workers=0).table.to_pylist()}
    assert rows[1000.0]["infeasible"] == "" and not rows[1000.0]["error"]
    assert "INFEASIBLE: 46.2 mW per input waveguide" in rows[11000.0]["infeasible"]
    # The row's error names the reason (issue 10); the metrics stay (tests/test_sweep_infeasible.py).
    assert rows[11000.0]["error"].startswith("infeasible: 46.2 mW per input waveguide exceeds "
                                             "optics.max_waveguide_power_mw = 30 mW")
    assert rows[11000.0]["power_w"] > rows[1000.0]["power_w"] > 0
    assert rows[11000.0]["waveguide_power_mw"] == pytest.approx(link_budget(CFG).waveguide_power_mw)


def test_max_laser_power_fills_the_waveguide_limit_exactly():
    from adept_core.hardware.linkbudget import max_laser_power_mw, waveguide_power_mw

    for name in ("adept", "adept-svd-mesh"):
        cfg = load_config(name)
        p = max_laser_power_mw(cfg)
        assert waveguide_power_mw(cfg, p) == pytest.approx(cfg.optics.max_waveguide_power_mw, rel=1e-12)
        assert (waveguide_power_mw(cfg) > cfg.optics.max_waveguide_power_mw) == (cfg.optics.laser_power_mw > p)
