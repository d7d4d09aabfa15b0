"""One table renderer for every command: ``text``, ``markdown``, ``csv`` or ``json``.

A command builds :class:`Table` objects (a title, column headers that carry
their unit, rows of cells) and prints ``render(tables, fmt)``. Keeping the
numbers as numbers until here means ``csv`` and ``json`` get full precision
while ``text`` and ``markdown`` get a readable rounding, and no command owns a
formatter of its own.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from .errors import ConfigError

#: Values of ``--format``.
FORMATS = ("text", "markdown", "csv", "json")


@dataclass
class Table:
    """A titled table. ``columns`` are headers in words with units (``"latency (us)"``)."""

    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    #: Lines printed after the table in text/markdown, kept as ``notes`` in JSON (dropped in CSV).
    notes: list[str] = field(default_factory=list)


def add_format_argument(parser, default: str = "text") -> None:
    """The shared ``--format`` option."""
    parser.add_argument("--format", default=default, choices=FORMATS,
                        help=f"how to print the tables: aligned text, Markdown, CSV or JSON [{default}]")


def cell(value: Any) -> str:
    """A value as a human reads it: 4 significant digits, ``-`` for missing."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e9:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def _numeric(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) or hasattr(v, "dtype")
               for v in values)


def _text(t: Table) -> str:
    cells = [[cell(v) for v in row] for row in t.rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(t.columns)]

    # Numbers right-aligned (digits line up), words left-aligned.
    right = [bool(t.rows) and _numeric([r[i] for r in t.rows]) for i in range(len(t.columns))]

    def line(values: Sequence[str]) -> str:
        return "  " + "  ".join((v.rjust(w) if r else v.ljust(w)) for v, w, r in zip(values, widths, right)).rstrip()

    out = [t.title, line(t.columns), "  " + "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out += ["  " + n for n in t.notes]
    return "\n".join(out)


def _markdown(t: Table) -> str:
    def esc(v: str) -> str:
        return v.replace("|", "\\|")

    out = [f"**{t.title}**", "", "| " + " | ".join(esc(c) for c in t.columns) + " |",
           "|" + "|".join("---" for _ in t.columns) + "|"]
    out += ["| " + " | ".join(esc(cell(v)) for v in row) + " |" for row in t.rows]
    if t.notes:
        out += [""] + t.notes
    return "\n".join(out)


def _csv(t: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([f"# {t.title}"])
    writer.writerow(t.columns)
    writer.writerows([["" if v is None else v for v in row] for row in t.rows])
    return buf.getvalue().rstrip("\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if hasattr(value, "item"):  # NumPy scalars
        return _jsonable(value.item())
    return value


def render(tables: Table | Sequence[Table], fmt: str = "text") -> str:
    """The tables in format ``fmt`` (one of :data:`FORMATS`), separated by blank lines."""
    tables = [tables] if isinstance(tables, Table) else list(tables)
    if fmt == "json":
        return json.dumps({"tables": [{"title": t.title, "columns": t.columns,
                                       "rows": [[_jsonable(v) for v in row] for row in t.rows],
                                       "notes": t.notes} for t in tables]}, indent=1)
    renderers = {"text": _text, "markdown": _markdown, "csv": _csv}
    if fmt not in renderers:
        raise ConfigError(f"unknown table format {fmt!r}; allowed: {', '.join(FORMATS)}")
    return "\n\n".join(renderers[fmt](t) for t in tables)
