"""The search's outputs: one table, one figure, Parquet rows (and reading them back to resume)."""

from __future__ import annotations

import json
import math
import os
from typing import Any, Sequence

from ..errors import ConfigError
from ..tables import Table

#: Largest results file read back for resuming, bytes.
MAX_RESULTS_BYTES = 256 << 20


def summary_table(rows: Sequence[dict[str, Any]]) -> Table:
    """One row per (model, design, workload, batch) with both baselines side by side; an unreachable
    (model, design) is one row with its reason and no numbers (never a best-effort figure)."""
    bases = list(dict.fromkeys(r["baseline"] for r in rows))
    t = Table("iso-accuracy: least laser within the target of fp32, and ADEPT / systolic IPS/W there",
              ["model", "design", "status", "laser (mW)", "per waveguide (mW)", "fidelity, worst seed",
               "fidelity, best seed", "workload", "batch", "ADEPT (inf/s)", "ADEPT (W)", "ADEPT (inf/s/W)",
               *(c for b in bases for c in (f"{b} (inf/s/W)", f"ratio vs {b}"))])
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r["model"], r["design"], r["workload"], r["batch"]), []).append(r)
    shown = set()
    for (model, design, workload, batch), rs in groups.items():
        r = rs[0]
        head = [model, design, r["status"], r["laser_power_mw"] or r["needed_laser_mw"], r["waveguide_power_mw"],
                r["fidelity_worst_seed"], r["fidelity_best_seed"]]
        if r["status"] != "reached":
            if (model, design) not in shown:
                shown.add((model, design))
                t.rows.append(head + [None] * (len(t.columns) - len(head)))
                t.notes.append(f"{model} / {design}: unreachable: {r['reason']}")
            continue
        by = {x["baseline"]: x for x in rs}
        t.rows.append(head + [workload, batch, r["adept_inferences_per_s"], r["adept_power_w"],
                              r["adept_inferences_per_s_per_w"],
                              *(v for b in bases for v in (by[b]["baseline_inferences_per_s_per_w"] if b in by else None,
                                                           by[b]["ips_per_w_ratio"] if b in by else None))])
    tol = {r["laser_tolerance_factor"] for r in rows if r["laser_tolerance_factor"]}
    if tol:
        t.notes.insert(0, f"laser: the least passing probe; the threshold lies within a factor {max(tol):.4g} below "
                          "it (bisection tolerance); unreachable rows show the laser the target needs, if any")
    return t


def write_parquet(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = f"{os.fspath(path)}.tmp"
    pq.write_table(pa.Table.from_pylist(list(rows)), tmp)
    os.replace(tmp, path)  # a crash mid-write never leaves a half file to resume from


def read_parquet(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of an earlier run (for resuming); a file that is not this command's Parquet is refused by name."""
    import pyarrow.parquet as pq

    if not os.path.exists(path):
        return []
    size = os.path.getsize(path)
    if size > MAX_RESULTS_BYTES:
        raise ConfigError(f"results file {os.fspath(path)!r} is {size} bytes, more than {MAX_RESULTS_BYTES}")
    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises several types for a foreign or corrupt file
        raise ConfigError(f"results file {os.fspath(path)!r} is not readable Parquet: {exc}") from None
    if rows and not {"run_key", "model", "design", "status", "curve_json"} <= set(rows[0]):
        raise ConfigError(f"results file {os.fspath(path)!r} is not an `adept isoaccuracy` results file")
    return rows


def plot(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """IPS/W ratio vs fidelity, one curve per (design, model); the iso-accuracy point marked, infeasible ones hollow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..figstyle import save

    seen, curves = set(), []
    for r in rows:
        key = (r["design"], r["model"])
        if key not in seen:
            seen.add(key)
            curves.append((key, r))
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4.2), squeeze=False, sharey=True)
    target = None
    for (design, model), r in curves:
        ax = axes[0][models.index(model)]
        pts = [p for p in json.loads(r["curve_json"]) if math.isfinite(p[1])]
        if not pts:
            continue
        fid = [p[1] for p in pts]
        line, = ax.plot(fid, [p[2] for p in pts], marker=".", label=design)
        target = r["target"]
        laser = r["laser_power_mw"] or r["needed_laser_mw"]
        hit = [p for p in pts if laser is not None and p[0] == laser]
        if hit:
            ax.plot(hit[0][1], hit[0][2], marker="o", ms=9, color=line.get_color(),
                    mfc=line.get_color() if r["status"] == "reached" else "none")
    for ax, model in zip(axes[0], models):
        ax.set_xlim(min(0.0, ax.get_xlim()[0]), 1.02)
        ax.set_yscale("log")
        ax.set_xlabel("fidelity, worst seed (smallest criterion / fp32)")
        ax.set_title(f"{model}: one point per laser probed", fontsize=10)
        if target is not None and target < 1:
            ax.axvline(target, color="k", ls=":", lw=1, label=f"target {target:g}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("ADEPT / systolic IPS/W (ratio, geo-mean, batch 1)")
    axes[0][-1].legend(fontsize=7, title="big dot: iso-accuracy laser\n(hollow: over waveguide limit)",
                       title_fontsize=7)
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)
