"""What a sweep computes at a point: the evaluation interface and the built-in evaluator.

The engine knows one interface, an *evaluator*: a picklable callable
``evaluator(point) -> dict`` mapping metric names (unit last:
``latency_s``, ``power_w``, ``energy_breakdown_j`` ...) to numbers, strings
or one level of nested dicts of numbers. Nested dicts become one column each,
the child name inserted before the unit: ``energy_breakdown_j = {"adc": x}``
becomes ``energy_breakdown_adc_j``. The built-in :func:`evaluate_point`
runs the cost model and/or the fidelity evaluation as the spec asks.

:func:`run_batch` is the unit of work a Dask task runs: it evaluates a list
of points in one go (amortising the per-task overhead) and turns an
exception of one point into an error record, so an impossible config never
stops the sweep.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable, Mapping

from .points import Point

#: The evaluation interface.
Evaluator = Callable[[Point], Mapping[str, Any]]


#: Keys of the cost report that describe the point rather than measure it (already columns of the row,
#: or covered by ``config_hash``), or are per-layer detail too large for one row.
_COST_REPORT_SKIP = ("workload", "config", "accelerator", "batch", "layers", "provenance")


def evaluate_point(point: Point) -> dict[str, Any]:
    """The built-in evaluator: cost model and/or fidelity, as ``point.compute`` says.

    Cost metrics are :meth:`adept_core.energy.Report.to_dict` without the
    per-layer table: ``latency_s``, ``inferences_per_s``, ``power_w``,
    ``inferences_per_s_per_w``, ``energy_per_inference_j``, ``macs``, the
    energy breakdown (``energy_breakdown_<part>_j``), utilisations and event counts.
    """
    if point.config is None:
        from ..errors import ConfigError

        raise ConfigError(point.config_error)
    metrics: dict[str, Any] = {}
    if "cost" in point.compute:
        from ..energy import evaluate

        report = evaluate(zoo_graph(point.workload.name, point.workload.params, point.batch), point.config,
                          batch=point.batch).to_dict()
        metrics.update((k, v) for k, v in report.items() if k not in _COST_REPORT_SKIP)
    if "fidelity" in point.compute:
        from ..fidelity import sweep_metrics

        metrics.update(sweep_metrics(point.workload.name, dict(point.workload.params), point.config,
                                     batch=point.batch, seed=point.seed, **dict(point.fidelity)))
    return metrics


@functools.lru_cache(maxsize=16)
def zoo_graph(name: str, params: tuple, batch: int):
    """The zoo graph of a workload, built once per worker process (points of a task share it)."""
    from ..graph import zoo

    return zoo.build(name, **dict(params), batch=batch)


def flatten_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """One column per metric: nested dicts are expanded, the child name going before the unit suffix."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            stem, _, unit = key.rpartition("_")
            for child, v in value.items():
                flat[f"{stem}_{child}_{unit}" if stem else f"{key}_{child}"] = _column_value(v)
        else:
            flat[key] = _column_value(value)
    return flat


def _column_value(value: Any) -> Any:
    """Numbers stay numbers (NumPy scalars become Python ones); other values become strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def run_batch(evaluator: Evaluator, points: list[Point]) -> list[dict[str, Any]]:
    """Evaluate ``points`` one after the other; one record per point.

    A record is ``{"point_hash", "error", "eval_time_s", **metrics}``;
    ``error`` is ``""`` on success, else ``"ExceptionType: message"`` and the
    metrics are absent. Only :class:`Exception` is caught: an interrupt or
    the death of the process is not a property of the point.
    """
    records = []
    for point in points:
        start = time.perf_counter()
        try:
            metrics = flatten_metrics(evaluator(point))
            error = ""
        except Exception as exc:  # noqa: BLE001 - any failure of one point is recorded, the sweep goes on
            metrics, error = {}, f"{type(exc).__name__}: {exc}"
        records.append({"point_hash": point.point_hash, "error": error,
                        "eval_time_s": time.perf_counter() - start, **metrics})
    return records
