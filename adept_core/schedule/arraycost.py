"""What one GemmCall costs on a weight-stationary array, as arrays over (designs, calls).

Both architectures are weight-stationary: a ``rows x cols`` weight tile is
loaded, then the ``m`` input vectors of the call stream through it. They
differ only in how long a tile takes (:mod:`adept_core.schedule.photonic`,
:mod:`adept_core.baseline.systolic`); everything here is shared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .digest import GraphDigest
from .params import ACTIVATION_BYTES, CostParams, ceil_div


@dataclass(frozen=True)
class Tiling:
    """How each call is cut into weight tiles (arrays broadcast to ``(D, C)``)."""

    k_tiles: np.ndarray
    n_tiles: np.ndarray
    steps: np.ndarray  # recurrent steps (1 for a non-sequential call)
    slots: np.ndarray  # tiles that must be held at once: one step's tiles for every distinct weight
    resident: np.ndarray  # bool: a recurrent call's tiles all fit in the cores, programmed once
    reps: np.ndarray  # how many times each distinct weight matrix is loaded

    @property
    def programs(self) -> np.ndarray:
        """Weight tiles loaded into the array over the whole call."""
        return self.slots * self.reps


def tiling(d: GraphDigest, p: CostParams) -> Tiling:
    """Tile counts and weight reuse of every call for every design.

    A non-sequential call programs each of its ``k_tiles * n_tiles * count``
    tiles once. A recurrent call (``count = steps * distinct``) keeps its
    tiles programmed for all steps when they fit in the cores at once and
    otherwise reloads them every step.
    """
    k_tiles = ceil_div(d.call_k, p.rows)
    n_tiles = ceil_div(d.call_n, p.cols)
    seq = d.call_sequential
    steps = np.where(seq, d.call_count // d.call_distinct, 1)
    slots = k_tiles * n_tiles * np.where(seq, d.call_distinct, d.call_count)
    resident = seq & (slots <= p.cores)
    reps = np.where(seq & ~resident, steps, 1)
    return Tiling(k_tiles, n_tiles, steps, slots, resident, reps)


@dataclass(frozen=True)
class ArrayCost:
    """Time and array-specific events of every call on the GEMM engine (arrays ``(D, C)``).

    ``time_s`` is the call's occupancy of the engine that can overlap with
    the ASIC and memory; ``fill_s`` the start-up that cannot; ``step_s`` the
    engine time of one recurrent step (0 for non-sequential calls, whose
    whole time is in ``time_s``).
    """

    time_s: np.ndarray
    fill_s: np.ndarray
    step_s: np.ndarray
    dac_conversions: np.ndarray
    adc_conversions: np.ndarray
    idle_pe_cycles: np.ndarray  # systolic: PE-cycles without a MAC while the array is busy; 0 for photonic
    light_core_s: np.ndarray  # photonic: core-seconds during which a programmed tile streams (light needed); 0 for systolic


def asic_ops_per_gemm(d: GraphDigest, t: Tiling):
    """ASIC lane-ops of one GEMM of each call: quantize inputs, accumulate K-tiles, dequantize.

    Inputs are quantized once per GEMM (``m*k``), an activation right
    operand too (``k*n``) before it is programmed; the ``k_tiles`` partial
    sums of each output are added (``k_tiles - 1`` adds) and dequantized
    with the bias in one multiply-add (``m*n``).
    """
    operand = np.where(d.call_stationary, 0, d.call_k * d.call_n)
    return d.call_m * d.call_k + operand + (t.k_tiles - 1) * d.call_m * d.call_n + d.call_m * d.call_n


def weight_load_bytes(d: GraphDigest, p: CostParams, reps) -> np.ndarray:
    """Bytes read to load each call's weight tiles ``reps`` times.

    Programmed weights are stored at ``weight_bits``; an activation right
    operand is read at bf16 (it is quantized on its way to the array).
    """
    width = np.where(d.call_stationary, p.weight_bits / 8.0, ACTIVATION_BYTES)
    return d.call_k * d.call_n * np.where(d.call_stationary, d.call_distinct, d.call_count) * reps * width
