"""``HardwareConfig``: every section together, plus strict dict conversion, overrides and hashing.

The dict form (``to_dict``) is the canonical, JSON-able description of a
configuration: the TOML presets have the same shape, ``config_hash`` hashes
it, and ``with_overrides`` edits it by dotted keys (``"photonic.num_cores"``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, fields
from typing import Any, Mapping

from ..errors import ConfigError
from .asic import AsicConfig
from .dram import DramConfig
from .fields import TEXT, one_of
from .host import HostConfig
from .optics import OpticsConfig
from .photonic import PhotonicConfig
from .sram import SramConfig
from .systolic import SystolicConfig

#: Which engine runs the GEMMs: the photonic cores or the systolic array.
ACCELERATORS = ("adept", "systolic")
#: TOML table name -> section class, in canonical order.
SECTIONS: dict[str, type] = {
    "photonic": PhotonicConfig,
    "optics": OpticsConfig,
    "sram": SramConfig,
    "dram": DramConfig,
    "asic": AsicConfig,
    "host": HostConfig,
    "systolic": SystolicConfig,
}
_TOP_LEVEL = ("name", "accelerator")
_ACCELERATOR = one_of(*ACCELERATORS)


@dataclass(frozen=True)
class HardwareConfig:
    """A complete, validated hardware description.

    Attributes
    ----------
    name : str
        Label of the configuration (preset name or file stem).
    accelerator : str
        ``"adept"`` (GEMMs on the photonic cores) or ``"systolic"`` (GEMMs on
        the systolic array). Both use the same SRAM, DRAM, ASIC and host.
    photonic, optics, sram, dram, asic, host, systolic
        The sections; see their classes for fields and units.
    """

    name: str
    accelerator: str
    photonic: PhotonicConfig
    optics: OpticsConfig
    sram: SramConfig
    dram: DramConfig
    asic: AsicConfig
    host: HostConfig
    systolic: SystolicConfig

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", TEXT.convert("name", self.name))
        object.__setattr__(self, "accelerator", _ACCELERATOR.convert("accelerator", self.accelerator))
        for key, cls in SECTIONS.items():
            if not isinstance(getattr(self, key), cls):
                raise ConfigError(f"HardwareConfig.{key} must be a {cls.__name__}, got {type(getattr(self, key)).__name__}")


def to_dict(cfg: HardwareConfig) -> dict[str, Any]:
    """Plain nested dict (JSON/TOML-able) of every value, in canonical order."""
    out: dict[str, Any] = {"name": cfg.name, "accelerator": cfg.accelerator}
    for key in SECTIONS:
        section = getattr(cfg, key)
        out[key] = {f.name: getattr(section, f.name) for f in fields(section)}
    return out


def _allowed(names) -> str:
    return ", ".join(names)


def from_dict(data: Mapping[str, Any], origin: str = "config") -> HardwareConfig:
    """Build a :class:`HardwareConfig` from the nested-dict form, refusing unknown or missing keys.

    ``origin`` names the source (file or preset) in error messages.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{origin}: a hardware config must be a table/dict, got {type(data).__name__}")
    unknown = [k for k in data if k not in _TOP_LEVEL and k not in SECTIONS]
    if unknown:
        raise ConfigError(f"{origin}: unknown key {unknown[0]!r}; allowed top-level keys: {_allowed((*_TOP_LEVEL, *SECTIONS))}")
    missing = [k for k in (*_TOP_LEVEL, *SECTIONS) if k not in data]
    if missing:
        raise ConfigError(f"{origin}: missing key {missing[0]!r} (every preset/file must define it or inherit it with base = ...)")
    built: dict[str, Any] = {k: data[k] for k in _TOP_LEVEL}
    for key, cls in SECTIONS.items():
        table = data[key]
        if not isinstance(table, Mapping):
            raise ConfigError(f"{origin}: {key} must be a table, got {table!r}")
        names = [f.name for f in fields(cls)]
        extra = [k for k in table if k not in names]
        if extra:
            raise ConfigError(f"{origin}: unknown key '{key}.{extra[0]}'; allowed keys in [{key}]: {_allowed(names)}")
        absent = [n for n in names if n not in table]
        if absent:
            raise ConfigError(f"{origin}: missing key '{key}.{absent[0]}'")
        built[key] = cls(**table)
    return HardwareConfig(**built)


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | None, origin: str = "overrides") -> dict[str, Any]:
    """Return a copy of the nested dict with dotted-key overrides applied.

    Keys are ``"section.field"`` or a top-level key (``"name"``, ``"accelerator"``);
    unknown keys raise :class:`ConfigError` listing what is allowed.
    """
    out = copy.deepcopy(data)
    for dotted, value in (overrides or {}).items():
        if not isinstance(dotted, str):
            raise ConfigError(f"{origin}: override keys must be strings like 'photonic.num_cores', got {dotted!r}")
        parts = dotted.split(".")
        if len(parts) == 1 and parts[0] in _TOP_LEVEL:
            out[parts[0]] = value
            continue
        if len(parts) != 2 or parts[0] not in SECTIONS:
            raise ConfigError(
                f"{origin}: unknown key {dotted!r}; use 'section.field' with section in {_allowed(SECTIONS)} "
                f"or a top-level key ({_allowed(_TOP_LEVEL)})"
            )
        section, name = parts
        names = [f.name for f in fields(SECTIONS[section])]
        if name not in names:
            raise ConfigError(f"{origin}: unknown key {dotted!r}; allowed keys in [{section}]: {_allowed(names)}")
        out.setdefault(section, {})[name] = value
    return out


def with_overrides(cfg: HardwareConfig, overrides: Mapping[str, Any]) -> HardwareConfig:
    """A new config with dotted-key overrides applied and every value re-validated (for sweeps)."""
    return from_dict(apply_overrides(to_dict(cfg), overrides), origin=cfg.name)


def config_hash(cfg: HardwareConfig) -> str:
    """Stable content hash (16 hex digits of SHA-256 over canonical JSON of :func:`to_dict`).

    Independent of dict order, process and platform; changes whenever any value changes.
    """
    blob = json.dumps(to_dict(cfg), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
