"""What a real-model fidelity study needs besides the Graph: data, calibration data, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..graph.ir import Graph

Outputs = dict[str, np.ndarray]


@dataclass
class RealModel:
    """A trained model on real data, ready for the executor.

    Attributes
    ----------
    name : str
        Registry name (``"minilm"``, ``"efficientnet-lite0"``).
    graph : Graph
        The network with its trained weights (concrete arrays).
    inputs : dict
        Graph input name -> the real evaluation data.
    calibration_inputs : dict
        Inputs of the same shapes for the ADC range calibration run; held-out
        data where the model has some (see each loader).
    samples : list of str
        One label per evaluated item (sentence or photo name), in batch order.
    compare : callable
        ``compare(reference_outputs, test_outputs) -> {metric: float}``: the
        fidelity metrics of a run against the fp32 reference (or against itself).
    describe : callable
        ``describe(outputs) -> list[str]``: one readable line per sample (top
        classes, pair similarities).
    metric_help : dict
        Metric name -> one-line meaning (units, range), printed under tables.
    """

    name: str
    graph: Graph
    inputs: Outputs
    calibration_inputs: Outputs
    samples: list[str]
    compare: Callable[[Outputs, Outputs], dict[str, float]]
    describe: Callable[[Outputs], list[str]]
    metric_help: dict[str, str] = field(default_factory=dict)
