"""``adept config show``: every hardware key with its value, unit, allowed range and source.

Examples::

    adept config show                                   # the adept preset
    adept config show --config systolic
    adept config show --config my.toml --set photonic.adc_bits=6 --format markdown
"""

from __future__ import annotations

import argparse

from ..tables import Table, add_format_argument, render
from .linkbudget import parse_override


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "config", help="show every hardware configuration key: value, unit, allowed range, source",
        description="Inspect a hardware configuration (a preset or a .toml file, plus --set overrides): every key "
                    "you can set in a file, with --set, or in a sweep, with its value, unit, allowed range, "
                    "meaning and where the value comes from (docs/hardware.md).",
    )
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = sub.add_parser("show", help="list every key", description="List every configuration key.")
    show.add_argument("--config", default="adept", help="preset name (adept, systolic) or path to a .toml file [adept]")
    show.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                      help="override one config value, e.g. --set photonic.adc_bits=6 (repeatable)")
    show.add_argument("--no-source", action="store_true", help="leave out the (long) source column")
    add_format_argument(show)
    show.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..hardware import config_hash, load_config
    from ..hardware.describe import describe

    overrides = dict(parse_override(o) for o in args.overrides)
    cfg = load_config(args.config, overrides)
    columns = ["key", "value", "unit", "allowed", "meaning"] + ([] if args.no_source else ["source"])
    table = Table(f"config {cfg.name} ({config_hash(cfg)}), accelerator {cfg.accelerator}", columns)
    for k in describe(cfg, args.config, overrides):
        row = [k.key, k.value, k.unit, k.allowed, k.meaning] + ([] if args.no_source else [k.source])
        table.rows.append(row)
    print(render(table, args.format))
    return 0
