"""ONNX external data, read only from the one directory the caller trusts.

A tensor may keep its bytes in a side file (``location``, ``offset``,
``length``). The model is untrusted (see ``docs/security.md``), so the side
file must not become a way to read anything else on the machine:

- the **base directory** is the model file's folder, or the directory the caller
  names with ``external_data_dir=``; a model given as bytes or as a
  ``ModelProto`` has no folder, so its external data is refused unless the
  caller names one (the working directory is never implied);
- ``location`` must be relative, and its real path (``..`` and every symlink
  resolved) must stay inside the real path of the base: a symlink that leaves
  the base is refused in every mode;
- the file must be a regular file, and ``offset``/``length`` must lie inside it
  and give exactly the tensor's byte size, checked before anything is read.

The bytes are inlined into the tensors (``raw_data``) before the ONNX checker
runs, so neither the checker nor the importer ever resolves a path itself.
Between the containment check and the ``open`` a concurrent process could swap
a path component; the reader does not defend against someone who can already
write inside the base directory.
"""

from __future__ import annotations

import math
import os
import stat

import onnx
from onnx import TensorProto, helper

from ..errors import AdeptError

#: The keys the ONNX spec defines for ``external_data``; ``checksum``/``basepath`` are accepted and unused.
_KNOWN_KEYS = frozenset({"location", "offset", "length", "checksum", "basepath"})

#: Element types packed two to a byte.
_NIBBLE_TYPES = frozenset(getattr(TensorProto, n) for n in ("INT4", "UINT4", "FLOAT4E2M1") if hasattr(TensorProto, n))


def inline_external_data(proto: onnx.ModelProto, base_dir: str | os.PathLike | None, what: str) -> onnx.ModelProto:
    """Return ``proto`` with every external tensor's bytes read from under ``base_dir`` and inlined.

    ``proto`` itself is not modified: a model that uses external data is copied first.
    ``what`` names the model in errors. Raises :class:`AdeptError` for every refusal.
    """
    if not any(_is_external(t) for t in _all_tensors(proto)):
        return proto
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    external = [t for t in _all_tensors(copy) if _is_external(t)]
    if base_dir is None:
        raise AdeptError(
            f"{what}: tensor {external[0].name[:200]!r} keeps its data in external file "
            f"{_entries(external[0]).get('location', '')[:200]!r}, and a model given as bytes or a ModelProto has no "
            "folder to read it from; pass from_onnx(model, external_data_dir=DIR) naming the directory that "
            "holds the data, or load the model from its file path")
    base = os.path.realpath(base_dir)
    if not os.path.isdir(base):
        raise AdeptError(f"{what}: external data directory {os.fspath(base_dir)!r} is not a directory")
    for tensor in external:
        tensor.raw_data = _read(tensor, base, what)
        tensor.data_location = TensorProto.DEFAULT
        del tensor.external_data[:]
    return copy


def _is_external(tensor: TensorProto) -> bool:
    return tensor.HasField("data_location") and tensor.data_location == TensorProto.EXTERNAL


def _entries(tensor: TensorProto) -> dict[str, str]:
    return {e.key: e.value for e in tensor.external_data}


def _read(tensor: TensorProto, base: str, what: str) -> bytes:
    name = tensor.name[:200]
    entries = {k: v[:4096] for k, v in _entries(tensor).items()}  # bounded: names and paths end up in messages
    unknown = sorted(set(entries) - _KNOWN_KEYS)
    if unknown:
        raise AdeptError(f"{what}: tensor {name!r} has external-data keys {unknown[:5]}; "
                         f"allowed: {sorted(_KNOWN_KEYS)}")
    location = entries.get("location", "")
    if not location or os.path.isabs(location) or os.path.splitdrive(location)[0]:
        raise AdeptError(f"{what}: tensor {name!r} has external-data location {location!r}; it must be a "
                         f"non-empty path relative to the external data directory {base!r}")
    path = os.path.realpath(os.path.join(base, location))
    if os.path.commonpath([base, path]) != base:
        raise AdeptError(f"{what}: tensor {name!r} external-data location {location!r} resolves outside the "
                         f"external data directory {base!r} (through '..' or a symlink); refused")
    offset, length = _int_entry(entries, "offset", name, what), _int_entry(entries, "length", name, what)
    try:
        with open(path, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise AdeptError(f"{what}: tensor {name!r} external-data location {location!r} is not a regular file")
            start = offset or 0
            if start > info.st_size:
                raise AdeptError(f"{what}: tensor {name!r} external-data offset {start} is past the end of "
                                 f"{location!r} ({info.st_size} bytes)")
            count = info.st_size - start if length is None else length
            if start + count > info.st_size:
                raise AdeptError(f"{what}: tensor {name!r} external data (offset {start}, length {count}) runs "
                                 f"past the end of {location!r} ({info.st_size} bytes)")
            expected = _nbytes(tensor, what)
            if expected is not None and count != expected:
                raise AdeptError(f"{what}: tensor {name!r} of shape {list(tensor.dims)} needs {expected} bytes, "
                                 f"its external data (offset {start} of {location!r}) gives {count}")
            f.seek(start)
            raw = f.read(count)
    except OSError as exc:
        raise AdeptError(f"{what}: tensor {name!r} external data {location!r} cannot be read "
                         f"({exc.strerror or exc})") from None
    if len(raw) != count:
        raise AdeptError(f"{what}: tensor {name!r} external data {location!r} shrank while being read")
    return raw


def _int_entry(entries: dict[str, str], key: str, name: str, what: str) -> int | None:
    if key not in entries:
        return None
    try:
        value = int(entries[key])
    except ValueError:
        value = -1
    if value < 0:
        raise AdeptError(f"{what}: tensor {name!r} external-data {key} {entries[key]!r:.40} is not a "
                         "non-negative integer")
    return value


def _nbytes(tensor: TensorProto, what: str) -> int | None:
    """Byte size the tensor's dims and type call for; None for types whose size the dims do not fix."""
    if any(d < 0 for d in tensor.dims):
        raise AdeptError(f"{what}: tensor {tensor.name!r} has negative dims {list(tensor.dims)}")
    numel = math.prod(tensor.dims)
    if tensor.data_type in _NIBBLE_TYPES:
        return (numel + 1) // 2
    try:
        return numel * helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except (KeyError, TypeError, ValueError):
        return None


def _all_tensors(proto: onnx.ModelProto):
    graphs = [proto.graph] + list(proto.functions)
    while graphs:
        g = graphs.pop()
        if isinstance(g, onnx.GraphProto):
            yield from g.initializer
            for sparse in g.sparse_initializer:
                yield sparse.values
                yield sparse.indices
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors
                if attr.HasField("sparse_tensor"):
                    yield attr.sparse_tensor.values
                    yield attr.sparse_tensor.indices
                for sparse in attr.sparse_tensors:
                    yield sparse.values
                    yield sparse.indices
                if attr.HasField("g"):
                    graphs.append(attr.g)
                graphs.extend(attr.graphs)
