"""On-chip SRAM (weights and activations), shared by ADEPT and the systolic baseline."""

from __future__ import annotations

from dataclasses import dataclass

from .fields import NON_NEGATIVE, POSITIVE, Section, spec


@dataclass(frozen=True)
class SramConfig(Section):
    """Global on-chip SRAM on the electronic die."""

    SECTION = "sram"

    capacity_mib: float = spec(POSITIVE, "capacity, MiB (weights that do not fit stream from DRAM)")
    bandwidth_gb_per_s: float = spec(POSITIVE, "aggregate read+write bandwidth, GB/s (1e9 B/s)")
    read_energy_pj_per_byte: float = spec(POSITIVE, "dynamic energy per byte read, pJ")
    write_energy_pj_per_byte: float = spec(POSITIVE, "dynamic energy per byte written, pJ")
    leakage_mw_per_mib: float = spec(NON_NEGATIVE, "static leakage per MiB, mW")

    @property
    def capacity_bytes(self) -> int:
        """Capacity in bytes."""
        return int(self.capacity_mib * 2**20)
