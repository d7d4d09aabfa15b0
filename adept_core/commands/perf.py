"""``adept perf``: latency, throughput, power and energy of a zoo workload on one design.

Examples::

    adept perf resnet50                          # ADEPT preset, batch 1
    adept perf bert-large --config systolic      # the baseline
    adept perf rnnt --batch 8 --json rnnt.json
    adept perf resnet50 --levers                 # what each architectural lever buys
    adept perf bert-large --group-by op --format markdown
    adept perf resnet50 --set photonic.num_cores=4
"""

from __future__ import annotations

import argparse
import json

from ..energy import evaluate
from ..energy.grouping import GROUP_BY
from ..energy.levers import lever_table
from ..energy.table import format_levers, format_report
from ..graph import zoo
from ..hardware import PRESETS, load_config
from .argtypes import non_negative_int, positive_int
from ..tables import add_format_argument
from .linkbudget import parse_override, print_waveguide_note


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "perf", help="latency, inferences/s, power and energy of a workload on one design",
        description="Schedule a zoo workload on a hardware design and print its cost (docs/energy.md).",
    )
    p.add_argument("workload", choices=zoo.ZOO_NAMES, help="zoo model")
    p.add_argument("--config", default="adept", help=f"preset name ({', '.join(PRESETS)}) or path to a .toml file [adept]")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value, e.g. --set photonic.num_cores=4 (repeatable)")
    p.add_argument("--batch", type=positive_int, default=1, help="inferences per run [1]")
    p.add_argument("--top", type=non_negative_int, default=5, help="how many of the slowest layer groups to list [5]")
    p.add_argument("--group-by", default="block", choices=GROUP_BY,
                   help="rows of the layer table: block = one row per role in repeated blocks "
                        "(encoder.*.ffn.output sums 24 layers), op = one row per op type and unit, "
                        "layer = every layer [block]")
    add_format_argument(p)
    p.add_argument("--levers", action="store_true", help="also print the lever ablation (double buffering, batch, cores, WDM, gated laser)")
    p.add_argument("--json", metavar="FILE", help="write the full report (every layer) as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config, dict(parse_override(o) for o in args.overrides))
    report = evaluate(zoo.build(args.workload, batch=args.batch), cfg, batch=args.batch)
    print(format_report(report, top=args.top, group_by=args.group_by, fmt=args.format))
    print_waveguide_note(cfg, args.format)
    data = report.to_dict()
    if args.levers:
        rows = lever_table(args.workload, cfg, batch=args.batch)
        print()
        print(format_levers(rows, fmt=args.format))
        data["levers"] = [row.to_dict() for row in rows]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(data, fh, indent=1)
        print(f"wrote {args.json}")
    return 0
