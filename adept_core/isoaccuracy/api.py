"""The Python API: :func:`iso_accuracy` for one (model, design), :func:`run_search` for a set, resumable."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from .cost import BASELINES, BATCHES, WORKLOADS, ZOO_WORKLOADS, cost_rows, empty_cost_rows
from .criteria import check_model, check_target
from .designs import Design, check_design
from .probe import ModelProbe, design_config
from .search import LASER_BRACKET_MW, STEPS, SearchResult, search_laser


@dataclass
class IsoAccuracy:
    """One model on one design: the search's outcome and the cost rows at its laser."""

    model: str
    design: Design
    search: SearchResult
    costs: list[dict[str, Any]]
    seeds: tuple[int, ...]
    reference_metrics: dict[str, float]
    metrics_at_laser: dict[str, float]
    #: Per probe, by laser: (laser mW, worst fidelity of the seeds run, headline IPS/W ratio) -- the figure's curve.
    curve: list[tuple[float, float, float]] = field(default_factory=list)


def iso_accuracy(model: str, design: Design, target: float = 0.99, *, config: str = "adept",
                 overrides: Mapping[str, Any] | None = None, seeds: Sequence[int] = (0, 1, 2), steps: int = STEPS,
                 lo_mw: float = LASER_BRACKET_MW[0], hi_mw: float = LASER_BRACKET_MW[1],
                 model_params: Mapping[str, Any] | None = None, workloads=WORKLOADS, batches=BATCHES,
                 baselines=BASELINES, backend: str = "auto") -> IsoAccuracy:
    """The least laser keeping ``model`` within ``target`` of fp32 on ``design``, and the cost there.

    ``costs`` holds one row per (workload, batch, baseline); when unreachable its numbers are ``None``
    (never a best-effort figure) and ``search.reason`` says why.
    """
    check_model(model)
    target = check_target(target)
    check_design(design)
    p = ModelProbe(model, design, config, overrides, model_params, backend)
    res = search_laser(p.score, target, seeds=seeds, lo_mw=lo_mw, hi_mw=hi_mw, steps=steps,
                       noiseless=p.noiseless, waveguide=p.waveguide)
    if res.reached:
        costs = cost_rows(design_config(design, config, overrides, res.laser_mw), workloads, batches, baselines)
        at = min((p.last_metrics[(res.laser_mw, s)] for s in seeds), key=lambda m: m["fidelity"])
    else:
        costs, at = [dict(r) for r in empty_cost_rows(workloads, batches, baselines)], {}
    curve = [(pr.laser_mw, min(pr.fidelities), headline_ratio(design_config(design, config, overrides, pr.laser_mw)))
             for pr in sorted(res.probes, key=lambda pr: pr.laser_mw)]
    return IsoAccuracy(model, design, res, costs, tuple(seeds), dict(p.reference_metrics), dict(at), curve)


def headline_ratio(cfg, workloads=ZOO_WORKLOADS, baseline: str = "systolic") -> float:
    """Geometric mean over ``workloads`` of the batch-1 IPS/W ratio vs ``baseline`` (the figure's y axis)."""
    rows = cost_rows(cfg, workloads, (1,), (baseline,))
    return math.exp(sum(math.log(r["ips_per_w_ratio"]) for r in rows) / len(rows))


def run_key(model: str, design: Design, target: float, config: str, overrides, seeds, steps, lo_mw, hi_mw,
            model_params, costs=(WORKLOADS, BATCHES, BASELINES)) -> str:
    """Identity of one search, for resuming: the same inputs (and the same cost rows asked for) give the same key."""
    blob = json.dumps([model, design.name, dict(design.overrides), design.adc, target, config, dict(overrides or {}),
                       list(seeds), steps, lo_mw, hi_mw, dict(model_params or {}), [list(c) for c in costs]],
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def result_rows(r: IsoAccuracy, key: str, config: str) -> list[dict[str, Any]]:
    """Flat rows (one per cost row) with units in the column names: the Parquet/JSON schema."""
    s = r.search
    head = {"run_key": key, "model": r.model, "design": r.design.name, "config": config, "adc": r.design.adc,
            "design_overrides": json.dumps(dict(r.design.overrides), sort_keys=True), "target": s.target,
            "status": s.status, "reason": s.reason, "laser_power_mw": s.laser_mw, "needed_laser_mw": s.needed_laser_mw,
            "laser_tolerance_factor": s.tolerance_factor, "at_bracket_floor": s.at_floor,
            "waveguide_power_mw": s.waveguide_power_mw, "max_waveguide_power_mw": s.max_waveguide_power_mw,
            "fidelity_worst_seed": s.fidelity_worst, "fidelity_best_seed": s.fidelity_best, "seeds": len(r.seeds),
            "probes": len(s.probes), "curve_json": json.dumps(r.curve)}
    return [{**head, **c} for c in r.costs]


def _search_rows(m: str, d: Design, key: str, target: float, config: str, kw: dict) -> list[dict[str, Any]]:
    # module-level so a Dask worker can unpickle it
    return result_rows(iso_accuracy(m, d, target, config=config, **kw), key, config)


def run_search(models: Iterable[str], designs: Iterable[Design], target: float = 0.99, *, config: str = "adept",
               overrides: Mapping[str, Any] | None = None, seeds: Sequence[int] = (0, 1, 2), steps: int = STEPS,
               lo_mw: float = LASER_BRACKET_MW[0], hi_mw: float = LASER_BRACKET_MW[1],
               model_params: Mapping[str, Mapping[str, Any]] | None = None, done: Iterable[str] = (),
               progress: Callable[[dict], None] | None = None, client: Any = None, **cost_kw) -> list[dict[str, Any]]:
    """Every (model, design): :func:`iso_accuracy` rows; searches whose ``run_key`` is in ``done`` are skipped.

    Inputs are validated before anything runs (a bad model name or target fails at once). With a Dask
    ``client`` every search is one task (a search is a chain of dependent emulator runs, so it is the
    unit of parallelism); rows arrive, and ``progress`` is called, in completion order.
    """
    models, designs = list(models), [check_design(d) for d in designs]
    for m in models:
        check_model(m)
    target = check_target(target)
    done, rows, todo = set(done), [], []
    for m in models:
        params = dict((model_params or {}).get(m, {}))
        for d in designs:
            costs = tuple(tuple(cost_kw.get(k, v)) for k, v in
                          (("workloads", WORKLOADS), ("batches", BATCHES), ("baselines", BASELINES)))
            key = run_key(m, d, target, config, overrides, seeds, steps, lo_mw, hi_mw, params, costs)
            kw = dict(overrides=overrides, seeds=tuple(seeds), steps=steps, lo_mw=lo_mw, hi_mw=hi_mw,
                      model_params=params, **cost_kw)
            if key in done:
                if progress is not None:
                    progress({"model": m, "design": d.name, "rows": [], "skipped": True})
            else:
                todo.append((m, d, key, kw))
    if client is None:
        for m, d, key, kw in todo:
            new = _search_rows(m, d, key, target, config, kw)
            rows.extend(new)
            if progress is not None:
                progress({"model": m, "design": d.name, "rows": new, "skipped": False})
        return rows
    from distributed import as_completed

    futures = {client.submit(_search_rows, m, d, key, target, config, kw, pure=False): (m, d) for m, d, key, kw in todo}
    for fut in as_completed(futures, loop=client.loop):  # this client's loop, not default_client()'s (dse/engine.py)
        m, d = futures[fut]
        new = fut.result()
        rows.extend(new)
        if progress is not None:
            progress({"model": m, "design": d.name, "rows": new, "skipped": False})
    return rows
