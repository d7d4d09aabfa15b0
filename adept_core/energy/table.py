"""Readable text tables of reports, comparisons and lever ablations (what the CLI prints)."""

from __future__ import annotations

from .compare import PAPER_RATIOS, Comparison, mean_ratios
from .levers import LeverResult
from .report import Report


def si(value: float, unit: str) -> str:
    """``value`` with an SI prefix: ``si(1.6e-3, 's') == '1.60 ms'``."""
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def format_report(r: Report, top: int = 5) -> str:
    """Headline numbers, energy breakdown in % and the ``top`` slowest layers."""
    lines = [
        f"{r.workload} on {r.config} ({r.accelerator}, config {r.provenance['config_hash']}), batch {r.batch}, "
        f"{r.macs / 1e9:.3f} GMAC per run",
        f"  latency            {si(r.latency_s, 's')}",
        f"  inferences/s       {r.inferences_per_s:.4g}",
        f"  power              {r.power_w:.4g} W",
        f"  inferences/s/W     {r.inferences_per_s_per_w:.4g}",
        f"  energy/inference   {si(r.energy_per_inference_j, 'J')}",
        "  utilization        " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in r.utilization.items()),
        "  energy breakdown:",
    ]
    for name, joules in sorted(r.energy_breakdown_j.items(), key=lambda kv: -kv[1]):
        lines.append(f"    {name:<16} {100 * joules / r.energy_per_inference_j:6.2f}%  {si(joules, 'J')}")
    lines.append(f"  top {top} layers by latency:")
    lines.append(f"    {'layer':<34} {'op':<20} {'unit':<9} {'latency':>10} {'share':>6} {'bound':<10} {'util':>6}")
    for layer in r.top_layers(top):
        lines.append(
            f"    {layer.name[:34]:<34} {layer.kind:<20} {layer.unit:<9} {si(layer.latency_s, 's'):>10} "
            f"{100 * layer.latency_s / r.latency_s:5.1f}% {layer.bound:<10} {100 * layer.utilization:5.1f}%"
        )
    return "\n".join(lines)


def format_levers(rows: list[LeverResult]) -> str:
    """The lever ablation: each lever alone, then all, relative to the base."""
    head = rows[0].report
    lines = [
        f"Levers on {head.workload} ({head.config}):",
        f"  {'lever':<26} {'batch':>5} {'inf/s':>10} {'W':>8} {'inf/s/W':>10} {'speedup':>8} {'eff. gain':>9}",
    ]
    for row in rows:
        r = row.report
        lines.append(
            f"  {row.lever:<26} {r.batch:>5} {r.inferences_per_s:>10.4g} {r.power_w:>8.4g} "
            f"{r.inferences_per_s_per_w:>10.4g} {row.speedup:>7.3g}x {row.efficiency_gain:>8.3g}x"
        )
    return "\n".join(lines)


def format_comparison(rows: list[Comparison]) -> str:
    """ADEPT vs systolic side by side, with the paper's published ratios."""
    lines = [
        f"  {'workload':<11} {'ADEPT inf/s':>11} {'SA inf/s':>10} {'ADEPT W':>8} {'SA W':>7} "
        f"{'ADEPT inf/s/W':>13} {'SA inf/s/W':>11} {'ratio':>8}",
    ]
    for row in rows:
        a, s = row.adept, row.systolic
        lines.append(
            f"  {row.workload:<11} {a.inferences_per_s:>11.4g} {s.inferences_per_s:>10.4g} {a.power_w:>8.4g} "
            f"{s.power_w:>7.4g} {a.inferences_per_s_per_w:>13.4g} {s.inferences_per_s_per_w:>11.4g} "
            f"{row.efficiency_ratio:>7.3g}x"
        )
    means = mean_ratios(rows)
    lines.append(
        f"  inf/s/W ratio ADEPT/SA, this model: {means['arithmetic_mean']:.3g}x (arithmetic mean), "
        f"{means['geometric_mean']:.3g}x (geometric mean)"
    )
    lines.append("  published: " + ", ".join(f"{v}x ({k})" for k, v in PAPER_RATIOS.items())
                 + "; see docs/energy.md for why they differ")
    return "\n".join(lines)
