"""Plots of sweep results as figures (matplotlib, Agg backend: no display needed).

PNG files are written at 300 dpi, ``.pdf``/``.svg`` as vector graphics; axes and legends are
labelled in words with units (:mod:`adept_core.figstyle`).

- :func:`plot_metric` -- one metric against one axis, one line (or point
  cloud) per value of a colour axis;
- :func:`plot_pareto` -- every point in a (fidelity, efficiency) plane with
  its Pareto front, the designs no other design beats on both.

Rows that failed are left out (their count is returned); infeasible rows
(``error`` "infeasible: ...", metrics kept) are drawn hollow and never join
a Pareto front. Where several
rows share an x and a colour (other axes vary), points are drawn without
lines: pin the other axes with ``where`` for clean curves.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from . import figstyle
from .errors import ConfigError


def _column(table: Any, name: str) -> list:
    if name not in table.column_names:
        raise ConfigError(f"results have no column {name!r}; columns: {', '.join(table.column_names)}")
    return table.column(name).to_pylist()


def select_rows(table: Any, where: Mapping[str, Any] | None = None) -> tuple[Any, int]:
    """Rows with metrics that match every ``where`` column value; also the number of failed rows dropped.

    A failed row (``error`` "ExceptionType: message", no metrics) is dropped; an infeasible one
    (``error`` "infeasible: ...", :mod:`adept_core.dse.feasibility`) keeps its metrics and is kept:
    the plots draw it hollow, so a laser sweep shows where the limit cuts the curve
    (``--where infeasible=`` leaves such rows out altogether).
    """
    import pyarrow as pa

    from .dse.feasibility import is_failure

    errors = _column(table, "error") if "error" in table.column_names else [""] * table.num_rows
    keep = [not is_failure(e) for e in errors]
    for key, wanted in (where or {}).items():
        values = _column(table, key)
        keep = [k and _matches(v, wanted) for k, v in zip(keep, values)]
    failed = sum(1 for e in errors if is_failure(e))
    return table.filter(pa.array(keep, type=pa.bool_())), failed


def infeasible_flags(rows: Any) -> list[bool]:
    """Per row: is the design over a physical limit (drawn hollow, never on a Pareto front)."""
    from .dse.feasibility import is_infeasible

    if "error" not in rows.column_names:
        return [False] * rows.num_rows
    return [is_infeasible(e) for e in _column(rows, "error")]


#: Legend entry of the hollow markers.
INFEASIBLE_LABEL = "hollow: infeasible (over a physical limit)"


def _matches(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, str) and not isinstance(value, str):
        try:
            return value == type(value)(wanted) if not isinstance(value, bool) else str(value).lower() == wanted.lower()
        except (TypeError, ValueError):
            return False
    return value == wanted


def _figure(width_in: float = 6.4):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width_in, 4.2), dpi=100, layout="constrained")
    return fig, ax


_save = figstyle.save


# Columns that change what a point means: mixing their values in one plot without saying so misleads.
def _meaning_columns(table: Any) -> list[str]:
    # Config keys are dotted (photonic.adc_bits); undotted *_bits columns are results (link_enob_bits).
    return [c for c in table.column_names if c in ("workload", "bits") or ("." in c and c.endswith("_bits"))]


def mixing_warnings(table: Any, x: str, color: str | None, where: Mapping[str, Any] | None,
                    pareto: bool = False) -> list[str]:
    """Warnings for rows that differ in a workload or a bit width the plot does not show or pin.

    A Pareto plot draws one front per workload, so there only bit widths count.
    """
    rows, _ = select_rows(table, where)
    out = []
    for column in _meaning_columns(rows):
        if column in (x, color) or column in (where or {}) or (pareto and column == "workload"):
            continue
        values = _ordered(set(rows.column(column).to_pylist()))
        if len(values) > 1:
            shown = ", ".join(str(v) for v in values[:6]) + (", ..." if len(values) > 6 else "")
            out.append(f"the plotted rows mix {column} = {shown}: pin one with --where {column}=VALUE "
                       f"or show it with --color {column}")
    return out


def default_name(results: str | os.PathLike[str], x: str, y: str, where: Mapping[str, Any] | None,
                 pareto: bool = False) -> str:
    """``RESULTS-stem_[pareto_]Y_vs_X[_where-COL-VALUE...].png``: a different --where, a different file."""
    import re

    stem = os.path.splitext(os.fspath(results))[0]
    parts = [("pareto_" if pareto else "") + f"{y}_vs_{x}"]
    parts += [f"{k}-{v}" for k, v in (where or {}).items()]
    return stem + "_" + re.sub(r"[^A-Za-z0-9_.=-]+", "-", "_".join(parts)) + ".png"


def plot_metric(table: Any, x: str, y: str, out: str | os.PathLike[str], color: str | None = None,
                where: Mapping[str, Any] | None = None, logx: bool = False, logy: bool = False,
                title: str | None = None) -> int:
    """Plot column ``y`` against column ``x``, one series per value of ``color``; returns rows plotted.

    Parameters
    ----------
    table : pyarrow.Table
        Sweep results (:func:`adept_core.dse.read_results`).
    x, y : str
        Column names (an axis and a metric, units in the names).
    out : path
        Figure to write: 300 dpi PNG, or vector for ``.pdf``/``.svg``.
    color : str, optional
        Column whose values get one colour (and one legend entry) each.
    where : dict, optional
        Keep only rows whose column equals the value (strings are converted
        to the column's type: ``{"batch": "8"}`` works from the command line).
    logx, logy : bool
        Logarithmic axes.
    """
    rows, failed = select_rows(table, where)
    if rows.num_rows == 0:
        raise ConfigError(f"no successful rows to plot (where={dict(where or {})}, {failed} failed rows)")
    xs, ys = _column(rows, x), _column(rows, y)
    groups = _column(rows, color) if color else [None] * rows.num_rows
    over = infeasible_flags(rows)
    fig, ax = _figure()
    categorical = any(isinstance(v, str) for v in xs)
    ticks = list(dict.fromkeys(xs)) if categorical else None
    for key in _ordered(set(groups)):
        pts = sorted((ticks.index(a) if categorical else a, b, o) for a, b, g, o in zip(xs, ys, groups, over)
                     if g == key)
        px, py = [p[0] for p in pts], [p[1] for p in pts]
        unique_x = len(set(px)) == len(px)
        label = None if key is None else figstyle.legend_entry(color, key)
        (line,) = ax.plot(px, py, marker="o", linestyle="-" if unique_x else "none", label=label)
        hollow = [(p[0], p[1]) for p in pts if p[2]]
        if hollow:  # the curve goes on through them: where the limit cuts it is the point of the plot
            ax.plot([h[0] for h in hollow], [h[1] for h in hollow], marker="o", linestyle="none",
                    color=line.get_color(), markerfacecolor="white")
    if any(over):
        ax.plot([], [], marker="o", linestyle="none", color="gray", markerfacecolor="white", label=INFEASIBLE_LABEL)
    if categorical:
        ax.set_xticks(range(len(ticks)), [str(t) for t in ticks])
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    if logx and not categorical:
        _label_values(ax, sorted(set(xs)))
    ax.set_xlabel(figstyle.label(x))
    ax.set_ylabel(figstyle.label(y))
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(title or _title(y, x, where), fontsize="medium")
    if color or any(over):
        ax.legend(fontsize="small")
    _save(fig, out)
    return rows.num_rows


def default_fidelity_column(table: Any) -> str:
    """The first ``fidelity_*`` metric with values (the headline one of the model's ``compare``)."""
    for name in table.column_names:
        has_values = table.column(name).null_count < table.num_rows
        if name.startswith("fidelity_") and name != "fidelity_clipped_layers" and has_values:
            return name
    raise ConfigError("results have no fidelity metric: run the sweep with compute = ['cost', 'fidelity'] "
                      "on a real model, or pass --x")


def pareto_front(xs: list[float], ys: list[float], x_higher_better: bool = True) -> list[int]:
    """Indices of the Pareto-optimal points (maximising y, and x unless ``x_higher_better`` is false), by x."""
    sign = 1.0 if x_higher_better else -1.0
    order = sorted(range(len(xs)), key=lambda i: (-sign * xs[i], -ys[i]))
    front, best_y = [], float("-inf")
    for i in order:
        if ys[i] > best_y:
            front.append(i)
            best_y = ys[i]
    return sorted(front, key=lambda i: xs[i])


def plot_pareto(table: Any, x: str, y: str, out: str | os.PathLike[str], color: str | None = None,
                where: Mapping[str, Any] | None = None, x_higher_better: bool = True, logy: bool = False,
                title: str | None = None, annotate: str | None = None) -> list[int]:
    """Scatter every design in the (``x``, ``y``) plane and draw its Pareto front; returns the front's row indices.

    ``y`` is maximised (e.g. ``inferences_per_s_per_w``); ``x`` too, unless
    ``x_higher_better`` is false (an error metric rather than an accuracy).
    Designs are compared within one workload only (a ResNet-50 point does
    not dominate a BERT-large one): each workload gets its own front.
    ``color`` only colours the points; ``annotate`` writes that column's
    value next to each point of a front. Row indices refer to the rows kept by ``where``.
    """
    rows, failed = select_rows(table, where)
    if rows.num_rows == 0:
        raise ConfigError(f"no successful rows to plot (where={dict(where or {})}, {failed} failed rows)")
    xs, ys = _column(rows, x), _column(rows, y)
    valid = [i for i, (a, b) in enumerate(zip(xs, ys)) if a is not None and b is not None]
    xs, ys = [xs[i] for i in valid], [ys[i] for i in valid]

    def kept(name: str | None) -> list:
        values = _column(rows, name) if name else [None] * rows.num_rows
        return [values[i] for i in valid]

    groups, workloads = kept(color), kept("workload" if "workload" in rows.column_names else None)
    labels = kept(annotate)
    over_all = infeasible_flags(rows)
    over = [over_all[i] for i in valid]
    fig, ax = _figure(8.4)  # room for the legend beside the axes
    for key in _ordered(set(groups)):
        idx = [i for i, g in enumerate(groups) if g == key and not over[i]]
        hollow = [i for i, g in enumerate(groups) if g == key and over[i]]
        dots = ax.scatter([xs[i] for i in idx], [ys[i] for i in idx], s=22, alpha=0.75,
                          label=None if key is None else figstyle.legend_entry(color, key))
        if hollow:
            ax.scatter([xs[i] for i in hollow], [ys[i] for i in hollow], s=22, alpha=0.75, facecolors="none",
                       edgecolors=dots.get_facecolor()[:1] if idx else "gray")
    if any(over):
        ax.scatter([], [], s=22, facecolors="none", edgecolors="gray", label=INFEASIBLE_LABEL)
    fronts = []
    for n, load in enumerate(_ordered(set(workloads))):
        # A design that cannot be built dominates nothing: the front is over the feasible designs.
        idx = [i for i, w in enumerate(workloads) if w == load and not over[i]]
        if not idx:
            continue
        front = [idx[j] for j in pareto_front([xs[i] for i in idx], [ys[i] for i in idx], x_higher_better)]
        many = len(set(workloads)) > 1
        ax.plot([xs[i] for i in front], [ys[i] for i in front], color="black", linewidth=1.0,
                linestyle=("-", "--", ":", "-.")[n % 4], marker="o", markerfacecolor="none", markersize=10,
                label="Pareto front" + (f" ({load})" if many else ""))
        fronts += front
    if annotate and fronts:
        # Says what the numbers next to the front are (a legend entry without a marker).
        ax.plot([], [], linestyle="none", label=f"labels: {figstyle.label(annotate)}")
    ax.set_yscale("log" if logy else "linear")
    ax.margins(x=0.08, y=0.08)  # room for the labels of points at the edges
    ax.set_xlabel(figstyle.label(x) + ("" if x_higher_better else "  (lower is better)"))
    ax.set_ylabel(figstyle.label(y))
    ax.grid(True, alpha=0.3)
    ax.set_title(title or _title(y, x, where, "Pareto front: "), fontsize="medium")
    # Beside the axes, not over them: a front's points sit in every corner.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    if annotate and fronts:
        # Last, after the legend and limits are final, so the label boxes are measured where they are drawn;
        # then the layout is frozen so saving does not move the axes under the labels.
        fig.canvas.draw()
        fig.set_layout_engine("none")
        figstyle.annotate_points(ax, [(xs[i], ys[i]) for i in fronts], [_short(labels[i]) for i in fronts])
    _save(fig, out)
    return sorted(valid[i] for i in fronts)


def _short(value: Any) -> str:
    """Point labels: 3 significant digits, thousands separated (31,623 rather than 31622.8)."""
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def _label_values(ax: Any, values: list) -> None:
    """On a log axis with few distinct values (1, 2, 4, 8, 16 cores), label the values themselves."""
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    if 1 < len(values) <= 12:
        ax.xaxis.set_major_locator(FixedLocator(values))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(ScalarFormatter())


def _ordered(keys: set) -> list:
    """Sort legend keys; mixed types (None with numbers) sort by their text."""
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=str)


def _title(y: str, x: str, where: Mapping[str, Any] | None, prefix: str = "") -> str:
    pinned = ", ".join(figstyle.legend_entry(k, v) for k, v in (where or {}).items())
    short = lambda c: figstyle.label(c).split(" (")[0]  # noqa: E731 -- units are on the axes
    return f"{prefix}{short(y)} against {short(x)}" + (f"\n{pinned}" if pinned else "")
