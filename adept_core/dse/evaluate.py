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
import numbers
import time
from typing import Any, Callable, Mapping

from .feasibility import infeasible_error
from .points import Point
from .spec import SweepSpec

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
    energy breakdown (``energy_breakdown_<part>_j``), utilisations and event
    counts. Fidelity metrics (real models only) are the model's own
    ``compare`` metrics prefixed ``fidelity_`` (see :func:`fidelity_metrics`).
    """
    if point.config is None:
        from ..errors import ConfigError

        raise ConfigError(point.config_error)
    metrics: dict[str, Any] = {}
    if "cost" in point.compute:
        from ..energy import evaluate

        report = evaluate(workload_graph(point.workload.name, point.workload.params, point.batch), point.config,
                          batch=point.batch).to_dict()
        metrics.update((k, v) for k, v in report.items() if k not in _COST_REPORT_SKIP)
    if "fidelity" in point.compute:
        metrics.update(fidelity_metrics(point))
    if point.config.accelerator == "adept":
        # A design over the waveguide power limit is still evaluated (the preset itself is over it), and
        # says so in its row: ``infeasible`` holds the reason, empty when the design is within the limit;
        # run_batch turns a reason into the row's error (feasibility.py), the metrics stay.
        from ..hardware.linkbudget import waveguide_limit_note, waveguide_power_mw

        metrics["waveguide_power_mw"] = waveguide_power_mw(point.config)
        metrics["infeasible"] = waveguide_limit_note(point.config) or ""
    return metrics


def check_builtin(spec: SweepSpec) -> None:
    """What the built-in evaluator needs from a spec: known workloads, trained ones for fidelity.

    Zoo models (:data:`adept_core.graph.zoo.ZOO_NAMES`) have shapes but
    synthetic weights: cost only. Real models
    (:data:`adept_core.models.REAL_MODELS`) carry trained weights and their
    data set, whose size fixes the batch (no ``batch`` axis). Workload
    parameters must be parameters of the model's builder (``batch`` is the
    sweep's own axis, not a workload parameter).
    """
    from ..errors import ConfigError
    from ..graph.zoo import ZOO_NAMES
    from ..graph.zoo import check_params as check_zoo_params
    from ..models import REAL_MODELS
    from ..models import check_params as check_real_params

    for w in spec.workloads:
        if w.name not in ZOO_NAMES + REAL_MODELS:
            raise ConfigError(f"unknown workload {w.name!r}; zoo models (cost): {', '.join(ZOO_NAMES)}; "
                              f"real models (cost and fidelity): {', '.join(REAL_MODELS)}")
        # A misspelt parameter (seq_lne) would otherwise fail every point of the workload, one by one.
        if w.name in REAL_MODELS:
            check_real_params(w.name, dict(w.params))
        else:
            check_zoo_params(w.name, dict(w.params), reserved=("batch",))
        if "fidelity" in spec.compute and w.name not in REAL_MODELS:
            raise ConfigError(f"fidelity needs trained weights and data: workload {w.name!r} is a zoo model; "
                              f"use one of {', '.join(REAL_MODELS)} (or compute = ['cost'])")
        if w.name in REAL_MODELS and any(axis.key == "batch" for axis in spec.axes):
            raise ConfigError(f"real model {w.name!r} runs its own data set (its size is the batch); "
                              "remove the batch axis or sweep it on zoo models in another spec")


def is_real_model(name: str) -> bool:
    from ..models import REAL_MODELS

    return name in REAL_MODELS


@functools.lru_cache(maxsize=16)
def workload_graph(name: str, params: tuple, batch: int | None):
    """The Graph of a workload, built once per worker process (points of a task share it)."""
    if is_real_model(name):
        return real_model(name, params)[0].graph
    from ..graph import zoo

    return zoo.build(name, **dict(params), batch=batch)


@functools.lru_cache(maxsize=2)
def real_model(name: str, params: tuple):
    """A real model and its float32 reference outputs, once per worker process."""
    from ..emulate import prepare
    from ..models import build

    model = build(name, **dict(params))
    reference = prepare(model.graph, precision="fp32").run(model.inputs).outputs
    return model, reference


#: Options of the ``[fidelity]`` table of a spec and their defaults.
FIDELITY_OPTIONS = {"adc": "calibrated", "noise": True, "backend": "auto", "threads": 1}


def fidelity_metrics(point: Point) -> dict[str, Any]:
    """Fidelity of a real model on the point's design, against its float32 run.

    The kernel spec comes from the config through the link budget
    (:func:`adept_core.hardware.kernel_spec`: core size, bits, and noise from
    laser power, losses, detector and clock); ADC ranges are calibrated on the
    model's calibration inputs (``adc = "calibrated"``, as a deployed chip) or
    set to the worst case; the evaluation run uses ``point.seed``. Options
    (``[fidelity]`` table): ``adc``, ``noise`` (false: quantization only),
    ``backend``, ``threads`` (kernel threads; 1 by default because Dask
    already runs one worker process per core).

    Returns the model's ``compare`` metrics prefixed ``fidelity_`` (e.g.
    ``fidelity_top1_agree``, ``fidelity_emb_cos_mean``), the link budget's
    ``link_enob_bits`` and ``fidelity_clipped_layers``.
    """
    from dataclasses import replace

    from ..emulate import prepare
    from ..hardware import kernel_spec, link_budget
    from ..kernels import NoiseSpec

    opts = {**FIDELITY_OPTIONS, **dict(point.fidelity)}
    model, reference = real_model(point.workload.name, point.workload.params)
    spec = kernel_spec(point.config)
    if not opts["noise"]:
        spec = replace(spec, noise=NoiseSpec())
    prepared = prepare(model.graph, spec=spec, adc=opts["adc"], backend=opts["backend"], threads=opts["threads"])
    if opts["adc"] == "calibrated":
        prepared.calibrate(model.calibration_inputs)
    result = prepared.run(model.inputs, seed=point.seed)
    metrics = {f"fidelity_{k}": v for k, v in model.compare(reference, result.outputs).items()}
    metrics["fidelity_clipped_layers"] = len(result.clipped_layers)
    metrics["link_enob_bits"] = link_budget(point.config).enob_bits if opts["noise"] else float("inf")
    return metrics


#: Unit suffixes a nested metric's child name is inserted before (``energy_breakdown_j`` -> ``..._adc_j``).
UNIT_SUFFIXES = ("s", "ns", "us", "ms", "j", "pj", "nj", "uj", "mj", "w", "mw", "hz", "ghz", "bits", "bytes",
                 "mm2", "db", "mib")


def flatten_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """One column per metric: nested dicts are expanded, the child name going before a unit suffix.

    ``energy_breakdown_j = {"adc": x}`` gives ``energy_breakdown_adc_j``;
    a key without a unit suffix (``utilization = {"asic": u}``) gives
    ``utilization_asic``.
    """
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            stem, _, unit = key.rpartition("_")
            for child, v in value.items():
                flat[f"{stem}_{child}_{unit}" if stem and unit in UNIT_SUFFIXES else f"{key}_{child}"] = \
                    _column_value(v)
        else:
            flat[key] = _column_value(value)
    return flat


def _column_value(value: Any) -> Any:
    """Python and NumPy numbers become Python bool/int/float; None and strings stay; anything else becomes text."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if getattr(value, "dtype", None) is not None and value.dtype.kind == "b":
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


def run_batch(evaluator: Evaluator, points: list[Point]) -> list[dict[str, Any]]:
    """Evaluate ``points`` one after the other; one record per point.

    A record is ``{"point_hash", "error", "eval_time_s", **metrics}``;
    ``error`` is ``""`` on success, ``"infeasible: reason"`` when the metrics
    say the design is over a physical limit (the metrics are kept,
    :mod:`adept_core.dse.feasibility`), else ``"ExceptionType: message"`` and the
    metrics are absent. Only :class:`Exception` is caught: an interrupt or
    the death of the process is not a property of the point.
    """
    records = []
    for point in points:
        start = time.perf_counter()
        try:
            result = evaluator(point)
            if not isinstance(result, Mapping):
                raise TypeError(f"the evaluator returned {type(result).__name__}, not a dict of metrics")
            metrics = flatten_metrics(result)
            error = infeasible_error(metrics)
        except Exception as exc:  # noqa: BLE001 - any failure of one point is recorded, the sweep goes on
            metrics, error = {}, f"{type(exc).__name__}: {exc}"
        records.append({"point_hash": point.point_hash, "error": error,
                        "eval_time_s": time.perf_counter() - start, **metrics})
    return records
