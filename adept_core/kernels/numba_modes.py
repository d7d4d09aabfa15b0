"""The Numba backend's path for the modes after the first kernel: ``scaling="abfp"`` (steps 1'-5' of
:mod:`adept_core.kernels.spec`), dual-rail shot noise and laser-common RIN.

Same structure as the ``"tensor"`` path of :mod:`adept_core.kernels.numba_backend`: exact BLAS
tile products of the codes (per-tile weight codes are integers like any others), then a jitted
epilogue per tile and output block. What differs is what the epilogue does with an ADC code:
in ``"abfp"`` it is dequantized at once with its tile's scales and added to a float64 accumulator, tile by
tile in ascending order, which is why the blocks keep every K-tile of an output element on one
thread in that order (the tensor path's integer sums could be taken in any order; these cannot).
"""

from __future__ import annotations

import numpy as np

from . import numba_kernels as _k
from .numba_backend import (
    GEMV_ROWS, INPUT_PASS_FACTOR, MIN_ELEMENTS_PER_THREAD, on_threads, output_blocks, product_dtype, row_chunks,
    single_threaded_blas, workspace,
)
from .numba_jit import kernel_jit
from .plan import CallPlan, RunResult
from .spec import RIN_COMMON_COLUMN, qmax


@kernel_jit()
def quantize_blocks(x: np.ndarray, rows: int, q: int, scales: np.ndarray, codes: np.ndarray) -> None:
    """Step 1' for inputs: per (row, K-tile) ``scale = float32(max|x|) / float32(q)`` (0 -> 1) and codes.

    ``scales`` float32 [R, T] and ``codes`` [R, K] (float, exact integers for BLAS) are written.
    """
    m_rows, k = x.shape
    qf = np.float32(q)
    lo = np.float32(-q)
    hi = np.float32(q)
    for m in range(m_rows):
        t = 0
        for k0 in range(0, k, rows):
            k1 = min(k, k0 + rows)
            amax = np.float32(0.0)
            for j in range(k0, k1):
                amax = max(amax, abs(x[m, j]))
            scale = np.float32(amax / qf)
            scales[m, t] = scale  # the dequantization scale: 0 for a block whose codes are all 0
            if scale == 0:
                scale = np.float32(1.0)
            for j in range(k0, k1):
                c = np.rint(x[m, j] / scale)
                codes[m, j] = min(max(c, lo), hi)
            t += 1


@kernel_jit()
def mode_epilogue(
    p: np.ndarray,
    light: np.ndarray,
    acc: np.ndarray,
    out: np.ndarray,
    m0: int,
    n0: int,
    t: int,
    last: bool,
    base: np.uint64,
    table: np.ndarray,
    lsb: np.ndarray,
    col_factor: np.ndarray,
    row_scale: np.ndarray,
    sigma_const: float,
    shot_coeff: float,
    rin_coeff: float,
    noisy: bool,
    dual_rail: bool,
    rin_common: bool,
    abfp: bool,
    gain: float,
    q_adc: int,
) -> int:
    """Noise, (gain,) ADC and accumulation of one block of tile ``t`` in every mode (contract step 3-5 / 3-5').

    ``p`` [R, C]: exact partial sums; ``light`` [R, C]: ``sum |qx||qw|`` (read only with
    ``dual_rail``); ``acc`` float64 [R, C]: the sum over earlier tiles (updated, or on the
    ``last`` tile turned into ``out[m0:m0+R, n0:n0+C]``). ``"tensor"`` (``abfp`` False):
    ``acc`` sums the integer codes (exact in float64) and the last tile writes
    ``float32((acc + code) * col_factor[n])``; ``"abfp"``: ``acc`` sums
    ``code * (row_scale[i] * col_factor[n])`` and the last tile writes ``float32(acc + d)``.
    Returns the clipped count.
    """
    qa = np.float64(q_adc)
    var_const = sigma_const * sigma_const
    rows, cols = p.shape
    clipped = 0
    for i in range(rows):
        rk = _k.row_key(base, t, m0 + i)
        zc = np.float64(table[_k.column_hash(rk, RIN_COMMON_COLUMN) >> _k._TABLE_SHIFT])
        sxd = row_scale[i]
        for n in range(cols):
            pd = np.float64(p[i, n])
            y = pd
            if noisy:
                z = np.float64(table[_k.column_hash(rk, n0 + n) >> _k._TABLE_SHIFT])
                s = np.float64(light[i, n]) if dual_rail else abs(pd)
                ry = rin_coeff * pd
                if rin_common:
                    y = (pd + np.sqrt(var_const + shot_coeff * s) * z) + ry * zc
                else:
                    y = pd + np.sqrt((var_const + shot_coeff * s) + ry * ry) * z
            if abfp:
                y = y * gain
            r = np.rint(y / lsb[n])
            clipped += abs(r) > qa
            code = min(max(r, -qa), qa)
            if abfp:
                d = code * (sxd * col_factor[n])
                if last:
                    out[m0 + i, n0 + n] = np.float32(acc[i, n] + d)
                else:
                    acc[i, n] = acc[i, n] + d
            elif last:
                out[m0 + i, n0 + n] = np.float32((acc[i, n] + code) * col_factor[n])
            else:
                acc[i, n] = acc[i, n] + code
    return clipped


