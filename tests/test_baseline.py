"""The systolic baseline: SCALE-Sim weight-stationary cycle counts and its energy."""

from __future__ import annotations

import math

import pytest

from adept_core.energy.model import layer_energy_j
from adept_core.graph import zoo
from adept_core.graph.lowering import graph_macs
from adept_core.hardware import load_config
from adept_core.schedule import schedule
from adept_core.schedule.params import cost_params
from cost_graphs import gemm_graph, lstm_graph, systolic_params


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (100, 32, 16), (100, 33, 17), (7, 500, 300)])
def test_scale_sim_weight_stationary_cycles(m, k, n):
    rows, cols, clock = 32, 16, 1e9
    s = schedule(gemm_graph(m, k, n, relu=False), systolic_params(rows=rows, cols=cols, clock_hz=clock))
    folds = math.ceil(k / rows) * math.ceil(n / cols)
    cycles = folds * (2 * rows + cols + m - 2)
    assert s.layers["latency_s"][0, 0] == pytest.approx(cycles / clock, rel=1e-12)
    assert s.layers["weight_programs"][0, 0] == folds
    assert s.layers["engine_macs"][0, 0] == m * k * n
    idle = rows * cols * cycles - m * k * n
    assert s.layers["idle_pe_cycles"][0, 0] == pytest.approx(idle)
    p = systolic_params(rows=rows, cols=cols, clock_hz=clock)
    energy = layer_energy_j(s)
    assert energy["systolic_array"][0, 0] == pytest.approx(m * k * n * p.mac_energy_j + idle * p.idle_pe_energy_j_per_cycle)
    assert set(energy) == {"systolic_array", "sram", "dram", "asic", "static"}


def test_recurrent_weights_stay_in_a_single_fold_array():
    seq = 5
    g = lstm_graph(seq=seq, inp=16, hidden=4)  # 16x16 input and 4x16 recurrent weights: one fold each
    s = schedule(g, systolic_params(rows=32, cols=16, asic_lanes=1 << 30))
    # Input projection: 1 fold streaming seq rows; recurrence: loaded once, then R + C + 1 - 2 cycles per step.
    assert s.layers["weight_programs"][0, 0] == 2
    per_step = (32 + 16 + 1 - 2) / 1e9
    assert s.layers["recurrence_s"][0, 0] == pytest.approx(seq * per_step, rel=1e-6)


def test_baseline_runs_the_same_macs_on_the_preset():
    params = cost_params(load_config("systolic"))
    assert params.arch == "systolic" and params.rows == params.cols == 256
    for name in zoo.ZOO_NAMES:
        graph = zoo.build(name)
        s = schedule(graph, params)
        assert s.total("engine_macs")[0] == graph_macs(graph)
        assert s.total("dac_conversions")[0] == s.total("adc_conversions")[0] == 0


def test_several_arrays_share_the_folds():
    m, k, n = 100, 64, 64  # 2 x 4 = 8 folds on a 32 x 16 array
    one = schedule(gemm_graph(m, k, n, relu=False), systolic_params())
    three = schedule(gemm_graph(m, k, n, relu=False), systolic_params(cores=3))
    fold = (2 * 32 + 16 + m - 2) / 1e9
    assert one.layers["latency_s"][0, 0] == pytest.approx(8 * fold, rel=1e-12)
    assert three.layers["latency_s"][0, 0] == pytest.approx(3 * fold, rel=1e-12)


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (100, 33, 17), (7, 500, 300)])
def test_double_buffered_weights_hide_all_but_the_first_shift_in(m, k, n):
    rows, cols, clock = 32, 16, 1e9
    s = schedule(gemm_graph(m, k, n, relu=False), systolic_params(rows=rows, cols=cols, clock_hz=clock, double_buffer=True))
    folds = math.ceil(k / rows) * math.ceil(n / cols)
    cycles = rows + folds * (rows + cols + m - 2)
    assert s.layers["latency_s"][0, 0] == pytest.approx(cycles / clock, rel=1e-12)
    assert s.layers["fill_s"][0, 0] == pytest.approx(rows / clock, rel=1e-12)
    assert s.layers["idle_pe_cycles"][0, 0] == pytest.approx(rows * cols * cycles - m * k * n)


