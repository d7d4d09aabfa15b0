"""Every configuration key with its value, unit, allowed range, meaning and source (``adept config show``).

Meaning and allowed range come from the field metadata (:func:`.fields.spec`); the unit from the
key's unit suffix (``_mw``, ``_pj_per_byte``, ...); the source of a shipped default from the comment
beside it in the preset TOML (the presets are where every default cites its source or says
"assumption"; ``docs/hardware.md`` has the same table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Mapping

from .config import SECTIONS, HardwareConfig
from .loader import PRESET_DIR, PRESETS

#: Unit suffix tokens of key names -> unit as printed.
_UNITS = {"mw": "mW", "w": "W", "ns": "ns", "s": "s", "pj": "pJ", "db": "dB", "ghz": "GHz", "gsps": "GS/s",
          "bits": "bits", "bit": "bit", "mm2": "mm^2", "mib": "MiB", "nm": "nm", "a": "A", "gb": "GB", "hz": "Hz",
          "rthz": "sqrt(Hz)", "pa": "pA", "byte": "byte", "op": "op", "cycle": "cycle", "channel": "channel",
          "stage": "stage"}
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*[^#]*#\s*(.+?)\s*$")
_TABLE = re.compile(r"^\s*\[([A-Za-z_]+)\]\s*$")


@dataclass(frozen=True)
class KeyInfo:
    key: str
    value: Any
    unit: str
    allowed: str
    meaning: str
    source: str


def unit_of(name: str, value: Any) -> str:
    """``adc_power_mw_per_channel`` -> ``mW/channel``; no unit suffix -> ``-`` (a count or a switch)."""
    if isinstance(value, bool):
        return "-"
    parts = name.split("_")
    for i, part in enumerate(parts):
        if part in _UNITS and part not in ("byte", "op", "cycle", "channel", "stage", "a", "s", "w") or (
                part in ("a", "s", "w") and i + 1 < len(parts) and parts[i + 1] == "per"):
            unit = _UNITS[part]
            rest = parts[i + 1:]
            if len(rest) >= 2 and rest[0] == "per" and rest[1] in _UNITS:
                unit += "/" + _UNITS[rest[1]]
            return unit
    return "fraction" if name.endswith("efficiency") else "-"


def preset_sources(preset: str) -> dict[str, str]:
    """Dotted key -> the source comment beside its value in the shipped preset ``preset``."""
    out, section = {}, ""
    for line in (PRESET_DIR / f"{preset}.toml").read_text().splitlines():
        if m := _TABLE.match(line):
            section = m.group(1)
        elif m := _LINE.match(line):
            out[f"{section}.{m.group(1)}" if section else m.group(1)] = m.group(2)
    return out


def describe(cfg: HardwareConfig, origin: str = "adept", overrides: Mapping[str, Any] | None = None) -> list[KeyInfo]:
    """One :class:`KeyInfo` per key of ``cfg``, in canonical order.

    ``origin`` is what the user named (a preset or a file); a key set by ``overrides`` has source
    ``--set``; a key whose value differs from the preset of ``cfg.accelerator`` comes from ``origin``;
    the rest carry the preset's own source comment.
    """
    from .loader import load_config

    preset = origin if origin in PRESETS else cfg.accelerator
    # Presets inherit from adept (base = "adept"), and so do their source comments.
    sources, base = {**preset_sources("adept"), **preset_sources(preset)}, load_config(preset)
    overrides = overrides or {}
    rows = []
    for section in SECTIONS:
        for f in fields(SECTIONS[section]):
            key, value = f"{section}.{f.name}", getattr(getattr(cfg, section), f.name)
            if key in overrides:
                source = "--set on the command line"
            elif value != getattr(getattr(base, section), f.name):
                source = f"set in {origin}"
            else:
                source = f"preset {preset}: " + sources.get(key, "see docs/hardware.md")
            rows.append(KeyInfo(key, value, unit_of(f.name, value), f.metadata["check"].allowed,
                                f.metadata["doc"], source))
    return rows
