"""The model zoo: the paper's three MLPerf workloads as Graphs with exact shapes.

``build(name, **params)`` returns a fresh :class:`~adept_core.graph.ir.Graph`;
parameters are those of each model's ``build`` (``batch`` everywhere,
``seq_len`` for BERT-large, ``utterance_s`` and ``symbols`` for RNN-T).
Weights are :class:`~adept_core.graph.ir.LazyWeight` recipes (He-normal,
seeded from model and weight name), so building BERT-large allocates nothing.
"""

from __future__ import annotations

from ..._registry import call_builder, check_params as _check_params
from ..ir import Graph
from . import bert_large, resnet50, rnnt

_BUILDERS = {"resnet50": resnet50.build, "bert-large": bert_large.build, "rnnt": rnnt.build}

#: Names accepted by :func:`build`.
ZOO_NAMES = tuple(_BUILDERS)


def build(name: str, **params) -> Graph:
    """Build zoo model ``name`` with ``params`` (see each model's ``build``)."""
    return call_builder("zoo model", _BUILDERS, name, params)


def check_params(name: str, params, reserved: tuple[str, ...] = ()) -> None:
    """Raise :class:`~adept_core.errors.ConfigError` unless ``build(name, **params)`` takes these names."""
    _check_params("zoo model", _BUILDERS, name, params, reserved)


__all__ = ["ZOO_NAMES", "build", "check_params"]
