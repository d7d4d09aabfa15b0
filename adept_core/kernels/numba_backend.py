"""The Numba backend: BLAS for the exact tile products, one jitted fused epilogue per tile.

How it stays bit-identical to the NumPy oracle while running near matmul speed:

- **Exact products in floating point.** The quantized codes are passed to
  BLAS as floats. Every partial sum of a tile, and every intermediate sum
  BLAS may form in any order or blocking, is an integer of magnitude at most
  ``rows * max|qx| * max|qw|``. Below ``2**24`` such integers are exact in
  float32 (8-bit operands on a 128- or 1024-row tile qualify), below
  ``2**53`` in float64. The largest core (4096 rows) with 16-bit operands
  gives ``4096 * 32767**2 < 2**42``, so float64 always suffices and no
  integer GEMM path is needed; :func:`product_dtype` asserts the bound.
- **Fused epilogue.** Noise, ADC, clipping count, accumulation and (on the
  last tile) dequantization run in one jitted call per tile and output block
  (:func:`numba_kernels.tile_epilogue`), so each partial sum is read once and
  no noise or code array of the whole output is stored. The noise uses the
  very hash functions of :mod:`adept_core.kernels.rng`, compiled by Numba.
- **Blocking.** The output is cut into blocks of about ``BLOCK_ELEMENTS``
  partial sums (:func:`output_blocks`); for each block, every K-tile's
  product is written by BLAS into a per-thread buffer and consumed by the
  epilogue while it is still in L2, and the block's accumulators stay in L2
  over all tiles. Blocks and tiles are independent inputs of the epilogue
  (it uses global row and column indices), so blocking never changes bits.
- **Threads.** ``plan.threads`` Python threads each take every
  ``threads``-th block and run it whole: single-threaded BLAS for the tile
  products, then the GIL-free epilogue. OpenBLAS is held to one thread
  meanwhile (:func:`single_threaded_blas`), so the cores are not
  oversubscribed and no thread hand-off happens per tile. Each element is
  computed by one thread in the contract's order, so the thread count
  changes only speed. Calls with at most ``GEMV_ROWS`` input rows are
  matrix-vector products bound by reading the weights; they run on the
  calling thread with one multi-threaded BLAS call per tile instead.
  Python threads are used instead of Numba's ``prange`` because its OpenMP
  workers spin between calls: on a 2-core machine shared with BLAS (whose
  threads also spin) and other processes this was measured 10-40x slower
  than sleeping threads. Pool threads sleep on a condition variable, and a
  call made from several Python threads at once is safe (Numba's workqueue
  layer would abort the process).
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np

from .plan import CallPlan, RunResult
from .spec import MAX_THREADS, qmax

try:
    from . import numba_kernels as _k
except ImportError as exc:  # pragma: no cover - exercised only without numba
    _IMPORT_ERROR: str | None = f"numba is not importable ({exc}); install it with `pip install numba`"
else:
    _IMPORT_ERROR = None

#: Partial sums per output block (2**16: 256 KiB of float32 partial sums plus as much in
#: accumulators, about half of this machine's 1 MiB L2 per core, so they stay in L2 between the
#: BLAS call that writes them and the epilogue that reads them). Measured on the benchmark
#: shapes with 2 threads: 2**13 and 2**14 are 1.3-1.8x slower (each BLAS call is too small to
#: run at full speed), 2**15 5-10% slower, 2**17 and 2**18 no better overall.
BLOCK_ELEMENTS = 1 << 16


def product_dtype(rows: int, input_qmax: int, weight_absmax: int) -> np.dtype:
    """Float type in which BLAS tile products of these codes are exact.

    Parameters
    ----------
    rows : int
        Tile length (K-tile).
    input_qmax, weight_absmax : int
        Largest possible ``|qx|`` and the largest actual ``|qw|``.

    Returns
    -------
    np.dtype
        float32 when every partial sum is below ``2**24``, else float64.
    """
    bound = rows * input_qmax * weight_absmax
    if bound < 1 << 24:
        return np.dtype(np.float32)
    assert bound < 1 << 53, "spec limits keep tile sums below 2**53"
    return np.dtype(np.float64)


def accumulator_dtype(k_tiles: int, q_adc: int) -> np.dtype:
    """int32 when ``k_tiles * q_adc`` codes cannot overflow it, else int64."""
    return np.dtype(np.int32) if k_tiles * q_adc < 1 << 31 else np.dtype(np.int64)


#: Fewest elements worth handing to another thread: waking a pool thread costs tens of
#: microseconds (far more on a loaded machine), about the time of 2**16 epilogue elements.
MIN_ELEMENTS_PER_THREAD = 1 << 16


#: The input passes (absmax, quantization) cost ~0.1 ns per element, so a thread is worth
#: waking for them only at this many times ``MIN_ELEMENTS_PER_THREAD`` elements (2**21).
INPUT_PASS_FACTOR = 32


def row_chunks(
    m_rows: int, parts: int, row_elements: int = MIN_ELEMENTS_PER_THREAD, per_thread: int | None = None
) -> list[tuple[int, int]]:
    """Split ``range(m_rows)`` into at most ``parts`` contiguous, nearly equal ranges.

    No range gets fewer than ``per_thread`` (default ``MIN_ELEMENTS_PER_THREAD``) elements
    (rows of ``row_elements``) unless there is only one; small calls therefore run on the
    calling thread alone.
    """
    per_thread = MIN_ELEMENTS_PER_THREAD if per_thread is None else per_thread
    worth = max(1, (m_rows * row_elements) // per_thread)
    parts = max(1, min(parts, m_rows, worth))
    bounds = [m_rows * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts)]


#: Partial sums the epilogue takes per loop (16 KiB of float64 work space: stays in L1).
GROUP_ELEMENTS = 2048

#: Calls with at most this many input rows are matrix-vector products, bound by reading the
#: weights: one BLAS call per tile on all BLAS threads beats splitting the columns over ours.
GEMV_ROWS = 4

#: Widest output block in columns while rows remain (a wider block means fewer BLAS calls per
#: element for short inputs; the block stays ``BLOCK_ELEMENTS`` in total).
MIN_BLOCK_COLS = 512


def output_blocks(m_rows: int, n_cols: int, parts: int) -> list[tuple[int, int, int, int]]:
    """Cut the output into ``(m0, m1, n0, n1)`` blocks of at most about ``BLOCK_ELEMENTS`` each.

    Blocks are column strips at least ``MIN_BLOCK_COLS`` wide (all of ``n_cols`` if narrower),
    as many rows as fit; few-row outputs get wider strips. When that gives fewer blocks than
    ``parts`` threads, the strips are narrowed so every thread gets one. Row blocks are then
    made equal and their number a multiple of ``parts``, so ``parts`` threads taking every
    ``parts``-th block get equal work.
    """
    cols = min(n_cols, max(MIN_BLOCK_COLS, BLOCK_ELEMENTS // max(1, m_rows)))
    rows = max(1, min(m_rows, BLOCK_ELEMENTS // cols))
    if -(-m_rows // rows) * -(-n_cols // cols) < parts:
        cols = max(1, min(cols, -(-n_cols // parts)))
    col_blocks = -(-n_cols // cols)
    cols = -(-n_cols // col_blocks)
    row_blocks = -(-m_rows // rows)
    if (row_blocks * col_blocks) % parts:
        row_blocks = min(m_rows, -(-row_blocks // parts) * parts)
    rows = -(-m_rows // row_blocks)
    return [
        (m0, min(m_rows, m0 + rows), n0, min(n_cols, n0 + cols))
        for m0 in range(0, m_rows, rows)
        for n0 in range(0, n_cols, cols)
    ]


_blas_lock = threading.Lock()
_blas_users = 0
_blas_restore: contextlib.ExitStack | None = None


@contextlib.contextmanager
def single_threaded_blas():
    """OpenBLAS on one thread while any call of this backend runs (restored after the last one).

    Each worker thread calls BLAS on its own block; BLAS's own threads on top
    would oversubscribe the cores. The setting is process-wide, so concurrent
    calls share one reference count and the first one in saves what the last
    one out restores.
    """
    # Imported here: importing adept_core.emulate loads the whole executor (~0.7 s), which a
    # kernel-only user should not pay at import time (the kernels do not otherwise need it).
    from ..blas import blas_threads

    global _blas_users, _blas_restore
    with _blas_lock:
        if _blas_users == 0:
            _blas_restore = contextlib.ExitStack()
            _blas_restore.enter_context(blas_threads(1))
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_restore.close()
                _blas_restore = None


_workspaces = threading.local()

#: Largest buffer a thread keeps between calls (bigger ones are allocated per call, so one huge
#: call does not pin its input's worth of memory to the thread for good).
WORKSPACE_KEEP_BYTES = 64 << 20


def workspace(name: str, size: int, dtype: np.dtype) -> np.ndarray:
    """A 1-D ``dtype`` buffer of ``size`` elements owned by the calling thread, reused across calls.

    Fresh multi-megabyte arrays cost a page fault per 4 KiB page on first
    touch, on every call; each thread keeps its largest buffer of each name
    (up to ``WORKSPACE_KEEP_BYTES``) instead. Per-thread, so concurrent calls
    never share one.
    """
    if size * dtype.itemsize > WORKSPACE_KEEP_BYTES:
        return np.empty(size, dtype=dtype)
    buffers = _workspaces.__dict__
    buf = buffers.get(name)
    if buf is None or buf.dtype != dtype or buf.size < size:
        buf = buffers[name] = np.empty(size, dtype=dtype)
    return buf[:size]


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """The one pool of the backend. ``ThreadPoolExecutor`` starts a thread only when no idle one
    can take a task, so it holds as many threads as the most chunks a call has used at once
    (each call caps its chunks at its work items), never more than ``MAX_THREADS - 1``."""
    return ThreadPoolExecutor(max_workers=MAX_THREADS - 1, thread_name_prefix="adept-numba")


def on_threads(fn, chunks: list[tuple[int, int]]) -> list:
    """``[fn(m0, m1) for each chunk]``, the first chunk on the calling thread, the rest on a pool.

    The jitted kernels release the GIL, so the chunks run in parallel.
    Python's pool threads sleep on a condition variable between calls, unlike
    spinning OpenMP workers, which on a small, shared machine steal the cores
    that BLAS and the other chunks need (measured: 10-40x slowdowns).
    """
    if len(chunks) == 1:
        return [fn(*chunks[0])]
    futures = [_pool().submit(fn, *c) for c in chunks[1:]]
    first = fn(*chunks[0])
    return [first] + [f.result() for f in futures]


class NumbaProgram:
    """Weights programmed for the Numba backend: the codes, converted lazily per product dtype."""

    def __init__(self, qw: np.ndarray) -> None:
        self.qw = qw
        self.absmax = int(np.max(np.abs(qw.astype(np.int64)))) if qw.size else 0
        self._as: dict[np.dtype, np.ndarray] = {}
        self._lock = threading.Lock()

    def weights(self, dtype: np.dtype) -> np.ndarray:
        """The weight codes as a C-contiguous ``dtype`` array [K, N]."""
        with self._lock:
            if dtype not in self._as:
                self._as[dtype] = np.ascontiguousarray(self.qw, dtype=dtype)
            return self._as[dtype]

    def abs_weights(self, dtype: np.dtype) -> np.ndarray:
        """``|codes|`` as a C-contiguous ``dtype`` array [K, N] (the light of dual-rail detection)."""
        with self._lock:
            key = ("abs", dtype)
            if key not in self._as:
                self._as[key] = np.ascontiguousarray(np.abs(self.qw.astype(np.int32)), dtype=dtype)
            return self._as[key]


class NumbaBackend:
    """Numba backend (see the module docstring for how it stays exact)."""

    name = "numba"

    @staticmethod
    def unavailable_reason() -> str | None:
        return _IMPORT_ERROR

    def program(self, qw: np.ndarray) -> NumbaProgram:
        return NumbaProgram(qw)

    def run(self, programmed: NumbaProgram, x: np.ndarray, plan: CallPlan) -> RunResult:
        m_rows, k = x.shape
        n_cols = programmed.qw.shape[1]
        chunks = row_chunks(m_rows, plan.threads, k, MIN_ELEMENTS_PER_THREAD * INPUT_PASS_FACTOR)

        peak = max(on_threads(lambda m0, m1: _k.absmax_bits(x[m0:m1]), chunks))
        if peak >= _k.NON_FINITE_BITS:
            x_absmax = np.float32(np.nan)
        else:
            x_absmax = np.array([peak], dtype=np.uint32).view(np.float32)[0]
        if not np.isfinite(x_absmax):
            return RunResult(np.empty((m_rows, n_cols), np.float32), float(x_absmax), 0.0, 0)
        x_scale = np.float32(plan.x_scale)
        if x_scale == 0:
            x_scale = np.float32(1.0) if x_absmax == 0 else np.float32(x_absmax / np.float32(qmax(plan.input_bits)))
        if plan.scaling == "abfp" or (plan.noisy and not plan.plain_noise):
            from .numba_modes import run_modes

            return run_modes(programmed, x, plan, float(x_absmax), x_scale)

        q_x = qmax(plan.input_bits)
        q_adc = qmax(plan.adc_bits)
        dtype = product_dtype(plan.rows, q_x, programmed.absmax)
        qw = programmed.weights(dtype)
        k_tiles = -(-k // plan.rows)
        acc_dtype = accumulator_dtype(k_tiles, q_adc)
        factor = plan.lsb * (np.float64(x_scale) * plan.w_scale.astype(np.float64))
        base = np.uint64(plan.base_key)
        out = np.empty((m_rows, n_cols), dtype=np.float32)
        codes = workspace("codes", m_rows * k, dtype).reshape(m_rows, k)
        worth = (m_rows * n_cols * k_tiles) // MIN_ELEMENTS_PER_THREAD  # epilogue elements of the call
        gemv = m_rows <= GEMV_ROWS
        workers = 1 if gemv else max(1, min(plan.threads, m_rows * n_cols, worth))
        blocks = output_blocks(m_rows, n_cols, workers)
        workers = min(workers, len(blocks))
        # A worker that owns whole rows of the output quantizes them itself, just before its
        # first block of those rows (while they are about to be read from cache); otherwise
        # all inputs are quantized first.
        own_rows = workers == 1 or all(n1 == n_cols for _, _, _, n1 in blocks)
        if not own_rows:
            on_threads(lambda m0, m1: _k.quantize_codes(x[m0:m1], x_scale, q_x, codes[m0:m1]), chunks)
        table, lsb, noisy = plan.normal_table, plan.lsb, plan.noisy
        sigma, shot, rin = plan.sigma_const, plan.shot_coeff, plan.rin_coeff

        def worker(first: int, _: int) -> int:
            """Every K-tile of every ``workers``-th block, from ``first``; returns the clipped count."""
            r_max = max(r1 - r0 for r0, r1, _, _ in blocks)
            c_max = max(c1 - c0 for _, _, c0, c1 in blocks)
            p_buf = workspace("partial", r_max * c_max, dtype)
            acc_buf = workspace("acc", r_max * c_max, acc_dtype)
            group_cap = max(c_max, GROUP_ELEMENTS)
            y = workspace("y", group_cap, np.dtype(np.float64))
            h = workspace("h", group_cap, np.dtype(np.uint32))
            clipped = 0
            for m0, m1, n0, n1 in blocks[first::workers]:
                if own_rows and n0 == 0:  # blocks run row-major: n0 == 0 is a row block's first
                    _k.quantize_codes(x[m0:m1], x_scale, q_x, codes[m0:m1])
                shape = (m1 - m0, n1 - n0)
                p_blk = p_buf[: shape[0] * shape[1]].reshape(shape)
                acc_blk = acc_buf[: shape[0] * shape[1]].reshape(shape)
                acc_blk.fill(0)
                group = group_cap // shape[1]  # rows per epilogue group
                lsb_g = np.tile(lsb[n0:n1], group)
                factor_g = np.tile(factor[n0:n1], group)
                for t in range(k_tiles):
                    k0 = t * plan.rows
                    k1 = min(k, k0 + plan.rows)
                    np.matmul(codes[m0:m1, k0:k1], qw[k0:k1, n0:n1], out=p_blk)
                    clipped += _k.tile_epilogue(
                        p_blk, acc_blk, out, m0, n0, t, t == k_tiles - 1, base, table, lsb_g, factor_g,
                        sigma, shot, rin, noisy, q_adc, y[: group * shape[1]], h[: group * shape[1]],
                    )
            return clipped

        if gemv:
            clipped = worker(0, 1)  # memory-bound: let BLAS stream the weights on all its threads
        else:
            with single_threaded_blas():
                clipped = sum(on_threads(worker, [(i, i + 1) for i in range(workers)]))
        return RunResult(out, float(x_absmax), float(x_scale), int(clipped))
