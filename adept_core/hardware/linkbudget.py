"""Link budget: laser power <-> per-output noise and effective bits (equations in ``docs/noise.md``).

One physical knob, ``optics.laser_power_mw``, sets both the laser's wall-plug
power (the energy bill) and the analog noise of every partial sum (the
kernel's :class:`~adept_core.kernels.spec.NoiseSpec`).

Model of one wavelength channel of one core, at full scale:

``P_det = P_laser * 10**(-L_total/10)`` where ``L_total`` (dB) adds coupler,
splitter excess, modulator, MZI mesh (per-MZI loss x depth), waveguide,
combiner, WDM mux/demux, and the intrinsic ``10 log10(cols)`` fan-out: with
the weight tile scaled so that *every* output can reach full scale at once
(spectral norm of the programmed matrix <= 1), the full-scale output of one
detector carries ``1/cols`` of the light entering the mesh.

``I_fs = R * P_det``; noise variances over the receiver bandwidth ``B``:
thermal ``i_n**2 B`` (constant), shot ``2 q |I| B``, RIN ``RIN * I**2 * B``.
``SNR = (I_fs**2 / 2) / (sum of variances at I_fs)`` (a full-scale sinusoid
against the worst-case noise) and ``ENOB = (SNR_dB - 1.76) / 6.02``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError
from ..kernels.spec import NoiseSpec, PhotonicGemmSpec
from .config import HardwareConfig
from .fields import FINITE, POSITIVE

#: Elementary charge, C (exact, SI 2019).
ELEMENTARY_CHARGE_C = 1.602176634e-19


@dataclass(frozen=True)
class LinkBudget:
    """The link budget of one output detector at full scale (one core, one wavelength).

    Attributes
    ----------
    laser_power_mw, wall_plug_power_mw : float
        Optical laser power and its electrical (wall-plug) power, per core per wavelength, mW.
    total_laser_optical_mw, total_wall_plug_mw : float
        The same for all cores and wavelengths, mW.
    losses_db : tuple of (str, float)
        Each loss term, dB (including the intrinsic ``1/cols`` fan-out).
    total_loss_db : float
        Laser to one detector at full scale, dB.
    detector_power_mw, photocurrent_ua : float
        Optical power and photocurrent at one detector for a full-scale partial sum.
    bandwidth_ghz : float
        Receiver noise bandwidth.
    thermal_noise_ua, shot_noise_ua, rin_noise_ua, total_noise_ua : float
        RMS noise currents at full scale, uA.
    snr_db, enob_bits : float
        Full-scale SNR and effective number of bits.
    full_scale_partial_sum : float
        ``rows * qmax_x * qmax_w``: the partial sum that maps to ``photocurrent_ua``.
    noise : NoiseSpec
        The same noise in partial-sum units (what the kernel adds).
    """

    laser_power_mw: float
    wall_plug_power_mw: float
    total_laser_optical_mw: float
    total_wall_plug_mw: float
    losses_db: tuple[tuple[str, float], ...]
    total_loss_db: float
    detector_power_mw: float
    photocurrent_ua: float
    bandwidth_ghz: float
    thermal_noise_ua: float
    shot_noise_ua: float
    rin_noise_ua: float
    total_noise_ua: float
    snr_db: float
    enob_bits: float
    full_scale_partial_sum: float
    noise: NoiseSpec
    waveguide_power_mw: float = 0.0
    max_waveguide_power_mw: float = math.inf

    @property
    def feasible(self) -> bool:
        """True when no input waveguide carries more than ``optics.max_waveguide_power_mw``."""
        return self.waveguide_power_mw <= self.max_waveguide_power_mw


@dataclass(frozen=True)
class LaserRequirement:
    """Laser power needed for a target effective resolution.

    Attributes
    ----------
    target_enob_bits : float
    optical_mw, wall_plug_mw : float
        Per core per wavelength, mW.
    total_optical_mw, total_wall_plug_mw : float
        All cores and wavelengths, mW.
    max_enob_bits : float
        RIN-limited ceiling (infinite laser power) at this configuration.
    """

    target_enob_bits: float
    optical_mw: float
    wall_plug_mw: float
    total_optical_mw: float
    total_wall_plug_mw: float
    max_enob_bits: float
    waveguide_power_mw: float = 0.0


def waveguide_power_mw(cfg: HardwareConfig, laser_power_mw: float | None = None) -> float:
    """Optical power in each of the ``rows`` input waveguides, mW (the most any single-mode waveguide carries).

    ``P_laser * 10**(-(coupler + splitter excess)/10) / rows``: the light after the edge coupler,
    split evenly over the modulators. Assumption: the splitting tree's first stages, which carry
    more, are built for it (wide multimode waveguides, SiN, or one laser per group of inputs), so
    the limit is the single-mode input waveguide's; the limit (``optics.max_waveguide_power_mw``)
    is where silicon turns nonlinear (two-photon and free-carrier absorption).
    """
    p = _laser_mw(cfg, laser_power_mw)
    losses = dict(loss_terms_db(cfg))
    before_modulator = cfg.optics.edge_coupler_loss_db + sum(
        db for name, db in losses.items() if name.startswith("splitter excess"))
    return p * 10.0 ** (-before_modulator / 10.0) / cfg.photonic.rows


def max_laser_power_mw(cfg: HardwareConfig) -> float:
    """The laser (optical, per core per wavelength, mW) that puts exactly ``optics.max_waveguide_power_mw``
    into each input waveguide: the inverse of :func:`waveguide_power_mw`, which is linear in the laser."""
    return cfg.optics.max_waveguide_power_mw / waveguide_power_mw(cfg, 1.0)


def waveguide_limit_note(cfg: HardwareConfig, laser_power_mw: float | None = None) -> str | None:
    """``None`` when the laser stays within ``optics.max_waveguide_power_mw``, else why the design is infeasible."""
    per_wg = waveguide_power_mw(cfg, laser_power_mw)
    limit = cfg.optics.max_waveguide_power_mw
    if per_wg <= limit:
        return None
    return (f"INFEASIBLE: {per_wg:.1f} mW per input waveguide exceeds optics.max_waveguide_power_mw = {limit:g} mW "
            f"(laser {_laser_mw(cfg, laser_power_mw):g} mW optical per core per wavelength)")


def enob_from_snr_db(snr_db: float) -> float:
    """Effective bits of a full-scale sinusoid: ``(SNR_dB - 1.76) / 6.02``."""
    return (snr_db - 1.76) / 6.02


def snr_db_from_enob(enob_bits: float) -> float:
    """Inverse of :func:`enob_from_snr_db`."""
    return 6.02 * enob_bits + 1.76


def loss_terms_db(cfg: HardwareConfig) -> tuple[tuple[str, float], ...]:
    """Every loss between laser and one detector at full scale, dB, in path order.

    ``svd_mesh``: every path crosses ``rows + cols + 1`` MZIs. ``crossbar``: each input is fanned
    out to its ``cols`` weight elements by a tree of 1x2 splitters, crosses one element, and the
    ``rows`` products of a column are combined onto its (balanced) detector by a tree of
    combiners with the splitters' excess loss (assumption), the photocurrents of the rails adding
    without an intrinsic ``1/rows`` combining loss (assumption: the combiner feeds the detector
    multimode, as an incoherent sum allows). The intrinsic ``1/cols`` fan-out is the same in both.
    """
    ph, op = cfg.photonic, cfg.optics
    split_stages = math.ceil(math.log2(ph.rows)) if ph.rows > 1 else 0
    if ph.weight_array == "crossbar":
        fan_stages = math.ceil(math.log2(ph.cols)) if ph.cols > 1 else 0
        return (
            ("edge coupler", op.edge_coupler_loss_db),
            (f"splitter excess ({split_stages} stages)", op.splitter_excess_loss_db_per_stage * split_stages),
            ("input modulator", op.modulator_insertion_loss_db),
            (f"fan-out tree excess ({fan_stages} stages)", op.splitter_excess_loss_db_per_stage * fan_stages),
            ("crossbar weight element (1 deep)", op.crossbar_element_loss_db),
            (f"combine tree excess ({split_stages} stages)", op.splitter_excess_loss_db_per_stage * split_stages),
            ("waveguide", op.waveguide_loss_db),
            ("combiner", op.combiner_loss_db),
            ("WDM mux/demux", op.wdm_mux_demux_loss_db if ph.wdm_channels > 1 else 0.0),
            (f"fan-out to {ph.cols} outputs", 10.0 * math.log10(ph.cols)),
        )
    return (
        ("edge coupler", op.edge_coupler_loss_db),
        (f"splitter excess ({split_stages} stages)", op.splitter_excess_loss_db_per_stage * split_stages),
        ("input modulator", op.modulator_insertion_loss_db),
        (f"MZI mesh ({ph.mesh_depth_mzis} MZIs deep)", op.mzi_insertion_loss_db * ph.mesh_depth_mzis),
        ("waveguide", op.waveguide_loss_db),
        ("combiner", op.combiner_loss_db),
        ("WDM mux/demux", op.wdm_mux_demux_loss_db if ph.wdm_channels > 1 else 0.0),
        (f"fan-out to {ph.cols} outputs", 10.0 * math.log10(ph.cols)),
    )


def _laser_mw(cfg: HardwareConfig, laser_power_mw: float | None) -> float:
    if laser_power_mw is None:
        return cfg.optics.laser_power_mw
    return POSITIVE.convert("laser_power_mw", laser_power_mw)


def _channels(cfg: HardwareConfig) -> int:
    return cfg.photonic.num_cores * cfg.photonic.wdm_channels


def _receiver(cfg: HardwareConfig) -> tuple[float, float, float]:
    """Bandwidth B (Hz), thermal variance (A^2), linear RIN (1/Hz)."""
    op = cfg.optics
    bandwidth_hz = op.tia_bandwidth_per_clock * cfg.photonic.clock_ghz * 1e9
    thermal_var = (op.tia_noise_pa_per_rthz * 1e-12) ** 2 * bandwidth_hz
    return bandwidth_hz, thermal_var, 10.0 ** (op.rin_db_per_hz / 10.0)


#: Largest laser-to-detector loss the link budget accepts: 10^-30 of the light reaches the detector
#: (far below any detector's noise floor); beyond it powers under- or overflow float64.
MAX_TOTAL_LOSS_DB = 300.0


def _total_loss_db(losses) -> float:
    total = sum(db for _, db in losses)
    if total > MAX_TOTAL_LOSS_DB:
        worst = max(losses, key=lambda item: item[1])
        raise ConfigError(f"the optical path loses {total:g} dB (largest term: {worst[0]}, {worst[1]:g} dB), "
                          f"above {MAX_TOTAL_LOSS_DB:g} dB: no light reaches the detector; lower the optics.*_db losses")
    return total


def link_budget(cfg: HardwareConfig, laser_power_mw: float | None = None) -> LinkBudget:
    """Forward direction: laser power -> photocurrent, noise terms, SNR, ENOB and the kernel's NoiseSpec.

    Parameters
    ----------
    cfg : HardwareConfig
    laser_power_mw : float, optional
        Optical power per core per wavelength, mW; defaults to ``cfg.optics.laser_power_mw``.
    """
    p_laser_mw = _laser_mw(cfg, laser_power_mw)
    losses = loss_terms_db(cfg)
    total_loss_db = _total_loss_db(losses)
    p_det_w = p_laser_mw * 1e-3 * 10.0 ** (-total_loss_db / 10.0)
    i_fs = cfg.optics.responsivity_a_per_w * p_det_w
    bandwidth_hz, thermal_var, rin_lin = _receiver(cfg)
    shot_var = 2.0 * ELEMENTARY_CHARGE_C * i_fs * bandwidth_hz
    rin_var = rin_lin * i_fs * i_fs * bandwidth_hz
    total_var = thermal_var + shot_var + rin_var
    # 1/SNR as a sum of terms each monotone in i_fs, so that rounding can never
    # make more light give a lower SNR (tested with Hypothesis).
    inv_snr = 2.0 * (thermal_var / (i_fs * i_fs) + 2.0 * ELEMENTARY_CHARGE_C * bandwidth_hz / i_fs + rin_lin * bandwidth_hz)
    snr_db = -10.0 * math.log10(inv_snr)

    p_fs = PhotonicGemmSpec(
        rows=cfg.photonic.rows, cols=cfg.photonic.cols,
        input_bits=cfg.photonic.input_bits, weight_bits=cfg.photonic.weight_bits, adc_bits=cfg.photonic.adc_bits,
    ).worst_case_full_scale
    # A partial sum p produces photocurrent I = I_fs * p / p_fs, so one ampere is
    # k = p_fs / I_fs partial-sum units: thermal std scales by k, shot variance
    # k**2 * 2 q B I_fs |p| / p_fs = (2 q B k) |p|, and RIN std sqrt(RIN B) |p|.
    k = p_fs / i_fs
    noise = NoiseSpec(
        sigma_const=k * math.sqrt(thermal_var),
        shot_coeff=2.0 * ELEMENTARY_CHARGE_C * bandwidth_hz * k,
        rin_coeff=math.sqrt(rin_lin * bandwidth_hz),
        # Same coefficients in every mode: at full scale (every product maximal, one sign) the
        # light on both rails equals |p| = p_fs, and a common RIN draw has the same variance.
        detection=cfg.optics.detection,
        rin_correlation=cfg.optics.rin_correlation,
    )
    wall_plug_mw = p_laser_mw / cfg.optics.laser_wall_plug_efficiency
    return LinkBudget(
        laser_power_mw=p_laser_mw,
        wall_plug_power_mw=wall_plug_mw,
        total_laser_optical_mw=p_laser_mw * _channels(cfg),
        total_wall_plug_mw=wall_plug_mw * _channels(cfg),
        losses_db=losses,
        total_loss_db=total_loss_db,
        detector_power_mw=p_det_w * 1e3,
        photocurrent_ua=i_fs * 1e6,
        bandwidth_ghz=bandwidth_hz * 1e-9,
        thermal_noise_ua=math.sqrt(thermal_var) * 1e6,
        shot_noise_ua=math.sqrt(shot_var) * 1e6,
        rin_noise_ua=math.sqrt(rin_var) * 1e6,
        total_noise_ua=math.sqrt(total_var) * 1e6,
        snr_db=snr_db,
        enob_bits=enob_from_snr_db(snr_db),
        full_scale_partial_sum=p_fs,
        noise=noise,
        waveguide_power_mw=waveguide_power_mw(cfg, p_laser_mw),
        max_waveguide_power_mw=cfg.optics.max_waveguide_power_mw,
    )


def noise_spec(cfg: HardwareConfig, laser_power_mw: float | None = None) -> NoiseSpec:
    """The kernel's NoiseSpec (partial-sum units) at the configured (or given) laser power."""
    return link_budget(cfg, laser_power_mw).noise


