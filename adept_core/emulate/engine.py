"""GEMM engines: where the executor sends every GEMM the lowering names.

Two engines with one interface, so the executor has a single code path:

- :class:`Fp32Engine` — plain float32 ``x @ w`` (the ``precision="fp32"`` reference);
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
  from a calibration run (:meth:`PhotonicEngine.begin_calibration`): the
  largest ``|x|`` and the largest noiseless partial sum seen, times
  ``headroom``. Stored in :attr:`PhotonicEngine.calibration` (JSON-ready) so
  later runs are repeatable; conversions that clip are counted and reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..kernels import PhotonicCore, PhotonicGemmSpec
from ..kernels.quantize import quantize
from ..kernels.spec import qmax
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
        self.stats: dict[str, LayerStats] = {}
        self.node_macs: dict[str, int] = {}
        self.program_seconds = 0.0  # materialising + quantizing + packing weights into cores
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

    def record(self, node: str, role: str, m: int, k: int, n: int, seconds: float, adc: int = 0, clipped: int = 0):
        layer = f"{node}/{role}"
        st = self.stats.get(layer)
        if st is None:
            st = self.stats[layer] = LayerStats(layer)
        st.calls += 1
        st.macs += m * k * n
        st.adc_conversions += adc
        st.clipped += clipped
        st.seconds += seconds
        self.node_macs[node] = self.node_macs.get(node, 0) + m * k * n


class Fp32Engine(_Engine):
    """float32 reference: ``x @ w`` with NumPy's BLAS; weights cached as [K, N] float32."""

    precision = "fp32"

    def __init__(self) -> None:
        super().__init__()
        self._weights: dict[tuple, np.ndarray] = {}

    def weight_gemm(self, node: str, role: str, index, x: np.ndarray, w_fn) -> np.ndarray:
        key = (node, role, index)
        w = self._weights.get(key)
        if w is None:
            t0 = time.perf_counter()
            w = self._weights[key] = w_fn()
            self.program_seconds += time.perf_counter() - t0
        return self.act_gemm(node, role, index, x, w)

    def act_gemm(self, node: str, role: str, index, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        y = x @ w
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
            raise ConfigError(f"headroom must be a number >= 1 (multiplies the calibrated ADC full scale), got {headroom!r}")
        self.spec = spec
        self.backend = backend
        self.adc = adc
        self.seed = seed
        self.headroom = float(headroom)
        self.threads = threads
        self.calibration: dict[str, dict[str, float]] = dict(calibration or {})
        self._recording = False
        self._cores: dict[tuple, PhotonicCore] = {}
        self._tiled_weights: dict[int, tuple] = {}  # calibration only: id(core) -> (core, [T, rows, N])

    # -- calibration -----------------------------------------------------------------
    def begin_calibration(self) -> None:
        """Record input and partial-sum peaks of the following calls into :attr:`calibration`."""
        self.calibration.clear()
        self._recording = True

    def end_calibration(self) -> None:
        self._recording = False
        self._tiled_weights.clear()

    def _peak_partial_sum(self, core: PhotonicCore, x: np.ndarray, sx: np.float32) -> float:
        """Largest noiseless ``|p|`` over every K-tile (what ``calibrate_full_scale`` returns).

        Float BLAS on the integer codes is exact here: each tile sum is an
        integer below ``rows*qmax_x*qmax_w``; float32 holds integers up to
        2**24 exactly, float64 up to 2**53. All tiles go in one batched
        matmul (``[T, M, rows] x [T, rows, N]``, ``T*M*N = MACs / rows`` values).
        """
        spec = self.spec
        dtype = np.float32 if spec.worst_case_full_scale < 2 ** 24 else np.float64
        rows, (m, k), n = spec.rows, x.shape, core.n
        tiles = -(-k // rows)
        qx = np.zeros((m, tiles * rows), dtype)
        qx[:, :k] = quantize(x, sx, spec.input_bits)
        cached = self._tiled_weights.get(id(core))
        if cached is None:
            qw = np.zeros((tiles * rows, n), dtype)
            qw[:k] = core.qw
            # The entry holds the core itself, so its id cannot be reused while cached.
            cached = self._tiled_weights[id(core)] = (core, qw.reshape(tiles, rows, n))
        qw = cached[1]
        p = np.matmul(qx.reshape(m, tiles, rows).transpose(1, 0, 2), qw)
        return max(1.0, float(np.max(np.abs(p))))

    def _scales(self, layer: str, core: PhotonicCore, x: np.ndarray):
        """(x_scale, adc_full_scale) of one call under the ADC policy."""
        if self.adc == "worst_case":
            return None, "worst_case"
        if self._recording:
            amax = float(np.max(np.abs(x)))
            sx = np.float32(1.0) if amax == 0 else np.float32(np.float32(amax) / np.float32(qmax(self.spec.input_bits)))
            fs = self._peak_partial_sum(core, x, sx) * self.headroom
            entry = self.calibration.setdefault(layer, {"x_absmax": 0.0, "full_scale": 1.0})
            entry["x_absmax"] = max(entry["x_absmax"], amax)
            entry["full_scale"] = max(entry["full_scale"], fs)
            return float(sx), fs
        entry = self.calibration.get(layer)
        if entry is None:
            raise ConfigError(
                f"layer {layer!r} has no calibration entry; calibrate the prepared model first "
                "(PreparedModel.calibrate) or use adc='worst_case'"
            )
        amax = entry["x_absmax"]
        sx = 1.0 if amax == 0 else float(np.float32(np.float32(amax) / np.float32(qmax(self.spec.input_bits))))
        return sx, entry["full_scale"]

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
                     backend=self.backend, threads=self.threads, return_stats=True)
        self.record(node, role, st.m, st.k, st.n, time.perf_counter() - t0, st.adc_conversions, st.clipped)
        return y
