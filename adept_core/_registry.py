"""Calling a named builder with keyword parameters, checked (shared by the zoo and the real models)."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from .errors import ConfigError


def call_builder(kind: str, builders: dict[str, Callable[..., Any]], name: str, params: dict) -> Any:
    """``builders[name](**params)``, refusing an unknown name or parameter with a message listing what is allowed."""
    check_params(kind, builders, name, params)
    return builders[name](**params)


def check_params(kind: str, builders: dict[str, Callable[..., Any]], name: str, params: Any,
                 reserved: tuple[str, ...] = ()) -> None:
    """Refuse an unknown builder name or parameter name (``reserved``: names the caller sets itself)."""
    try:
        builder = builders[name]
    except KeyError:
        raise ConfigError(f"unknown {kind} {name!r}; available: {', '.join(builders)}") from None
    allowed = [p for p in inspect.signature(builder).parameters if p not in reserved]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(f"{kind} {name!r} has no parameter(s) {unknown}; allowed: {allowed}")
