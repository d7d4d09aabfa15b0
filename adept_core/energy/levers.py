"""The paper's architectural levers as toggles, and what each one buys (an ablation table).

Each lever is switched on alone on top of the base design, then all
together, and the workload is re-evaluated: the table shows throughput,
power and throughput per watt relative to the base. Levers:

- ``double-buffered weights``: ``photonic.double_buffered_weights = true``;
- ``batch xB``: the graph rebuilt for ``B`` inferences per run (weights are
  programmed once per run, so their cost is shared by more inferences);
- ``cores xN``: ``photonic.num_cores`` multiplied (laser, TIAs scale too);
- ``WDM xW``: ``photonic.wdm_channels`` multiplied (laser, TIAs scale too,
  plus the mux/demux loss in the link budget);
- ``gated laser``: ``optics.laser_gated = true`` (light only while a tile
  streams: saves laser energy during weight programming and ASIC-only layers).

Only the batch lever applies to the systolic baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..graph import zoo
from .evaluate import evaluate, resolve_config
from .report import Report


@dataclass(frozen=True)
class LeverResult:
    """One row of the ablation: a lever setting and its report, relative to the base."""

    lever: str
    report: Report
    speedup: float  # inferences/s over the base's
    efficiency_gain: float  # inferences/s/W over the base's

    def to_dict(self) -> dict:
        r = self.report
        return {
            "lever": self.lever, "latency_s": r.latency_s, "inferences_per_s": r.inferences_per_s,
            "power_w": r.power_w, "inferences_per_s_per_w": r.inferences_per_s_per_w,
            "speedup": self.speedup, "efficiency_gain": self.efficiency_gain,
        }


def lever_table(workload: str, config="adept", batch: int = 1, batch_factor: int = 8,
                cores_factor: int = 4, wdm_factor: int = 4) -> list[LeverResult]:
    """Evaluate zoo ``workload`` with each lever alone and all together.

    Parameters
    ----------
    workload : str
        Zoo model name (``resnet50``, ``bert-large``, ``rnnt``).
    config : HardwareConfig, str or path
        The base design.
    batch : int
        Base batch size.
    batch_factor, cores_factor, wdm_factor : int
        How much each lever multiplies its knob (each >= 2).
    """
    from ..hardware import with_overrides

    for name, value in (("batch_factor", batch_factor), ("cores_factor", cores_factor), ("wdm_factor", wdm_factor)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ConfigError(f"{name} must be an integer >= 2, got {value!r}")
    cfg = resolve_config(config)
    ph = cfg.photonic
    settings: list[tuple[str, dict, int]] = [("base", {}, batch), (f"batch x{batch_factor}", {}, batch * batch_factor)]
    if cfg.accelerator == "adept":
        overrides = {
            "double-buffered weights": {"photonic.double_buffered_weights": True},
            f"cores x{cores_factor}": {"photonic.num_cores": ph.num_cores * cores_factor},
            f"WDM x{wdm_factor}": {"photonic.wdm_channels": ph.wdm_channels * wdm_factor},
            "gated laser": {"optics.laser_gated": True},
        }
        settings += [(name, o, batch) for name, o in overrides.items()]
        combined = {k: v for o in overrides.values() for k, v in o.items()}
        settings.append(("all levers", combined, batch * batch_factor))
    graphs: dict[int, object] = {}
    rows = []
    for name, overrides, runs in settings:
        graph = graphs.setdefault(runs, zoo.build(workload, batch=runs))
        report = evaluate(graph, with_overrides(cfg, overrides) if overrides else cfg, batch=runs)
        base = rows[0].report if rows else report
        rows.append(LeverResult(
            name, report, report.inferences_per_s / base.inferences_per_s,
            report.inferences_per_s_per_w / base.inferences_per_s_per_w,
        ))
    return rows
