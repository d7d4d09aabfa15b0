"""The generated docs pages: the CLI reference covers every command and option; tutorials convert to Markdown."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

from adept_core import cli

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_lists_every_command_and_option():
    text = _load("cli_reference").markdown()
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, child in sub.choices.items():
        assert f"## `adept {name}`" in text
        for action in child._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}`" in text, (name, option)
    assert "### `adept config show`" in text and "`--format` `FORMAT`" in text


def test_tutorial_script_becomes_markdown():
    hooks = _load("mkdocs_hooks")
    md = hooks.tutorial_markdown('# %% [markdown]\n# # Title\n# Some text.\n\n# %%\nx = 1\nprint(x)\n')
    assert md.startswith("# Title\nSome text.") and "```python\nx = 1\nprint(x)\n```" in md
