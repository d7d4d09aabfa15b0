"""Field checks shared by every hardware-config section.

Each section is a frozen dataclass whose fields declare a check in their
metadata (``field(metadata={"check": POSITIVE})``). :class:`Section` runs
the checks on construction, so an impossible value can never exist in a
:class:`~adept_core.hardware.config.HardwareConfig`, however it was built
(TOML, overrides, or by hand). Messages name the dotted key and what is
allowed.
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


FINITE = _real_where("a finite number", lambda v: True)
POSITIVE = _real_where("a finite number > 0", lambda v: v > 0.0)
NON_NEGATIVE = _real_where("a finite number >= 0", lambda v: v >= 0.0)
#: Efficiencies and fractions: (0, 1].
FRACTION = _real_where("a number in (0, 1]", lambda v: 0.0 < v <= 1.0)
#: Losses in dB: a passive element cannot have gain.
LOSS_DB = _real_where("a loss in dB, finite and >= 0", lambda v: v >= 0.0)
#: Relative intensity noise in dB/Hz: a noise *density* below the carrier.
RIN_DB_PER_HZ = _real_where("a finite number < 0 (dB/Hz below the carrier)", lambda v: v < 0.0)
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
