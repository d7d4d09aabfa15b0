"""What every figure shares: axis labels in words with units, one colour per component and per
accelerator, saving at print resolution, labels that do not overlap.

- :func:`label` turns a results column (``inferences_per_s_per_w``, ``photonic.num_cores``,
  ``fidelity_top1_agree``) into an axis or legend label in words with its unit;
- :data:`COMPONENT_COLORS` fixes the colour of each energy component in every figure, and
  :data:`ACCELERATOR_COLORS` the colour of each accelerator (none shared with a component);
- :func:`save` writes 300 dpi PNG, or vector output when the name ends in ``.pdf`` or ``.svg``;
- :func:`annotate_points` labels points, skipping a label that would overlap one already placed.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

#: Raster resolution of PNG figures (print quality); PDF and SVG are vector.
PNG_DPI = 300
VECTOR_SUFFIXES = (".pdf", ".svg")

#: One colour per energy component, the same in every figure ("other" = components under 1 %).
COMPONENT_COLORS = {
    "laser": "#d62728", "static": "#7f7f7f", "dram": "#8c564b", "tia": "#e377c2", "sram": "#bcbd22",
    "adc": "#ff7f0e", "asic": "#2ca02c", "dac": "#17becf", "weight_program": "#9467bd",
    "systolic_array": "#1f77b4", "other": "#c7c7c7",
}
#: One colour per accelerator (bars of whole designs), distinct from every component colour.
ACCELERATOR_COLORS = {"adept": "#3b0f70", "systolic": "#fcae1e"}

#: Words (with unit) of the results columns figures plot most.
LABELS = {
    "inferences_per_s_per_w": "throughput per watt (inferences/s/W)",
    "inferences_per_s": "throughput (inferences/s)",
    "latency_s": "latency (s)",
    "power_w": "power (W)",
    "energy_per_inference_j": "energy per inference (J)",
    "macs": "MACs per run",
    "batch": "batch (inferences per run)",
    "workload": "workload",
    "core_size": "core size (rows = columns)",
    "bits": "DAC/weight/ADC resolution (bits)",
    "photonic.num_cores": "photonic cores",
    "photonic.rows": "core rows (inputs per pass)",
    "photonic.cols": "core columns (outputs per pass)",
    "photonic.wdm_channels": "wavelengths (WDM channels)",
    "photonic.adc_bits": "ADC resolution (bits)",
    "photonic.input_bits": "DAC resolution (bits)",
    "photonic.weight_bits": "weight resolution (bits)",
    "optics.laser_power_mw": "laser power per core per wavelength (mW)",
    "fidelity_top1_agree": "top-1 agreement with float32",
    "fidelity_top5_overlap": "top-5 overlap with float32",
    "fidelity_logit_cos_mean": "logit cosine vs float32 (mean)",
    "fidelity_emb_cos_mean": "embedding cosine vs float32 (mean)",
    "fidelity_label_auc": "paraphrase AUC",
    "fidelity_cosine": "output cosine vs float32",
    "fidelity_rel_error": "relative error vs float32",
}
_SUFFIX_UNITS = {"s": "s", "j": "J", "w": "W", "mw": "mW", "ns": "ns", "pj": "pJ", "db": "dB", "ghz": "GHz",
                 "bits": "bits", "mib": "MiB", "mm2": "mm^2"}


def label(column: str) -> str:
    """Axis/legend words for a results column; unknown columns get their words and unit suffix."""
    if column in LABELS:
        return LABELS[column]
    name = column.split(".")[-1]
    if column.startswith("energy_breakdown_") and column.endswith("_j"):
        return f"{column[len('energy_breakdown_'):-2].replace('_', ' ')} energy per inference (J)"
    if column.startswith("utilization_"):
        return f"{column[len('utilization_'):]} utilization (fraction of the run)"
    words = name.removeprefix("fidelity_").split("_")
    if len(words) > 1 and words[-1] in _SUFFIX_UNITS:
        return f"{' '.join(words[:-1])} ({_SUFFIX_UNITS[words[-1]]})"
    return " ".join(words)


def legend_entry(column: str, value: Any) -> str:
    """``core size = 64`` style legend text, the unit after the value when the label has one."""
    if column == "core_size":
        return f"core {_fmt(value)} x {_fmt(value)}"
    words = label(column)
    if words.endswith(")") and " (" in words:
        head, unit = words[:-1].rsplit(" (", 1)
        if unit in ("bits", "mW", "W", "s", "J", "GHz", "ns", "pJ", "dB"):
            return f"{head} = {_fmt(value)} {unit}"
        return f"{head} = {_fmt(value)}"
    return f"{words} = {_fmt(value)}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def component_color(name: str) -> str:
    return COMPONENT_COLORS.get(name, COMPONENT_COLORS["other"])


def fold_small(shares: dict[str, list[float]], threshold_pct: float = 1.0) -> dict[str, list[float]]:
    """Fold components whose share (%) stays under ``threshold_pct`` in every bar into ``"other"``."""
    out, other = {}, None
    for name, values in shares.items():
        if max(values, default=0.0) < threshold_pct:
            other = list(values) if other is None else [a + b for a, b in zip(other, values)]
        else:
            out[name] = list(values)
    if other is not None:
        out["other"] = other
    return out


def save(fig: Any, out: str | os.PathLike[str]) -> None:
    """300 dpi PNG, or vector when ``out`` ends in .pdf/.svg; closes the figure."""
    import matplotlib.pyplot as plt

    vector = os.fspath(out).lower().endswith(VECTOR_SUFFIXES)
    fig.savefig(out, dpi="figure" if vector else PNG_DPI)
    plt.close(fig)


def annotate_points(ax: Any, points: Sequence[tuple[float, float]], texts: Sequence[str],
                    fontsize: str = "x-small") -> int:
    """Label each point, trying a few offsets and leaving out a label that would overlap a placed one.

    Returns how many labels were placed. Overlap is measured on the drawn text boxes.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    offsets = ((6, 6), (6, -12), (-6, 6), (-6, -12), (10, 0), (-10, 0))
    for (x, y), text in zip(points, texts):
        for dx, dy in offsets:
            ann = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy),
                              ha="left" if dx > 0 else "right", fontsize=fontsize)
            box = ann.get_window_extent(renderer).expanded(1.15, 1.2)  # a little air between labels
            if not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            ann.remove()
    return len(placed)
