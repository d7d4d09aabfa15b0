"""Readable text tables of reports, comparisons and lever ablations (what the CLI prints)."""

from __future__ import annotations

from .compare import PAPER_RATIOS, Comparison, mean_ratios
from .levers import LeverResult
from ..tables import Table, render
from .grouping import group_layers
from .report import Report


def si(value: float, unit: str) -> str:
    """``value`` with an SI prefix: ``si(1.6e-3, 's') == '1.60 ms'``."""
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


#: What the ``bound`` column means, printed under the layer table.
BOUND_HELP = ("bound = what sets the time: engine (the GEMM engine's MACs), asic (element-wise ops), "
              "sram / dram (memory bandwidth), recurrence (serial time: the first weight-tile load of each "
              "GEMM, which nothing overlaps, plus the sequential steps of an RNN)")


def report_tables(r: Report, top: int = 5, group_by: str = "block") -> list[Table]:
    """Headline numbers, the energy breakdown and the ``top`` slowest layer groups, as tables."""
    summary = Table(
        f"{r.workload} on {r.config} ({r.accelerator}, config {r.provenance['config_hash']}), batch {r.batch}, "
        f"{r.macs / 1e9:.3f} GMAC per run",
        ["quantity", "value", "unit"],
        [["latency (one run of the batch)", 1e3 * r.latency_s, "ms"],
         ["inferences/s", r.inferences_per_s, "1/s"],
         ["power", r.power_w, "W"],
         ["inferences/s/W", r.inferences_per_s_per_w, "1/(s W)"],
         ["energy/inference", 1e3 * r.energy_per_inference_j, "mJ"],
         *[[f"utilization of {k}", 100 * v, "%"] for k, v in r.utilization.items()]],
    )
    breakdown = Table("energy breakdown (per inference)", ["component", "share (%)", "energy (mJ)"],
                      [[name, 100 * j / r.energy_per_inference_j, 1e3 * j]
                       for name, j in sorted(r.energy_breakdown_j.items(), key=lambda kv: -kv[1])])
    groups = group_layers(r, group_by)
    what = {"layer": "layers", "block": "layer groups (same role in repeated blocks, * = any index)",
            "op": "op types"}[group_by]
    layers = Table(f"top {top} {what} by latency", ["name", "layers", "op", "unit", "latency (ms)",
                                                     "latency share (%)", "energy share (%)", "bound",
                                                     "utilization (%)"],
                   [[g.name, g.count, g.kind, g.unit, 1e3 * g.latency_s, 100 * g.latency_s / r.latency_s,
                     100 * g.energy_j / r.energy_per_inference_j, g.bound, 100 * g.utilization]
                    for g in groups[:top]],
                   notes=[BOUND_HELP])
    return [summary, breakdown, layers]


def format_report(r: Report, top: int = 5, group_by: str = "block", fmt: str = "text") -> str:
    """:func:`report_tables` rendered in ``fmt`` (see :mod:`adept_core.tables`)."""
    return render(report_tables(r, top, group_by), fmt)


def format_levers(rows: list[LeverResult], fmt: str = "text") -> str:
    """The lever ablation: each lever alone, then all, relative to the base."""
    head = rows[0].report
    return render(Table(f"Levers on {head.workload} ({head.config})",
                        ["lever", "batch", "inferences/s", "power (W)", "inferences/s/W", "speedup (x)",
                         "efficiency gain (x)"],
                        [[row.lever, row.report.batch, row.report.inferences_per_s, row.report.power_w,
                          row.report.inferences_per_s_per_w, row.speedup, row.efficiency_gain] for row in rows]), fmt)


def comparison_table(rows: list[Comparison]) -> Table:
    """ADEPT vs systolic (SA) side by side, with the mean ratios and the paper's published ones as notes."""
    means = mean_ratios(rows)
    return Table(
        f"ADEPT ({rows[0].adept.config}) vs systolic array ({rows[0].systolic.config}), batch {rows[0].adept.batch}",
        ["workload", "ADEPT inferences/s", "SA inferences/s", "ADEPT power (W)", "SA power (W)",
         "ADEPT inferences/s/W", "SA inferences/s/W", "ratio ADEPT/SA (x)"],
        [[row.workload, row.adept.inferences_per_s, row.systolic.inferences_per_s, row.adept.power_w,
          row.systolic.power_w, row.adept.inferences_per_s_per_w, row.systolic.inferences_per_s_per_w,
          row.efficiency_ratio] for row in rows],
        notes=[f"inferences/s/W ratio ADEPT/SA, this model: {means['arithmetic_mean']:.3g}x (arithmetic mean), "
               f"{means['geometric_mean']:.3g}x (geometric mean)",
               "published: " + ", ".join(f"{v}x ({k})" for k, v in PAPER_RATIOS.items())
               + "; see docs/energy.md for why they differ"],
    )


def format_comparison(rows: list[Comparison], fmt: str = "text") -> str:
    """:func:`comparison_table` rendered in ``fmt``."""
    return render(comparison_table(rows), fmt)
