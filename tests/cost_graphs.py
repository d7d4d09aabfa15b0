"""Small hand-built Graphs and a CostParams factory shared by the cost-model tests."""

from __future__ import annotations

from dataclasses import replace

from adept_core.graph.ir import Graph, LazyWeight, Node
from adept_core.schedule.params import CostParams


def gemm_graph(m: int, k: int, n: int, relu: bool = True) -> Graph:
    """``relu(x @ W)`` with ``x [m, k]``, ``W [k, n]``."""
    nodes = [Node("fc", "Gemm", ("x", "w"), ("y",))]
    shapes = {"x": (m, k), "w": (k, n), "y": (m, n)}
    outputs = ["y"]
    if relu:
        nodes.append(Node("relu", "Relu", ("y",), ("z",)))
        shapes["z"] = (m, n)
        outputs = ["z"]
    return Graph("gemm", {"x": (m, k)}, outputs, nodes, {"w": LazyWeight((k, n))}, shapes, meta={"batch": 1})


def depthwise_graph(c: int = 32, hw: int = 16) -> Graph:
    """A 3x3 depthwise convolution followed by a 1x1 pointwise convolution."""
    attrs = {"kernel_shape": (3, 3), "pads": (1, 1, 1, 1), "group": c}
    nodes = [
        Node("dw", "Conv", ("x", "wd"), ("y",), attrs),
        Node("pw", "Conv", ("y", "wp"), ("z",), {"kernel_shape": (1, 1)}),
    ]
    shapes = {"x": (1, c, hw, hw), "wd": (c, 1, 3, 3), "y": (1, c, hw, hw), "wp": (2 * c, c, 1, 1), "z": (1, 2 * c, hw, hw)}
    weights = {"wd": LazyWeight((c, 1, 3, 3)), "wp": LazyWeight((2 * c, c, 1, 1))}
    return Graph("dwconv", {"x": shapes["x"]}, ["z"], nodes, weights, shapes, meta={"batch": 1})


def lstm_graph(seq: int = 10, batch: int = 1, inp: int = 64, hidden: int = 64) -> Graph:
    """One unidirectional LSTM layer."""
    shapes = {
        "x": (seq, batch, inp), "W": (1, 4 * hidden, inp), "R": (1, 4 * hidden, hidden), "y": (seq, 1, batch, hidden),
    }
    nodes = [Node("lstm", "LSTM", ("x", "W", "R"), ("y",), {"hidden_size": hidden})]
    weights = {"W": LazyWeight(shapes["W"]), "R": LazyWeight(shapes["R"])}
    return Graph("lstm", {"x": shapes["x"]}, ["y"], nodes, weights, shapes, meta={"batch": batch})


def photonic_params(**changes) -> CostParams:
    """A photonic design with round numbers (memories and ASIC fast unless changed)."""
    base = CostParams(
        arch="photonic", rows=128, cols=128, cores=1, wdm=1, clock_hz=10e9, input_bits=8, weight_bits=8,
        double_buffer=False, program_time_s=1e-6, program_energy_j_per_tile=3e-8, dac_energy_j=1e-12,
        adc_energy_j=3e-12, laser_power_w=5.0, tia_power_w=0.5, hold_power_w=0.0, laser_gated=False, mac_energy_j=0.0,
        idle_pe_energy_j_per_cycle=0.0, asic_lanes=1 << 20, asic_clock_hz=1e9, asic_energy_j_per_op=1e-12,
        sram_capacity_bytes=64e6, sram_bandwidth_bytes_per_s=1e15, sram_read_energy_j_per_byte=1e-12,
        sram_write_energy_j_per_byte=1e-12, dram_bandwidth_bytes_per_s=1e12, dram_energy_j_per_byte=3e-11,
        static_power_w=1.0,
    )
    return replace(base, **changes)


def systolic_params(**changes) -> CostParams:
    """A systolic design sharing :func:`photonic_params`' memories and ASIC."""
    base = photonic_params(
        arch="systolic", rows=32, cols=16, clock_hz=1e9, program_time_s=0.0, program_energy_j_per_tile=0.0,
        dac_energy_j=0.0, adc_energy_j=0.0, laser_power_w=0.0, tia_power_w=0.0, mac_energy_j=2e-13,
        idle_pe_energy_j_per_cycle=1e-14,
    )
    return replace(base, **changes)
