"""``adept compare``: ADEPT vs the systolic baseline on ResNet-50, BERT-large and RNN-T.

Examples::

    adept compare
    adept compare --batch 8 --json compare.json --plot compare.png
    adept compare --iso-accuracy efficientnet-lite0 --set photonic.weight_array=crossbar --set optics.detection=dual_rail
"""

from __future__ import annotations

import argparse
import json
import sys

from ..energy.compare import compare, comparison_dict, plot_breakdowns
from ..energy.table import format_comparison
from ..graph import zoo
from .argtypes import positive_int
from ..tables import add_format_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare", help="ADEPT vs the systolic array on the three workloads",
        description="Evaluate the paper's three workloads on two designs and print the throughput-per-watt ratio "
                    "next to the paper's published ratios (docs/energy.md).",
    )
    p.add_argument("--adept", default="adept", help="photonic design: preset or .toml [adept]")
    p.add_argument("--systolic", default="systolic", help="baseline design: preset or .toml [systolic]")
    p.add_argument("--workloads", nargs="+", choices=zoo.ZOO_NAMES, default=list(zoo.ZOO_NAMES), help="zoo models [all]")
    p.add_argument("--batch", type=positive_int, default=1, help="inferences per run [1]")
    p.add_argument("--json", metavar="FILE", help="write both reports of every workload as JSON")
    p.add_argument("--plot", metavar="FILE", help="save the energy-breakdown figure (300 dpi PNG; "
                   "vector PDF/SVG when FILE ends in .pdf/.svg)")
    p.add_argument("--iso-accuracy", metavar="M[,M]", default=None,
                   help="first find the least laser keeping these real models within --target of fp32 "
                        "(docs/isoaccuracy.md; the largest over the models) and compare at that laser")
    p.add_argument("--target", type=float, default=0.99, help="with --iso-accuracy: fraction of fp32 to keep [0.99]")
    p.add_argument("--seeds", type=positive_int, default=3, help="with --iso-accuracy: noise seeds [3]")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one value of the ADEPT design (repeatable)")
    add_format_argument(p)
    p.set_defaults(func=run)


def _iso_laser(args, overrides) -> float | None:
    """The iso-accuracy laser of the --adept design, or None (the reasons printed) when unreachable."""
    from ..isoaccuracy import Design, iso_accuracy
    from ..isoaccuracy.criteria import check_model, check_target

    models = [m.strip() for m in args.iso_accuracy.split(",") if m.strip()]
    for m in models or [args.iso_accuracy]:
        check_model(m)
    check_target(args.target)
    lasers = []
    for m in models:
        r = iso_accuracy(m, Design("compare"), args.target, config=args.adept, overrides=overrides,
                         seeds=tuple(range(args.seeds)), workloads=(), batches=(), baselines=())
        if not r.search.reached:
            print(f"adept compare: {m} at target {args.target:g} on {args.adept}: unreachable: {r.search.reason}",
                  file=sys.stderr)
            return None
        print(f"iso-accuracy laser for {m} (target {args.target:g}, worst of {args.seeds} seeds): "
              f"{r.search.laser_mw:.4g} mW (fidelity {r.search.fidelity_worst:.4f}..{r.search.fidelity_best:.4f})",
              file=sys.stdout if args.format == "text" else sys.stderr)
        lasers.append(r.search.laser_mw)
    return max(lasers)


def run(args: argparse.Namespace) -> int:
    from ..hardware import load_config
    from .linkbudget import parse_override, print_waveguide_note

    overrides = dict(parse_override(t) for t in args.overrides)
    if args.iso_accuracy:
        laser = _iso_laser(args, overrides)
        if laser is None:
            return 1  # no best-effort comparison at a laser that misses the target
        overrides["optics.laser_power_mw"] = laser
    adept = load_config(args.adept, overrides) if overrides else args.adept
    rows = compare(args.workloads, adept, args.systolic, batch=args.batch)
    print(format_comparison(rows, fmt=args.format))

    print_waveguide_note(load_config(args.adept, overrides), args.format, prefix="ADEPT design ")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(comparison_dict(rows), fh, indent=1)
        print(f"wrote {args.json}")
    if args.plot:
        plot_breakdowns(rows, args.plot)
        print(f"wrote {args.plot}")
    return 0
