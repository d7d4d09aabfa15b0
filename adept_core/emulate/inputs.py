"""Synthetic inputs and input files for ``adept run``.

Synthetic data (no dataset ships with a zoo model): float inputs are
standard normal; an integer input that indexes a table (the indices of a
``Gather``: token ids, label ids) is uniform over the table's rows; any
other integer input (attention masks) is all ones.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import InputError, ShapeError
from ..graph.ir import Graph


def synthetic_inputs(graph: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    """One graph batch of synthetic inputs, deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, shape in graph.inputs.items():
        dtype = np.dtype(graph.input_dtypes.get(name, "float32"))
        if np.issubdtype(dtype, np.floating):
            feeds[name] = rng.standard_normal(shape).astype(dtype)
            continue
        rows = [graph.shape(n.inputs[0])[n.attrs.get("axis", 0)] for n in graph.nodes
                if n.op == "Gather" and len(n.inputs) > 1 and n.inputs[1] == name]
        feeds[name] = (rng.integers(0, min(rows), size=shape) if rows else np.ones(shape)).astype(dtype)
    return feeds


def load_inputs(path: str | os.PathLike, graph: Graph) -> dict[str, np.ndarray]:
    """Inputs from a ``.npy`` (single-input graphs) or ``.npz`` (input name -> array) file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"input file {path!r} does not exist")
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic != b"\x93NUMPY" and not magic.startswith(b"PK"):  # np.load would try (and refuse) a pickle
        raise InputError(f"input file {path!r} is not a .npy or .npz file (no NumPy or zip header)")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read {path!r} as .npy/.npz: {exc}") from None
    if isinstance(data, np.ndarray):
        if len(graph.inputs) != 1:
            raise ShapeError(f"{path!r} holds one array but graph {graph.name!r} takes inputs "
                             f"{sorted(graph.inputs)}; use an .npz with one array per input")
        return {next(iter(graph.inputs)): data}
    with data:
        return {name: data[name] for name in data.files}
