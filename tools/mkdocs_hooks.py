"""MkDocs hooks: the generated pages of the docs site.

- ``cli.md`` from the argparse parsers (:mod:`cli_reference`);
- one page per tutorial script in ``docs/tutorials/*.py`` (jupytext percent format): Markdown
  cells become text, code cells become Python blocks. The scripts themselves are run by
  ``tests/test_tutorials.py``, so the pages show code that works.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mkdocs.structure.files import File


def _cli_reference():
    # mkdocs loads this file by path, not as a package module: load its neighbour the same way.
    spec = importlib.util.spec_from_file_location("cli_reference", Path(__file__).with_name("cli_reference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tutorial_markdown(source: str) -> str:
    """A jupytext percent script as Markdown (header block dropped)."""
    import jupytext

    notebook = jupytext.reads(source, fmt="py:percent")
    out = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            out.append(cell.source)
        elif cell.source.strip():
            out.append("```python\n" + cell.source + "\n```")
    return "\n\n".join(out) + "\n"


def on_files(files, config):
    files.append(File.generated(config, "cli.md", content=_cli_reference().markdown()))
    for script in sorted((Path(config["docs_dir"]) / "tutorials").glob("*.py")):
        text = tutorial_markdown(script.read_text())
        text += f"\n\n*This page is the script `docs/tutorials/{script.name}`; run it with `python {script.name}`.*\n"
        files.append(File.generated(config, f"tutorials/{script.stem}.md", content=text))
    return files
