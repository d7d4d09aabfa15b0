"""``adept linkbudget``: the link budget in both directions (laser -> noise/ENOB, ENOB -> laser).

Examples::

    adept linkbudget                       # defaults of the adept preset
    adept linkbudget --laser-mw 2000       # forward at another laser power
    adept linkbudget --bits 6              # laser needed for 6 effective bits
    adept linkbudget --config my.toml --set photonic.rows=64
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from typing import Any

from ..errors import ConfigError
from ..hardware import PRESETS, config_hash, link_budget, load_config, required_laser_power
from ..hardware.linkbudget import max_enob_bits, waveguide_limit_note
from .argtypes import positive_float
from ..tables import Table, add_format_argument, render


def print_waveguide_note(cfg, fmt: str, prefix: str = "") -> None:
    """Say that an ADEPT design exceeds the waveguide power limit, if it does (``perf``, ``compare``).

    Machine-readable formats keep stdout parseable: the note then goes to stderr, so it still reaches the user.
    """
    note = waveguide_limit_note(cfg) if cfg.accelerator == "adept" else None
    if note:
        print(f"{prefix}{note}", file=sys.stdout if fmt == "text" else sys.stderr)


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as a TOML value (``4``, ``2.5``, ``true``, ``"HBM3"``), else as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects KEY=VALUE (e.g. photonic.num_cores=4), got {text!r}")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip(), value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "linkbudget", help="laser power <-> analog noise and effective bits",
        description="Print the photonic link budget: laser power -> SNR/ENOB/NoiseSpec, and target ENOB -> laser power.",
    )
    p.add_argument("--config", default="adept", help=f"preset name ({', '.join(PRESETS)}) or path to a .toml file [adept]")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value, e.g. --set photonic.rows=64 (repeatable)")
    add_format_argument(p)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--bits", type=positive_float, metavar="B", help="target effective bits for the reverse direction")
    group.add_argument("--laser-mw", type=positive_float, metavar="P", help="optical laser power per core per wavelength, mW")
    p.set_defaults(func=run)


def _row(label: str, value: str) -> str:
    return f"  {label:<44} {value}"


def format_report(cfg, laser_mw: float | None, targets: list[float]) -> str:
    """The two-direction link budget as text (used by the command and its test)."""
    lb = link_budget(cfg, laser_mw)
    ph = cfg.photonic
    lines = [
        f"Link budget: config {cfg.name} ({config_hash(cfg)}): {ph.num_cores} core(s) x {ph.wdm_channels} wavelength(s), "
        f"{ph.rows}x{ph.cols} tile, {ph.clock_ghz:g} GHz, {ph.input_bits}/{ph.weight_bits}/{ph.adc_bits}-bit DAC/weights/ADC",
        f"Weight array: {ph.weight_array}, {ph.weight_elements_per_tile} programmable elements per tile; "
        f"signed weights {ph.signed_weights}",
        "",
        f"Laser -> noise   (laser {lb.laser_power_mw:g} mW optical per core per wavelength)",
    ]
    lines += [_row(f"loss: {name}", f"{db:8.2f} dB") for name, db in lb.losses_db]
    lines += [
        _row("power per input waveguide", f"{lb.waveguide_power_mw:10.2f} mW (limit {lb.max_waveguide_power_mw:g} mW)"),
        _row("total loss, laser to one detector", f"{lb.total_loss_db:8.2f} dB"),
        _row("detector power at full scale", f"{lb.detector_power_mw:10.4f} mW"),
        _row("photocurrent at full scale", f"{lb.photocurrent_ua:10.2f} uA"),
        _row(f"noise rms at full scale, B = {lb.bandwidth_ghz:g} GHz: thermal", f"{lb.thermal_noise_ua:10.4f} uA"),
        _row("  shot", f"{lb.shot_noise_ua:10.4f} uA"),
        _row("  RIN", f"{lb.rin_noise_ua:10.4f} uA"),
        _row("  total", f"{lb.total_noise_ua:10.4f} uA"),
        _row("SNR (full-scale sine / noise at full scale)", f"{lb.snr_db:8.2f} dB"),
        _row("effective bits (ENOB)", f"{lb.enob_bits:8.3f} bits"),
        _row("RIN ceiling (infinite laser power)", f"{max_enob_bits(cfg):8.3f} bits"),
        _row(f"NoiseSpec, partial-sum units (full scale {lb.full_scale_partial_sum:.0f})", ""),
        _row("  sigma_const", f"{lb.noise.sigma_const:.6g}"),
        _row("  shot_coeff", f"{lb.noise.shot_coeff:.6g}"),
        _row("  rin_coeff", f"{lb.noise.rin_coeff:.6g}"),
        _row("laser wall-plug, per core per wavelength", f"{lb.wall_plug_power_mw / 1e3:10.3f} W"),
        _row(f"laser wall-plug, all {ph.num_cores * ph.wdm_channels} channel(s)", f"{lb.total_wall_plug_mw / 1e3:10.3f} W"),
    ]
    note = waveguide_limit_note(cfg, laser_mw)
    if note:
        lines.append(f"  {note}")
    lines += [
        "",
        "Effective bits -> laser   (per core per wavelength; total over all cores and wavelengths)",
        f"  {'target ENOB':>11}  {'optical mW':>12}  {'wall-plug W':>12}  {'total wall-plug W':>17}",
    ]
    for bits in targets:
        try:
            req = required_laser_power(cfg, bits, check_waveguide_limit=False)
        except ConfigError:
            lines.append(f"  {bits:11g}  unreachable: above the RIN ceiling of {max_enob_bits(cfg):.3f} bits")
            continue
        over = req.waveguide_power_mw > cfg.optics.max_waveguide_power_mw
        flag = f"  infeasible: {req.waveguide_power_mw:.1f} mW per waveguide" if over else ""
        lines.append(f"  {bits:11g}  {req.optical_mw:12.1f}  {req.wall_plug_mw / 1e3:12.3f}  {req.total_wall_plug_mw / 1e3:17.3f}{flag}")
    return "\n".join(lines)


def report_tables(cfg, laser_mw: float | None, targets: list[float]) -> list[Table]:
    """The same link budget as :func:`format_report`, as tables for ``--format markdown|csv|json``."""
    lb = link_budget(cfg, laser_mw)
    forward = Table(
        f"Laser -> noise: config {cfg.name} ({config_hash(cfg)}), laser {lb.laser_power_mw:g} mW optical "
        "per core per wavelength", ["quantity", "value", "unit"],
        [*[[f"loss: {name}", db, "dB"] for name, db in lb.losses_db],
         ["total loss, laser to one detector", lb.total_loss_db, "dB"],
         ["detector power at full scale", lb.detector_power_mw, "mW"],
         ["photocurrent at full scale", lb.photocurrent_ua, "uA"],
         ["thermal noise rms at full scale", lb.thermal_noise_ua, "uA"],
         ["shot noise rms at full scale", lb.shot_noise_ua, "uA"],
         ["RIN noise rms at full scale", lb.rin_noise_ua, "uA"],
         ["total noise rms at full scale", lb.total_noise_ua, "uA"],
         ["SNR (full-scale sine / noise)", lb.snr_db, "dB"],
         ["effective bits (ENOB)", lb.enob_bits, "bits"],
         ["RIN ceiling (infinite laser power)", max_enob_bits(cfg), "bits"],
         ["noise sigma_const", lb.noise.sigma_const, "partial-sum units"],
         ["noise shot_coeff", lb.noise.shot_coeff, "partial-sum units"],
         ["noise rin_coeff", lb.noise.rin_coeff, "1 (relative)"],
         ["laser wall-plug, per core per wavelength", lb.wall_plug_power_mw / 1e3, "W"],
         ["laser wall-plug, all channels", lb.total_wall_plug_mw / 1e3, "W"]],
        notes=[f"partial-sum units: the integer dot product of one tile; full scale {lb.full_scale_partial_sum:.0f}"],
    )
    reverse = Table("Effective bits -> laser (per core per wavelength; total over all cores and wavelengths)",
                    ["target ENOB (bits)", "optical (mW)", "wall-plug (W)", "total wall-plug (W)"])
    for bits in targets:
        try:
            req = required_laser_power(cfg, bits)
        except ConfigError:
            reverse.rows.append([bits, None, None, None])
            continue
        reverse.rows.append([bits, req.optical_mw, req.wall_plug_mw / 1e3, req.total_wall_plug_mw / 1e3])
    return [forward, reverse]


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config, dict(parse_override(t) for t in args.overrides))
    adc = cfg.photonic.adc_bits
    if args.bits is not None:
        required_laser_power(cfg, args.bits)  # an unreachable explicit target is an error, not a table row
        targets = [args.bits]
    else:
        targets = sorted({max(1, adc - 2), max(1, adc - 1), adc, adc + 0.5})
    if args.format == "text":
        print(format_report(cfg, args.laser_mw, targets))
    else:
        print(render(report_tables(cfg, args.laser_mw, targets), args.format))
    return 0
