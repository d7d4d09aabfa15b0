"""The photonic core: geometry, clock, converters, weight programming, architectural levers.

Numbers and their sources live in ``presets/adept.toml`` and ``docs/hardware.md``;
this module says what each field means and which values are possible.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..kernels.spec import SCALING_MODES
from .fields import BITS, BOOL, CORE_DIM, COUNT, NON_NEGATIVE, POSITIVE, Section, one_of, spec


#: Weight-array topologies (docs/noise.md, "Weight arrays").
WEIGHT_ARRAYS = ("svd_mesh", "crossbar")

#: How each topology represents a signed weight.
SIGNED_WEIGHTS = {
    "svd_mesh": "coherent: the sign is an optical phase (0 or pi) set inside the mesh; one detector per output",
    "crossbar": "dual-rail: each weight element sends its light to a + or a - rail, a balanced detector pair subtracts",
}


@dataclass(frozen=True)
class PhotonicConfig(Section):
    """One or more weight-stationary MZI-array cores on the photonic die.

    A core multiplies an input vector of ``rows`` values (one modulator each)
    by a programmed ``rows x cols`` weight tile in one photonic clock; each
    of the ``cols`` outputs has a photodetector, a TIA and an ADC. With
    ``wdm_channels`` wavelengths, that many independent input vectors pass
    through the same programmed tile in the same clock, each with its own
    transmitters and receivers.
    """

    SECTION = "photonic"

    rows: int = spec(CORE_DIM, "inputs per pass (modulators; the K-tile)")
    cols: int = spec(CORE_DIM, "outputs per pass (photodetectors/TIAs/ADCs; the N-tile)")
    num_cores: int = spec(COUNT, "independent photonic cores (lever)")
    wdm_channels: int = spec(COUNT, "wavelengths sharing one programmed tile (lever)")
    clock_ghz: float = spec(POSITIVE, "photonic symbol rate: input vectors per second per channel, in GHz")
    input_bits: int = spec(BITS, "DAC resolution of the input modulators")
    weight_bits: int = spec(BITS, "resolution of the programmed weights")
    adc_bits: int = spec(BITS, "ADC resolution per output")
    double_buffered_weights: bool = spec(BOOL, "two weight banks: program the next tile while the current one streams (lever)")
    converter_reference_rate_gsps: float = spec(POSITIVE, "sample rate at which the transmitter/ADC/TIA powers below are quoted, GS/s")
    converter_reference_bits: int = spec(BITS, "resolution at which the transmitter/ADC powers below are quoted (ADC energy scales 2**(adc_bits - this))")
    transmitter_power_mw_per_channel: float = spec(POSITIVE, "DAC + driver + MZM per input channel at the reference rate, mW")
    adc_power_mw_per_channel: float = spec(POSITIVE, "ADC per output channel at the reference rate, mW")
    tia_power_mw_per_channel: float = spec(NON_NEGATIVE, "TIA per output channel (always on while the core runs), mW")
    phase_shifter_program_time_ns: float = spec(NON_NEGATIVE, "time to (re)program a weight tile's phase shifters, all in parallel, ns")
    phase_shifter_program_energy_pj: float = spec(NON_NEGATIVE, "energy to set one phase shifter once, pJ")
    phase_shifter_hold_power_mw: float = spec(NON_NEGATIVE, "static power to hold one phase shifter's state (0 for NOEMS; heaters ~mW), mW")
    die_area_mm2: float = spec(POSITIVE, "photonic die area, mm^2")
    scaling: str = spec(one_of(*SCALING_MODES), "kernel scaling: 'tensor' (one input scale per call, one weight scale per column) or 'abfp' (per row/K-tile and K-tile/column scales, docs/kernel.md)")
    analog_gain: float = spec(POSITIVE, "gain G on the analog sum before the ADC ('abfp' only; 1 with 'tensor')")
    weight_array: str = spec(one_of(*WEIGHT_ARRAYS), "weight-array topology: 'svd_mesh' (coherent Clements meshes U.Sigma.V^T) or 'crossbar' (one weight element per weight, incoherent, dual-rail signs)")

    def _check_relations(self) -> None:
        if self.scaling == "tensor" and self.analog_gain != 1.0:
            raise ConfigError(
                f"photonic.analog_gain = {self.analog_gain!r} needs photonic.scaling = 'abfp' "
                "(the 'tensor' mode has no analog gain); set both"
            )

    @property
    def weight_elements_per_tile(self) -> int:
        """Programmable elements (phase shifters or weight modulators) set per ``rows x cols`` tile."""
        if self.weight_array == "crossbar":
            # Assumption: one element per weight; its rail (sign) is chosen by the same programming.
            return self.rows * self.cols
        return self.phase_shifters_per_mesh

    @property
    def signed_weights(self) -> str:
        """The topology's signed-weight scheme (see ``SIGNED_WEIGHTS``)."""
        return SIGNED_WEIGHTS[self.weight_array]

    @property
    def mesh_depth_mzis(self) -> int:
        """MZIs on every optical path of the SVD mesh ``U (cols) . Sigma (1) . V^T (rows)``.

        A rectangular (Clements) mesh of size n has depth n, so a path
        crosses ``cols + 1 + rows`` MZIs. Used for the MZI-array loss.
        """
        return self.rows + self.cols + 1

    @property
    def phase_shifters_per_tile(self) -> int:
        """Elements set when one tile is programmed (what programming energy and hold power are charged per).

        ``svd_mesh``: :attr:`phase_shifters_per_mesh`; ``crossbar``: ``rows * cols``.
        """
        return self.weight_elements_per_tile

    @property
    def phase_shifters_per_mesh(self) -> int:
        """Phase shifters of the SVD mesh of one ``rows x cols`` tile.

        Two per MZI; the two unitary meshes hold ``n(n-1)/2`` MZIs each
        (Clements et al., Optica 3, 1460 (2016)) and Sigma ``min(rows, cols)``.
        """
        mzis = self.rows * (self.rows - 1) // 2 + self.cols * (self.cols - 1) // 2 + min(self.rows, self.cols)
        return 2 * mzis

    @property
    def transmitter_energy_pj_per_symbol(self) -> float:
        """Energy of one input conversion + modulation, pJ (power / reference rate).

        Independent of ``input_bits`` (assumption): the transmitter's power is
        dominated by driving the modulator through its full voltage swing,
        which the optical modulation depth sets, not the DAC resolution; the
        resolution-dependent parts (segment decoders, retiming) are second order.
        """
        return self.transmitter_power_mw_per_channel / self.converter_reference_rate_gsps

    @property
    def adc_energy_pj_per_sample(self) -> float:
        """Energy of one ADC conversion at ``adc_bits``, pJ.

        ``power / reference rate`` at ``converter_reference_bits``, scaled by
        ``2**(adc_bits - converter_reference_bits)``: a constant Walden figure
        of merit ``P / (2**ENOB f_s)`` (R. H. Walden, "Analog-to-digital
        converter survey and analysis", IEEE JSAC 17(4), 1999), so one bit
        more doubles the energy per conversion. (Above ~10-12 bits converters
        become thermal-noise limited and cost ~4x per bit; a sweep there is
        optimistic for the ADC.)
        """
        scale = 2.0 ** (self.adc_bits - self.converter_reference_bits)
        return self.adc_power_mw_per_channel / self.converter_reference_rate_gsps * scale

    @property
    def peak_macs_per_s(self) -> float:
        """Peak MAC rate of all cores and channels, MAC/s."""
        return self.rows * self.cols * self.num_cores * self.wdm_channels * self.clock_ghz * 1e9
