"""Group a report's layers so a table shows where time and energy go, not 24 copies of one FFN row.

- ``layer``: every graph node on its own (the old table);
- ``block``: nodes that play the same role in repeated blocks (``encoder.3.ffn.output`` and
  ``encoder.7.ffn.output`` -> ``encoder.*.ffn.output``, MiniLM's ``l3.attn.qk`` -> ``l*.attn.qk``);
- ``op``: nodes of the same ONNX op on the same unit (``MatMul on photonic``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError
from .report import Report

#: Values of ``--group-by``; ``block`` is the default.
GROUP_BY = ("block", "op", "layer")
#: A block index: a path part that is a number (``encoder.3``) or one letter and a number (``l3``).
_INDEX = re.compile(r"(?:(?<=\.)|^)([A-Za-z]?)\d+(?=\.|$)")


@dataclass(frozen=True)
class LayerGroup:
    """Layers summed: ``latency_s`` per run, ``energy_j`` per inference, ``bound`` of the slowest member."""

    name: str
    count: int
    kind: str
    unit: str
    latency_s: float
    energy_j: float
    bound: str
    utilization: float


def group_key(name: str, kind: str, unit: str, by: str) -> str:
    if by == "layer":
        return name
    if by == "block":
        return _INDEX.sub(r"\1*", name)
    if by == "op":
        return f"{kind} on {unit}"
    raise ConfigError(f"unknown grouping {by!r}; allowed: {', '.join(GROUP_BY)}")


def group_layers(report: Report, by: str = "block") -> list[LayerGroup]:
    """Layer groups of ``report``, slowest first."""
    members: dict[str, list] = {}
    for layer in report.layers:
        members.setdefault(group_key(layer.name, layer.kind, layer.unit, by), []).append(layer)
    groups = []
    for key, layers in members.items():
        slowest = max(layers, key=lambda layer: layer.latency_s)
        kinds, units = {x.kind for x in layers}, {x.unit for x in layers}
        latency = sum(x.latency_s for x in layers)
        # Time-weighted utilization: the busy fraction of the group's unit over the group's time.
        util = sum(x.utilization * x.latency_s for x in layers) / latency if latency else 0.0
        groups.append(LayerGroup(key, len(layers), kinds.pop() if len(kinds) == 1 else "mixed",
                                 units.pop() if len(units) == 1 else "mixed", latency,
                                 sum(x.energy_j for x in layers), slowest.bound, util))
    return sorted(groups, key=lambda g: g.latency_s, reverse=True)
