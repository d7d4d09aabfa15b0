"""``adept isoaccuracy``: ADEPT vs the systolic baselines at equal accuracy (docs/isoaccuracy.md).

Examples::

    adept isoaccuracy                                   # both models, the default designs
    adept isoaccuracy --quick                           # a smoke subset (< 60 s)
    adept isoaccuracy --designs my.toml --target 0.95 --out iso.parquet --plot iso.png
"""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from ..tables import add_format_argument, render
from .argtypes import non_negative_int, positive_float, positive_int
from .linkbudget import parse_override

#: ``--quick``: one small data subset per model, two designs, two seeds, five bisection steps over 4 decades (tolerance x1.33).
QUICK = {"models": ("efficientnet-lite0",), "params": {"efficientnet-lite0": {"photos": ["chelsea", "coffee"]}},
         "seeds": 2, "steps": 5, "lo_mw": 100.0, "hi_mw": 1e6}


def _target(text: str) -> float:
    from ..isoaccuracy.criteria import check_target

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"target must be a number in (0, 1], got {text!r}") from None
    try:
        return check_target(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _models(text: str) -> tuple[str, ...]:
    from ..isoaccuracy.criteria import CRITERIA

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in CRITERIA]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown model(s) {bad or [text]}; choose from {', '.join(CRITERIA)}")
    return names


def _search(args, models, designs, overrides, seeds, steps, lo, hi, old, progress, client):
    from ..isoaccuracy import run_search

    return run_search(models, designs, args.target, config=args.config, overrides=overrides, seeds=seeds,
                      steps=steps, lo_mw=lo, hi_mw=hi, model_params=QUICK["params"] if args.quick else None,
                      done={r["run_key"] for r in old}, progress=progress, client=client)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "isoaccuracy", help="least laser within a target of fp32 per design, and IPS/W vs the systolic array there",
        description="For each design and real model, bisect on log laser power for the least laser whose task "
                    "metrics stay within --target of fp32 on every noise seed, then run the cost model there "
                    "against both systolic baselines (docs/isoaccuracy.md).",
    )
    p.add_argument("--models", type=_models, default=None, metavar="M[,M]",
                   help="comma-separated real models [minilm,efficientnet-lite0]")
    p.add_argument("--target", type=_target, default=0.99, help="fraction of fp32's metrics to keep, in (0, 1] [0.99]")
    p.add_argument("--config", default="adept", help="preset name or .toml under every design [adept]")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value under every design (repeatable)")
    p.add_argument("--designs", metavar="FILE.toml", help="design file ([[design]] tables; docs/isoaccuracy.md)")
    p.add_argument("--seeds", type=positive_int, default=3, help="noise seeds 0..N-1; the worst decides [3]")
    p.add_argument("--steps", type=non_negative_int, default=None, help="bisection steps [8; --quick 5]")
    p.add_argument("--lo-mw", type=positive_float, default=None, help="laser bracket floor, mW [1]")
    p.add_argument("--hi-mw", type=positive_float, default=None, help="laser bracket top, mW [1e8]")
    p.add_argument("--json", metavar="FILE", help="write every row as JSON")
    p.add_argument("--plot", metavar="FILE", help="IPS/W ratio vs fidelity, one curve per design (300 dpi PNG)")
    p.add_argument("--out", metavar="FILE.parquet", help="results file; an existing one is resumed (done searches skipped)")
    p.add_argument("--workers", type=non_negative_int, default=None, metavar="N",
                   help="searches in parallel on a Dask LocalCluster of N single-threaded processes; 0 runs them "
                        "in this process [one per core; --quick: 0]")
    p.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler (tcp://host:8786)")
    p.add_argument("--quick", action="store_true", help="smoke subset: EfficientNet on 2 photos, 2 designs, 2 seeds")
    add_format_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from ..isoaccuracy import DEFAULT_DESIGNS, LASER_BRACKET_MW, QUICK_DESIGNS, STEPS, load_designs
    from ..isoaccuracy.report import plot, read_parquet, summary_table, write_parquet

    overrides = dict(parse_override(t) for t in args.overrides)
    designs = load_designs(args.designs) if args.designs else (QUICK_DESIGNS if args.quick else DEFAULT_DESIGNS)
    models = args.models or (QUICK["models"] if args.quick else ("minilm", "efficientnet-lite0"))
    seeds = tuple(range(QUICK["seeds"] if args.quick and args.seeds == 3 else args.seeds))
    steps = args.steps if args.steps is not None else (QUICK["steps"] if args.quick else STEPS)
    lo = args.lo_mw or (QUICK["lo_mw"] if args.quick else LASER_BRACKET_MW[0])
    hi = args.hi_mw or (QUICK["hi_mw"] if args.quick else LASER_BRACKET_MW[1])
    old = read_parquet(args.out) if args.out else []
    rows = list(old)
    bar = tqdm(total=len(models) * len(designs), unit="search", desc="adept isoaccuracy", disable=None)

    def progress(event) -> None:
        rows.extend(event["rows"])
        if args.out and event["rows"]:
            write_parquet(rows, args.out)  # after every search: an interrupted run resumes from here
        bar.set_postfix_str(f"{event['model']} {event['design']}")
        bar.update(1)

    if args.scheduler and args.workers is not None:
        raise ConfigError("--workers starts a LocalCluster; it cannot be combined with --scheduler")
    workers = 0 if args.quick and args.workers is None and not args.scheduler else args.workers
    if workers == 0:
        mine = _search(args, models, designs, overrides, seeds, steps, lo, hi, old, progress, None)
    else:
        from ..dse.engine import _client  # the sweep's client: the caller's address, or a loopback LocalCluster

        with _client(args.scheduler, workers) as client:
            mine = _search(args, models, designs, overrides, seeds, steps, lo, hi, old, progress, client)
    bar.close()
    from ..isoaccuracy.api import run_key

    keys = {run_key(m, d, args.target, args.config, overrides, seeds, steps, lo, hi,
                    (QUICK["params"] if args.quick else {}).get(m, {})) for m in models for d in designs}
    order = {(m, d.name): i for i, (m, d) in enumerate((m, d) for m in models for d in designs)}
    # Dask returns searches in completion order; print them in the order asked for
    shown = sorted((r for r in rows if r["run_key"] in keys), key=lambda r: order.get((r["model"], r["design"]), 0))
    del mine  # already in rows through progress
    print(render([summary_table(shown)], args.format))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"target": args.target, "config": args.config, "overrides": overrides, "seeds": list(seeds),
                       "steps": steps, "bracket_mw": [lo, hi], "rows": shown}, fh, indent=1, default=str)
        print(f"wrote {args.json}", file=sys.stderr)
    if args.plot:
        plot(shown, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.out:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
