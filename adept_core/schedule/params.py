"""The numbers the cost model uses, in SI units, flattened out of a HardwareConfig.

:class:`CostParams` is what the vectorised scheduler reads. Every numeric
field is either a Python number (one design) or a numpy array of shape
``(D, 1)`` (``D`` designs evaluated together, see :func:`stack`), so the same
code evaluates one design or a thousand. Units are SI and in the names:
seconds ``_s``, joules ``_j``, watts ``_w``, hertz ``_hz``, bytes.

:func:`cost_params` is the only place that knows the layout of
:class:`~adept_core.hardware.HardwareConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from ..errors import ConfigError

#: Bytes of one activation value in SRAM and in the ASIC (bf16).
ACTIVATION_BYTES = 2


@dataclass(frozen=True)
class CostParams:
    """One (or ``D`` stacked) hardware design(s) as the cost model sees it.

    Attributes
    ----------
    arch : str
        ``"photonic"`` (ADEPT) or ``"systolic"`` (the baseline).
    rows, cols : int
        Weight tile of one core / PE array: K-tile and N-tile.
    cores : int
        Photonic cores, or identical systolic arrays (``systolic.cores``).
    wdm : int
        Wavelengths sharing one programmed tile (1 for the systolic array).
    clock_hz : float
        Photonic symbol rate, or the systolic array clock.
    input_bits, weight_bits : int
        Operand widths (bytes moved for programmed weights use ``weight_bits``).
    double_buffer : bool
        Program (photonic) or shift in (systolic) the next weight tile while
        the current one streams.
    program_time_s : float
        Photonic: time to program one weight tile.
    program_energy_j_per_tile : float
        Photonic: energy to program one full tile (every phase shifter once).
    dac_energy_j, adc_energy_j : float
        Photonic: energy of one input conversion (DAC + driver + modulator)
        and one output conversion.
    always_on_power_w : float
        Power drawn for the whole run by the compute die: laser wall-plug,
        TIAs, phase-shifter hold (photonic) or 0 (systolic; its idle PEs are
        charged per cycle instead).
    laser_power_w, tia_power_w, hold_power_w : float
        The parts of ``always_on_power_w`` (reported separately).
    laser_gated : bool
        Photonic: the laser draws ``laser_power_w / cores`` per core only
        while that core streams a tile, instead of ``laser_power_w`` for the
        whole run.
    mac_energy_j, idle_pe_energy_j_per_cycle : float
        Systolic: energy per MAC and per idle PE per cycle (0 for photonic).
    asic_lanes, asic_clock_hz, asic_energy_j_per_op : float
        The bf16 vector unit.
    sram_capacity_bytes, sram_bandwidth_bytes_per_s : float
    sram_read_energy_j_per_byte, sram_write_energy_j_per_byte : float
    dram_bandwidth_bytes_per_s, dram_energy_j_per_byte : float
    static_power_w : float
        Everything else that draws power for the whole run: ASIC and SRAM
        leakage, DRAM background, host share, board.
    """

    arch: str
    rows: int | np.ndarray
    cols: int | np.ndarray
    cores: int | np.ndarray
    wdm: int | np.ndarray
    clock_hz: float | np.ndarray
    input_bits: int | np.ndarray
    weight_bits: int | np.ndarray
    double_buffer: bool | np.ndarray
    program_time_s: float | np.ndarray
    program_energy_j_per_tile: float | np.ndarray
    dac_energy_j: float | np.ndarray
    adc_energy_j: float | np.ndarray
    laser_power_w: float | np.ndarray
    tia_power_w: float | np.ndarray
    hold_power_w: float | np.ndarray
    laser_gated: bool | np.ndarray
    mac_energy_j: float | np.ndarray
    idle_pe_energy_j_per_cycle: float | np.ndarray
    asic_lanes: int | np.ndarray
    asic_clock_hz: float | np.ndarray
    asic_energy_j_per_op: float | np.ndarray
    sram_capacity_bytes: float | np.ndarray
    sram_bandwidth_bytes_per_s: float | np.ndarray
    sram_read_energy_j_per_byte: float | np.ndarray
    sram_write_energy_j_per_byte: float | np.ndarray
    dram_bandwidth_bytes_per_s: float | np.ndarray
    dram_energy_j_per_byte: float | np.ndarray
    static_power_w: float | np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "_designs", max(np.size(getattr(self, f.name)) for f in fields(self) if f.name != "arch"))
        if self.arch not in ("photonic", "systolic"):
            raise ConfigError(f"CostParams.arch must be 'photonic' or 'systolic', got {self.arch!r}")
        for f in fields(self):
            if f.name == "arch":
                continue
            value = np.asarray(getattr(self, f.name), dtype=float)
            if not np.all(np.isfinite(value)) or np.any(value < 0):
                raise ConfigError(f"{f.name} must be finite and >= 0, got {getattr(self, f.name)!r}")
            if f.name in _MUST_BE_POSITIVE and np.any(value <= 0):
                raise ConfigError(
                    f"{f.name} must be > 0 (a design with zero {f.name.replace('_', ' ')} cannot run), "
                    f"got {getattr(self, f.name)!r}"
                )

    @property
    def always_on_power_w(self):
        """Laser (when not gated), TIAs and phase-shifter hold power: drawn for the whole run."""
        return np.where(self.laser_gated, 0.0, self.laser_power_w) + self.tia_power_w + self.hold_power_w

    @property
    def designs(self) -> int:
        """Number of stacked designs (1 for scalar parameters)."""
        return self._designs


_MUST_BE_POSITIVE = frozenset({
    "rows", "cols", "cores", "wdm", "clock_hz", "input_bits", "weight_bits", "asic_lanes", "asic_clock_hz",
    "sram_capacity_bytes", "sram_bandwidth_bytes_per_s", "dram_bandwidth_bytes_per_s",
})


def stack(designs: list[CostParams]) -> CostParams:
    """``D`` designs of one architecture as one :class:`CostParams` of ``(D, 1)`` arrays."""
    if not designs:
        raise ConfigError("stack() needs at least one design")
    archs = {d.arch for d in designs}
    if len(archs) != 1:
        raise ConfigError(f"stack() needs designs of one architecture, got {sorted(archs)}")
    columns = {
        f.name: np.array([getattr(d, f.name) for d in designs], dtype=float).reshape(-1, 1)
        for f in fields(CostParams) if f.name != "arch"
    }
    return CostParams(arch=designs[0].arch, **columns)


def with_levers(params: CostParams, **changes) -> CostParams:
    """``params`` with some fields replaced (a :func:`dataclasses.replace` that re-validates)."""
    unknown = sorted(set(changes) - {f.name for f in fields(CostParams)})
    if unknown:
        raise ConfigError(f"unknown CostParams field(s) {unknown}")
    return replace(params, **changes)


def ceil_div(a, b):
    """Ceiling of ``a / b`` for non-negative integers or integer-valued arrays."""
    return -(-a // b)


def cost_params(config) -> CostParams:
    """The :class:`CostParams` of a :class:`~adept_core.hardware.HardwareConfig`.

    Converter energies are the configured powers divided by the rate they
    are quoted at (energy per conversion does not change with the clock);
    the laser's wall-plug power comes from the link budget, so the laser
    power that sets the kernel's noise is the one billed here.
    """
    from ..hardware import HardwareConfig, link_budget

    if not isinstance(config, HardwareConfig):
        raise ConfigError(f"expected a HardwareConfig, got {type(config).__name__}")
    ph, sa, asic, sram, dram, host = config.photonic, config.systolic, config.asic, config.sram, config.dram, config.host
    static_mw = (asic.static_power_mw + sram.leakage_mw_per_mib * sram.capacity_mib + dram.static_power_mw
                 + host.host_power_mw + host.board_static_power_mw)
    common = dict(
        asic_lanes=asic.lanes,
        asic_clock_hz=asic.clock_ghz * 1e9,
        asic_energy_j_per_op=asic.energy_pj_per_op * 1e-12,
        sram_capacity_bytes=float(sram.capacity_bytes),
        sram_bandwidth_bytes_per_s=sram.bandwidth_gb_per_s * 1e9,
        sram_read_energy_j_per_byte=sram.read_energy_pj_per_byte * 1e-12,
        sram_write_energy_j_per_byte=sram.write_energy_pj_per_byte * 1e-12,
        dram_bandwidth_bytes_per_s=dram.bandwidth_gb_per_s * 1e9,
        dram_energy_j_per_byte=dram.energy_pj_per_bit * 8e-12,
        static_power_w=static_mw * 1e-3,
    )
    if config.accelerator == "systolic":
        return CostParams(
            arch="systolic", rows=sa.rows, cols=sa.cols, cores=sa.cores, wdm=1, clock_hz=sa.clock_ghz * 1e9,
            input_bits=sa.input_bits, weight_bits=sa.weight_bits, double_buffer=sa.double_buffered_weights,
            program_time_s=0.0,
            program_energy_j_per_tile=0.0, dac_energy_j=0.0, adc_energy_j=0.0, laser_power_w=0.0,
            tia_power_w=0.0, hold_power_w=0.0, laser_gated=False, mac_energy_j=sa.mac_energy_pj * 1e-12,
            idle_pe_energy_j_per_cycle=sa.idle_pe_energy_pj_per_cycle * 1e-12, **common,
        )
    channels = ph.num_cores * ph.wdm_channels
    banks = 2 if ph.double_buffered_weights else 1
    return CostParams(
        arch="photonic", rows=ph.rows, cols=ph.cols, cores=ph.num_cores, wdm=ph.wdm_channels,
        clock_hz=ph.clock_ghz * 1e9, input_bits=ph.input_bits, weight_bits=ph.weight_bits,
        double_buffer=ph.double_buffered_weights, program_time_s=ph.phase_shifter_program_time_ns * 1e-9,
        program_energy_j_per_tile=ph.phase_shifters_per_tile * ph.phase_shifter_program_energy_pj * 1e-12,
        dac_energy_j=ph.transmitter_energy_pj_per_symbol * 1e-12,
        adc_energy_j=ph.adc_energy_pj_per_sample * 1e-12,
        laser_power_w=link_budget(config).total_wall_plug_mw * 1e-3,
        tia_power_w=ph.tia_power_mw_per_channel * ph.cols * channels * 1e-3,
        hold_power_w=ph.phase_shifter_hold_power_mw * ph.phase_shifters_per_tile * ph.num_cores * banks * 1e-3,
        laser_gated=config.optics.laser_gated,
        mac_energy_j=0.0, idle_pe_energy_j_per_cycle=0.0, **common,
    )
