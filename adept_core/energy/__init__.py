"""Energy and performance reports: ``evaluate(graph, config, batch) -> Report``.

Also: :func:`evaluate_many` (many designs at once), :func:`lever_table` (what each
architectural lever buys), :func:`compare` / :func:`plot_breakdowns` (ADEPT vs the systolic
baseline on the zoo workloads).
"""

from .compare import PAPER_RATIOS, Comparison, compare, plot_breakdowns
from .evaluate import DesignSweep, evaluate, evaluate_many
from .levers import LeverResult, lever_table
from .report import LayerReport, Report

__all__ = [
    "Comparison", "DesignSweep", "LayerReport", "LeverResult", "PAPER_RATIOS", "Report", "compare", "evaluate",
    "evaluate_many", "lever_table", "plot_breakdowns",
]
