"""The fidelity study: real trained models on real data, emulated ADEPT vs float32.

For each real model (:mod:`adept_core.models`) and each hardware *setting*
the study prepares the model on the executor, calibrates the ADC ranges on
the model's held-out calibration inputs (as a deployed chip would be
calibrated), runs the evaluation inputs with one noise seed and compares
the outputs with the float32 run of the same Graph using the model's own
metrics (embedding cosine and pair ranking for MiniLM, top-1/top-5 for
EfficientNet-Lite0).

A setting changes only what the issue's table asks for, through the
hardware configuration: converter resolution (``photonic.input_bits``,
``weight_bits`` and ``adc_bits`` together), the laser power
(``optics.laser_power_mw`` as a multiple of the configured value, which the
link budget turns into the kernel's noise), noise on/off, and the ADC range
policy. :data:`STANDARD_SETTINGS` is the issue's table;
:data:`DIAGNOSTIC_SETTINGS` adds the rows that explain it (see
``docs/fidelity.md``).

:func:`layer_headroom` is the diagnostic behind the explanation: for every
photonic layer, how much of the worst-case partial-sum range the real
partial sums use, and the effective bits the link budget's noise leaves at
the largest partial sum the layer ever produces.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from .errors import ConfigError
from .kernels import NoiseSpec, PhotonicGemmSpec


@dataclass(frozen=True)
class Setting:
    """One row of the fidelity table.

    Attributes
    ----------
    label : str
        Row name printed in the table.
    precision : {"fp32", "adept"}
        ``"fp32"`` is the reference row (its metrics compare fp32 with itself).
    bits : int or None
        DAC, weight and ADC resolution; ``None`` keeps the configuration's.
    noise : bool
        Analog noise from the link budget on (``True``) or off.
    laser_factor : float
        Laser power as a multiple of the configuration's ``optics.laser_power_mw``.
    adc : {"calibrated", "worst_case"}
        ADC range policy of the executor.
    scaling : str or None
        Kernel scaling mode (``"tensor"``, ``"abfp"``); ``None`` keeps the configuration's.
    analog_gain : float or None
        Gain before the ADC (``"abfp"``); ``None`` keeps the configuration's.
    """

    label: str
    precision: str = "adept"
    bits: int | None = None
    noise: bool = True
    laser_factor: float = 1.0
    adc: str = "calibrated"
    scaling: str | None = None
    analog_gain: float | None = None


#: The table issue 4 asks for.
STANDARD_SETTINGS = (
    Setting("fp32 reference", precision="fp32"),
    Setting("8-bit, no noise", bits=8, noise=False),
    Setting("8-bit, noise, default laser", bits=8),
    Setting("6-bit, noise, default laser", bits=6),
    Setting("4-bit, noise, default laser", bits=4),
    Setting("8-bit, noise, laser / 10", bits=8, laser_factor=0.1),
    Setting("8-bit, noise, laser / 100", bits=8, laser_factor=0.01),
)

#: Rows that separate the causes: ADC range policy, quantization alone, and how much laser power fixes noise.
DIAGNOSTIC_SETTINGS = (
    Setting("8-bit, no noise, worst-case ADC", bits=8, noise=False, adc="worst_case"),
    Setting("6-bit, no noise", bits=6, noise=False),
    Setting("4-bit, no noise", bits=4, noise=False),
    Setting("8-bit, noise, laser x 10", bits=8, laser_factor=10.0),
    Setting("8-bit, noise, laser x 100", bits=8, laser_factor=100.0),
    Setting("8-bit, noise, laser x 1000", bits=8, laser_factor=1000.0),
)


#: Adaptive block floating point at the preset laser (Basumallik et al., arXiv 2205.06287): the
#: paper's operating point is a fixed (worst-case) ADC range with the gain G as the knob; one
#: calibrated row shows what range calibration adds on top.
ABFP_SETTINGS = tuple(
    Setting(f"8-bit, noise, default laser, abfp G={g:g}", bits=8, adc="worst_case", scaling="abfp", analog_gain=g)
    for g in (1.0, 2.0, 4.0, 8.0)
) + (Setting("8-bit, noise, default laser, abfp G=1, calibrated ADC", bits=8, scaling="abfp", analog_gain=1.0),)


@dataclass
class FidelityRow:
    """The measured fidelity of one model under one setting."""

    model: str
    setting: Setting
    metrics: dict[str, float]
    laser_power_mw: float | None = None
    enob_bits: float | None = None
    clipped_layers: int = 0
    seconds: float = 0.0
    headroom: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "setting": asdict(self.setting), "metrics": self.metrics,
                "laser_power_mw": self.laser_power_mw, "enob_bits": self.enob_bits,
                "clipped_layers": self.clipped_layers, "seconds": self.seconds, "headroom": self.headroom}


def hardware_for(setting: Setting, config: str = "adept", overrides: Mapping[str, Any] | None = None):
    """(kernel spec, link budget) of ``setting`` on top of ``config`` + ``overrides``.

    Returns ``(None, None)`` for the fp32 row.
    """
    if setting.precision == "fp32":
        return None, None
    from .hardware import kernel_spec, link_budget, load_config

    over = dict(overrides or {})
    if setting.bits is not None:
        over.update({f"photonic.{k}_bits": setting.bits for k in ("input", "weight", "adc")})
    if setting.scaling is not None:
        over["photonic.scaling"] = setting.scaling
    if setting.analog_gain is not None:
        over["photonic.analog_gain"] = setting.analog_gain
    cfg = load_config(config, over)
    if not (setting.laser_factor > 0 and math.isfinite(setting.laser_factor)):
        raise ConfigError(f"laser_factor must be a finite number > 0, got {setting.laser_factor!r}")
    laser_mw = cfg.optics.laser_power_mw * setting.laser_factor
    spec = kernel_spec(cfg, laser_power_mw=laser_mw)
    if not setting.noise:
        spec = replace(spec, noise=NoiseSpec())
    return spec, link_budget(cfg, laser_power_mw=laser_mw)


def layer_headroom(calibration: Mapping[str, Mapping[str, float]], spec: PhotonicGemmSpec) -> list[dict]:
    """Per photonic layer: range use and the effective bits left at its largest partial sum.

    Parameters
    ----------
    calibration : dict
        ``PreparedModel.calibration``: layer -> ``{"x_absmax", "full_scale"}``,
        ``full_scale`` being the largest noiseless partial sum seen (times headroom).
    spec : PhotonicGemmSpec
        The core's resolutions and noise.

    Returns
    -------
    list of dict
        ``layer``; ``range_fraction`` = peak partial sum / worst-case full scale;
        ``peak_enob_bits`` = effective bits of a signal of that peak amplitude
        against the noise at that amplitude, with the link budget's convention
        (SNR = peak**2 / 2 / sigma**2, ENOB = (SNR_dB - 1.76) / 6.02), so a
        layer whose peak reaches the worst-case full scale gets exactly the
        link budget's ENOB. ``inf`` without noise.
    """
    worst = spec.worst_case_full_scale
    n = spec.noise
    rows = []
    for layer, entry in calibration.items():
        peak = float(entry["full_scale"])
        var = n.sigma_const ** 2 + n.shot_coeff * peak + (n.rin_coeff * peak) ** 2
        enob = math.inf if var == 0 else (10 * math.log10(peak ** 2 / 2 / var) - 1.76) / 6.02
        rows.append({"layer": layer, "range_fraction": peak / worst, "peak_enob_bits": enob})
    return rows


def partial_sum_census(real, spec: PhotonicGemmSpec) -> list[dict]:
    """Why real partial sums are small: per photonic layer, where the worst-case range goes.

    Runs ``real`` (a :class:`~adept_core.models.RealModel`) in fp32 on its
    evaluation inputs, and for every GEMM quantizes the operands as the core
    would (per-tensor input scale, per-column weight scales, ``spec``'s bits)
    and measures, over all K-tiles of ``rows`` inputs:

    - ``input_use`` = RMS ``|qx|`` / ``qmax_x`` and ``weight_use`` = RMS ``|qw|`` / ``qmax_w``;
    - ``rms_fraction`` = RMS partial sum / worst-case full scale, and
      ``peak_fraction`` = largest ``|p|`` / worst-case full scale;
    - ``cancellation`` = RMS ``p`` / (``rows`` x RMS ``qx`` x RMS ``qw``): 1 if every product in a
      tile had the same sign and size, ``1/sqrt(rows)`` for independent random signs.

    So ``rms_fraction ~= input_use * weight_use * cancellation`` (exact for the RMS of
    products of independent operands). Float64 arithmetic on the integer codes is exact.
    """
    from .emulate import prepare
    from .kernels.quantize import column_scales, quantize, tensor_scale
    from .kernels.spec import qmax

    # An "adept" model routes every GEMM (attention's too) through PreparedModel.gemm; the census
    # replaces that one method, measures the operands and returns the float32 product, so every
    # layer sees the fp32 network's activations and the executor's MAC check still holds.
    model = prepare(real.graph, spec=spec, adc="worst_case")
    rows_out: dict[str, dict] = {}
    qx_max, qw_max, tile = qmax(spec.input_bits), qmax(spec.weight_bits), spec.rows

    def census(node, role, index, x, w_fn, operand):
        x = np.ascontiguousarray(x, np.float32)
        w = np.ascontiguousarray(w_fn(), np.float32)
        qx = quantize(x, tensor_scale(x, spec.input_bits), spec.input_bits).astype(np.float64)
        qw = quantize(w, column_scales(w, spec.weight_bits), spec.weight_bits).astype(np.float64)
        p = np.concatenate([(qx[:, t:t + tile] @ qw[t:t + tile]).ravel() for t in range(0, qx.shape[1], tile)])
        e = rows_out.setdefault(f"{node.name}/{role}", dict.fromkeys(("sq_x", "n_x", "sq_w", "n_w", "sq_p", "n_p",
                                                                      "peak"), 0.0))
        for key, a in (("x", qx), ("w", qw), ("p", p)):
            e["sq_" + key] += float((a ** 2).sum())
            e["n_" + key] += a.size
        e["peak"] = max(e["peak"], float(np.abs(p).max()))
        model.engine.record(node.name, role, x.shape[0], x.shape[1], w.shape[1], 0.0)
        return x @ w

    model.gemm = census
    model.run(real.inputs)
    worst = spec.worst_case_full_scale
    out = []
    for layer, e in rows_out.items():
        rx, rw, rp = (math.sqrt(e["sq_x"] / e["n_x"]), math.sqrt(e["sq_w"] / e["n_w"]), math.sqrt(e["sq_p"] / e["n_p"]))
        out.append({"layer": layer, "input_use": rx / qx_max, "weight_use": rw / qw_max,
                    "cancellation": rp / (tile * rx * rw) if rx * rw else 0.0,
                    "rms_fraction": rp / worst, "peak_fraction": e["peak"] / worst})
    return out


def census_summary(rows: list[dict]) -> dict[str, float]:
    """Median over layers of each :func:`partial_sum_census` quantity."""
    keys = ("input_use", "weight_use", "cancellation", "rms_fraction", "peak_fraction")
    return {k: float(np.median([r[k] for r in rows])) for k in keys} if rows else {}


def _headroom_summary(rows: list[dict]) -> dict[str, float]:
    if not rows:
        return {}
    frac = np.array([r["range_fraction"] for r in rows])
    enob = np.array([r["peak_enob_bits"] for r in rows])
    return {"layers": float(len(rows)), "range_fraction_median": float(np.median(frac)),
            "range_fraction_max": float(frac.max()), "peak_enob_median": float(np.median(enob)),
            "peak_enob_min": float(enob.min())}


def run_study(model_names: list[str] | tuple[str, ...], settings=STANDARD_SETTINGS, seed: int = 0,
              config: str = "adept", overrides: Mapping[str, Any] | None = None, model_params: dict | None = None,
              backend: str = "auto", progress=None) -> list[FidelityRow]:
    """Measure every model under every setting.

    Parameters
    ----------
    model_names : sequence of str
        Names from :data:`adept_core.models.REAL_MODELS`.
    settings : sequence of Setting
        Table rows.
    seed : int
        Noise seed of the evaluation runs (calibration runs use the executor's seed 0).
    config, overrides
        Hardware preset/file and dotted overrides applied before each setting's own changes.
    model_params : dict, optional
        Model name -> keyword arguments of its loader (e.g. ``{"minilm": {"pairs": 5}}``).
    progress : callable, optional
        Called with each finished :class:`FidelityRow` (the CLI prints as it goes).
    """
    from . import models
    from .emulate import prepare

    rows = []
    for name in model_names:
        real = models.build(name, **(model_params or {}).get(name, {}))
        t0 = time.perf_counter()
        reference = prepare(real.graph, precision="fp32").run(real.inputs).outputs
        fp32_seconds = time.perf_counter() - t0
        for setting in settings:
            spec, budget = hardware_for(setting, config, overrides)
            t0 = time.perf_counter()
            if spec is None:
                outputs, clipped, headroom = reference, 0, {}
            else:
                model = prepare(real.graph, spec=spec, adc=setting.adc, backend=backend)
                if setting.adc == "calibrated":
                    model.calibrate(real.calibration_inputs)
                result = model.run(real.inputs, seed=seed)
                outputs, clipped = result.outputs, len(result.clipped_layers)
                headroom = _headroom_summary(layer_headroom(model.calibration, spec))
            row = FidelityRow(
                model=name, setting=setting, metrics=real.compare(reference, outputs),
                laser_power_mw=None if budget is None else budget.laser_power_mw,
                enob_bits=None if budget is None or not setting.noise else budget.enob_bits,
                clipped_layers=clipped, seconds=fp32_seconds if spec is None else time.perf_counter() - t0,
                headroom=headroom,
            )
            rows.append(row)
            if progress is not None:
                progress(row)
    return rows


def format_table(rows: list[FidelityRow]) -> str:
    """Markdown tables, one per model: a row per setting, a column per metric."""
    out = []
    for name in dict.fromkeys(r.model for r in rows):
        mine = [r for r in rows if r.model == name]
        metrics = list(mine[0].metrics)
        head = ["setting", "laser mW", "ENOB", *metrics, "peak ENOB (median layer)", "clipped layers"]
        out.append(f"**{name}**\n")
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join("---" for _ in head) + "|")
        for r in mine:
            cells = [r.setting.label,
                     "-" if r.laser_power_mw is None else f"{r.laser_power_mw:g}",
                     "-" if r.enob_bits is None else f"{r.enob_bits:.1f}",
                     *(_fmt(r.metrics[m]) for m in metrics),
                     _fmt(r.headroom.get("peak_enob_median")) if r.setting.noise else "-",
                     str(r.clipped_layers)]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.3f}"
