"""The public face of the kernel: a programmed photonic core and a one-shot GEMM."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import ConfigError, InputError, ShapeError
from . import rng
from .plan import CallPlan
from .quantize import (check_finite, column_scales, operand_dtype, quantize, quantize_tiles, row_tile_scales,
                       tile_column_scales, zero_block_scales)
from .registry import get_backend
from .spec import MAX_ADC_FULL_SCALE, MAX_THREADS, MIN_ADC_FULL_SCALE, PhotonicGemmSpec, qmax


@dataclass(frozen=True)
class GemmStats:
    """Event counts of one call, as the cost model charges them.

    Attributes
    ----------
    m, k, n : int
        GEMM shape.
    k_tiles, n_tiles : int
        ``ceil(K / rows)`` and ``ceil(N / cols)``: weight tiles programmed.
    passes : int
        Input vectors streamed through a weight tile: ``m * k_tiles * n_tiles``.
    dac_conversions : int
        Input values driven onto modulators: ``m * k * n_tiles``.
    adc_conversions : int
        Partial sums digitised: ``m * n * k_tiles``.
    clipped : int
        ADC conversions that saturated.
    x_scale : float
        The input scale used (float32 value); 0.0 in ``"abfp"`` mode, which
        has one scale per input row and K-tile.
    backend : str
        Backend that ran the call.
    adc_policy : str
        ``"worst_case"``, ``"calibrated"`` or ``"given"`` (a number or array was passed).
    adc_full_scale : float
        Largest ADC full scale of the call, partial-sum units.
    scaling : str
        The spec's scaling mode.
    input_scales : int
        Input scales the ASIC computes (an absmax and a division each):
        1 per call in ``"tensor"`` mode (0 when the caller gave ``x_scale``),
        ``m * k_tiles`` in ``"abfp"``.
    weight_scales : int
        Weight scales of the programmed core (computed once, at programming):
        ``n`` in ``"tensor"``, ``k_tiles * n`` in ``"abfp"``.
    dequantizations : int
        Digital multiplications that turn ADC codes into values: ``m * n``
        after the integer accumulation in ``"tensor"``, one per ADC conversion
        (``m * n * k_tiles``, each followed by a float add) in ``"abfp"``.
    """

    m: int
    k: int
    n: int
    k_tiles: int
    n_tiles: int
    passes: int
    dac_conversions: int
    adc_conversions: int
    clipped: int
    x_scale: float
    backend: str
    adc_policy: str = "given"
    adc_full_scale: float = 0.0
    scaling: str = "tensor"
    input_scales: int = 0
    weight_scales: int = 0
    dequantizations: int = 0

    @property
    def clipped_fraction(self) -> float:
        return self.clipped / self.adc_conversions if self.adc_conversions else 0.0


class GemmResult(NamedTuple):
    """What a photonic GEMM call returns: the output and its event counts.

    A named pair, so ``y, stats = photonic_gemm(x, w)`` unpacks it.
    """

    out: np.ndarray
    """float32 [M, N] output."""
    stats: GemmStats
    """Event counts of the call."""


def _check_matrix(name: str, a: object, k: int | None = None) -> np.ndarray:
    """The one validation of an operand, done here so that every backend sees the same input.

    Order: type, dtype, rank, emptiness, the inner dimension (when ``k`` is given), then memory
    layout, so a wrong slice such as ``x[:, :1000]`` is reported by its shape first. Masked
    arrays are refused (no backend honours a mask, and silently dropping it would compute on
    the hidden values); other ndarray subclasses are viewed as plain arrays. Unaligned float32
    data (``numpy.frombuffer`` at an odd offset) is accepted and copied once to aligned memory:
    the values, and therefore the bits, are unchanged.
    """
    if isinstance(a, np.ma.MaskedArray):
        raise ShapeError(
            f"{name} is a numpy masked array; the kernel has no notion of masked entries. "
            f"Pass {name}.filled(0) (or another fill value) or numpy.asarray({name}) to use the stored values"
        )
    if not isinstance(a, np.ndarray):
        raise ShapeError(f"{name} must be a numpy.ndarray of float32, got {type(a).__name__}")
    if type(a) is not np.ndarray:
        a = a.view(np.ndarray)
    if a.dtype != np.float32:
        raise ShapeError(f"{name} must have dtype float32, got {a.dtype} (convert explicitly; adept never casts silently)")
    if a.ndim != 2:
        raise ShapeError(f"{name} must be 2-D, got shape {a.shape}")
    if 0 in a.shape:
        raise ShapeError(f"{name} must have no empty dimension, got shape {a.shape}")
    if k is not None and a.shape[1] != k:
        raise ShapeError(f"{name} has {a.shape[1]} columns but the core holds weights for K={k} inputs")
    if not a.flags.c_contiguous:
        raise ShapeError(f"{name} must be C-contiguous; pass numpy.ascontiguousarray({name})")
    if not a.flags.aligned:
        a = a.copy()
    return a


def resolve_threads(threads: int | None) -> int:
    """The thread count a call may use: ``None`` -> the usable cores, capped at :data:`MAX_THREADS`.

    An explicit count must be an integer in ``[1, MAX_THREADS]`` (:class:`ConfigError` otherwise,
    the same on every backend, raised before any backend runs). Backends use at most as many
    threads as the call has work items (a 5x7x3 GEMM runs on one thread whatever is asked), and
    keep one bounded pool of threads between calls.
    """
    if threads is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return max(1, min(cores, MAX_THREADS))
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ConfigError(f"threads must be a positive integer or None, got {threads!r}")
    if threads > MAX_THREADS:
        raise ConfigError(
            f"threads must be at most {MAX_THREADS} (adept_core.kernels.spec.MAX_THREADS), got {threads}; "
            "the thread count never changes the results, only the speed"
        )
    return int(threads)


class PhotonicCore:
    """A weight-stationary photonic core with ``w`` programmed into its MZI array.

    Parameters
    ----------
    w : np.ndarray
        float32 [K, N] weights, C-contiguous, finite.
    spec : PhotonicGemmSpec
        Core geometry, resolutions and noise.

    The weights are quantized once (per output column, or per K-tile and
    column with ``scaling="abfp"``), as the hardware programs its phase
    shifters once and then streams inputs through them.
    """

    def __init__(self, w: np.ndarray, spec: PhotonicGemmSpec | None = None) -> None:
        spec = PhotonicGemmSpec() if spec is None else spec
        if not isinstance(spec, PhotonicGemmSpec):
            raise ConfigError(f"spec must be a PhotonicGemmSpec, got {type(spec).__name__}")
        w = _check_matrix("w", w)
        check_finite("w", w)
        self.spec = spec
        self.k, self.n = w.shape
        if spec.scaling == "abfp":
            scale = tile_column_scales(w, spec.weight_bits, spec.rows)
            self.qw = quantize_tiles(w, scale, spec.weight_bits, spec.rows, axis=0)
        else:
            scale = column_scales(w, spec.weight_bits)
            self.qw = quantize(w, scale[None, :], spec.weight_bits)
        self.w_scale = zero_block_scales(self.qw, scale, spec.rows)
        self.qw.flags.writeable = False
        self._programmed: dict[str, object] = {}

    @property
    def k_tiles(self) -> int:
        return math.ceil(self.k / self.spec.rows)

    @property
    def n_tiles(self) -> int:
        return math.ceil(self.n / self.spec.cols)

    def _programmed_for(self, backend) -> object:
        if backend.name not in self._programmed:
            self._programmed[backend.name] = backend.program(self.qw)
        return self._programmed[backend.name]

    def full_scale(self, adc_full_scale: object, x: np.ndarray | None = None,
                   x_scale: float | None = None) -> np.ndarray:
        """Resolve an ADC range policy to float64 [N] partial-sum units.

        ``"worst_case"``: ``rows * qmax_x * qmax_w`` (never clips a noiseless sum).
        ``"calibrated"``: ``calibrate_full_scale(x, x_scale=x_scale)``, one range for the whole
        call from the operand ``x`` itself (needs ``x``). A number or an array of N numbers must
        lie in ``[MIN_ADC_FULL_SCALE, MAX_ADC_FULL_SCALE]`` = ``[2**-20, 2**64]``.
        """
        if isinstance(adc_full_scale, str):
            if adc_full_scale == "worst_case":
                return np.full(self.n, self.spec.worst_case_full_scale, dtype=np.float64)
            if adc_full_scale == "calibrated" and x is not None:
                return np.full(self.n, self.calibrate_full_scale(x, x_scale=x_scale), dtype=np.float64)
            raise ConfigError(
                f"adc_full_scale policy {adc_full_scale!r} is unknown; use 'worst_case', 'calibrated' (in a call), "
                "a positive number, an array of N positive numbers, or PhotonicCore.calibrate_full_scale(x)"
            )
        values = None if isinstance(adc_full_scale, (bool, np.bool_)) else np.asarray(adc_full_scale)
        if values is None or values.dtype.kind not in "iuf":
            raise ConfigError(
                "adc_full_scale must be 'worst_case', a positive number or an array of N positive numbers "
                f"(partial-sum units), got {adc_full_scale!r}"
            )
        fs = values.astype(np.float64)
        if fs.ndim == 0:
            fs = np.full(self.n, float(fs))
        if fs.shape != (self.n,):
            raise ShapeError(f"adc_full_scale must be a scalar or have shape ({self.n},), got {fs.shape}")
        if not (np.all(np.isfinite(fs)) and np.all(fs > 0)):
            raise ConfigError("adc_full_scale must be finite and > 0 (partial-sum units)")
        if not (np.all(fs >= MIN_ADC_FULL_SCALE) and np.all(fs <= MAX_ADC_FULL_SCALE)):
            raise ConfigError(
                f"adc_full_scale must be in [2**-20, 2**64] partial-sum units (adept_core.kernels.spec."
                f"MIN_ADC_FULL_SCALE / MAX_ADC_FULL_SCALE), got values from {fs.min():g} to {fs.max():g}"
            )
        return fs

    def calibrate_full_scale(self, x: np.ndarray, per_column: bool = False, x_scale: float | None = None) -> float | np.ndarray:
        """ADC full scale from data: the largest noiseless ``|p|`` over every tile of ``x``.

        Returns a float (or float64 [N] with ``per_column=True``), at least 1.
        Use the same ``x_scale`` policy here as in the calls it calibrates.
        """
        x = _check_matrix("x", x, self.k)
        check_finite("x", x)
        if self.spec.scaling == "abfp":
            self._refuse_x_scale(x_scale)
            sxb = row_tile_scales(x, self.spec.input_bits, self.spec.rows)
            qx = quantize_tiles(x, sxb, self.spec.input_bits, self.spec.rows, axis=1).astype(np.int64)
        else:
            sx = self._x_scale(x, x_scale)
            qx = quantize(x, sx, self.spec.input_bits).astype(np.int64)
        qw = self.qw.astype(np.int64)
        peak = np.zeros(self.n, dtype=np.int64)
        for k0 in range(0, self.k, self.spec.rows):
            p = qx[:, k0:k0 + self.spec.rows] @ qw[k0:k0 + self.spec.rows]
            np.maximum(peak, np.abs(p).max(axis=0), out=peak)
        peak = np.maximum(peak, 1).astype(np.float64)
        return peak if per_column else float(peak.max())

    def _x_scale(self, x: np.ndarray, x_scale: float | None) -> np.float32:
        if x_scale is None:
            amax = np.float32(np.max(np.abs(x)))
            return np.float32(1.0) if amax == 0 else np.float32(amax / np.float32(qmax(self.spec.input_bits)))
        if isinstance(x_scale, (bool, np.bool_)) or not isinstance(x_scale, (int, float, np.integer, np.floating)):
            raise ConfigError(f"x_scale must be a real number (a finite float32 > 0) or None, got {x_scale!r}")
        with np.errstate(over="ignore"):  # a too-large scale becomes inf and is refused below
            sx = np.float32(x_scale)
        if not (np.isfinite(sx) and sx > 0):
            raise ConfigError(f"x_scale must be a finite float32 > 0, got {x_scale!r}")
        return sx

    def _refuse_x_scale(self, x_scale: float | None) -> None:
        if x_scale is not None:
            raise ConfigError(
                f"x_scale={x_scale!r} cannot be used with scaling='abfp' (it has one input scale per row and "
                "K-tile, computed from the data); pass x_scale=None or use scaling='tensor'"
            )

    def _check_gain(self, lsb: np.ndarray) -> None:
        """Refuse a gain with which even a partial sum of 1 clips in every column."""
        q_adc = qmax(self.spec.adc_bits)
        if np.all(np.rint(self.spec.analog_gain / lsb) > q_adc):
            raise ConfigError(
                f"analog_gain={self.spec.analog_gain!r} makes every non-zero partial sum clip "
                f"(ADC full scale {float(np.max(lsb)) * q_adc!r} partial-sum units); use a gain below the full scale"
            )

    def __call__(
        self,
        x: np.ndarray,
        seed: int = 0,
        call_key: int = 0,
        adc_full_scale: object = "worst_case",
        x_scale: float | None = None,
        backend: str = "auto",
        threads: int | None = None,
        return_stats: object = None,
    ) -> GemmResult:
        """Stream ``x`` [M, K] float32 through the core; returns a :class:`GemmResult`.

        ``result.out`` is the float32 [M, N] output and ``result.stats`` the :class:`GemmStats`;
        ``y, stats = core(x)`` unpacks it.

        **ADC range.** The default ``adc_full_scale="worst_case"`` never clips but spends most
        of the ADC's codes on sums that never occur: on random data at 8 bits it gives tens of
        percent relative error even without noise. ``adc_full_scale="calibrated"`` sets the
        range from ``x`` itself (:meth:`calibrate_full_scale`), like the executor and the CLI,
        which calibrate every layer on held-out inputs. ``result.stats.adc_policy`` records which.

        Everything is validated here, before any backend runs, so that every backend either
        returns the same bits or none raises: see :func:`_check_matrix` and
        :func:`resolve_threads`. ``return_stats`` is accepted for compatibility and ignored.
        """
        x = _check_matrix("x", x, self.k)
        impl = get_backend(backend)
        n_threads = resolve_threads(threads)
        abfp = self.spec.scaling == "abfp"
        if abfp:
            self._refuse_x_scale(x_scale)
        sx = 0.0 if x_scale is None else float(self._x_scale(x, x_scale))
        policy = adc_full_scale if isinstance(adc_full_scale, str) else "given"
        fs = self.full_scale(adc_full_scale, x, x_scale)
        lsb = fs / float(qmax(self.spec.adc_bits))
        if abfp:
            self._check_gain(lsb)
        noise = self.spec.noise
        plan = CallPlan(
            rows=self.spec.rows,
            input_bits=self.spec.input_bits,
            adc_bits=self.spec.adc_bits,
            x_scale=sx,
            sigma_const=noise.sigma_const,
            shot_coeff=noise.shot_coeff,
            rin_coeff=noise.rin_coeff,
            lsb=lsb,
            w_scale=self.w_scale,
            base_key=rng.call_base(seed, call_key),
            normal_table=rng.normal_table(),
            threads=n_threads,
            scaling=self.spec.scaling,
            analog_gain=self.spec.analog_gain,
            detection=noise.detection,
            rin_correlation=noise.rin_correlation,
        )
        result = impl.run(self._programmed_for(impl), x, plan)
        if not math.isfinite(result.x_absmax):
            check_finite("x", x)
            raise InputError("x contains a non-finite value")  # unreachable: check_finite raised
        m = x.shape[0]
        stats = GemmStats(
            m=m, k=self.k, n=self.n, k_tiles=self.k_tiles, n_tiles=self.n_tiles,
            passes=m * self.k_tiles * self.n_tiles,
            dac_conversions=m * self.k * self.n_tiles,
            adc_conversions=m * self.n * self.k_tiles,
            clipped=result.clipped, x_scale=0.0 if abfp else result.x_scale, backend=impl.name,
            adc_policy=policy, adc_full_scale=float(fs.max()),
            scaling=self.spec.scaling,
            input_scales=m * self.k_tiles if abfp else int(x_scale is None),
            weight_scales=self.k_tiles * self.n if abfp else self.n,
            dequantizations=m * self.n * (self.k_tiles if abfp else 1),
        )
        return GemmResult(result.y, stats)


def photonic_gemm(x: np.ndarray, w: np.ndarray, spec: PhotonicGemmSpec | None = None, seed: int = 0,
                  **kwargs) -> GemmResult:
    """One-shot photonic GEMM: program ``w`` [K, N], stream ``x`` [M, K]; returns a :class:`GemmResult`.

    The default ADC range is ``"worst_case"``; pass ``adc_full_scale="calibrated"`` for the
    range the executor and the CLI use (see :meth:`PhotonicCore.__call__`).
    """
    return PhotonicCore(w, spec)(x, seed=seed, **kwargs)


__all__ = ["GemmResult", "GemmStats", "PhotonicCore", "photonic_gemm", "operand_dtype", "resolve_threads"]
