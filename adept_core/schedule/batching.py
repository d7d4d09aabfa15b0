"""Batches that fit: run a large batch as near-equal pieces, the way a compiler for either chip would.

Without splitting, a batch of ``B`` inferences runs every layer on all ``B``
at once; once a layer's bf16 working set no longer fits the SRAM left by the
resident weights the excess spills to DRAM and throughput *falls* as the
batch grows (ResNet-50 on the ``systolic`` preset: 4,125 inf/s at batch 8,
2,698 at 64, 1,760 at 256). A compiler instead runs the whole network on a
piece of the batch, then the next piece: each piece reloads the weight tiles
(from SRAM when they are resident) but its activations stay on chip.

:func:`schedule_batched` runs ``B`` as ``P`` near-equal pieces (``B mod P``
pieces of ``ceil(B/P)``, the rest of ``floor(B/P)``) and picks, per design,
the ``P`` in ``1..B`` with the least latency (ties: fewest pieces). Pieces
that fit SRAM are what makes a split fast; a piece may still spill a little
when that spill hides behind the engine's time and a larger piece
amortises more weight loading (requiring zero spill was measured slower
and no more efficient: BERT-large at batch 8 on ADEPT, 121 vs 164 inf/s).
Because every ``P`` is a candidate, a batch ``k*B`` can always repeat
``B``'s plan ``k`` times, so throughput never falls from a batch to a
multiple of it.
Pieces run one after another (no pipelining between pieces), so a run's
latency and events are the sums over its pieces.

Splitting needs the graph at the piece sizes; :func:`zoo_rebuilder` gives it
for the zoo's models (rebuilt with the same parameters and checked to be the
same model). Any other graph runs unsplit unless the caller passes ``rebuild``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import ConfigError
from ..graph.ir import Graph
from .digest import GraphDigest, digest
from .mapping import LAYER_FIELDS, Schedule, schedule
from .params import CostParams

#: Largest batch that is split: a split of B builds the graph at about 2*sqrt(B) distinct piece sizes
#: (~130 at this bound), so larger batches (never seen in the tool's studies) run unsplit.
MAX_SPLIT_BATCH = 4096


def piece_sizes(batch: int, pieces: int) -> tuple[int, ...]:
    """Near-equal split of ``batch`` into ``pieces``: larger pieces first, sizes differ by at most 1."""
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ConfigError(f"batch must be a positive integer, got {batch!r}")
    if isinstance(pieces, bool) or not isinstance(pieces, (int, np.integer)) or not 1 <= pieces <= batch:
        raise ConfigError(f"pieces must be an integer in [1, batch={batch}], got {pieces!r}")
    small, extra = divmod(int(batch), int(pieces))
    return (small + 1,) * extra + (small,) * (int(pieces) - extra)


@dataclass(frozen=True)
class BatchedSchedule:
    """A run of ``batch`` inferences as pieces: the summed schedule and each design's split.

    ``schedule.layers`` are per run (sums over the pieces); ``schedule.digest``
    is the full-batch graph's. ``pieces[i]`` is design ``i``'s piece sizes.
    """

    schedule: Schedule
    pieces: tuple[tuple[int, ...], ...]


def schedule_batched(graph: Graph, params: CostParams, batch: int,
                     rebuild: Callable[[int], Graph] | None = None) -> BatchedSchedule:
    """Schedule ``batch`` inferences of ``graph`` as the fastest near-equal split (per design).

    Parameters
    ----------
    graph : Graph
        The graph built for ``batch``.
    params : CostParams
        One or ``D`` stacked designs.
    batch : int
        Inferences of ``graph``.
    rebuild : callable, optional
        ``size -> Graph`` of the same model at batch ``size``. Default:
        :func:`zoo_rebuilder`; when that gives none, or ``batch`` is above
        :data:`MAX_SPLIT_BATCH`, the batch runs unsplit.
    """
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ConfigError(f"batch must be a positive integer, got {batch!r}")
    full = digest(graph)
    whole = schedule(full, params)
    if batch == 1 or batch > MAX_SPLIT_BATCH:
        return BatchedSchedule(whole, ((int(batch),),) * params.designs)
    rebuild = rebuild or zoo_rebuilder(graph)
    if rebuild is None:
        return BatchedSchedule(whole, ((int(batch),),) * params.designs)
    cache: dict[int, Schedule] = {int(batch): whole}

    def at(size: int) -> Schedule:
        if size not in cache:
            cache[size] = schedule(_piece_digest(rebuild, size, full), params)
        return cache[size]

    best_latency = np.full(params.designs, np.inf)
    best_plan = np.ones(params.designs, dtype=np.int64)
    for pieces in range(1, int(batch) + 1):
        small, extra = divmod(int(batch), pieces)
        latency = extra * at(small + 1).latency_s + ((pieces - extra) * at(small).latency_s if small else 0.0)
        better = latency < best_latency * (1 - 1e-12)  # a strictly faster split; ties keep fewer pieces
        best_latency = np.where(better, latency, best_latency)
        best_plan = np.where(better, pieces, best_plan)
    return BatchedSchedule(_combine(full, params, batch, best_plan, at), tuple(piece_sizes(int(batch), int(p)) for p in best_plan))


def _piece_digest(rebuild: Callable[[int], Graph], size: int, full: GraphDigest) -> GraphDigest:
    piece = rebuild(size)
    d = digest(piece)
    if d.layer_names != full.layer_names or d.call_layer.shape != full.call_layer.shape:
        raise ConfigError(f"rebuilding {full.name!r} at batch {size} gave a different graph ({piece.name!r}); "
                          "rebuild must return the same model at another batch size")
    return d


def _combine(full: GraphDigest, params: CostParams, batch: int, plan: np.ndarray, at) -> Schedule:
    designs, layers = params.designs, full.num_layers
    summed = {k: np.zeros((designs, layers)) for k in LAYER_FIELDS}
    resident = np.zeros((designs, layers), dtype=bool)
    for i, pieces in enumerate(plan.tolist()):
        for size in sorted(set(piece_sizes(batch, pieces))):
            count = piece_sizes(batch, pieces).count(size)
            part = at(size)
            for k in LAYER_FIELDS:
                summed[k][i] += count * part.layers[k][i]
        resident[i] = at(piece_sizes(batch, pieces)[0]).weights_resident[i]
    return Schedule(full, params, summed, resident)


def zoo_rebuilder(graph: Graph) -> Callable[[int], Graph] | None:
    """``size -> Graph`` for a zoo model (same parameters, other batch), or None for any other graph.

    The graphs it returns are shared (cached); do not mutate them.

    The rebuilt graph at the graph's own batch must have exactly its shapes,
    so a hand-edited or imported graph that happens to share a zoo name is
    never split on the strength of its name.
    """
    from ..graph import zoo

    built = graph.meta.get("batch")
    if graph.name not in zoo.ZOO_NAMES or not isinstance(built, (int, np.integer)) or isinstance(built, bool):
        return None
    params = tuple((key, graph.meta[key]) for key in _ZOO_PARAMS.get(graph.name, ()) if key in graph.meta)

    def rebuild(size: int) -> Graph:
        return _zoo_graph(graph.name, params, int(size))

    try:
        same = rebuild(int(built)).shapes == graph.shapes
    except (ConfigError, TypeError, ValueError):
        return None
    return rebuild if same else None


@functools.lru_cache(maxsize=128)
def _zoo_graph(name: str, params: tuple, size: int) -> Graph:
    # Sweeps evaluate many designs at one batch: the piece graphs (and, through the digest cache keyed by
    # graph identity, their lowering) are built once. The cached graphs are never handed to user code
    # except through zoo_rebuilder's callable, whose doc says not to mutate them.
    from ..graph import zoo

    return zoo.build(name, batch=size, **dict(params))


#: Build parameters (besides batch) that each zoo model records in ``graph.meta``.
_ZOO_PARAMS = {"bert-large": ("seq_len",), "rnnt": ("utterance_s", "symbols")}
