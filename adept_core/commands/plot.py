"""``adept plot RESULTS``: a metric against an axis, or a Pareto front, as PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

#: Default y of --pareto (x defaults to the first fidelity metric of the results).
PARETO_Y = "inferences_per_s_per_w"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plot", help="plot sweep results (a metric vs an axis, or a Pareto front) as PNG",
        description="Plot a results file written by `adept sweep`. Rows that failed are left out; infeasible designs (error 'infeasible: ...') are drawn hollow "
                    "and join no Pareto front (--where infeasible= leaves them out).")
    p.add_argument("results", type=Path, help="Parquet results file")
    p.add_argument("--x", help="column on the x axis (an axis of the sweep, or with --pareto a fidelity metric)")
    p.add_argument("--y", help="column on the y axis (a metric, unit in its name)")
    p.add_argument("--color", metavar="AXIS", help="one colour per value of this column")
    p.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                   help="keep only rows where COLUMN equals VALUE (repeatable)")
    p.add_argument("--pareto", action="store_true",
                   help=f"Pareto plot: every design and the front maximising both axes (default x: the first "
                        f"fidelity_* metric of the results, y: {PARETO_Y})")
    p.add_argument("--annotate", metavar="COLUMN", help="with --pareto: label the front's points with this column")
    p.add_argument("--x-lower-better", action="store_true", help="with --pareto: x is an error (minimise it)")
    p.add_argument("--logx", action="store_true", help="logarithmic x axis")
    p.add_argument("--logy", action="store_true", help="logarithmic y axis")
    p.add_argument("--title", help="plot title (default: y vs x and the --where filters)")
    p.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="output figure: 300 dpi PNG, or vector for .pdf/.svg (default: RESULTS stem + "
                        "_Y_vs_X + the --where filters + .png)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    import sys

    from ..plot import default_fidelity_column, default_name, mixing_warnings, plot_metric, plot_pareto
    from ..dse import read_results

    where = {}
    for item in args.where:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--where takes COLUMN=VALUE, got {item!r}")
        where[key] = value
    table = read_results(args.results)
    if args.pareto:
        x, y = args.x or default_fidelity_column(table), args.y or PARETO_Y
    elif not (args.x and args.y):
        raise ConfigError("--x and --y are required (or --pareto)")
    else:
        x, y = args.x, args.y
    out = args.out or Path(default_name(args.results, x, y, where, args.pareto))
    for message in mixing_warnings(table, x, args.color, where, pareto=args.pareto):
        print(f"adept plot: warning: {message}", file=sys.stderr)
    if args.pareto:
        front = plot_pareto(table, x, y, out, color=args.color, where=where, x_higher_better=not args.x_lower_better,
                            logy=args.logy, title=args.title, annotate=args.annotate)
        print(f"wrote {out} ({len(front)} designs on the Pareto front)")
    else:
        n = plot_metric(table, x, y, out, color=args.color, where=where, logx=args.logx, logy=args.logy,
                        title=args.title)
        print(f"wrote {out} ({n} points)")
    return 0
