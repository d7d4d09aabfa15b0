"""The Python API of the cost model: ``evaluate`` one design, ``evaluate_many`` a batch of designs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..graph.ir import Graph
from ..schedule.batching import schedule_batched
from ..schedule.params import cost_params, stack
from .model import layer_energy_j
from .report import Report, build_report


def resolve_config(config):
    """A HardwareConfig from a config object, a preset name or a TOML path."""
    from ..hardware import HardwareConfig, load_config

    if isinstance(config, HardwareConfig):
        return config
    if isinstance(config, (str, Path)):
        return load_config(config)
    raise ConfigError(f"config must be a HardwareConfig, a preset name or a .toml path, got {type(config).__name__}")


def graph_batch(graph: Graph, batch: int | None) -> int:
    """Inferences per run of ``graph``: ``batch`` if given, else ``graph.meta['batch']`` (default 1).

    A ``batch`` that contradicts the batch the graph was built for is refused:
    the graph's shapes, not this number, decide what the hardware runs.
    """
    built = graph.meta.get("batch")
    if batch is None:
        return int(built) if built is not None else 1
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ConfigError(f"batch must be a positive integer, got {batch!r}")
    if built is not None and int(built) != int(batch):
        raise ConfigError(
            f"graph {graph.name!r} was built for batch {built}, not {batch}; rebuild it "
            f"(e.g. adept_core.graph.zoo.build({graph.name!r}, batch={batch}))"
        )
    return int(batch)


def evaluate(graph: Graph, config="adept", batch: int | None = None, rebuild=None) -> Report:
    """Latency, throughput, power and energy of ``graph`` on one hardware design.

    Parameters
    ----------
    graph : Graph
        The network (zoo, ONNX import or hand-built); only shapes are read.
    config : HardwareConfig, str or path
        Hardware design; ``accelerator = "adept"`` schedules GEMMs on the
        photonic cores, ``"systolic"`` on the baseline array.
    batch : int, optional
        Inferences per run; must match the batch the graph was built for.
        The run is split into the fastest near-equal pieces
        (:func:`~adept_core.schedule.batching.schedule_batched`; zoo graphs,
        or any graph with ``rebuild``); ``Report.batch_pieces`` says how.
    rebuild : callable, optional
        ``size -> Graph``: the same model at another batch size, for splitting.

    Raises
    ------
    ConfigError
        For a design that cannot run the graph (e.g. a layer whose weights fit nowhere).
    """
    from .. import __version__
    from ..hardware import config_hash

    cfg = resolve_config(config)
    runs = graph_batch(graph, batch)
    run = schedule_batched(graph, cost_params(cfg), runs, rebuild)
    provenance = {"package_version": __version__, "config_hash": config_hash(cfg)}
    return build_report(run.schedule, batch=runs, config=cfg.name, accelerator=cfg.accelerator, provenance=provenance,
                        batch_pieces=run.pieces[0])


@dataclass(frozen=True)
class DesignSweep:
    """Headline numbers of ``D`` designs on one graph (arrays of shape ``(D,)``)."""

    latency_s: np.ndarray
    inferences_per_s: np.ndarray
    power_w: np.ndarray
    inferences_per_s_per_w: np.ndarray
    energy_per_inference_j: np.ndarray
    batch_pieces: tuple = ()  # per design: the piece sizes the batch ran as


def evaluate_many(graph: Graph, configs, batch: int | None = None, rebuild=None) -> DesignSweep:
    """:func:`evaluate`'s headline numbers for many designs at once (vectorised over designs).

    The graph is lowered once; the designs (all of one accelerator kind) are
    stacked into arrays and scheduled together; each design gets its own
    batch split, as in :func:`evaluate`.
    """
    cfgs = [resolve_config(c) for c in configs]
    runs = graph_batch(graph, batch)
    run = schedule_batched(graph, stack([cost_params(c) for c in cfgs]), runs, rebuild)
    s = run.schedule
    latency = s.latency_s
    energy_run = sum(v.sum(axis=1) for v in layer_energy_j(s).values())
    return DesignSweep(
        latency_s=latency,
        inferences_per_s=runs / latency,
        power_w=energy_run / latency,
        inferences_per_s_per_w=runs / energy_run,
        energy_per_inference_j=energy_run / runs,
        batch_pieces=run.pieces,
    )
