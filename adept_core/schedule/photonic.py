"""Time and events of GemmCalls on ADEPT's photonic cores (arrays over designs x calls).

Weight-stationary streaming (``docs/scheduler.md``): a tile is programmed in
``program_time_s``; then the call's ``m`` input vectors stream through it at
the photonic clock, ``wdm`` vectors per symbol (one per wavelength), so one
tile takes ``stream = ceil(m / wdm) / clock``. The ``slots`` tiles of a call
are spread over the cores in ``rounds = ceil(slots / cores)`` rounds.

- Without double buffering a round costs ``program + stream``.
- With double-buffered weight banks the next round's tiles are programmed
  while the current round streams, so a round costs ``max(program, stream)``.

The first program of a call cannot overlap with anything (``fill``). A
recurrent call whose tiles all fit in the cores is programmed once and then
costs ``stream`` per step; otherwise every step reloads its tiles.
"""

from __future__ import annotations

import numpy as np

from .arraycost import ArrayCost, Tiling
from .digest import GraphDigest
from .params import CostParams, ceil_div


def photonic_cost(d: GraphDigest, p: CostParams, t: Tiling) -> ArrayCost:
    stream = ceil_div(d.call_m, p.wdm) / p.clock_hz
    program = p.program_time_s * np.ones_like(stream)
    per_round = np.where(p.double_buffer, np.maximum(program, stream), program + stream)
    rounds = ceil_div(t.slots, p.cores)
    # Whole occupancy of a non-sequential call, or of one non-resident recurrent step.
    occupancy = program + stream + (rounds - 1) * per_round
    seq = d.call_sequential
    time_s = np.where(seq, 0.0, occupancy - program)
    fill_s = np.where(seq & ~t.resident, 0.0, program)
    step_s = np.where(seq, np.where(t.resident, stream, occupancy), 0.0)
    return ArrayCost(
        time_s=time_s,
        fill_s=fill_s,
        step_s=step_s,
        dac_conversions=d.call_m * d.call_k * t.n_tiles * d.call_count,
        adc_conversions=d.call_m * d.call_n * t.k_tiles * d.call_count,
        idle_pe_cycles=np.zeros_like(stream),
        # Every programmed tile streams its m vectors on one core, once per step it serves.
        light_core_s=t.slots * t.steps * stream,
    )
