"""The ``adept`` command: one subcommand per module in :mod:`adept_core.commands`.

Each command module defines ``register(subparsers)`` which adds its parser
and sets ``func`` (a callable taking the parsed arguments and returning an
exit code). Adding a command is adding a module and a line to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import AdeptError

#: Command modules under adept_core.commands, in the order ``adept --help`` lists them.
COMMANDS = ("gemm", "linkbudget", "sweep", "plot", "perf", "compare", "run", "fidelity", "config")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="adept", description="Emulator of the ADEPT electro-photonic DNN accelerator.")
    parser.add_argument("--version", action="version", version=f"adept {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"adept_core.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AdeptError as exc:  # user errors: one clear line, no traceback
        print(f"adept {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
