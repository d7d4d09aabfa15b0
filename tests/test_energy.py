"""Energy model and Report: conservation, formulas, API, levers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import adept_core
from adept_core.energy import evaluate, evaluate_many
from adept_core.energy.levers import lever_table
from adept_core.energy.model import layer_energy_j
from adept_core.errors import ConfigError
from adept_core.graph import zoo
from adept_core.graph.lowering import graph_macs
from adept_core.hardware import config_hash, link_budget, load_config, with_overrides
from adept_core.schedule import schedule
from cost_graphs import gemm_graph, photonic_params

JSON_KEYS = {
    "workload", "config", "batch", "macs", "latency_s", "inferences_per_s", "power_w", "inferences_per_s_per_w",
    "energy_per_inference_j", "energy_breakdown_j", "layers", "provenance",
}
LAYER_KEYS = {"name", "kind", "macs", "unit", "latency_s", "energy_j", "utilization"}


@pytest.fixture(scope="module")
def reports():
    out = {}
    for name in zoo.ZOO_NAMES:
        graph = zoo.build(name)
        for preset in ("adept", "systolic"):
            out[name, preset] = evaluate(graph, preset)
    return out


def test_breakdown_and_layers_sum_to_the_total(reports):
    for r in reports.values():
        assert math.fsum(r.energy_breakdown_j.values()) == pytest.approx(r.energy_per_inference_j, rel=1e-12)
        assert math.fsum(layer.energy_j for layer in r.layers) == pytest.approx(r.energy_per_inference_j, rel=1e-12)
        assert math.fsum(layer.latency_s for layer in r.layers) == pytest.approx(r.latency_s, rel=1e-12)
        assert r.power_w * r.latency_s / r.batch == pytest.approx(r.energy_per_inference_j, rel=1e-12)
        assert r.inferences_per_s_per_w == pytest.approx(1.0 / r.energy_per_inference_j, rel=1e-12)


def test_energy_and_time_positive_and_finite(reports):
    for r in reports.values():
        for value in (r.latency_s, r.power_w, r.energy_per_inference_j, r.inferences_per_s, r.inferences_per_s_per_w):
            assert math.isfinite(value) and value > 0
        assert all(math.isfinite(v) and v >= 0 for v in r.energy_breakdown_j.values())
        for layer in r.layers:
            assert math.isfinite(layer.latency_s) and layer.latency_s >= 0
            assert math.isfinite(layer.energy_j) and layer.energy_j >= 0
            assert 0 <= layer.utilization <= 1 + 1e-12
            assert all(0 <= u <= 1 + 1e-12 for u in layer.utilization_by_unit.values())
        assert all(0 <= u <= 1 + 1e-12 for u in r.utilization.values())


def test_components_follow_counts_times_energy():
    p = photonic_params()
    g = gemm_graph(256, 256, 384)
    s = schedule(g, p)
    e = {k: v[0] for k, v in layer_energy_j(s).items()}
    latency = s.layers["latency_s"][0]
    np.testing.assert_allclose(e["laser"], latency * p.laser_power_w, rtol=1e-15)
    np.testing.assert_allclose(e["tia"], latency * p.tia_power_w, rtol=1e-15)
    np.testing.assert_allclose(e["static"], latency * p.static_power_w, rtol=1e-15)
    assert e["dac"][0] == pytest.approx(256 * 256 * 3 * p.dac_energy_j)
    assert e["adc"][0] == pytest.approx(256 * 384 * 2 * p.adc_energy_j)
    assert e["weight_program"][0] == pytest.approx(6 * p.program_energy_j_per_tile)
    assert set(e) == {"laser", "dac", "adc", "tia", "weight_program", "sram", "dram", "asic", "static"}


def test_laser_energy_follows_the_link_budget():
    graph = zoo.build("resnet50")
    cfg = load_config("adept")
    brighter = with_overrides(cfg, {"optics.laser_power_mw": 2 * cfg.optics.laser_power_mw})
    a, b = evaluate(graph, cfg), evaluate(graph, brighter)
    assert a.latency_s == b.latency_s
    wall_plug_w = link_budget(cfg).total_wall_plug_mw * 1e-3
    assert a.energy_breakdown_j["laser"] == pytest.approx(wall_plug_w * a.latency_s, rel=1e-12)
    assert b.energy_breakdown_j["laser"] == pytest.approx(2 * a.energy_breakdown_j["laser"], rel=1e-12)


def test_report_json_has_the_documented_keys(reports):
    r = reports["rnnt", "adept"]
    data = json.loads(json.dumps(r.to_dict()))
    assert JSON_KEYS <= set(data)
    assert data["workload"] == "rnnt" and data["config"] == "adept" and data["batch"] == 1
    assert data["macs"] == graph_macs(zoo.build("rnnt"))
    assert LAYER_KEYS <= set(data["layers"][0])
    assert {layer["unit"] for layer in data["layers"]} <= {"photonic", "asic"}
    assert data["provenance"] == {"package_version": adept_core.__version__, "config_hash": config_hash(load_config("adept"))}


def test_public_api_and_batch_checks():
    assert adept_core.evaluate is evaluate
    graph = zoo.build("resnet50", batch=2)
    r = adept_core.evaluate(graph, "adept")
    assert isinstance(r, adept_core.Report) and r.batch == 2
    assert adept_core.evaluate(graph, load_config("adept"), batch=2) == r
    with pytest.raises(ConfigError, match="built for batch 2"):
        evaluate(graph, "adept", batch=4)
    with pytest.raises(ConfigError, match="batch"):
        evaluate(graph, "adept", batch=0)
    with pytest.raises(ConfigError):
        evaluate(graph, 42)


def test_evaluate_many_matches_evaluate():
    graph = zoo.build("bert-large")
    base = load_config("adept")
    cfgs = [with_overrides(base, {"photonic.num_cores": c, "photonic.rows": r, "photonic.cols": r}) for c, r in ((1, 128), (4, 64), (2, 256))]
    many = evaluate_many(graph, cfgs)
    for i, cfg in enumerate(cfgs):
        one = evaluate(graph, cfg)
        assert many.latency_s[i] == pytest.approx(one.latency_s, rel=1e-12)
        assert many.inferences_per_s_per_w[i] == pytest.approx(one.inferences_per_s_per_w, rel=1e-12)
        assert many.power_w[i] == pytest.approx(one.power_w, rel=1e-12)


def test_levers_do_what_they_say():
    rows = {row.lever: row for row in lever_table("rnnt", "adept", batch_factor=4, cores_factor=2, wdm_factor=2)}
    assert set(rows) == {"base", "batch x4", "double-buffered weights", "cores x2", "WDM x2", "gated laser", "all levers"}
    assert rows["base"].speedup == 1.0
    assert rows["double-buffered weights"].speedup >= 1.0
    assert rows["cores x2"].speedup > 1.0
    assert rows["batch x4"].report.batch == 4 and rows["batch x4"].speedup > 1.0
    # More wavelengths draw more laser and TIA power.
    assert rows["WDM x2"].report.power_w > rows["base"].report.power_w
    # Gating the laser saves energy, never time.
    assert rows["gated laser"].speedup == 1.0 and rows["gated laser"].efficiency_gain > 1.0
    systolic = [row.lever for row in lever_table("resnet50", "systolic")]
    assert systolic == ["base", "batch x8"]
    with pytest.raises(ConfigError, match="cores_factor"):
        lever_table("resnet50", cores_factor=1)


@pytest.mark.parametrize("cores,wdm", [(1, 1), (3, 1), (2, 4)])
def test_gated_laser_burns_only_while_tiles_stream(cores, wdm):
    # 256x256 @ 256x384 on 128x128 cores: 2 x 3 = 6 tiles, each streaming ceil(256 / wdm) symbols on one core.
    on, gated = (schedule(gemm_graph(256, 256, 384), photonic_params(cores=cores, wdm=wdm, laser_gated=g))
                 for g in (False, True))
    light_core_s = 6 * math.ceil(256 / wdm) / 10e9
    assert gated.layers["light_core_s"][0].sum() == pytest.approx(light_core_s)
    assert on.layers["latency_s"][0].sum() == gated.layers["latency_s"][0].sum()
    e_on, e_gated = (layer_energy_j(s)["laser"][0].sum() for s in (on, gated))
    assert e_gated == pytest.approx(light_core_s * 5.0 / cores)  # laser_power_w = 5 W over all cores
    assert e_on == pytest.approx(on.layers["latency_s"][0].sum() * 5.0)
    assert e_gated < e_on  # the 1 us programming of each tile is dark


def test_gated_laser_counts_every_recurrent_step():
    from cost_graphs import lstm_graph

    seq = 5  # recurrent weight 64 x 256 -> 2 tiles; resident on 2 cores, reloaded on 1
    for cores in (1, 2):
        s = schedule(lstm_graph(seq=seq, inp=64, hidden=64), photonic_params(cores=cores, laser_gated=True))
        # input projection: 1 x 2 tiles streaming seq rows; recurrence: 2 tiles x seq steps streaming 1 row
        assert s.layers["light_core_s"][0].sum() == pytest.approx((2 * seq + 2 * seq * 1) / 10e9)


def test_preset_keeps_the_laser_on_and_the_lever_lowers_energy_not_time():
    graph = zoo.build("resnet50")
    cfg = load_config("adept")
    assert cfg.optics.laser_gated is False
    on, gated = evaluate(graph, cfg), evaluate(graph, with_overrides(cfg, {"optics.laser_gated": True}))
    assert gated.latency_s == on.latency_s
    assert gated.energy_breakdown_j["laser"] < 0.05 * on.energy_breakdown_j["laser"]  # the core streams ~1.5 % of the time
    for name in ("tia", "static", "adc", "dac"):
        assert gated.energy_breakdown_j[name] == on.energy_breakdown_j[name]
