"""The Report: what one graph costs on one design, as numbers and as JSON.

Conventions: ``latency_s`` is the time of one run of the graph (one batch
of ``batch`` inferences); every energy (``energy_per_inference_j``,
``energy_breakdown_j``, ``layers[*].energy_j``) is per inference, so the
breakdown sums to ``energy_per_inference_j`` and the layers' energies sum to
it too. ``power_w = energy per run / latency``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..schedule.mapping import Schedule
from .model import layer_energy_j, layer_utilization, peak_engine_macs_per_s

#: Layer ``unit`` values: where the layer's work runs.
UNITS = ("photonic", "systolic", "asic")


@dataclass(frozen=True)
class LayerReport:
    """One layer (graph node) of a :class:`Report`.

    Attributes
    ----------
    name, kind : str
        Node name and ONNX op.
    macs : int
        MACs of the node (GEMM engine or, for depthwise convolution, ASIC).
    unit : str
        ``"photonic"`` / ``"systolic"`` (GEMM engine) or ``"asic"``.
    latency_s : float
        Time of the layer in one run.
    energy_j : float
        Energy of the layer per inference.
    utilization : float
        Busy fraction of the layer's own unit during the layer.
    bound : str
        What sets the layer's time: ``engine``, ``asic``, ``sram``, ``dram`` or ``recurrence``.
    utilization_by_unit : dict
        Busy fraction of every unit during the layer.
    """

    name: str
    kind: str
    macs: int
    unit: str
    latency_s: float
    energy_j: float
    utilization: float
    bound: str
    utilization_by_unit: dict


@dataclass(frozen=True)
class Report:
    """Cost of one graph on one hardware design.

    Attributes
    ----------
    workload, config, accelerator : str
        Graph name, config name, ``"adept"`` or ``"systolic"``.
    batch : int
        Inferences per run of the graph.
    macs : int
        MACs per run (GEMM engine + ASIC).
    latency_s, inferences_per_s, power_w, inferences_per_s_per_w, energy_per_inference_j : float
    energy_breakdown_j : dict
        Component -> joules per inference (sums to ``energy_per_inference_j``).
    utilization : dict
        Unit -> busy fraction over the whole run.
    events : dict
        Event totals of one run (passes, conversions, weight programs, bytes, lane-ops, ...).
    layers : tuple of LayerReport
    provenance : dict
        Package version, config hash.
    batch_pieces : tuple of int
        How the batch ran: the sizes of the pieces run one after another
        (``(batch,)`` when unsplit; ``docs/scheduler.md``, "Batches that fit").
    """

    workload: str
    config: str
    accelerator: str
    batch: int
    macs: int
    latency_s: float
    inferences_per_s: float
    power_w: float
    inferences_per_s_per_w: float
    energy_per_inference_j: float
    energy_breakdown_j: dict
    utilization: dict
    events: dict
    layers: tuple
    provenance: dict
    batch_pieces: tuple = ()

    def to_dict(self) -> dict:
        """JSON-able dict (the keys of ``adept perf --json``); a fresh copy, safe to modify."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in out.items():
            if isinstance(value, dict):
                out[key] = dict(value)
        out["batch_pieces"] = list(self.batch_pieces)
        out["layers"] = [{**vars(layer), "utilization_by_unit": dict(layer.utilization_by_unit)} for layer in self.layers]
        return out

    def top_layers(self, n: int = 5, by: str = "latency_s") -> list[LayerReport]:
        """The ``n`` layers with the largest ``by`` (``latency_s`` or ``energy_j``)."""
        return sorted(self.layers, key=lambda layer: getattr(layer, by), reverse=True)[:n]


_BOUNDS = ("engine_s", "asic_s", "sram_s", "dram_s")


def build_report(s: Schedule, *, batch: int, config: str, accelerator: str, provenance: dict, index: int = 0,
                 batch_pieces: tuple | None = None) -> Report:
    """The :class:`Report` of design ``index`` of schedule ``s``."""
    d, layer = s.digest, {k: v[index] for k, v in s.layers.items()}
    energy = {k: v[index] / batch for k, v in layer_energy_j(s).items()}
    util = {k: v[index] for k, v in layer_utilization(s).items()}
    layer_energy = sum(energy.values())
    latency = float(layer["latency_s"].sum())
    total_energy = float(layer_energy.sum())
    engine_unit = "photonic" if s.params.arch == "photonic" else "systolic"
    bounds = np.stack([layer[k] for k in _BOUNDS] + [layer["fill_s"] + layer["recurrence_s"]])
    bound_names = ("engine", "asic", "sram", "dram", "recurrence")
    macs = [int(x) for x in d.layer_macs().tolist()]
    bound = np.asarray(bound_names + ("none",))[np.where(layer["latency_s"] > 0, np.argmax(bounds, axis=0), -1)].tolist()
    own = np.where(d.layer_photonic, util["engine"], util["asic"]).tolist()
    unit_names = tuple(util)
    by_unit = [dict(zip(unit_names, row)) for row in zip(*(util[k].tolist() for k in unit_names))]
    units = [engine_unit if photonic else "asic" for photonic in d.layer_photonic.tolist()]
    layers = list(map(
        LayerReport, d.layer_names, d.layer_ops, macs, units, layer["latency_s"].tolist(), layer_energy.tolist(),
        own, bound, by_unit,
    ))
    peak_engine = pick(peak_engine_macs_per_s(s), s.params.designs, index)
    lane_rate = pick(s.params.asic_lanes * s.params.asic_clock_hz, s.params.designs, index)
    totals = {k: float(v.sum()) for k, v in layer.items()}
    return Report(
        workload=d.name, config=config, accelerator=accelerator, batch=batch, macs=d.macs,
        latency_s=latency,
        inferences_per_s=batch / latency,
        power_w=total_energy * batch / latency,
        inferences_per_s_per_w=1.0 / total_energy,
        energy_per_inference_j=total_energy,
        energy_breakdown_j={k: float(v.sum()) for k, v in energy.items()},
        utilization={
            engine_unit: totals["engine_macs"] / (peak_engine * latency),
            "asic": totals["asic_ops"] / (lane_rate * latency),
            "sram": totals["sram_s"] / latency,
            "dram": totals["dram_s"] / latency,
        },
        events={k: totals[k] for k in layer if not k.endswith("_s")},
        layers=tuple(layers),
        provenance=provenance,
        batch_pieces=tuple(batch_pieces) if batch_pieces is not None else (batch,),
    )


def pick(value, designs: int, index: int) -> float:
    """Design ``index`` of a parameter that is a scalar or a ``(D, 1)`` array."""
    return float(np.broadcast_to(np.asarray(value, dtype=float), (designs, 1))[index, 0])
