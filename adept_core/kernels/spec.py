"""The contract of the photonic GEMM: what one call computes, bit for bit.

This module is the single source of truth for the kernel's numerics. The
NumPy reference (:mod:`adept_core.kernels.reference`), the Numba backend and
the C++ backend implement exactly the steps below and are tested for exact
array equality. ``docs/kernel.md`` repeats this text with worked examples.

For ``X [M, K] float32`` and ``W [K, N] float32``, with
``qmax(b) = 2**(b-1) - 1``:

1. **DAC / weight programming.** Symmetric signed quantization with
   round-half-to-even and clamp to ``+-qmax``. Inputs use one scale per
   tensor, ``sx = float32(max|X|) / float32(qmax_x)`` computed in float32
   (unless the caller passes ``x_scale``); weights one scale per output
   column, ``sw[n] = float32(max_k |W[k, n]|) / float32(qmax_w)``. An
   all-zero tensor (or column) gets scale 1. ``q = clamp(rint(v / s))`` with
   the division in float32. NaN or Inf anywhere raises :class:`InputError`.
2. **Optics.** K is cut into tiles of ``rows`` consecutive inputs (the last
   may be short). For every tile ``t`` and output ``(m, n)`` the partial sum
   ``p = sum_k qx[m, k] * qw[k, n]`` over the tile is an exact integer.
3. **Analog noise** (skipped when every coefficient is zero, then
   ``y = p``): in float64, ``pd = double(p)``,
   ``var = (sigma_const*sigma_const + shot_coeff*|pd|) + (rin_coeff*pd)*(rin_coeff*pd)``,
   ``y = pd + sqrt(var) * z``, each operation rounded separately (no FMA).
   ``z`` is ``double(NORMAL_TABLE[h >> 16])`` where ``h`` is the counter
   hash of :mod:`adept_core.kernels.rng` keyed by ``(seed, call_key, t, m, n)``.
4. **ADC.** ``lsb[n] = double(adc_full_scale[n]) / double(qmax_adc)``;
   ``r = rint(y / lsb[n])`` (float64 division, ties to even);
   ``code = clamp(r, -qmax_adc, qmax_adc)``; ``|r| > qmax_adc`` counts as clipped.
5. **Digital accumulation** of the integer codes over tiles, then one
   dequantization ``Y[m, n] = float32(double(acc) * f[n])`` with
   ``f[n] = lsb[n] * (double(sx) * double(sw[n]))``.

``adc_full_scale`` is in partial-sum units (the largest ``|p|`` the ADC can
represent). The default, ``"worst_case"``, is ``rows * qmax_x * qmax_w`` and
never clips a noiseless partial sum.

Detector and RIN modes of step 3 (``NoiseSpec.detection``, ``rin_correlation``):
with ``detection="dual_rail"`` the shot term is ``shot_coeff * L`` where
``L = sum_k |qx[m, k]| * |qw[k, n]|`` over the tile (an exact integer: the light
on both rails), in place of ``shot_coeff * |pd|``; with
``rin_correlation="laser"`` the RIN term leaves the square root,
``var = sigma_const*sigma_const + shot_coeff*S`` (``S`` = ``|pd|`` or ``L``) and
``y = (pd + sqrt(var) * z) + (rin_coeff * pd) * zc``, where ``zc`` is the
normal of the hash of column ``0xFFFFFFFF`` under the same ``(seed, call_key,
t, m)``: one draw per laser pulse, common to every output it feeds.

Scaling mode ``"abfp"`` (adaptive block floating point, Basumallik et al.,
arXiv 2205.06287) replaces steps 1, 4 and 5; steps 2 and 3 are unchanged.
All scales are float32 (the paper keeps them in bf16; float32 is exact to
compute on every backend and never loses a bit the codes have):

1'. Inputs: one scale per (row ``m``, K-tile ``t``),
    ``sx[m, t] = float32(max_{k in t} |X[m, k]|) / float32(qmax_x)``;
    weights one per (K-tile ``t``, column ``n``),
    ``sw[t, n] = float32(max_{k in t} |W[k, n]|) / float32(qmax_w)``.
    A scale that is 0 (an all-zero block, or a float32 underflow of a tiny
    one) becomes 1, so the block's codes are 0. Codes as in step 1, each
    value divided by its own block's scale. ``x_scale`` may not be given.
4'. **Gain and ADC.** ``g = y * G`` (float64, ``G = analog_gain``), then
    ``r = rint(g / lsb[n])``, clamp and clip count as in step 4: the ADC sees
    the amplified analog sum, so ``G > 1`` clips ``|p| > full_scale / G`` and
    gives ``G`` times finer codes.
5'. **Per-tile dequantization, float64 accumulation in tile order.**
    ``lg[n] = lsb[n] / G``; ``f = double(sx[m, t]) * (lg[n] * double(sw[t, n]))``;
    ``acc = 0.0``, then for ``t = 0, 1, ...``: ``acc = acc + double(code) * f``;
    ``Y[m, n] = float32(acc)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ConfigError

#: Operand and ADC resolutions the kernel supports (inclusive).
MIN_BITS = 2
MAX_BITS = 16
#: Largest core dimension; keeps 16-bit tile sums inside int64 with room to spare.
MAX_CORE_DIM = 4096
#: Most threads one call may ask for (``adept::kMaxThreads`` in C++). A fixed number, not a
#: multiple of this machine's cores, so that a setting valid on one machine is valid on every
#: machine; the thread count never changes the bits, only the speed. Backends further cap it at
#: their number of useful work items, so a small GEMM never starts more threads than it has work.
MAX_THREADS = 256
#: Largest noise coefficient (partial-sum units). The largest partial sum is
#: ``4096 * 32767**2 ~ 4.4e12``; 1e15 leaves every variance and every ``y / lsb`` finite in
#: float64 on all backends, and is orders of magnitude above any physical link budget.
MAX_NOISE_COEFF = 1e15
#: ADC full-scale range allowed, in partial-sum units. Below 2**-20 the ADC step is so small
#: that ``y / lsb`` overflows float64 for large noisy sums (and 5e-324 / qmax is 0); above 2**64
#: the dequantization factor can overflow. Calibrated ranges are >= 1 and worst-case ones
#: <= 4.4e12, well inside.
MIN_ADC_FULL_SCALE = 2.0**-20
MAX_ADC_FULL_SCALE = 2.0**64
#: Detector models: what the shot noise follows (step 3).
DETECTION_MODES = ("coherent", "dual_rail")
#: RIN models: independent per output, or common to every output of one laser (step 3).
RIN_CORRELATIONS = ("independent", "laser")
#: Column index whose hash gives the common RIN normal of a (tile, row): never a real column.
RIN_COMMON_COLUMN = 0xFFFFFFFF
#: Scaling modes of the kernel (see the module docstring): per-tensor/per-column, or ABFP.
SCALING_MODES = ("tensor", "abfp")


def qmax(bits: int) -> int:
    """Largest code of a symmetric signed ``bits``-bit converter: ``2**(bits-1) - 1``."""
    return (1 << (bits - 1)) - 1


def _check_coeff(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"NoiseSpec.{name} must be a real number, got {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float64 (10**400)
        value = math.inf
    if not math.isfinite(value) or value < 0.0:
        raise ConfigError(f"NoiseSpec.{name} must be finite and >= 0, got {value!r}")
    if value > MAX_NOISE_COEFF:
        raise ConfigError(
            f"NoiseSpec.{name} must be <= {MAX_NOISE_COEFF:g} (partial-sum units; "
            f"adept_core.kernels.spec.MAX_NOISE_COEFF), got {value!r}"
        )
    return value


@dataclass(frozen=True)
class NoiseSpec:
    """Analog noise on each photonic partial sum, in partial-sum units.

    ``sigma(p)**2 = sigma_const**2 + shot_coeff * |p| + (rin_coeff * p)**2``.
    The link budget (:mod:`adept_core.hardware.linkbudget`) derives these
    from laser power, losses, responsivity and TIA noise.

    Attributes
    ----------
    sigma_const : float
        Signal-independent standard deviation (thermal / TIA noise), in
        partial-sum units (LSB of the exact integer dot product).
    shot_coeff : float
        Shot-noise variance per unit of ``|p|`` (variance grows linearly
        with the optical power that carries the signal).
    rin_coeff : float
        Relative intensity noise: standard deviation proportional to ``|p|``.
    detection : str
        ``"coherent"``: the shot variance is ``shot_coeff * |p|``;
        ``"dual_rail"``: ``shot_coeff * L`` with ``L = sum_k |qx[m,k]| |qw[k,n]|``
        over the tile, the light on both rails' photodiodes (step 3).
    rin_correlation : str
        ``"independent"``: one RIN draw per output, inside ``sqrt(var)``;
        ``"laser"``: the laser's intensity noise is common to every output
        of a (tile, input row): ``y = (p + sqrt(var') z) + (rin_coeff p) zc``
        with ``zc`` drawn once per (tile, row) (step 3).
    """

    sigma_const: float = 0.0
    shot_coeff: float = 0.0
    rin_coeff: float = 0.0
    detection: str = "coherent"
    rin_correlation: str = "independent"

    def __post_init__(self) -> None:
        for name in ("sigma_const", "shot_coeff", "rin_coeff"):
            object.__setattr__(self, name, _check_coeff(name, getattr(self, name)))
        if self.detection not in DETECTION_MODES:
            raise ConfigError(f"NoiseSpec.detection must be one of {DETECTION_MODES}, got {self.detection!r}")
        if self.rin_correlation not in RIN_CORRELATIONS:
            raise ConfigError(
                f"NoiseSpec.rin_correlation must be one of {RIN_CORRELATIONS}, got {self.rin_correlation!r}")

    @property
    def enabled(self) -> bool:
        """True when any noise term is non-zero."""
        return self.sigma_const > 0.0 or self.shot_coeff > 0.0 or self.rin_coeff > 0.0


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"PhotonicGemmSpec.{name} must be an integer in [{lo}, {hi}], got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"PhotonicGemmSpec.{name} must be in [{lo}, {hi}], got {value}")
    return value


def _check_scaling(spec: "PhotonicGemmSpec") -> None:
    if spec.scaling not in SCALING_MODES:
        raise ConfigError(f"PhotonicGemmSpec.scaling must be one of {SCALING_MODES}, got {spec.scaling!r}")
    gain = spec.analog_gain
    if isinstance(gain, bool) or not isinstance(gain, (int, float)):
        raise ConfigError(f"PhotonicGemmSpec.analog_gain must be a real number > 0, got {gain!r}")
    gain = float(gain)
    if not (math.isfinite(gain) and gain > 0.0):
        raise ConfigError(f"PhotonicGemmSpec.analog_gain must be finite and > 0, got {gain!r}")
    if spec.scaling == "tensor" and gain != 1.0:
        raise ConfigError(
            f"PhotonicGemmSpec.analog_gain={gain!r} needs scaling='abfp' (the 'tensor' mode has no analog gain)"
        )
    object.__setattr__(spec, "analog_gain", gain)


@dataclass(frozen=True)
class PhotonicGemmSpec:
    """Geometry and resolution of one photonic core (mirrored by ``adept::GemmSpec`` in C++).

    Attributes
    ----------
    rows : int
        Inputs per pass: the K-tile (modulators feeding the MZI array).
    cols : int
        Outputs per pass: the N-tile (photodetectors / ADCs). It does not
        change the numbers, only how many passes the schedule needs.
    input_bits, weight_bits, adc_bits : int
        DAC, weight-programming and ADC resolutions, each in [2, 16].
    noise : NoiseSpec
        Analog noise on each partial sum.
    scaling : str
        ``"tensor"`` (one input scale per call, one weight scale per column)
        or ``"abfp"`` (one scale per input row and K-tile, one per K-tile and
        column, per-tile dequantization; steps 1'-5').
    analog_gain : float
        Gain ``G`` on the analog sum before the ADC (``"abfp"`` only; must be
        1 in ``"tensor"`` mode), finite and > 0.
    """

    rows: int = 128
    cols: int = 128
    input_bits: int = 8
    weight_bits: int = 8
    adc_bits: int = 8
    noise: NoiseSpec = field(default_factory=NoiseSpec)
    scaling: str = "tensor"
    analog_gain: float = 1.0

    def __post_init__(self) -> None:
        _check_int("rows", self.rows, 1, MAX_CORE_DIM)
        _check_int("cols", self.cols, 1, MAX_CORE_DIM)
        for name in ("input_bits", "weight_bits", "adc_bits"):
            _check_int(name, getattr(self, name), MIN_BITS, MAX_BITS)
        if not isinstance(self.noise, NoiseSpec):
            raise ConfigError(f"PhotonicGemmSpec.noise must be a NoiseSpec, got {type(self.noise).__name__}")
        _check_scaling(self)

    @property
    def worst_case_full_scale(self) -> float:
        """ADC full scale that never clips a noiseless partial sum: ``rows*qmax_x*qmax_w``."""
        return float(self.rows * qmax(self.input_bits) * qmax(self.weight_bits))
