"""Time and energy of GemmCalls on a weight-stationary systolic array (arrays over designs x calls).

The standard analytical model (Samajdar et al., "A Systematic Methodology
for Characterizing Scalability of DNN Accelerators using SCALE-Sim",
ISPASS 2020): a GEMM ``[m, k] x [k, n]`` on an ``R x C`` weight-stationary
array is cut into ``folds = ceil(k/R) * ceil(n/C)`` weight folds; one fold
takes ``2R + C + m - 2`` cycles (``R`` to load the weights, ``R + C - 2`` of
input skew and output drain, ``m`` streaming). Folds run one after another.
With double-buffered weights (``p.double_buffer``; the TPU v1 holds a second
weight tile per PE to hide the ``R``-cycle shift-in, Jouppi et al. ISCA
2017) the next fold's weights shift in while the current fold streams
(``R <= R + C + m - 2``), so only the call's first load is exposed and a fold
costs ``R + C + m - 2``. With ``cores`` identical arrays (``systolic.cores``,
1 in the presets) the folds are dealt out in ``ceil(folds / cores)``
rounds. A recurrent call whose weights fit the arrays at once keeps them
loaded, so each step costs ``R + C + m - 2`` cycles.

Idle PE-cycles (PEs without a MAC while the array is busy) are counted so
the energy model can charge their clock and register energy.
"""

from __future__ import annotations

import numpy as np

from ..schedule.arraycost import ArrayCost, Tiling
from ..schedule.digest import GraphDigest
from ..schedule.params import CostParams, ceil_div


def systolic_cost(d: GraphDigest, p: CostParams, t: Tiling) -> ArrayCost:
    stream_cycles = p.rows + p.cols + d.call_m - 2  # skew + stream + drain of one fold
    fold_cycles = np.where(p.double_buffer, stream_cycles, p.rows + stream_cycles)
    exposed_load = np.where(p.double_buffer, p.rows, 0)  # double-buffered: only the first shift-in shows
    seq = d.call_sequential
    load = p.rows / p.clock_hz * np.ones(np.broadcast(fold_cycles, t.slots).shape)
    occupancy = (exposed_load + ceil_div(t.slots, p.cores) * fold_cycles) / p.clock_hz
    resident_step = stream_cycles / p.clock_hz
    time_s = np.where(seq, 0.0, occupancy - load)
    fill_s = np.where(seq & ~t.resident, 0.0, load)
    step_s = np.where(seq, np.where(t.resident, resident_step, occupancy), 0.0)
    busy_cycles = (time_s + fill_s + t.steps * step_s) * p.clock_hz
    macs = d.call_m * d.call_k * d.call_n * d.call_count
    idle_pe_cycles = np.maximum(p.rows * p.cols * p.cores * busy_cycles - macs, 0.0)
    zeros = np.zeros_like(time_s)
    return ArrayCost(
        time_s=time_s,
        fill_s=fill_s,
        step_s=step_s,
        dac_conversions=zeros,
        adc_conversions=zeros,
        idle_pe_cycles=idle_pe_cycles,
        light_core_s=zeros,
    )
