"""The CLI reference page, generated from the argparse parsers (``adept_core.cli.build_parser``).

Used by the docs build (``tools/mkdocs_hooks.py``) so the reference cannot drift from the code;
``python tools/cli_reference.py`` prints it.
"""

from __future__ import annotations

import argparse


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse has no public walk over sub-parsers
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | meaning |", "|---|---|"]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        names = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{action.metavar or action.dest}`"
        if action.option_strings and action.nargs != 0:
            names += f" `{action.metavar or action.dest.upper()}`"
        text = (action.help or "").replace("|", "\\|").replace("\n", " ")
        if action.choices and not isinstance(action.choices, dict):
            text += " (one of: " + ", ".join(f"`{c}`" for c in action.choices) + ")"
        rows.append(f"| {names} | {text} |")
    return rows if len(rows) > 2 else []


def _section(name: str, parser: argparse.ArgumentParser, level: int) -> list[str]:
    out = [f"{'#' * level} `{name}`", ""]
    if parser.description:
        out += [parser.description, ""]
    out += ["```text", parser.format_usage().strip(), "```", ""]
    out += _options(parser) + [""]
    for sub, child in _subcommands(parser).items():
        out += _section(f"{name} {sub}", child, level + 1)
    return out


def markdown() -> str:
    """The whole reference as Markdown: one section per command, one table row per argument."""
    import os

    from adept_core.cli import build_parser

    os.environ.setdefault("COLUMNS", "100")  # usage lines wrapped the same on every terminal
    parser = build_parser()
    lines = ["# Command-line reference", "",
             "Generated from the `adept` argument parsers at documentation build time; "
             "`adept COMMAND --help` prints the same.", ""]
    for name, child in _subcommands(parser).items():
        lines += _section(f"adept {name}", child, 2)
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