def run_modes(programmed, x: np.ndarray, plan: CallPlan, x_absmax: float, x_scale: np.float32) -> RunResult:
    """A call in any mode but the first kernel's (abfp, dual-rail shot noise, common RIN); ``x`` is finite."""
    m_rows, k = x.shape
    n_cols = programmed.qw.shape[1]
    q_x = qmax(plan.input_bits)
    q_adc = qmax(plan.adc_bits)
    dtype = product_dtype(plan.rows, q_x, programmed.absmax)
    qw = programmed.weights(dtype)
    abfp = plan.scaling == "abfp"
    dual_rail = plan.noisy and plan.detection == "dual_rail"
    qw_abs = programmed.abs_weights(dtype) if dual_rail else qw
    k_tiles = -(-k // plan.rows)
    codes = workspace("codes", m_rows * k, dtype).reshape(m_rows, k)
    chunks = row_chunks(m_rows, plan.threads, k, MIN_ELEMENTS_PER_THREAD * INPUT_PASS_FACTOR)
    if abfp:
        sx = np.empty((m_rows, k_tiles), dtype=np.float32)
        on_threads(lambda m0, m1: quantize_blocks(x[m0:m1], plan.rows, q_x, sx[m0:m1], codes[m0:m1]), chunks)
        row_scale = np.ascontiguousarray(sx.T, dtype=np.float64)  # [T, M]: one tile's row scales contiguous
        gain = float(plan.analog_gain)
        col_factor = (plan.lsb / gain)[None, :] * plan.w_scale.astype(np.float64)  # [T, N]
        x_scale = np.float32(0.0)
    else:
        on_threads(lambda m0, m1: _k.quantize_codes(x[m0:m1], x_scale, q_x, codes[m0:m1]), chunks)
        row_scale = np.ones((k_tiles, m_rows))
        gain = 1.0
        factor = plan.lsb * (np.float64(x_scale) * plan.w_scale.astype(np.float64))
        col_factor = np.broadcast_to(factor, (k_tiles, n_cols))
    codes_abs = np.abs(codes) if dual_rail else codes
    base = np.uint64(plan.base_key)
    out = np.empty((m_rows, n_cols), dtype=np.float32)
    worth = (m_rows * n_cols * k_tiles) // MIN_ELEMENTS_PER_THREAD
    gemv = m_rows <= GEMV_ROWS
    workers = 1 if gemv else max(1, min(plan.threads, m_rows * n_cols, worth))
    blocks = output_blocks(m_rows, n_cols, workers)
    workers = min(workers, len(blocks))
    table, lsb = plan.normal_table, plan.lsb
    rin_common = plan.rin_correlation == "laser"

    def worker(first: int, _: int) -> int:
        r_max = max(r1 - r0 for r0, r1, _, _ in blocks)
        c_max = max(c1 - c0 for _, _, c0, c1 in blocks)
        p_buf = workspace("partial", r_max * c_max, dtype)
        l_buf = workspace("light", r_max * c_max, dtype) if dual_rail else p_buf
        acc_buf = workspace("acc_modes", r_max * c_max, np.dtype(np.float64))
        clipped = 0
        for m0, m1, n0, n1 in blocks[first::workers]:
            shape = (m1 - m0, n1 - n0)
            p_blk = p_buf[: shape[0] * shape[1]].reshape(shape)
            l_blk = l_buf[: shape[0] * shape[1]].reshape(shape)
            acc_blk = acc_buf[: shape[0] * shape[1]].reshape(shape)
            acc_blk.fill(0.0)
            lsb_b = np.ascontiguousarray(lsb[n0:n1])
            for t in range(k_tiles):
                k0 = t * plan.rows
                k1 = min(k, k0 + plan.rows)
                np.matmul(codes[m0:m1, k0:k1], qw[k0:k1, n0:n1], out=p_blk)
                if dual_rail:
                    np.matmul(codes_abs[m0:m1, k0:k1], qw_abs[k0:k1, n0:n1], out=l_blk)
                clipped += mode_epilogue(
                    p_blk, l_blk, acc_blk, out, m0, n0, t, t == k_tiles - 1, base, table, lsb_b,
                    np.ascontiguousarray(col_factor[t, n0:n1]), np.ascontiguousarray(row_scale[t, m0:m1]),
                    plan.sigma_const, plan.shot_coeff, plan.rin_coeff, plan.noisy, dual_rail, rin_common, abfp,
                    gain, q_adc,
                )
        return clipped

    if gemv:
        clipped = worker(0, 1)
    else:
        with single_threaded_blas():
            clipped = sum(on_threads(worker, [(i, i + 1) for i in range(workers)]))
    return RunResult(out, x_absmax, float(x_scale), int(clipped))
