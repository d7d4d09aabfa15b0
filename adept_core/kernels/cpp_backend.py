"""The C++ backend: the photonic GEMM in ``adept_core._native`` (``cpp/`` + ``bindings/``).

The kernel packs the weight codes once per (core, tile length, operand width) and then runs
calls on them from any number of Python threads at once (it releases the GIL). Inputs are
quantized, multiplied, noised, digitised and accumulated in one fused pass over each output
block, on at most ``plan.threads`` C++ threads (never more than the call's work items), taken
from one pool per backend that grows to the largest team used; see ``cpp/README.md``.

Which instruction set runs the kernel never changes the bits. It is picked at run time
(AVX-512 VNNI when the CPU has it, else AVX2, else portable C++); ``CppBackend(isa="portable")`` or the
environment variable ``ADEPT_ISA=portable`` force the portable path (used by the tests).
``ADEPT_POOL_SPIN_US`` sets how long the pool's idle threads poll before sleeping (:func:`pool_spin_us`).
"""

from __future__ import annotations

import os
import threading

import numpy as np

from ..errors import BackendUnavailableError, ConfigError
from .plan import CallPlan, RunResult

try:
    from .. import _native
except ImportError as exc:  # extension not built: the registry reports why
    _native = None
    _IMPORT_ERROR = str(exc)
else:
    _IMPORT_ERROR = ""

#: Must equal ``adept::abi_version()`` of the compiled module.
ABI_VERSION = 3
#: Accepted values of ``isa`` / ``ADEPT_ISA``.
ISA_NAMES = ("auto", "portable", "avx512_vnni", "avx2")


def pool_spin_us() -> int:
    """How long (us) an idle kernel thread polls before sleeping: ``ADEPT_POOL_SPIN_US``, else the kernel's
    default (``WorkerPool.default_spin_us``, 50 ms; why in docs/kernel.md, "Worker threads"). Set 0 where
    cores are oversubscribed (several multi-threaded processes on few cores)."""
    text = os.environ.get("ADEPT_POOL_SPIN_US")
    if text is None:
        return _native.WorkerPool.default_spin_us
    top = _native.WorkerPool.max_spin_us
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= top:
        raise ConfigError(f"ADEPT_POOL_SPIN_US must be an integer number of microseconds in [0, {top}], got {text!r}")
    return value


class ProgrammedWeights:
    """Weight codes programmed into the C++ kernel, packed lazily per (rows, wide).

    The packed layout depends on the tile length (``rows``) and on whether the int16 path is
    needed (any operand wider than 8 bits), which :meth:`CppBackend.program` does not know yet;
    the first call with a new combination packs and caches it (thread-safe).
    """

    def __init__(self, qw: np.ndarray) -> None:
        self.qw = qw
        self._packed: dict[tuple[int, bool], object] = {}
        self._lock = threading.Lock()

    def packed(self, rows: int, wide: bool):
        key = (rows, wide)
        with self._lock:
            if key not in self._packed:
                self._packed[key] = _native.pack_weights(self.qw, rows, wide)
            return self._packed[key]


class CppBackend:
    """Backend ``"cpp"``: the compiled kernel.

    Parameters
    ----------
    isa : str or None
        ``"auto"``, ``"portable"``, ``"avx512_vnni"`` or ``"avx2"``; ``None`` reads ``ADEPT_ISA`` at each call
        (default ``"auto"``).
    """

    name = "cpp"

    def __init__(self, isa: str | None = None) -> None:
        if isa is not None and isa not in ISA_NAMES:
            raise ConfigError(f"isa must be one of {ISA_NAMES}, got {isa!r}")
        self._isa = isa
        # Threads kept between calls (starting and joining them costs ~40 us per call): one pool,
        # which the kernel grows to the largest team a call actually used (capped by the work
        # items and by MAX_THREADS), so asking for many threads never leaves many behind. A call
        # that finds it busy (another Python thread) starts its own team for that call.
        self._pool_obj = None
        self._pool_lock = threading.Lock()
        # Building a GemmSpec sets seven pybind11 attributes (~2 us); a network issues the same
        # few specs thousands of times. The kernel copies the spec, so a shared one is never written.
        self._specs: dict[tuple, object] = {}

    def _pool(self, threads: int):
        if threads <= 1:
            return None
        with self._pool_lock:
            if self._pool_obj is None:
                self._pool_obj = _native.WorkerPool(1, pool_spin_us())
            return self._pool_obj

    @staticmethod
    def unavailable_reason() -> str | None:
        if _native is None:
            return f"the compiled extension adept_core._native is missing ({_IMPORT_ERROR})"
        if _native.abi_version() != ABI_VERSION:
            return (f"adept_core._native has ABI {_native.abi_version()}, this Python code expects {ABI_VERSION}; "
                    "rebuild it")
        return None

    def isa(self) -> str:
        """The instruction set the next call will use (resolved, e.g. ``"avx512_vnni"``)."""
        return _native.resolve_isa(self._requested_isa())

    def _requested_isa(self) -> str:
        if self._isa is not None:
            return self._isa
        isa = os.environ.get("ADEPT_ISA", "auto")
        if isa not in ISA_NAMES:
            raise ConfigError(f"ADEPT_ISA must be one of {ISA_NAMES}, got {isa!r}")
        return isa

    def program(self, qw: np.ndarray) -> ProgrammedWeights:
        if _native is None:
            raise BackendUnavailableError(self.unavailable_reason())
        return ProgrammedWeights(qw)

    def _spec(self, plan: CallPlan, weight_bits: int):
        key = (plan.rows, plan.input_bits, weight_bits, plan.adc_bits, plan.sigma_const, plan.shot_coeff,
               plan.rin_coeff, plan.scaling, plan.analog_gain, plan.detection, plan.rin_correlation)
        spec = self._specs.get(key)
        if spec is None:
            spec = _native.GemmSpec()
            spec.rows = plan.rows
            spec.input_bits = plan.input_bits
            spec.weight_bits = weight_bits
            spec.adc_bits = plan.adc_bits
            spec.noise.sigma_const = plan.sigma_const
            spec.noise.shot_coeff = plan.shot_coeff
            spec.noise.rin_coeff = plan.rin_coeff
            spec.noise.detection = plan.detection
            spec.noise.rin_correlation = plan.rin_correlation
            spec.scaling = plan.scaling
            spec.analog_gain = plan.analog_gain
            if len(self._specs) >= 256:  # a sweep over noise levels must not grow it without bound
                self._specs.clear()
            self._specs[key] = spec  # a racing thread may build an equal one: harmless
        return spec

    def run(self, programmed: ProgrammedWeights, x: np.ndarray, plan: CallPlan) -> RunResult:
        wide = plan.input_bits > 8 or programmed.qw.dtype != np.int8
        # CallPlan does not carry weight_bits (the codes are already quantized); the kernel only
        # range-checks it, so pass the width of the stored codes.
        weight_bits = 8 if programmed.qw.dtype == np.int8 else 16
        spec = self._spec(plan, weight_bits)
        y, x_absmax, x_scale, clipped = _native.gemm(
            programmed.packed(plan.rows, wide), x, spec, plan.x_scale, plan.lsb, plan.w_scale.reshape(-1), plan.base_key,
            plan.normal_table, plan.threads, self._requested_isa(), self._pool(plan.threads),
        )
        return RunResult(y, float(x_absmax), float(x_scale), int(clipped))
