"""The designs the iso-accuracy search sweeps: a small default set, or a TOML file.

A design is a name, an ADC range policy and dotted config overrides applied on top of the run's
``--config`` / ``--set``. The default set is the two weight arrays x three numerics at 8/8/8 bits,
each with the detector its topology reads out with (``docs/noise.md``): the SVD mesh's coherent
detector, the crossbar's dual-rail balanced pair.

File format (every key checked; anything else is a :class:`ConfigError` naming it)::

    [[design]]
    name = "crossbar-abfp-g8"          # required, unique, 1-64 characters [A-Za-z0-9._-]
    adc = "calibrated"                 # optional: "calibrated" (default) or "worst_case"
    [design.set]                       # optional: dotted config keys -> TOML values
    "photonic.weight_array" = "crossbar"
    "optics.detection" = "dual_rail"
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import ConfigError

#: Most designs one file may list (each costs a bisection per model).
MAX_DESIGNS = 64
#: Largest design file read, bytes.
MAX_FILE_BYTES = 1 << 20
ADC_POLICIES = ("calibrated", "worst_case")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_KEY = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_ALLOWED = ("name", "adc", "set")


@dataclass(frozen=True)
class Design:
    """One photonic design of the search."""

    name: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    adc: str = "calibrated"


def _bits(n: int) -> dict[str, int]:
    return {f"photonic.{k}_bits": n for k in ("input", "weight", "adc")}


_TOPOLOGIES = {"svd_mesh": "coherent", "crossbar": "dual_rail"}
_NUMERICS = {"tensor": {"photonic.scaling": "tensor", "photonic.analog_gain": 1.0},
             "abfp-g1": {"photonic.scaling": "abfp", "photonic.analog_gain": 1.0},
             "abfp-g8": {"photonic.scaling": "abfp", "photonic.analog_gain": 8.0}}

#: {svd_mesh, crossbar} x {tensor, abfp G=1, abfp G=8} at 8/8/8 bits, detection matching the topology.
#: G = 8 designs use the worst-case ADC range, the paper's operating point (a fixed range, the gain as the
#: knob; docs/fidelity.md): a range calibrated on the un-gained sums clips once G multiplies them
#: (measured: MiniLM fidelity 0.39 with no noise at all on the crossbar, abfp G = 8, calibrated).
DEFAULT_DESIGNS = tuple(
    Design(f"{topo}-{num}", {"photonic.weight_array": topo, "optics.detection": det, **over, **_bits(8)},
           "worst_case" if num == "abfp-g8" else "calibrated")
    for topo, det in _TOPOLOGIES.items() for num, over in _NUMERICS.items()
)

#: The ``--quick`` subset.
QUICK_DESIGNS = (DEFAULT_DESIGNS[3], DEFAULT_DESIGNS[5])


def check_design(d: Design) -> Design:
    if not isinstance(d.name, str) or not _NAME.match(d.name):
        raise ConfigError(f"design name must be 1-64 characters of A-Z a-z 0-9 . _ -, got {d.name!r}")
    if d.adc not in ADC_POLICIES:
        raise ConfigError(f"design {d.name!r}: adc must be one of {', '.join(ADC_POLICIES)}, got {d.adc!r}")
    if not isinstance(d.overrides, Mapping):
        raise ConfigError(f"design {d.name!r}: set must be a table of dotted config keys")
    for key, value in d.overrides.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise ConfigError(f"design {d.name!r}: config key {key!r} is not of the form section.key")
        if not isinstance(value, (bool, int, float, str)):
            raise ConfigError(f"design {d.name!r}: {key} must be a number, boolean or string, got "
                              f"{type(value).__name__}")
    return d


def parse_designs(data: Mapping[str, Any], source: str = "designs") -> tuple[Design, ...]:
    """Designs from a parsed TOML mapping (``{"design": [...]}``); every key validated."""
    extra = sorted(set(data) - {"design"})
    if extra:
        raise ConfigError(f"{source}: unknown top-level key(s) {extra}; the file holds only [[design]] tables")
    items = data.get("design")
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{source}: needs at least one [[design]] table")
    if len(items) > MAX_DESIGNS:
        raise ConfigError(f"{source}: {len(items)} designs, more than the {MAX_DESIGNS} allowed")
    out, seen = [], set()
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ConfigError(f"{source}: design #{i + 1} must be a table")
        bad = sorted(set(item) - set(_ALLOWED))
        if bad:
            raise ConfigError(f"{source}: design #{i + 1} has unknown key(s) {bad}; allowed: {', '.join(_ALLOWED)}")
        if "name" not in item:
            raise ConfigError(f"{source}: design #{i + 1} needs a name")
        d = check_design(Design(item["name"], dict(item.get("set", {})) if isinstance(item.get("set", {}), Mapping)
                                else item["set"], item.get("adc", "calibrated")))
        if d.name in seen:
            raise ConfigError(f"{source}: design name {d.name!r} appears twice")
        seen.add(d.name)
        out.append(d)
    return tuple(out)


def load_designs(path: str | os.PathLike[str]) -> tuple[Design, ...]:
    """Read and validate a design file (TOML data only: nothing in it is executed)."""
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise ConfigError(f"design file {os.fspath(path)!r} is {size} bytes, more than {MAX_FILE_BYTES}")
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read design file {os.fspath(path)!r}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"design file {os.fspath(path)!r} is not valid TOML: {exc}") from None
    return parse_designs(data, os.fspath(path))
