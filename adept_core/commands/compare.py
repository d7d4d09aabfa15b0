"""``adept compare``: ADEPT vs the systolic baseline on ResNet-50, BERT-large and RNN-T.

Examples::

    adept compare
    adept compare --batch 8 --json compare.json --plot compare.png
"""

from __future__ import annotations

import argparse
import json

from ..energy.compare import compare, comparison_dict, plot_breakdowns
from ..energy.table import format_comparison
from ..graph import zoo
from .argtypes import positive_int


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
    p.add_argument("--plot", metavar="FILE.png", help="save the energy-breakdown plot (PNG)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = compare(args.workloads, args.adept, args.systolic, batch=args.batch)
    print(f"ADEPT ({rows[0].adept.config}) vs systolic array ({rows[0].systolic.config}), batch {args.batch}:")
    print(format_comparison(rows))
    from ..hardware import load_config
    from ..hardware.linkbudget import waveguide_limit_note

    note = waveguide_limit_note(load_config(args.adept))
    if note:
        print(f"ADEPT design {note}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(comparison_dict(rows), fh, indent=1)
        print(f"wrote {args.json}")
    if args.plot:
        plot_breakdowns(rows, args.plot)
        print(f"wrote {args.plot}")
    return 0
