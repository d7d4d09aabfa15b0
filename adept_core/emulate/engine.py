"""GEMM engines: where the executor sends every GEMM the lowering names.

Two engines with one interface, so the executor has a single code path:

- :class:`Fp32Engine` — float32 ``x @ w``, one result per distinct weight column (the
  ``precision="fp32"`` reference, :mod:`adept_core.emulate.fp32_product`);
- :class:`PhotonicEngine` — :class:`~adept_core.kernels.PhotonicCore` on the chosen
  backend. A weight-stationary GEMM programs its core once per prepared model
  (cached by ``(node, role, index)``); an activation x activation GEMM
  (attention) programs a fresh core per call, as the hardware must.

Both record, per layer ``"node/role"``, the calls, MACs, ADC conversions and
clipped conversions, and the seconds spent in the kernel.

ADC range policy (``adc``):

- ``"worst_case"``: the kernel's ``rows * qmax_x * qmax_w`` full scale and a
  per-call input scale ``max|x| / qmax`` (nothing ever clips, small signals
  use few ADC codes);
- ``"calibrated"``: per layer, a static input scale and ADC full scale taken
  from a calibration run (:class:`CalibrationEngine`): the largest ``|x|``
  and the largest noiseless partial sum of the quantized operands seen, times
  ``headroom``. Stored in :attr:`PhotonicEngine.calibration` (JSON-ready) so
  later runs are repeatable; conversions that clip are counted and reported.

Calibration runs the float32 network (as quantization calibration usually
does) and evaluates the partial sums with BLAS on the integer codes; it never
calls the photonic kernel. Keeping BLAS phases and kernel phases apart is
deliberate: the two thread pools interleaved layer by layer fight over the
cores (OpenBLAS workers spin after each call), which made an RNN-T
calibration 30x slower on a 2-core machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..kernels import PhotonicCore, PhotonicGemmSpec
from ..kernels.quantize import column_scales, quantize, quantize_tiles, row_tile_scales, tile_column_scales
from ..kernels.spec import qmax
from .fp32_product import check_accumulate, distinct_columns, fp32_product
from .seeds import stable_key

ADC_POLICIES = ("worst_case", "calibrated")


@dataclass
class LayerStats:
    """What one layer's GEMMs did in a run (summed over calls and chunks)."""

    layer: str
    calls: int = 0
    macs: int = 0
    adc_conversions: int = 0
    clipped: int = 0
    seconds: float = 0.0

    @property
    def clipped_fraction(self) -> float:
        return self.clipped / self.adc_conversions if self.adc_conversions else 0.0


class _Engine:
    def __init__(self) -> None:
        self.stats: dict[tuple[str, str], LayerStats] = {}  # (node, role) -> its layer's statistics
        self.node_macs: dict[str, int] = {}
        self.program_seconds = 0.0  # materialising + quantizing + packing weights into cores
        self.gemm_seconds = 0.0  # sum of the stats' seconds, kept running (the executor reads it per node)
        self._chunk = 0
        self._counters: dict[tuple, int] = {}

    def begin_chunk(self, chunk: int) -> None:
        """Start a new input chunk: call counters restart so keys depend only on (chunk, call)."""
        self._chunk = chunk
        self._counters.clear()

    def reset_stats(self) -> None:
        self.stats.clear()
        self.node_macs.clear()
        self.program_seconds = 0.0
        self.gemm_seconds = 0.0

    def record(self, node: str, role: str, m: int, k: int, n: int, seconds: float, adc: int = 0, clipped: int = 0,
               calls: int = 1):
        """Count ``calls`` GEMMs of ``m x k x n`` each (``seconds``, ``adc`` and ``clipped``: their totals)."""
        st = self.stats.get((node, role))  # keyed by the pair: no string built per call
        if st is None:
            st = self.stats[(node, role)] = LayerStats(f"{node}/{role}")
        macs = calls * m * k * n
        st.calls += calls
        st.macs += macs
        st.adc_conversions += adc
        st.clipped += clipped
        st.seconds += seconds
        self.gemm_seconds += seconds
        self.node_macs[node] = self.node_macs.get(node, 0) + macs


