"""The ``adept`` command: one subcommand per module in :mod:`adept_core.commands`.

Each command module defines ``register(subparsers)`` which adds its parser
and sets ``func`` (a callable taking the parsed arguments and returning an
exit code). Adding a command is adding a module and a line to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .errors import AdeptError, ConfigError

#: Command modules under adept_core.commands, in the order ``adept --help`` lists them.
COMMANDS = ("gemm", "linkbudget", "sweep", "plot", "perf", "compare", "run", "fidelity", "isoaccuracy", "config")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="adept", description="Emulator of the ADEPT electro-photonic DNN accelerator.")
    parser.add_argument("--version", action="version", version=f"adept {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"adept_core.commands.{name}").register(sub)
    return parser


#: Attributes of the parsed arguments that name a file a command writes, and their flags.
OUTPUT_ARGS = {"json": "--json", "plot": "--plot", "out": "--out"}


def check_output_path(flag: str, path: str | os.PathLike[str]) -> None:
    """Refuse an output file that cannot be written, before the command does its work.

    The file's directory must exist and be writable (``adept sweep --out``
    creates missing directories itself) and the path must not be a directory.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ConfigError(f"{flag} {path!r} is a directory; name a file")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ConfigError(f"{flag} {path!r}: directory {parent!r} does not exist")
    if not os.access(parent, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise ConfigError(f"{flag} {path!r} is not writable")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        for attr, flag in OUTPUT_ARGS.items():
            if getattr(args, attr, None) is not None and not (args.command == "sweep" and attr == "out"):
                check_output_path(flag, getattr(args, attr))
        return int(args.func(args) or 0)
    except AdeptError as exc:  # user errors: one clear line, no traceback
        print(f"adept {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file the user named that cannot be read or written
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"adept {args.command}: error:{where} {exc.strerror or exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"adept {args.command}: error: out of memory; try smaller inputs, a smaller --batch or fewer "
              "threads", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
