"""The digital vector unit (ASIC) that runs every non-GEMM op."""

from __future__ import annotations

from dataclasses import dataclass

from .fields import COUNT, NON_NEGATIVE, POSITIVE, Section, spec


@dataclass(frozen=True)
class AsicConfig(Section):
    """bf16 SIMD vector lanes on the electronic die.

    One *op* is one elementwise bf16 operation on one lane (add, multiply,
    fused multiply-add, compare, or one step of a piecewise activation).
    Partial-sum accumulation, quantize/dequantize, normalisation, softmax,
    pooling and LSTM gate math are charged in these ops.
    """

    SECTION = "asic"

    lanes: int = spec(COUNT, "parallel bf16 lanes")
    clock_ghz: float = spec(POSITIVE, "lane clock, GHz")
    energy_pj_per_op: float = spec(POSITIVE, "dynamic energy of one bf16 lane op, pJ")
    electronic_die_area_mm2: float = spec(POSITIVE, "electronic die (SRAM, ASIC, ADCs, DACs), mm^2")
    technology_node_nm: float = spec(POSITIVE, "process node of the electronic die, nm (informational)")
    static_power_mw: float = spec(NON_NEGATIVE, "leakage + clock tree of the electronic die (excluding SRAM leakage), mW")

    @property
    def peak_ops_per_s(self) -> float:
        """Peak lane ops per second."""
        return self.lanes * self.clock_ghz * 1e9
