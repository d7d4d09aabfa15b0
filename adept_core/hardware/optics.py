"""Laser and link-budget physics of one photonic channel (see ``docs/noise.md``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..kernels.spec import DETECTION_MODES, RIN_CORRELATIONS
from .fields import BOOL, FRACTION, LOSS_DB, POSITIVE, RIN_DB_PER_HZ, Section, one_of, spec


@dataclass(frozen=True)
class OpticsConfig(Section):
    """Laser power, optical losses and receiver noise of one wavelength channel of one core.

    The link budget (:mod:`adept_core.hardware.linkbudget`) turns these into
    the kernel's :class:`~adept_core.kernels.spec.NoiseSpec` and into the
    laser's wall-plug power.
    """

    SECTION = "optics"

    laser_power_mw: float = spec(POSITIVE, "optical laser power per core per wavelength, before the edge coupler, mW")
    laser_wall_plug_efficiency: float = spec(FRACTION, "optical output power / electrical input power of the laser")
    edge_coupler_loss_db: float = spec(LOSS_DB, "fibre/laser to chip coupling loss, dB")
    modulator_insertion_loss_db: float = spec(LOSS_DB, "input MZM insertion loss, dB")
    splitter_excess_loss_db_per_stage: float = spec(LOSS_DB, "excess loss of one 1x2 splitter stage (beyond the ideal 3 dB), dB")
    mzi_insertion_loss_db: float = spec(LOSS_DB, "insertion loss of one MZI of the weight mesh, dB")
    crossbar_element_loss_db: float = spec(LOSS_DB, "insertion loss of one weight element of the crossbar (paid once per path), dB")
    waveguide_loss_db: float = spec(LOSS_DB, "total propagation loss along one path (routing, crossings), dB")
    combiner_loss_db: float = spec(LOSS_DB, "excess loss of combining onto the detector (0 when the mesh combines coherently), dB")
    wdm_mux_demux_loss_db: float = spec(LOSS_DB, "mux + demux loss, charged only when wdm_channels > 1, dB")
    responsivity_a_per_w: float = spec(POSITIVE, "photodiode responsivity, A/W")
    tia_noise_pa_per_rthz: float = spec(POSITIVE, "TIA input-referred noise current density, pA/sqrt(Hz)")
    tia_bandwidth_per_clock: float = spec(POSITIVE, "receiver noise bandwidth / photonic clock (0.5: integrate-and-dump over one symbol)")
    rin_db_per_hz: float = spec(RIN_DB_PER_HZ, "laser relative intensity noise, dB/Hz")
    detection: str = spec(one_of(*DETECTION_MODES), "detector model: 'coherent' (shot noise follows |partial sum|) or 'dual_rail' (balanced rails: shot noise follows the light on both, sum |x||w|)")
    rin_correlation: str = spec(one_of(*RIN_CORRELATIONS), "laser RIN: 'independent' per output, or 'laser' (one draw per pulse, common to every output the laser feeds)")
    max_waveguide_power_mw: float = spec(POSITIVE, "largest optical power one input waveguide may carry before nonlinear loss (TPA/FCA in silicon), mW")
    laser_gated: bool = spec(BOOL, "laser draws power only while a weight tile streams (off during programming and ASIC-only layers); false: on for the whole run (lever)")
