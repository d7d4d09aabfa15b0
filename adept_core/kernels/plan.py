"""What a backend receives for one call: everything decided, nothing left to guess."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CallPlan:
    """The per-call constants shared by every backend (see :mod:`adept_core.kernels.spec`).

    Attributes
    ----------
    rows : int
        K-tile length.
    input_bits, adc_bits : int
        DAC and ADC resolutions.
    x_scale : float
        Input scale as float32; ``0.0`` means "compute ``max|x| / qmax`` yourself".
    sigma_const, shot_coeff, rin_coeff : float
        Noise coefficients (partial-sum units); all zero means noiseless.
    lsb : np.ndarray
        float64 [N], ADC step per output column (partial-sum units).
    w_scale : np.ndarray
        float32 [N], weight scale per output column (``"abfp"``: float32
        [K-tiles, N], one per K-tile and column).
    base_key : int
        ``rng.call_base(seed, call_key)``, the 64-bit key of this call.
    normal_table : np.ndarray
        float32 [65536], the shared inverse-CDF table.
    threads : int
        Worker threads the backend may use (>= 1).
    scaling : str
        ``"tensor"`` or ``"abfp"`` (steps 1'-5' of :mod:`adept_core.kernels.spec`);
        in ``"abfp"`` the backend computes the per-(row, K-tile) input scales
        and ``x_scale`` is 0.
    analog_gain : float
        ``G`` applied to the noisy analog sum before the ADC (``"abfp"`` only).
    detection, rin_correlation : str
        The noise model's detector and RIN modes (:class:`~adept_core.kernels.spec.NoiseSpec`).
    """

    rows: int
    input_bits: int
    adc_bits: int
    x_scale: float
    sigma_const: float
    shot_coeff: float
    rin_coeff: float
    lsb: np.ndarray
    w_scale: np.ndarray
    base_key: int
    normal_table: np.ndarray
    threads: int
    scaling: str = "tensor"
    analog_gain: float = 1.0
    detection: str = "coherent"
    rin_correlation: str = "independent"

    @property
    def plain_noise(self) -> bool:
        """Coherent detection and independent RIN: the first kernel's step 3."""
        return self.detection == "coherent" and self.rin_correlation == "independent"

    @property
    def noisy(self) -> bool:
        return self.sigma_const > 0.0 or self.shot_coeff > 0.0 or self.rin_coeff > 0.0


@dataclass(frozen=True)
class RunResult:
    """What a backend returns.

    ``x_absmax`` is ``float32(max|x|)``; if it is not finite the backend
    returned early and ``y`` is meaningless (the caller raises).
    ``clipped`` counts ADC conversions with ``|rint(y/lsb)| > qmax_adc``.
    """

    y: np.ndarray
    x_absmax: float
    x_scale: float
    clipped: int
