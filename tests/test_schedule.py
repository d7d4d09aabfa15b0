"""Scheduler invariants and hand-computed cases (photonic cores, ASIC, memories, overlap)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from adept_core.errors import ConfigError, UnsupportedOpError
from adept_core.graph import zoo
from adept_core.graph.ir import Graph, Node
from adept_core.graph.lowering import graph_macs
from adept_core.hardware import load_config
from adept_core.schedule import digest, schedule, stack, with_levers
from adept_core.schedule.asic_ops import TRANSCENDENTAL_OPS, recurrent_step_ops
from adept_core.schedule.params import cost_params
from cost_graphs import depthwise_graph, gemm_graph, lstm_graph, photonic_params

PRESETS = ("adept", "systolic")


@pytest.fixture(scope="module")
def zoo_graphs():
    return {name: zoo.build(name) for name in zoo.ZOO_NAMES}


@pytest.fixture(scope="module")
def presets():
    return {name: cost_params(load_config(name)) for name in PRESETS}


def test_every_mac_is_scheduled_exactly_once(zoo_graphs, presets):
    for graph in zoo_graphs.values():
        for params in presets.values():
            s = schedule(graph, params)
            assert s.total("engine_macs")[0] == graph_macs(graph)
            assert s.total("asic_macs")[0] == 0
    # Depthwise convolution runs on the ASIC: its MACs move there, none is lost or doubled.
    g = depthwise_graph(c=32, hw=16)
    s = schedule(g, photonic_params())
    dw_macs = 32 * 16 * 16 * 9
    assert s.layers["asic_macs"][0].tolist() == [dw_macs, 0]
    assert s.layers["engine_macs"][0].tolist() == [0, 16 * 16 * 32 * 64]
    assert s.total("asic_macs")[0] + s.total("engine_macs")[0] == digest(g).macs == dw_macs + graph_macs(g)


def test_more_cores_never_slow_a_layer(zoo_graphs, presets):
    base = presets["adept"]
    for double_buffer in (False, True):
        designs = stack([with_levers(base, cores=c, double_buffer=double_buffer) for c in (1, 2, 3, 4, 8, 16, 64)])
        for graph in zoo_graphs.values():
            latency = schedule(graph, designs).layers["latency_s"]
            assert np.all(np.diff(latency, axis=0) <= 1e-15 * latency[:-1]), graph.name


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 3000), k=st.integers(1, 1000), n=st.integers(1, 1000), rows=st.sampled_from([16, 64, 128]),
    cores=st.integers(1, 8), extra=st.integers(1, 8), wdm=st.integers(1, 4), db=st.booleans(),
    prog_ns=st.sampled_from([0.0, 1.0, 1000.0]),
)
def test_more_cores_never_slow_any_gemm(m, k, n, rows, cores, extra, wdm, db, prog_ns):
    g = gemm_graph(m, k, n)
    p = photonic_params(rows=rows, cols=rows, wdm=wdm, double_buffer=db, program_time_s=prog_ns * 1e-9)
    few = schedule(g, with_levers(p, cores=cores)).layers["latency_s"]
    many = schedule(g, with_levers(p, cores=cores + extra)).layers["latency_s"]
    assert np.all(many <= few * (1 + 1e-12))


def test_weight_stationary_gemm_by_hand():
    m, k, n = 256, 256, 384
    program, clock = 1e-6, 10e9
    g = gemm_graph(m, k, n, relu=False)
    s = schedule(g, photonic_params(program_time_s=program, clock_hz=clock))
    layer = {key: v[0, 0] for key, v in s.layers.items()}
    tiles = 2 * 3
    stream = m / clock
    assert layer["weight_programs"] == tiles
    assert layer["passes"] == m * tiles
    assert layer["dac_conversions"] == m * k * 3
    assert layer["adc_conversions"] == m * n * 2
    # Engine-bound (memories and ASIC are fast in photonic_params): one core, program + stream per tile.
    assert layer["latency_s"] == pytest.approx(tiles * (program + stream), rel=1e-12)
    # ASIC: quantize inputs, add the 2 K-tile partial sums, dequantize (+ bias) each output.
    assert layer["asic_ops"] == m * k + (2 - 1) * m * n + m * n
    # Double buffering hides programming behind streaming (first program exposed).
    s2 = schedule(g, photonic_params(program_time_s=program, clock_hz=clock, double_buffer=True))
    assert s2.layers["latency_s"][0, 0] == pytest.approx(program + (tiles - 1) * max(program, stream) + stream, rel=1e-12)
    # WDM: 4 wavelengths stream 4 vectors per symbol through the same tile.
    s3 = schedule(g, photonic_params(program_time_s=0.0, clock_hz=clock, wdm=4))
    assert s3.layers["latency_s"][0, 0] == pytest.approx(tiles * math.ceil(m / 4) / clock, rel=1e-12)
    # Three cores take the six tiles in two rounds.
    s4 = schedule(g, photonic_params(program_time_s=program, clock_hz=clock, cores=3))
    assert s4.layers["latency_s"][0, 0] == pytest.approx(2 * (program + stream), rel=1e-12)


def test_asic_bound_layer_takes_the_asic_time():
    m, n = 64, 128
    g = gemm_graph(m, 64, n)
    lanes, clock = 4, 1e9
    s = schedule(g, photonic_params(asic_lanes=lanes, asic_clock_hz=clock, program_time_s=0.0))
    relu = {key: v[0, 1] for key, v in s.layers.items()}
    assert relu["asic_ops"] == m * n
    assert relu["latency_s"] == pytest.approx(m * n / (lanes * clock))
    # The ReLU is fused into the GEMM's output stream: no SRAM read of its input.
    assert relu["sram_read_bytes"] == 0 and relu["sram_write_bytes"] == m * n * 2


def test_recurrence_is_serial_and_resident_weights_are_programmed_once():
    seq, hidden = 10, 64
    g = lstm_graph(seq=seq, batch=1, inp=64, hidden=hidden)
    lanes, clock = 256, 1e9
    p = photonic_params(asic_lanes=lanes, asic_clock_hz=clock, program_time_s=1e-6)
    s = schedule(g, p)
    layer = {key: v[0, 0] for key, v in s.layers.items()}
    # Recurrent weights [64 x 256] are 2 tiles of 128 columns: with one core they reload every step.
    assert layer["weight_programs"] == 2 + 2 * seq
    step_ops = recurrent_step_ops("LSTM", hidden) + (hidden + 4 * hidden)  # gate math + quantize h + dequantize
    assert recurrent_step_ops("LSTM", hidden) == 12 * hidden + 5 * hidden * TRANSCENDENTAL_OPS
    step_engine = 2 * (1e-6 + 1 / 10e9)
    assert layer["recurrence_s"] == pytest.approx(seq * (step_engine + step_ops / (lanes * clock)), rel=1e-12)
    assert layer["latency_s"] >= layer["recurrence_s"]
    # With two cores both tiles stay programmed: programmed once, each step only streams.
    s2 = schedule(g, with_levers(p, cores=2))
    assert s2.layers["weight_programs"][0, 0] == 2 + 2
    assert s2.layers["recurrence_s"][0, 0] == pytest.approx(seq * (1 / 10e9 + step_ops / (lanes * clock)), rel=1e-12)


def test_weights_beyond_sram_stream_from_dram():
    g = gemm_graph(64, 1024, 1024, relu=False)  # 1 MiB of int8 weights
    fits = schedule(g, photonic_params(sram_capacity_bytes=8e6))
    assert fits.weights_resident[0, 0] and fits.total("dram_bytes")[0] == 0
    spills = schedule(g, photonic_params(sram_capacity_bytes=0.5e6))
    assert not spills.weights_resident[0, 0]
    assert spills.total("dram_weight_bytes")[0] == 1024 * 1024
    assert spills.total("latency_s")[0] >= 1024 * 1024 / 1e12


def test_refuses_designs_that_cannot_run():
    g = gemm_graph(64, 1024, 1024, relu=False)
    with pytest.raises(ConfigError, match="'fc'.*do not fit in SRAM.*staging"):
        schedule(g, photonic_params(sram_capacity_bytes=10e3))
    for field in ("sram_bandwidth_bytes_per_s", "dram_bandwidth_bytes_per_s", "clock_hz", "asic_lanes"):
        with pytest.raises(ConfigError, match=field):
            photonic_params(**{field: 0})
    with pytest.raises(ConfigError, match="sram.bandwidth_gb_per_s"):
        load_config("adept", {"sram.bandwidth_gb_per_s": 0})
    with pytest.raises(ConfigError, match="finite"):
        photonic_params(program_time_s=float("nan"))


def test_unsupported_op_is_named():
    g = Graph("odd", {"x": (4, 4)}, ["y"], [Node("n0", "NonMaxSuppression", ("x",), ("y",))], {}, {"x": (4, 4), "y": (4, 4)})
    with pytest.raises(UnsupportedOpError, match="NonMaxSuppression"):
        digest(g)


def test_lowering_is_cached_per_graph(zoo_graphs):
    g = zoo_graphs["bert-large"]
    assert digest(g) is digest(g)
    assert digest(zoo.build("rnnt")) is not digest(zoo_graphs["rnnt"])


def test_stacked_designs_match_one_by_one(zoo_graphs, presets):
    base = presets["adept"]
    designs = [with_levers(base, cores=c, wdm=w, rows=r, cols=r) for c, w, r in ((1, 1, 128), (4, 2, 64), (2, 8, 256))]
    stacked = schedule(zoo_graphs["resnet50"], stack(designs))
    for i, p in enumerate(designs):
        single = schedule(zoo_graphs["resnet50"], p)
        for key in single.layers:
            np.testing.assert_allclose(stacked.layers[key][i], single.layers[key][0], rtol=1e-12, err_msg=key)


def test_every_graph_op_has_a_cost():
    from adept_core.graph.lowering import GEMM_OPS
    from adept_core.graph.ops import GRAPH_OPS
    from adept_core.schedule.asic_ops import SUPPORTED_ASIC_OPS

    assert GRAPH_OPS <= SUPPORTED_ASIC_OPS | GEMM_OPS
