"""Hardware model: configuration (frozen dataclasses + TOML presets) and the link budget.

- :func:`load_config` — the one strict loader (``"adept"``, ``"systolic"`` or a
  ``.toml`` path, plus dotted overrides);
- :class:`HardwareConfig` and its sections; :func:`to_dict`, :func:`config_hash`,
  :func:`with_overrides`;
- link budget: :func:`link_budget`, :func:`noise_spec`, :func:`kernel_spec`,
  :func:`effective_bits`, :func:`required_laser_power` (see ``docs/noise.md``).
"""

from .asic import AsicConfig
from .config import ACCELERATORS, SECTIONS, HardwareConfig, config_hash, from_dict, to_dict, with_overrides
from .dram import DramConfig
from .host import HostConfig
from .linkbudget import (
    LaserRequirement, LinkBudget, effective_bits, kernel_spec, link_budget, noise_spec, required_laser_power,
)
from .loader import PRESETS, load_config
from .optics import OpticsConfig
from .photonic import PhotonicConfig
from .sram import SramConfig
from .systolic import SystolicConfig

__all__ = [
    "ACCELERATORS", "AsicConfig", "DramConfig", "HardwareConfig", "HostConfig", "LaserRequirement", "LinkBudget",
    "OpticsConfig", "PRESETS", "PhotonicConfig", "SECTIONS", "SramConfig", "SystolicConfig", "config_hash",
    "effective_bits", "from_dict", "kernel_spec", "link_budget", "load_config", "noise_spec", "required_laser_power", "to_dict",
    "with_overrides",
]
