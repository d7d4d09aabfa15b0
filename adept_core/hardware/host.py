"""Host and board-level power outside the accelerator dies."""

from __future__ import annotations

from dataclasses import dataclass

from .fields import NON_NEGATIVE, Section, spec


@dataclass(frozen=True)
class HostConfig(Section):
    """Power drawn outside the accelerator while it runs (both presets share it)."""

    SECTION = "host"

    host_power_mw: float = spec(NON_NEGATIVE, "host CPU share attributed to the accelerator, mW")
    board_static_power_mw: float = spec(NON_NEGATIVE, "board-level static power (regulators, I/O), mW")
