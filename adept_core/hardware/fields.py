"""Field checks shared by every hardware-config section.

Each section is a frozen dataclass whose fields declare a check in their
metadata (``field(metadata={"check": POSITIVE})``). :class:`Section` runs
the checks on construction, so an impossible value can never exist in a
:class:`~adept_core.hardware.config.HardwareConfig`, however it was built
(TOML, overrides, or by hand). Messages name the dotted key and what is
allowed.

Every numeric field has a bounded range, so a value that validates can never
overflow or divide by zero downstream (``sram.capacity_mib = 1e308`` overflows
the byte count; ``optics.mzi_insertion_loss_db = 1e6`` leaves no light).
The bounds are deliberately loose (assumption: orders of magnitude beyond any
real device, not a claim about the technology): magnitudes at most
:data:`MAX_MAGNITUDE` in the field's unit, losses at most :data:`MAX_LOSS_DB`
per element, RIN at least :data:`MIN_RIN_DB_PER_HZ`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, fields
from typing import Any, Callable, ClassVar

import numpy as np

from ..errors import ConfigError
from ..kernels.spec import MAX_BITS, MAX_CORE_DIM, MIN_BITS


@dataclass(frozen=True)
class Check:
    """A named validation rule: ``convert(key, value)`` returns the clean value or raises."""

    allowed: str
    convert: Callable[[str, Any], Any]


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _real(key: str, value: Any, allowed: str) -> float:
    # numbers.Real admits NumPy scalars (sweeps build values with NumPy); bools are refused.
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{key} must be {allowed}, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{key} must be {allowed}, got {value!r}")
    return value


def _real_where(allowed: str, ok: Callable[[float], bool]) -> Check:
    def convert(key: str, value: Any) -> float:
        v = _real(key, value, allowed)
        if not ok(v):
            raise ConfigError(f"{key} must be {allowed}, got {value!r}")
        return v

    return Check(allowed, convert)


def int_range(lo: int, hi: int) -> Check:
    """An integer in ``[lo, hi]`` (bools and floats are refused, never cast)."""
    allowed = f"an integer in [{lo}, {hi}]"

    def convert(key: str, value: Any) -> int:
        if _is_bool(value) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
            raise ConfigError(f"{key} must be {allowed}, got {value!r}")
        return int(value)

    return Check(allowed, convert)


def _boolean(key: str, value: Any) -> bool:
    if not _is_bool(value):
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    return bool(value)


def one_of(*choices: str) -> Check:
    """A string from a closed set."""
    allowed = "one of " + ", ".join(repr(c) for c in choices)

    def convert(key: str, value: Any) -> str:
        if value not in choices:
            raise ConfigError(f"{key} must be {allowed}, got {value!r}")
        return value

    return Check(allowed, convert)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} must be a non-empty string, got {value!r}")
    return value


#: Largest magnitude of a positive field in its unit (mW, pJ, GHz, MiB, GB/s, mm2 ...): 1e12 MiB is an
#: exabyte, 1e12 GHz a terahertz squared; products of a few such fields stay far from float64 overflow.
MAX_MAGNITUDE = 1e12
#: Largest loss of one optical element (1e-10 of the light passes; real elements lose < 10 dB).
MAX_LOSS_DB = 100.0
#: Lowest relative intensity noise accepted; the best lasers reach about -170 dB/Hz.
MIN_RIN_DB_PER_HZ = -300.0

FINITE = _real_where(f"a finite number, |x| <= {MAX_MAGNITUDE:g}", lambda v: abs(v) <= MAX_MAGNITUDE)
POSITIVE = _real_where(f"a finite number > 0 and <= {MAX_MAGNITUDE:g}", lambda v: 0.0 < v <= MAX_MAGNITUDE)
NON_NEGATIVE = _real_where(f"a finite number >= 0 and <= {MAX_MAGNITUDE:g}", lambda v: 0.0 <= v <= MAX_MAGNITUDE)
#: Efficiencies and fractions: (0, 1].
FRACTION = _real_where("a number in (0, 1]", lambda v: 0.0 < v <= 1.0)
#: Losses in dB: a passive element cannot have gain.
LOSS_DB = _real_where(f"a loss in dB, finite and >= 0 and <= {MAX_LOSS_DB:g}", lambda v: 0.0 <= v <= MAX_LOSS_DB)
#: Relative intensity noise in dB/Hz: a noise *density* below the carrier.
RIN_DB_PER_HZ = _real_where(f"a finite number < 0 and >= {MIN_RIN_DB_PER_HZ:g} (dB/Hz below the carrier)",
                            lambda v: MIN_RIN_DB_PER_HZ <= v < 0.0)
BITS = int_range(MIN_BITS, MAX_BITS)
CORE_DIM = int_range(1, MAX_CORE_DIM)
COUNT = int_range(1, 1 << 20)
BOOL = Check("true or false", _boolean)
TEXT = Check("a non-empty string", _text)


def spec(check: Check, doc: str) -> Any:
    """A required dataclass field carrying its check and its one-line meaning (with unit)."""
    return field(metadata={"check": check, "doc": doc})


class Section:
    """Base of the config sections: validates every field against its ``check`` on construction.

    Subclasses are frozen dataclasses; ``SECTION`` is the TOML table name used
    in messages (``photonic.num_cores``). ``_check_relations`` may add rules
    that involve several fields.
    """

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            check: Check = f.metadata["check"]
            object.__setattr__(self, f.name, check.convert(f"{self.SECTION}.{f.name}", getattr(self, f.name)))
        self._check_relations()

    def _check_relations(self) -> None:
        """Cross-field rules; none by default."""
