"""The NumPy oracle: the kernel contract written as plainly as possible.

Slow and obviously correct; every fast backend is tested against it for
exact array equality. Read it next to :mod:`adept_core.kernels.spec`.
"""

from __future__ import annotations

import numpy as np

from . import rng
from .plan import CallPlan, RunResult
from .quantize import quantize, quantize_tiles, row_tile_scales, zero_block_scales
from .spec import RIN_COMMON_COLUMN, qmax


class NumpyBackend:
    """Reference backend: int64 tile sums, float64 epilogue, one tile at a time."""

    name = "numpy"

    @staticmethod
    def unavailable_reason() -> str | None:
        return None

    def program(self, qw: np.ndarray) -> np.ndarray:
        return qw.astype(np.int64)

    def run(self, qw: np.ndarray, x: np.ndarray, plan: CallPlan) -> RunResult:
        m_rows, k = x.shape
        n_cols = qw.shape[1]
        x_absmax = np.float32(np.max(np.abs(x))) if x.size else np.float32(0.0)
        if not np.isfinite(x_absmax):
            return RunResult(np.empty((m_rows, n_cols), np.float32), float(x_absmax), 0.0, 0)
        if plan.scaling == "abfp":
            return self._run_abfp(qw, x, plan, float(x_absmax))
        x_scale = np.float32(plan.x_scale)
        if x_scale == 0:
            x_scale = np.float32(1.0) if x_absmax == 0 else np.float32(x_absmax / np.float32(qmax(plan.input_bits)))
        qx = quantize(x, x_scale, plan.input_bits).astype(np.int64)

        q_adc = qmax(plan.adc_bits)
        acc = np.zeros((m_rows, n_cols), dtype=np.int64)
        clipped = 0
        m_idx = np.arange(m_rows, dtype=np.uint64)
        n_idx = np.arange(n_cols, dtype=np.uint32)
        for t, k0 in enumerate(range(0, k, plan.rows)):
            xt, wt = qx[:, k0:k0 + plan.rows], qw[k0:k0 + plan.rows, :]
            y = self._noisy_sums(xt @ wt, xt, wt, plan, t, m_idx, n_idx)  # exact int64 products
            r = np.rint(y / plan.lsb[None, :])
            clipped += int(np.count_nonzero(np.abs(r) > q_adc))
            acc += np.clip(r, -q_adc, q_adc).astype(np.int64)

        factor = plan.lsb * (np.float64(x_scale) * plan.w_scale.astype(np.float64))
        y_out = (acc.astype(np.float64) * factor[None, :]).astype(np.float32)
        return RunResult(y_out, float(x_absmax), float(x_scale), clipped)

    @staticmethod
    def _noisy_sums(p: np.ndarray, xt: np.ndarray, wt: np.ndarray, plan: CallPlan, t: int, m_idx: np.ndarray,
                    n_idx: np.ndarray) -> np.ndarray:
        """Step 3: ``double(p)`` plus its analog noise, for tile codes ``xt`` [M, rows] and ``wt`` [rows, N]."""
        y = p.astype(np.float64)
        if not plan.noisy:
            return y
        z = rng.standard_normals(plan.base_key, t, m_idx, n_idx)
        # What the shot noise follows: the signal |p|, or the light on both rails.
        s = np.abs(y) if plan.detection == "coherent" else (np.abs(xt) @ np.abs(wt)).astype(np.float64)
        if plan.rin_correlation == "independent":
            var = (plan.sigma_const * plan.sigma_const + plan.shot_coeff * s) + (
                (plan.rin_coeff * y) * (plan.rin_coeff * y)
            )
            return y + np.sqrt(var) * z
        var = plan.sigma_const * plan.sigma_const + plan.shot_coeff * s
        zc = rng.standard_normals(plan.base_key, t, m_idx, np.array([RIN_COMMON_COLUMN], dtype=np.uint32))
        return (y + np.sqrt(var) * z) + (plan.rin_coeff * y) * zc

    def _run_abfp(self, qw: np.ndarray, x: np.ndarray, plan: CallPlan, x_absmax: float) -> RunResult:
        """Steps 1'-5' of the contract: block scales, gain before the ADC, per-tile dequantization."""
        m_rows, k = x.shape
        n_cols = qw.shape[1]
        sx = row_tile_scales(x, plan.input_bits, plan.rows)
        qx = quantize_tiles(x, sx, plan.input_bits, plan.rows, axis=1).astype(np.int64)
        sx = zero_block_scales(qx.T, sx.T, plan.rows).T  # dequantization: 0 for a block of zero codes
        q_adc = qmax(plan.adc_bits)
        gain = np.float64(plan.analog_gain)
        lsb_g = plan.lsb / gain
        acc = np.zeros((m_rows, n_cols), dtype=np.float64)
        clipped = 0
        m_idx = np.arange(m_rows, dtype=np.uint64)
        n_idx = np.arange(n_cols, dtype=np.uint32)
        for t, k0 in enumerate(range(0, k, plan.rows)):
            xt, wt = qx[:, k0:k0 + plan.rows], qw[k0:k0 + plan.rows, :]
            g = self._noisy_sums(xt @ wt, xt, wt, plan, t, m_idx, n_idx) * gain
            r = np.rint(g / plan.lsb[None, :])
            clipped += int(np.count_nonzero(np.abs(r) > q_adc))
            code = np.clip(r, -q_adc, q_adc)
            f = sx[:, t].astype(np.float64)[:, None] * (lsb_g * plan.w_scale[t].astype(np.float64))[None, :]
            acc = acc + code * f
        return RunResult(acc.astype(np.float32), x_absmax, 0.0, clipped)
