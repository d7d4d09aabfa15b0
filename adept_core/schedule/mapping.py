"""Map every layer of a Graph onto the GEMM engine, the ASIC and the memories; time each layer.

One layer is one node. Within a layer the GEMM engine (photonic cores or
systolic array), the ASIC lanes, the SRAM port and the DRAM channel work
concurrently on a stream of tiles, so the layer takes as long as its
busiest unit, plus what cannot overlap (``docs/scheduler.md``)::

    latency = max(engine, asic, sram, dram) + fill + recurrence
    recurrence = sum over recurrent calls of steps * (engine_step + asic_step)

``fill`` is the first weight-tile load of each call (nothing of the layer
can start before it); a recurrent step needs the previous step's gate math
before its GEMM can start, so its engine and ASIC times add up. Layers run
one after another (no inter-layer pipelining).

Everything is numpy arrays of shape ``(D, L)``: ``D`` designs (one unless
the parameters were stacked) by ``L`` layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..graph.ir import Graph
from .arraycost import ArrayCost, Tiling, asic_ops_per_gemm, tiling, weight_load_bytes
from .digest import GraphDigest, digest
from .params import ACTIVATION_BYTES, CostParams, ceil_div
from .photonic import photonic_cost

#: Per-layer quantities of a :class:`Schedule` (each an array ``(D, L)``).
LAYER_FIELDS = (
    # timing, seconds
    "latency_s", "engine_s", "asic_s", "sram_s", "dram_s", "fill_s", "recurrence_s",
    # events
    "engine_macs", "asic_macs", "passes", "weight_programs", "dac_conversions", "adc_conversions",
    "idle_pe_cycles", "light_core_s", "asic_ops", "sram_read_bytes", "sram_write_bytes", "dram_bytes", "dram_weight_bytes",
)


@dataclass(frozen=True)
class Schedule:
    """Per-layer event counts and timing of one graph on one (or ``D``) design(s).

    Attributes
    ----------
    digest : GraphDigest
        The lowered graph (names, ops, GEMM calls).
    params : CostParams
        The design(s).
    layers : dict
        ``name -> array (D, L)`` for every name in :data:`LAYER_FIELDS`.
    weights_resident : numpy.ndarray
        ``(D, L)`` bool: the layer's weights stay in SRAM (else they stream from DRAM).
    """

    digest: GraphDigest
    params: CostParams
    layers: dict[str, np.ndarray]
    weights_resident: np.ndarray

    def total(self, name: str) -> np.ndarray:
        """Sum over layers of a per-layer quantity: array ``(D,)``."""
        return self.layers[name].sum(axis=1)

    @property
    def latency_s(self) -> np.ndarray:
        return self.total("latency_s")


def schedule(graph: Graph | GraphDigest, params: CostParams) -> Schedule:
    """Schedule ``graph`` on the design(s) ``params``.

    Raises
    ------
    ConfigError
        When a layer cannot run: its weights fit neither in SRAM nor through
        a one-tile-per-core staging buffer streamed from DRAM.
    """
    d = graph if isinstance(graph, GraphDigest) else digest(graph)
    if params.arch == "photonic":
        engine = photonic_cost
    else:
        from ..baseline.systolic import systolic_cost as engine
    t = tiling(d, params)
    cost = engine(d, params, t)
    return _assemble(d, params, t, cost)


def _assemble(d: GraphDigest, p: CostParams, t: Tiling, cost: ArrayCost) -> Schedule:
    designs = p.designs
    num_layers = d.num_layers
    starts = np.flatnonzero(np.r_[True, np.diff(d.call_layer) != 0]) if d.call_layer.size else np.zeros(0, int)
    gemm_layers = d.call_layer[starts]

    def per_layer(values) -> np.ndarray:
        out = np.zeros((designs, num_layers))
        if starts.size:
            values = np.broadcast_to(np.asarray(values, dtype=float), (designs, d.call_layer.size))
            out[:, gemm_layers] = np.add.reduceat(values, starts, axis=1)
        return out

    seq = d.call_sequential
    lane_rate = p.asic_lanes * p.asic_clock_hz
    gemm_ops = asic_ops_per_gemm(d, t)
    step_ops = np.where(seq, d.call_step_ops + gemm_ops * d.call_distinct, 0)
    nonseq_ops = np.where(seq, 0, gemm_ops * d.call_count)
    recurrence = t.steps * (cost.step_s + step_ops / lane_rate) * seq

    # Weights: greedy SRAM residency in layer order, leaving room for the largest activation working set.
    stored = np.where(d.call_stationary, weight_load_bytes(d, p, 1), 0.0)
    aux_bytes = d.layer_aux_weight_elems * float(ACTIVATION_BYTES)
    layer_weight_bytes = per_layer(stored) + aux_bytes
    footprint = d.layer_footprint_elems * float(ACTIVATION_BYTES)
    capacity = np.broadcast_to(np.asarray(p.sram_capacity_bytes, dtype=float), (designs, 1))
    resident = np.cumsum(layer_weight_bytes, axis=1) <= capacity - footprint.max()
    _check_staging(d, p, resident, layer_weight_bytes)
    free = capacity - (layer_weight_bytes * resident).sum(axis=1, keepdims=True)
    spill = np.maximum(footprint - free, 0.0)

    loads = weight_load_bytes(d, p, t.reps)
    call_resident = resident[:, d.call_layer] | ~d.call_stationary
    reuse = ceil_div(t.n_tiles, p.cores)  # input vectors are broadcast to the cores holding one K-tile's N-tiles
    sram_reads = per_layer(d.call_m * d.call_k * d.call_count * reuse * ACTIVATION_BYTES + np.where(call_resident, loads, 0.0))
    sram_reads = sram_reads + aux_bytes + d.layer_act_read_elems * float(ACTIVATION_BYTES)
    sram_writes = per_layer(d.call_m * d.call_n * d.call_count * ACTIVATION_BYTES) + d.layer_act_write_elems * float(ACTIVATION_BYTES)
    dram_weights = per_layer(np.where(call_resident, 0.0, loads))
    dram = dram_weights + spill

    layers = {
        "engine_s": per_layer(cost.time_s),
        "asic_s": (d.layer_asic_ops + per_layer(nonseq_ops)) / lane_rate * np.ones((designs, 1)),
        "sram_s": (sram_reads + sram_writes) / p.sram_bandwidth_bytes_per_s,
        "dram_s": dram / p.dram_bandwidth_bytes_per_s,
        "fill_s": per_layer(cost.fill_s),
        "recurrence_s": per_layer(recurrence),
        "engine_macs": per_layer(d.call_m * d.call_k * d.call_n * d.call_count),
        "asic_macs": d.layer_asic_macs * np.ones((designs, 1)),
        "passes": per_layer(d.call_m * t.k_tiles * t.n_tiles * d.call_count),
        "weight_programs": per_layer(t.programs),
        "dac_conversions": per_layer(cost.dac_conversions),
        "adc_conversions": per_layer(cost.adc_conversions),
        "idle_pe_cycles": per_layer(cost.idle_pe_cycles),
        "light_core_s": per_layer(cost.light_core_s),
        "asic_ops": d.layer_asic_ops + per_layer(nonseq_ops + step_ops * t.steps),
        "sram_read_bytes": sram_reads,
        "sram_write_bytes": sram_writes,
        "dram_bytes": dram,
        "dram_weight_bytes": dram_weights,
    }
    overlapped = np.maximum.reduce([layers[k] for k in ("engine_s", "asic_s", "sram_s", "dram_s")])
    layers["latency_s"] = overlapped + layers["fill_s"] + layers["recurrence_s"]
    return Schedule(d, p, {k: layers[k] for k in LAYER_FIELDS}, resident)


def _check_staging(d: GraphDigest, p: CostParams, resident: np.ndarray, layer_weight_bytes: np.ndarray) -> None:
    """Refuse designs where a streamed layer cannot even stage one weight tile per core in SRAM."""
    staging = p.rows * p.cols * (p.weight_bits / 8.0) * p.cores * np.where(p.double_buffer, 2, 1)
    needs = (~resident) & (layer_weight_bytes > 0)
    bad = needs & (np.broadcast_to(staging, (p.designs, 1)) > np.broadcast_to(p.sram_capacity_bytes, (p.designs, 1)))
    if np.any(bad):
        design, layer = (int(i[0]) for i in np.nonzero(bad))
        raise ConfigError(
            f"layer {d.layer_names[layer]!r} of {d.name!r} cannot run on design {design}: its weights "
            f"({layer_weight_bytes[design, layer]:.0f} B) do not fit in SRAM "
            f"({float(np.broadcast_to(p.sram_capacity_bytes, (p.designs, 1))[design, 0]):.0f} B) and streaming them "
            f"from DRAM needs a staging buffer of one tile per core "
            f"({float(np.broadcast_to(staging, (p.designs, 1))[design, 0]):.0f} B); enlarge sram.capacity_mib or shrink the tiles"
        )
