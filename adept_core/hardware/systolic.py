"""The electronic baseline: a weight-stationary int8 systolic array."""

from __future__ import annotations

from dataclasses import dataclass

from .fields import BITS, BOOL, CORE_DIM, COUNT, NON_NEGATIVE, POSITIVE, Section, int_range, spec


@dataclass(frozen=True)
class SystolicConfig(Section):
    """A ``rows x cols`` weight-stationary MAC array (the standard analytical model:
    fill, drain and folds) with the same SRAM, DRAM and ASIC as ADEPT.
    """

    SECTION = "systolic"

    rows: int = spec(CORE_DIM, "PE rows (the reduction dimension K of a weight fold)")
    cols: int = spec(CORE_DIM, "PE columns (output channels N of a weight fold)")
    cores: int = spec(COUNT, "identical arrays sharing the folds of a call (ceil(folds / cores) rounds)")
    clock_ghz: float = spec(POSITIVE, "array clock, GHz")
    input_bits: int = spec(BITS, "activation width")
    weight_bits: int = spec(BITS, "weight width")
    accumulator_bits: int = spec(int_range(8, 64), "partial-sum width inside the array")
    mac_energy_pj: float = spec(POSITIVE, "energy of one int8 MAC including PE registers, pJ")
    idle_pe_energy_pj_per_cycle: float = spec(NON_NEGATIVE, "clock/register energy of an idle PE per cycle, pJ")
    double_buffered_weights: bool = spec(BOOL, "a second weight tile per PE: the next fold shifts in while the current one streams")

    @property
    def peak_macs_per_s(self) -> float:
        """Peak MAC rate of all arrays, MAC/s."""
        return self.rows * self.cols * self.cores * self.clock_ghz * 1e9