def test_systolic_preset_maps_its_double_buffering():
    assert cost_params(load_config("systolic")).double_buffer
    assert not cost_params(load_config("systolic", {"systolic.double_buffered_weights": False})).double_buffer


def _die_power_w(report, cfg) -> float:
    """Power of the accelerator die: everything but the DRAM chips (TPU v1's published power is the die's)."""
    dram_w = report.energy_breakdown_j["dram"] * report.batch / report.latency_s + cfg.dram.static_power_mw * 1e-3
    return report.power_w - dram_w


def test_tpu_v1_preset_has_its_published_peak_and_memory_system():
    cfg = load_config("systolic-tpuv1")
    assert round(2 * cfg.systolic.peak_macs_per_s / 1e12) == 92  # 92 TOPS (Jouppi et al., ISCA 2017)
    assert cfg.systolic.rows * cfg.systolic.cols * cfg.systolic.cores == 65536
    assert cfg.sram.capacity_mib == 28.0 and cfg.dram.bandwidth_gb_per_s == 34.0 and cfg.dram.technology == "DDR3"


def test_tpu_v1_preset_die_power_at_full_use_is_in_its_published_range():
    from adept_core.energy.evaluate import evaluate

    cfg = load_config("systolic-tpuv1")
    # One 256 x 256 fold streaming 16,384 vectors: the array is busy > 95 % of the run.
    report = evaluate(gemm_graph(16384, 256, 256, relu=False), cfg)
    assert report.utilization["systolic"] > 0.95
    assert 28.0 <= _die_power_w(report, cfg) <= 40.0  # TPU v1 die: 28 W idle, 40 W busy (Jouppi et al. 2017, Table 2)


def test_adept_and_systolic_static_power_follow_one_density_rule():
    # docs/energy.md "One standard for static power": one mW/mm^2 for both dies, TPU v1 as measured apart.
    density = {p: load_config(p).asic.static_power_mw / load_config(p).asic.electronic_die_area_mm2
               for p in ("adept", "systolic", "systolic-tpuv1")}
    assert density["adept"] == pytest.approx(density["systolic"], rel=2e-3)
    assert density["systolic-tpuv1"] > 20 * density["systolic"]  # TPU v1's ungated idle die


def test_single_buffered_preset_reproduces_scale_sim_cycles():
    cfg = load_config("systolic", {"systolic.double_buffered_weights": False})
    m, k, n = 300, 600, 700
    s = schedule(gemm_graph(m, k, n, relu=False), cost_params(cfg))
    rows, cols = cfg.systolic.rows, cfg.systolic.cols
    cycles = math.ceil(k / rows) * math.ceil(n / cols) * (2 * rows + cols + m - 2)
    assert s.layers["latency_s"][0, 0] == pytest.approx(cycles / (cfg.systolic.clock_ghz * 1e9), rel=1e-12)


def test_systolic_cores_key_deals_folds_over_the_arrays():
    m, k, n = 300, 1024, 1024  # 4 x 4 = 16 folds of the 256 x 256 array
    cfgs = [load_config("systolic", {"systolic.cores": c, "systolic.double_buffered_weights": False}) for c in (1, 3)]
    one, three = (schedule(gemm_graph(m, k, n, relu=False), cost_params(c)) for c in cfgs)
    fold = (2 * 256 + 256 + m - 2) / 0.7e9
    assert cost_params(cfgs[1]).cores == 3
    assert one.layers["engine_s"][0, 0] + one.layers["fill_s"][0, 0] == pytest.approx(16 * fold, rel=1e-12)
    assert three.layers["engine_s"][0, 0] + three.layers["fill_s"][0, 0] == pytest.approx(6 * fold, rel=1e-12)


@pytest.mark.parametrize("preset", ["systolic", "systolic-tpuv1"])
def test_every_baseline_value_carries_a_source(preset):
    from adept_core.hardware.loader import PRESET_DIR

    for line in (PRESET_DIR / f"{preset}.toml").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[", "base", "name")):
            assert "#" in line and line.split("#", 1)[1].strip(), line