def effective_bits(cfg: HardwareConfig, laser_power_mw: float | None = None) -> float:
    """ENOB at the configured (or given) laser power: ``link_budget(cfg, laser_power_mw).enob_bits``."""
    return link_budget(cfg, laser_power_mw).enob_bits


def kernel_spec(cfg: HardwareConfig, laser_power_mw: float | None = None) -> PhotonicGemmSpec:
    """The photonic GEMM spec of one core: geometry and bits from ``cfg.photonic``, noise from the link budget."""
    ph = cfg.photonic
    return PhotonicGemmSpec(
        rows=ph.rows, cols=ph.cols, input_bits=ph.input_bits, weight_bits=ph.weight_bits, adc_bits=ph.adc_bits,
        noise=noise_spec(cfg, laser_power_mw), scaling=ph.scaling, analog_gain=ph.analog_gain,
    )


def max_enob_bits(cfg: HardwareConfig) -> float:
    """RIN-limited ENOB as laser power -> infinity: ``SNR_max = 1 / (2 RIN B)``."""
    bandwidth_hz, _, rin_lin = _receiver(cfg)
    return enob_from_snr_db(-10.0 * math.log10(2.0 * rin_lin * bandwidth_hz))


def required_laser_power(cfg: HardwareConfig, target_enob: float, check_waveguide_limit: bool = True) -> LaserRequirement:
    """Reverse direction: the laser power (optical and wall-plug) that gives ``target_enob`` effective bits.

    Solves ``I**2/2 = S (i_th**2 + 2 q B I + RIN B I**2)`` for the full-scale
    photocurrent ``I`` (``S`` = target SNR, linear), then undoes responsivity and losses.

    Raises
    ------
    ConfigError
        If ``target_enob`` is not a finite number, or not below the RIN ceiling
        (no laser power reaches it; the message gives the ceiling), or, with
        ``check_waveguide_limit`` (the default), if the laser it needs puts more
        than ``optics.max_waveguide_power_mw`` into an input waveguide.
    """
    target_enob = FINITE.convert("target_enob", target_enob)
    ceiling = max_enob_bits(cfg)
    if target_enob >= ceiling:
        raise ConfigError(
            f"target_enob {target_enob:g} bits is unreachable: laser RIN (optics.rin_db_per_hz = "
            f"{cfg.optics.rin_db_per_hz:g}) caps ENOB at {ceiling:.3f} bits at this bandwidth; ask for less or lower the RIN"
        )
    snr = 10.0 ** (snr_db_from_enob(target_enob) / 10.0)
    bandwidth_hz, thermal_var, rin_lin = _receiver(cfg)
    a = 0.5 - snr * rin_lin * bandwidth_hz  # > 0 below the ceiling
    b = snr * 2.0 * ELEMENTARY_CHARGE_C * bandwidth_hz
    c = snr * thermal_var
    i_fs = (b + math.sqrt(b * b + 4.0 * a * c)) / (2.0 * a)
    total_loss_db = _total_loss_db(loss_terms_db(cfg))
    optical_mw = i_fs / cfg.optics.responsivity_a_per_w * 10.0 ** (total_loss_db / 10.0) * 1e3
    wall_plug_mw = optical_mw / cfg.optics.laser_wall_plug_efficiency
    per_wg = waveguide_power_mw(cfg, optical_mw)
    if check_waveguide_limit and per_wg > cfg.optics.max_waveguide_power_mw:
        raise ConfigError(
            f"target_enob {target_enob:g} bits needs {optical_mw:.1f} mW of laser, {per_wg:.1f} mW per input waveguide, "
            f"above optics.max_waveguide_power_mw = {cfg.optics.max_waveguide_power_mw:g} mW; ask for fewer bits, "
            "lower the losses, or raise the limit (e.g. SiN waveguides)"
        )
    return LaserRequirement(
        target_enob_bits=float(target_enob),
        optical_mw=optical_mw,
        wall_plug_mw=wall_plug_mw,
        total_optical_mw=optical_mw * _channels(cfg),
        total_wall_plug_mw=wall_plug_mw * _channels(cfg),
        max_enob_bits=ceiling,
        waveguide_power_mw=per_wg,
    )
