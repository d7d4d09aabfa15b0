"""The docs tutorials run as written (jupytext percent scripts: plain Python with cell markers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "docs" / "tutorials").glob("*.py"))


def test_there_are_tutorials():
    assert {p.stem for p in TUTORIALS} >= {"onnx_model", "design_sweep"}


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs(path, tmp_path):
    # A fresh interpreter in an empty directory: the tutorial needs nothing but the installed package.
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip()
