"""Off-chip DRAM, shared by ADEPT and the systolic baseline."""

from __future__ import annotations

from dataclasses import dataclass

from .fields import NON_NEGATIVE, POSITIVE, TEXT, Section, spec


@dataclass(frozen=True)
class DramConfig(Section):
    """Main memory: weights that do not fit in SRAM stream from here."""

    SECTION = "dram"

    technology: str = spec(TEXT, "memory type, informational (e.g. 'HBM2')")
    bandwidth_gb_per_s: float = spec(POSITIVE, "sustained bandwidth, GB/s (1e9 B/s)")
    energy_pj_per_bit: float = spec(POSITIVE, "access + I/O energy per bit transferred, pJ")
    static_power_mw: float = spec(NON_NEGATIVE, "background/refresh power of the DRAM, mW")
