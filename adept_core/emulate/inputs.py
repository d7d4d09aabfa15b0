"""Synthetic inputs and input files for ``adept run``.

Synthetic data (no dataset ships with a zoo model): float inputs are
standard normal; an integer input that indexes a table (the indices of a
``Gather``: token ids, label ids) is uniform over the table's rows; any
other integer input (attention masks) is all ones.
"""

from __future__ import annotations

import math
import os
import zipfile

import numpy as np
from numpy.lib import format as npy_format

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


#: Largest array an input file may hold (bytes). The header is checked against it, and against the bytes
#: the file really holds, before anything is allocated: a 100-byte file can declare a 2**40-row array.
MAX_INPUT_BYTES = 8 << 30


def _check_header(fh, stored_bytes: int, where: str, max_bytes: int) -> None:
    """Refuse an ``.npy`` stream whose header declares more (or other) data than it holds."""
    try:
        version = npy_format.read_magic(fh)
        shape, _, dtype = (npy_format.read_array_header_1_0(fh) if version == (1, 0)
                           else npy_format.read_array_header_2_0(fh))
    except ValueError as exc:
        raise InputError(f"{where}: not a valid .npy header ({exc})") from None
    if dtype.hasobject:
        raise InputError(f"{where}: object arrays (pickles) are refused")
    declared = math.prod(shape) * dtype.itemsize
    if declared > max_bytes:
        raise InputError(f"{where}: declares shape {shape} of {dtype} ({declared:,} bytes), above the input limit "
                         f"of {max_bytes:,} bytes (adept_core.emulate.inputs.MAX_INPUT_BYTES); split the inputs "
                         "into several files or pass load_inputs(..., max_bytes=N)")
    held = stored_bytes - fh.tell()
    if declared != held:
        raise InputError(f"{where}: header declares shape {shape} of {dtype} ({declared:,} bytes) but the data "
                         f"holds {held:,} bytes (truncated or forged file)")


def load_inputs(path: str | os.PathLike, graph: Graph, max_bytes: int = MAX_INPUT_BYTES) -> dict[str, np.ndarray]:
    """Inputs from a ``.npy`` (single-input graphs) or ``.npz`` (input name -> array) file.

    Every array's header is checked before it is read: its declared size must equal the bytes stored
    and stay within ``max_bytes`` (:data:`MAX_INPUT_BYTES`), so a forged header never allocates.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"input file {path!r} does not exist")
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic != b"\x93NUMPY" and not magic.startswith(b"PK"):  # np.load would try (and refuse) a pickle
        raise InputError(f"input file {path!r} is not a .npy or .npz file (no NumPy or zip header)")
    try:
        if magic.startswith(b"PK"):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename.endswith(".npy"):
                        with archive.open(info) as member:
                            _check_header(member, info.file_size, f"{path!r} member {info.filename!r}", max_bytes)
        else:
            with open(path, "rb") as fh:
                _check_header(fh, os.path.getsize(path), repr(path), max_bytes)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(f"cannot read {path!r} as .npy/.npz: {exc}") from None
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
