"""Energy and performance reports: ``evaluate(graph, config, batch) -> Report``."""

from .evaluate import DesignSweep, evaluate, evaluate_many
from .report import LayerReport, Report

__all__ = ["DesignSweep", "LayerReport", "Report", "evaluate", "evaluate_many"]