class Fp32Engine(_Engine):
    """float32 reference: ``x @ w`` with NumPy's BLAS on the distinct columns of each stationary weight.

    ``accumulate="float64"`` sums every product in float64 and rounds once
    (:func:`~adept_core.emulate.fp32_product.fp32_product`); see
    :mod:`adept_core.emulate.fp32_product` for the decision and its cost.
    """

    precision = "fp32"

    def __init__(self, accumulate: str = "float32") -> None:
        super().__init__()
        self.accumulate = check_accumulate(accumulate)
        self._weights: dict[tuple, np.ndarray] = {}  # raw [K, N] weights (the calibration engine's)
        self._programmed: dict[tuple, tuple[np.ndarray, np.ndarray | None]] = {}  # distinct columns, inverse
        self._stacked: dict[tuple, np.ndarray | None] = {}  # (node, role) -> [groups, K, N] weights, or None

    def product(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The float32 product of this engine (any matching batch dims)."""
        return fp32_product(x, w) if self.accumulate == "float64" else np.matmul(x, w)

    def weight_gemm(self, node: str, role: str, index, x: np.ndarray, w_fn,
                    out: np.ndarray | None = None) -> np.ndarray:
        """``x @ W``; into ``out`` (a 2-D view, e.g. one group's columns of a grouped conv's output) if given.

        float32 BLAS writes ``out`` directly when it can (unit stride along a row): the same sgemm
        with another output leading dimension, bit-identical (``tests/test_fp32_product.py``),
        and the grouped conv's concatenation copy disappears.
        """
        key = (node, role, index)
        entry = self._programmed.get(key)
        if entry is None:
            t0 = time.perf_counter()
            entry = self._programmed[key] = distinct_columns(w_fn())
            self.program_seconds += time.perf_counter() - t0
        w, inverse = entry
        t0 = time.perf_counter()
        if out is not None and inverse is None and self.accumulate == "float32" and out.strides[-1] == out.itemsize:
            y = np.matmul(x, w, out=out)
        else:
            y = self.product(x, w)
            if inverse is not None:  # repeated columns: their twin's output, bit for bit
                y = np.take(y, inverse, axis=1)
            if out is not None:
                out[...] = y
                y = out
        self.record(node, role, x.shape[0], x.shape[1], y.shape[1], time.perf_counter() - t0)
        return y

    def grouped_weight_gemm(self, node: str, role: str, x3: np.ndarray, w_fns, out3: np.ndarray) -> bool:
        """Every group's ``x3[g] @ W_g`` into ``out3[g]`` in one stacked matmul; False when it cannot.

        NumPy runs a stacked matmul as one sgemm per group with the same operands, shapes and
        strides as :meth:`weight_gemm` of that group (bit-identical, tested), so this only saves
        the per-group Python calls (ShuffleNet: 130 GEMM calls per inference). Not taken (False)
        with ``accumulate="float64"`` or when some group's weight has repeated columns (their
        outputs are gathered per group); the caller then runs the groups one by one. Statistics
        count one call per group (recorded at once).
        """
        if self.accumulate != "float32" or out3.strides[-1] != out3.itemsize:
            return False
        key = (node, role)
        if key not in self._stacked:
            t0 = time.perf_counter()
            entries = []
            for g, w_fn in enumerate(w_fns):
                entry = self._programmed.get((node, role, g))
                if entry is None:
                    entry = self._programmed[(node, role, g)] = distinct_columns(w_fn())
                entries.append(entry)
            same = all(inv is None for _, inv in entries) and len({w.shape for w, _ in entries}) == 1
            self._stacked[key] = np.stack([w for w, _ in entries]) if same else None
            self.program_seconds += time.perf_counter() - t0
        w3 = self._stacked[key]
        if w3 is None:
            return False
        t0 = time.perf_counter()
        np.matmul(x3, w3, out=out3)
        self.record(node, role, x3.shape[1], x3.shape[2], w3.shape[2], time.perf_counter() - t0, calls=len(w3))
        return True

    def act_gemm(self, node: str, role: str, index, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        y = self.product(x, w)
        self.record(node, role, x.shape[0], x.shape[1], w.shape[1], time.perf_counter() - t0)
        return y


class PhotonicEngine(_Engine):
    """Every GEMM on the emulated photonic core (quantization, noise, ADC)."""

    precision = "adept"

    def __init__(self, spec: PhotonicGemmSpec, backend: str = "auto", adc: str = "worst_case",
                 calibration: dict | None = None, seed: int = 0, headroom: float = 1.0,
                 threads: int | None = None) -> None:
        super().__init__()
        if adc not in ADC_POLICIES:
            raise ConfigError(f"ADC range policy {adc!r} is unknown; choose one of {', '.join(ADC_POLICIES)}")
        if not (isinstance(headroom, (int, float)) and headroom >= 1.0):
            raise ConfigError(
                f"headroom must be a number >= 1 (multiplies the calibrated ADC full scale), got {headroom!r}")
        self.spec = spec
        self.backend = backend
        self.adc = adc
        self.seed = seed
        self.headroom = float(headroom)
        self.threads = threads
        self.calibration: dict[str, dict[str, float]] = dict(calibration or {})
        self._cores: dict[tuple, PhotonicCore] = {}

    def _scales(self, layer: str, core: PhotonicCore, x: np.ndarray):
        """(x_scale, adc_full_scale) of one call under the ADC policy."""
        if self.adc == "worst_case":
            return None, "worst_case"
        entry = self.calibration.get(layer)
        if entry is None:
            raise ConfigError(
                f"layer {layer!r} has no calibration entry; calibrate the prepared model first "
                "(PreparedModel.calibrate, or rep.calibrate of onnx_backend) on inputs that reach this layer, "
                "or use adc='worst_case'"
            )
        if self.spec.scaling == "abfp":  # one scale per row and K-tile, from the data of each call
            return None, entry["full_scale"]
        return float(input_scale(entry["x_absmax"], self.spec.input_bits)), entry["full_scale"]

    # -- GEMMs -----------------------------------------------------------------------
    def weight_gemm(self, node: str, role: str, index, x: np.ndarray, w_fn) -> np.ndarray:
        key = (node, role, index)
        core = self._cores.get(key)
        if core is None:
            t0 = time.perf_counter()
            core = self._cores[key] = PhotonicCore(np.ascontiguousarray(w_fn(), dtype=np.float32), self.spec)
            self.program_seconds += time.perf_counter() - t0
        return self._run(core, node, role, index, x)

    def act_gemm(self, node: str, role: str, index, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        core = PhotonicCore(np.ascontiguousarray(w), self.spec)  # an activation operand: programmed per call
        self.program_seconds += time.perf_counter() - t0
        return self._run(core, node, role, index, x)

    def _run(self, core: PhotonicCore, node: str, role: str, index, x: np.ndarray) -> np.ndarray:
        layer = f"{node}/{role}"
        t0 = time.perf_counter()
        x = np.ascontiguousarray(x)
        x_scale, full_scale = self._scales(layer, core, x)
        counter_key = (node, role, index)
        count = self._counters.get(counter_key, 0)
        self._counters[counter_key] = count + 1
        call_key = stable_key(node, role, index, count, self._chunk)
        y, st = core(x, seed=self.seed, call_key=call_key, adc_full_scale=full_scale, x_scale=x_scale,
                     backend=self.backend, threads=self.threads)
        self.record(node, role, st.m, st.k, st.n, time.perf_counter() - t0, st.adc_conversions, st.clipped)
        return y


def input_scale(x_absmax: float, bits: int) -> np.float32:
    """The DAC scale ``float32(max|x|) / float32(qmax)`` of the kernel contract (1 for all-zero input)."""
    if x_absmax == 0:
        return np.float32(1.0)
    return np.float32(np.float32(x_absmax) / np.float32(qmax(bits)))


class CalibrationEngine(Fp32Engine):
    """float32 GEMMs that also record each layer's ADC calibration (see the module docstring).

    Per layer ``"node/role"``: ``x_absmax`` (largest ``|x|``) and
    ``full_scale`` (largest noiseless ``|p|`` over every K-tile, computed
    with the input scale of that call, times ``headroom``, at least 1). A
    later call with the layer's static input scale (from ``x_absmax`` over
    all calls) produces partial sums no larger, so the range is safe.
    """

    precision = "calibrate"

    def __init__(self, spec: PhotonicGemmSpec, headroom: float = 1.0) -> None:
        super().__init__()
        self.spec = spec
        self.headroom = float(headroom)
        self.calibration: dict[str, dict[str, float]] = {}
        self._tiles: dict[tuple, np.ndarray] = {}  # stationary weights as [T, rows, N] integer codes

    def weight_gemm(self, node: str, role: str, index, x: np.ndarray, w_fn) -> np.ndarray:
        key = (node, role, index)
        if key not in self._weights:
            w = self._weights[key] = w_fn()
            self._tiles[key] = self._tiled_codes(w)
        self._observe(f"{node}/{role}", x, self._tiles[key])
        return self.act_gemm(node, role, index, x, self._weights[key])

    def act_gemm(self, node: str, role: str, index, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        if (node, role, index) not in self._weights:  # an activation operand
            self._observe(f"{node}/{role}", x, self._tiled_codes(w))
        return super().act_gemm(node, role, index, x, w)

    def _dtype(self):
        # Tile sums of integer codes are exact in float32 below 2**24, in float64 below 2**53.
        return np.float32 if self.spec.worst_case_full_scale < 2 ** 24 else np.float64

    def _tiled_codes(self, w: np.ndarray) -> np.ndarray:
        """Weight codes exactly as :class:`PhotonicCore` programs them, zero-padded to whole K-tiles."""
        k, n = w.shape
        rows = self.spec.rows
        tiles = -(-k // rows)
        qw = np.zeros((tiles * rows, n), self._dtype())
        if self.spec.scaling == "abfp":
            qw[:k] = quantize_tiles(w, tile_column_scales(w, self.spec.weight_bits, rows), self.spec.weight_bits, rows, 0)
        else:
            qw[:k] = quantize(w, column_scales(w, self.spec.weight_bits)[None, :], self.spec.weight_bits)
        return qw.reshape(tiles, rows, n)

    def _observe(self, layer: str, x: np.ndarray, qw: np.ndarray) -> None:
        m, k = x.shape
        tiles, rows, _ = qw.shape
        amax = float(np.max(np.abs(x))) if x.size else 0.0
        qx = np.zeros((tiles, m, rows), self._dtype())
        x = np.ascontiguousarray(x)
        if self.spec.scaling == "abfp":
            bits = self.spec.input_bits
            codes = quantize_tiles(x, row_tile_scales(x, bits, rows), bits, rows, 1)
        else:
            codes = quantize(x, input_scale(amax, self.spec.input_bits), self.spec.input_bits)
        for t in range(tiles):  # one BLAS call per tile on contiguous operands
            qx[t, :, :min(rows, k - t * rows)] = codes[:, t * rows:(t + 1) * rows]
        peak = 1.0
        for t in range(tiles):
            peak = max(peak, float(np.max(np.abs(qx[t] @ qw[t]))))
        entry = self.calibration.setdefault(layer, {"x_absmax": 0.0, "full_scale": 1.0})
        entry["x_absmax"] = max(entry["x_absmax"], amax)
        entry["full_scale"] = max(entry["full_scale"], peak * self.headroom)
