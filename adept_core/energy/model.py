"""Energy = event counts x energy per event + power x time (``docs/energy.md``).

Per layer, for one (or ``D`` stacked) design(s), in joules per run of the
graph (one batch):

- ``laser``: wall-plug laser power x layer latency (always on), or, with
  ``optics.laser_gated``, each core's share only while it streams a tile
  (off during weight programming and ASIC-only layers);
- ``tia``: TIA power of every receiver x latency (always on);
- ``dac``: input conversions x (DAC + driver + modulator) energy;
- ``adc``: output conversions x ADC energy;
- ``weight_program``: tiles programmed x energy per tile + hold power x latency;
- ``systolic_array`` (baseline): MACs x MAC energy + idle PE-cycles x idle energy;
- ``sram``: bytes read and written x energy per byte;
- ``dram``: bytes x energy per byte;
- ``asic``: lane-ops x energy per op;
- ``static``: leakage of the electronic die and SRAM, DRAM background,
  host and board x latency.
"""

from __future__ import annotations

import numpy as np

from ..schedule.mapping import Schedule

PHOTONIC_COMPONENTS = ("laser", "dac", "adc", "tia", "weight_program", "sram", "dram", "asic", "static")
SYSTOLIC_COMPONENTS = ("systolic_array", "sram", "dram", "asic", "static")


def components(arch: str) -> tuple[str, ...]:
    """Energy components reported for architecture ``arch``."""
    return PHOTONIC_COMPONENTS if arch == "photonic" else SYSTOLIC_COMPONENTS


def layer_energy_j(s: Schedule) -> dict[str, np.ndarray]:
    """Energy of every layer by component: ``component -> array (D, L)``, joules per run."""
    p, layer = s.params, s.layers
    latency = layer["latency_s"]
    out = {
        "sram": layer["sram_read_bytes"] * p.sram_read_energy_j_per_byte
        + layer["sram_write_bytes"] * p.sram_write_energy_j_per_byte,
        "dram": layer["dram_bytes"] * p.dram_energy_j_per_byte,
        "asic": layer["asic_ops"] * p.asic_energy_j_per_op,
        "static": latency * p.static_power_w,
    }
    if p.arch == "photonic":
        # Gated: each core's share of the light only while it streams a tile.
        laser_time = np.where(p.laser_gated, layer["light_core_s"] / p.cores, latency)
        out.update(
            laser=laser_time * p.laser_power_w,
            tia=latency * p.tia_power_w,
            dac=layer["dac_conversions"] * p.dac_energy_j,
            adc=layer["adc_conversions"] * p.adc_energy_j,
            weight_program=layer["weight_programs"] * p.program_energy_j_per_tile + latency * p.hold_power_w,
        )
    else:
        out["systolic_array"] = layer["engine_macs"] * p.mac_energy_j + layer["idle_pe_cycles"] * p.idle_pe_energy_j_per_cycle
    shape = latency.shape
    return {name: np.broadcast_to(out[name], shape) for name in components(p.arch)}


def peak_engine_macs_per_s(s: Schedule):
    """Peak MAC rate of the GEMM engine (all cores and wavelengths)."""
    p = s.params
    return p.rows * p.cols * p.cores * p.wdm * p.clock_hz


def layer_utilization(s: Schedule) -> dict[str, np.ndarray]:
    """Fraction of each layer's latency each unit is busy: ``unit -> array (D, L)`` in [0, 1].

    ``engine``: MACs over peak MACs in the layer's time; ``asic``: lane-ops
    over peak lane-ops; ``sram`` / ``dram``: transfer time over layer time.
    """
    p, layer = s.params, s.layers
    latency = np.where(layer["latency_s"] > 0, layer["latency_s"], np.inf)
    return {
        "engine": layer["engine_macs"] / (peak_engine_macs_per_s(s) * latency),
        "asic": layer["asic_ops"] / (p.asic_lanes * p.asic_clock_hz * latency),
        "sram": layer["sram_s"] / latency,
        "dram": layer["dram_s"] / latency,
    }
