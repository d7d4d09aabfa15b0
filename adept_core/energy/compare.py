"""ADEPT against the systolic baseline on the paper's three workloads, and the energy-breakdown plot.

The ratio we report is whatever the model gives for the two presets; it is
printed next to the paper's published averages, never tuned towards them
(``docs/energy.md`` explains where and why they differ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..graph import zoo
from .evaluate import evaluate, resolve_config
from .report import Report

#: Published average ADEPT / systolic-array throughput-per-watt ratios (Demirkiran et al.).
PAPER_RATIOS = {
    "arXiv 2109.01126 v1": 7.19,
    "journal version": 5.73,
}


@dataclass(frozen=True)
class Comparison:
    """One workload on both designs."""

    workload: str
    adept: Report
    systolic: Report

    @property
    def efficiency_ratio(self) -> float:
        """ADEPT inferences/s/W over the systolic array's."""
        return self.adept.inferences_per_s_per_w / self.systolic.inferences_per_s_per_w

    @property
    def speedup(self) -> float:
        """ADEPT inferences/s over the systolic array's."""
        return self.adept.inferences_per_s / self.systolic.inferences_per_s


def compare(workloads=zoo.ZOO_NAMES, adept="adept", systolic="systolic", batch: int = 1) -> list[Comparison]:
    """Evaluate each zoo workload on both designs (same Graph, same batch)."""
    a_cfg, s_cfg = resolve_config(adept), resolve_config(systolic)
    rows = []
    for name in workloads:
        graph = zoo.build(name, batch=batch)
        rows.append(Comparison(name, evaluate(graph, a_cfg, batch), evaluate(graph, s_cfg, batch)))
    return rows


def mean_ratios(rows: list[Comparison]) -> dict[str, float]:
    """Arithmetic and geometric means of the efficiency ratios."""
    ratios = [r.efficiency_ratio for r in rows]
    return {
        "arithmetic_mean": sum(ratios) / len(ratios),
        "geometric_mean": math.exp(sum(math.log(r) for r in ratios) / len(ratios)),
    }


def comparison_dict(rows: list[Comparison]) -> dict:
    """JSON-able summary of a comparison (``adept compare --json``)."""
    return {
        "workloads": [
            {
                "workload": r.workload,
                "efficiency_ratio": r.efficiency_ratio,
                "speedup": r.speedup,
                "adept": r.adept.to_dict(),
                "systolic": r.systolic.to_dict(),
            }
            for r in rows
        ],
        "mean_efficiency_ratio": mean_ratios(rows),
        "paper_ratios": dict(PAPER_RATIOS),
    }


def plot_breakdowns(rows: list[Comparison], path) -> None:
    """Save the comparison figure: energy breakdown per inference (stacked %) and inferences/s/W.

    One colour per energy component and one per accelerator (:mod:`adept_core.figstyle`);
    components under 1 % in every bar are folded into "other"; the throughput-per-watt bars
    carry their value and ADEPT's carries the ratio ADEPT/SA. 300 dpi PNG, or vector for .pdf/.svg.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import figstyle

    bars = [(f"{r.workload}\n{label}", rep) for r in rows for label, rep in (("ADEPT", r.adept), ("SA", r.systolic))]
    names = list(dict.fromkeys(k for _, rep in bars for k in rep.energy_breakdown_j))
    shares = figstyle.fold_small({comp: [100.0 * rep.energy_breakdown_j.get(comp, 0.0) / rep.energy_per_inference_j
                                         for _, rep in bars] for comp in names})
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12.5, 4.8), dpi=100, gridspec_kw={"width_ratios": [3, 2.3]},
                                   layout="constrained")
    x = range(len(bars))
    bottom = [0.0] * len(bars)
    for comp, share in shares.items():
        ax1.bar(x, share, bottom=bottom, color=figstyle.component_color(comp), label=comp.replace("_", " "))
        bottom = [b + s for b, s in zip(bottom, share)]
    for xi, (_, rep) in zip(x, bars):
        ax1.text(xi, 101, f"{rep.energy_per_inference_j:.2g} J", ha="center", fontsize=7)
    ax1.set_xticks(list(x), [label for label, _ in bars], fontsize=8)
    ax1.set_ylabel("share of the energy per inference (%)")
    ax1.set_ylim(0, 110)
    ax1.set_title("Energy breakdown (above each bar: J per inference)", fontsize="medium")
    ax1.legend(title="component (< 1 % folded into other)", title_fontsize=7, fontsize=7, loc="upper left",
               bbox_to_anchor=(1.0, 1.0))
    colours = [figstyle.ACCELERATOR_COLORS[rep.accelerator] for _, rep in bars]
    values = [rep.inferences_per_s_per_w for _, rep in bars]
    ax2.bar(x, values, color=colours)
    for k, r in enumerate(rows):
        a, s = 2 * k, 2 * k + 1
        ax2.text(a, values[a] * 1.15, f"{values[a]:.3g}\n{r.efficiency_ratio:.2g}x SA", ha="center",
                 va="bottom", fontsize=7)
        ax2.text(s, values[s] * 1.15, f"{values[s]:.3g}", ha="center", va="bottom", fontsize=7)
    ax2.set_yscale("log")
    ax2.set_ylim(top=max(values) * 12)  # room for the labels above the tallest bar
    ax2.set_xticks(list(x), [label for label, _ in bars], fontsize=7)
    ax2.set_ylabel("throughput per watt (inferences/s/W)")
    ax2.set_title("Throughput per watt (ADEPT's label: ratio to SA)", fontsize="medium")
    handles = [matplotlib.patches.Patch(color=c, label=n) for n, c in
               (("ADEPT (photonic)", figstyle.ACCELERATOR_COLORS["adept"]),
                ("SA (systolic array)", figstyle.ACCELERATOR_COLORS["systolic"]))]
    ax2.legend(handles=handles, fontsize=7, loc="upper right")
    figstyle.save(fig, path)
