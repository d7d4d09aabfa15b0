"""``adept fidelity``: real trained models on real data, emulated ADEPT vs float32 (docs/fidelity.md).

Examples::

    adept fidelity                                  # both models, the issue's table
    adept fidelity --models minilm --diagnostics    # plus the rows that explain it
    adept fidelity --quick --json fidelity.json     # small subsets (seconds), JSON rows
"""

from __future__ import annotations

import argparse
import json
import sys

from .argtypes import seed
from .linkbudget import parse_override

#: Subsets used by --quick: enough to see each effect, fast enough for a smoke run.
QUICK_PARAMS = {"minilm": {"pairs": 4}, "efficientnet-lite0": {"photos": ["chelsea", "coffee", "rocket"]}}


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..kernels.registry import BACKEND_NAMES
    from ..models import REAL_MODELS

    p = subparsers.add_parser(
        "fidelity", help="fidelity table of the real models (MiniLM, EfficientNet-Lite0) vs float32",
        description="Emulate the shipped trained models on their real data under the issue's settings "
                    "(bits, noise, laser power) and print how close ADEPT is to float32.",
    )
    p.add_argument("--models", nargs="+", default=list(REAL_MODELS), choices=REAL_MODELS, metavar="MODEL",
                   help=f"models to study ({', '.join(REAL_MODELS)}) [all]")
    p.add_argument("--config", default="adept", help="preset name or path to a .toml file [adept]")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value before each setting's own changes (repeatable)")
    p.add_argument("--seed", type=seed, default=0, help="noise seed of the evaluation runs [0]")
    p.add_argument("--diagnostics", action="store_true",
                   help="also run the explanatory rows (worst-case ADC, no-noise 6/4-bit, laser x10..x1000)")
    p.add_argument("--abfp", action="store_true",
                   help="also run the block-floating-point rows (abfp at G = 1, 2, 4, 8, preset laser)")
    p.add_argument("--quick", action="store_true", help="small data subsets (a smoke run, not the study)")
    p.add_argument("--backend", default="auto", choices=("auto",) + BACKEND_NAMES, help="kernel backend [auto]")
    p.add_argument("--json", metavar="FILE", help="write every row (settings, metrics, ENOB, headroom) as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..fidelity import ABFP_SETTINGS, DIAGNOSTIC_SETTINGS, STANDARD_SETTINGS, format_table, run_study

    settings = STANDARD_SETTINGS + (DIAGNOSTIC_SETTINGS if args.diagnostics else ()) + (
        ABFP_SETTINGS if args.abfp else ())
    overrides = dict(parse_override(text) for text in args.overrides)

    def progress(row) -> None:
        print(f"  {row.model}: {row.setting.label} ({row.seconds:.1f} s)", file=sys.stderr)

    rows = run_study(args.models, settings, seed=args.seed, config=args.config, overrides=overrides,
                     model_params=QUICK_PARAMS if args.quick else None, backend=args.backend, progress=progress)
    print(format_table(rows))
    from ..models import METRIC_HELP

    for name in args.models:
        print(f"{name} metrics:")
        for metric, meaning in METRIC_HELP[name].items():
            print(f"  {metric}: {meaning}")
    print("peak ENOB: effective bits the noise leaves at a layer's largest partial sum (median over layers); "
          "ENOB: the link budget's at the worst-case full scale")
    census = {}
    if args.diagnostics:
        from .. import models
        from ..fidelity import Setting, census_summary, hardware_for, partial_sum_census

        spec, _ = hardware_for(Setting("census"), args.config, overrides)
        print(f"\npartial-sum census at {spec.input_bits}/{spec.weight_bits}-bit operands, {spec.rows}-row tiles "
              "(median over photonic layers; fractions of the worst-case full scale rows*qmax_x*qmax_w):")
        for name in args.models:
            params = (QUICK_PARAMS if args.quick else {}).get(name, {})
            census[name] = partial_sum_census(models.build(name, **params), spec)
            line = ", ".join(f"{k} {v:.4f}" for k, v in census_summary(census[name]).items())
            print(f"  {name}: {line}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"seed": args.seed, "config": args.config, "overrides": overrides, "quick": args.quick,
                       "rows": [r.as_dict() for r in rows], "census": census}, fh, indent=2, default=float)
        print(f"wrote {args.json}")
    return 0
