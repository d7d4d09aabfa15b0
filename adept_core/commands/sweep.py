"""``adept sweep SPEC.toml``: run a design-space sweep (see docs/sweep.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .argtypes import non_negative_int, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep", help="run a design-space sweep (cost and/or fidelity) on Dask",
        description="Evaluate every point of SPEC (workloads x axes) and write one Parquet row per point. "
                    "Points already in the results file are skipped, so an interrupted sweep resumes.")
    p.add_argument("spec", type=Path, help="sweep spec (TOML; see docs/sweep.md)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler (tcp://host:8786); "
                   "default: start a LocalCluster of worker processes")
    p.add_argument("--workers", type=non_negative_int, default=None, metavar="N",
                   help="LocalCluster worker processes (default: one per CPU); 0 = run serially in this process")
    p.add_argument("--out", type=Path, default=None, metavar="RESULTS",
                   help="results file (default: SPEC's name with .parquet, in the current directory)")
    p.add_argument("--points-per-task", type=positive_int, default=None, metavar="N",
                   help="points evaluated per Dask task (default: the spec's, else automatic)")
    p.add_argument("--max-points", type=positive_int, default=None, metavar="N",
                   help="most points the spec may have (default: its max_points, else 100000)")
    p.add_argument("--listen-all", action="store_true",
                   help="the LocalCluster (scheduler, workers, dashboard) listens on every network interface "
                        "instead of 127.0.0.1 only; anyone who reaches it can run code on this machine")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..dse import run_sweep

    if args.scheduler and args.workers is not None:
        raise ConfigError("--workers starts a LocalCluster; it cannot be combined with --scheduler")
    out = args.out or Path(args.spec.stem + ".parquet")
    result = run_sweep(args.spec, client=args.scheduler, out=out, workers=args.workers,
                       points_per_task=args.points_per_task, progress=False if args.no_progress else None,
                       max_points=args.max_points, listen_all=args.listen_all)
    rate = result.computed / result.elapsed_s if result.elapsed_s > 0 and result.computed else 0.0
    print(f"{result.total} points: {result.skipped} already in {out}, {result.computed} computed "
          f"({result.failed} failed with an error"
          + (f", {result.infeasible} over a physical limit: error 'infeasible: ...', metrics kept"
             if result.infeasible else "")
          + f") in {result.elapsed_s:.1f} s ({rate:.1f} points/s)"
          + (f"; {result.lost} lost to worker failures (rerun to retry them)" if result.lost else ""))
    return 1 if result.lost else 0
