"""Read PyTorch ``.pth`` state dicts into NumPy arrays without importing torch.

A ``.pth`` file is a pickle whose tensors point at raw storages by
*persistent id*. The file is untrusted (see ``docs/security.md``), so every
pickle in it -- the legacy header objects as well as the state dict -- goes
through :func:`~adept_core.models.restricted_pickle.load_pickle_at`: the header
objects may only be plain data, and the state dict may only name
``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` (the two
callables the shipped EfficientNet-Lite0 checkpoint uses) and the typed
storage classes of :data:`STORAGE_DTYPES`, which resolve to inert dtype tags.

Two container formats exist and both are read:

- **legacy** (torch < 1.6, and what ``efficientnet-lite0-57934424.pth`` uses):
  five pickles in a row -- magic number ``0x1950a86a20f9469cfc6c``, protocol
  version ``1001``, system info (endianness, type sizes), the object itself,
  and the list of storage keys in file order -- followed by each storage as a
  little-endian int64 element count and its raw bytes;
- **zip** (torch >= 1.6): ``<root>/data.pkl`` is the object pickle and each
  storage is the raw bytes of ``<root>/data/<key>``.

Sizes are checked before anything is allocated: a storage's declared element
count against the bytes the file holds for it (for zip members, the declared
uncompressed size, before decompressing), every tensor's extent (offset, size,
stride) against its storage, and the bytes read and the bytes returned each
against ``max_bytes`` (default :data:`DEFAULT_MAX_BYTES`). A tensor is rebuilt
as ``as_strided`` of its storage and copied, so the result owns contiguous memory.
"""

from __future__ import annotations

import collections
import math
import os
import reprlib
import struct
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .restricted_pickle import load_pickle_at

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

#: Bytes a load may read from the file, and separately bytes it may return as arrays (2 GiB each:
#: 100x EfficientNet-Lite0's 18 MB; an assumption, raise it with ``load_state_dict(..., max_bytes=)``).
DEFAULT_MAX_BYTES = 2 << 30

#: Most dimensions a tensor may have (NumPy 1.x's limit).
MAX_NDIM = 32

#: torch storage class name -> NumPy dtype (little-endian). BFloat16 has no NumPy dtype: refused.
STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}

# What the pickle sees are tuples: BUILD cannot set attributes on them (no __dict__, no __setstate__),
# so a file cannot rewrite a storage's element count or a tensor's shape after they were checked.


class _StorageType(NamedTuple):
    name: str


class _StorageRef(NamedTuple):
    key: str


class _TensorRecipe(NamedTuple):
    key: str
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


class _Storage:
    """A storage named by the pickle; ``data`` is filled once its bytes are read and checked."""

    def __init__(self, key: str, dtype: np.dtype, numel: int):
        self.key, self.dtype, self.numel = key, dtype, numel
        self.nbytes = numel * dtype.itemsize
        self.data: np.ndarray | None = None


def _is_int(value) -> bool:
    """An int64 (what torch stores); bigger ints would only make messages and arithmetic huge."""
    return isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < 1 << 63


def _short(value) -> str:
    """A bounded repr of a value read from the file (deep nesting and 10**5000 included)."""
    try:
        return _REPR.repr(value)
    except Exception:  # noqa: BLE001 - repr of hostile data may raise anything; the type is enough then
        return f"<{type(value).__name__}>"


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60


def _empty_ordered_dict() -> collections.OrderedDict:
    # torch pickles OrderedDict() and then SETITEMS; no arguments means no item escapes the str-key check.
    return collections.OrderedDict()


class _StateDictReader:
    """Resolves the state dict's persistent ids and tensors, checking sizes before any allocation."""

    def __init__(self, source: str, max_bytes: int):
        self.source, self.max_bytes = source, max_bytes
        self.storages: dict[str, _Storage] = {}
        self.tensor_bytes = 0
        self.allowed = {
            ("collections", "OrderedDict"): _empty_ordered_dict,
            ("torch._utils", "_rebuild_tensor_v2"): self.rebuild_tensor_v2,
            **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
        }

    def limit_error(self, what: str, nbytes: int) -> InputError:
        return InputError(f"{self.source}: {what} needs {nbytes} bytes, over the reader's limit max_bytes="
                          f"{self.max_bytes}; raise it with load_state_dict(path, max_bytes=...) if the file "
                          "is trusted to be that large")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise InputError(f"{self.source}: persistent id {_short(pid)} is not ('storage', type, key, location, "
                             "numel[, view]); only storages are allowed")
        storage_type, key, location, numel = pid[1:5]
        if len(pid) == 6 and pid[5] is not None:
            raise InputError(f"{self.source}: storage views (torch < 0.4 files) are not supported (key {_short(key)})")
        if not isinstance(storage_type, _StorageType):
            raise InputError(f"{self.source}: storage {_short(key)} has type {_short(storage_type)}, not one of "
                             f"torch.{', torch.'.join(STORAGE_DTYPES)}")
        if not isinstance(key, str) or not isinstance(location, str):
            raise InputError(f"{self.source}: storage key {_short(key)} and location {_short(location)} "
                             "must be strings")
        if not _is_int(numel) or numel < 0:
            raise InputError(f"{self.source}: storage {_short(key)} has element count {_short(numel)}; "
                             "it must be a non-negative int64")
        storage = _Storage(key, np.dtype(STORAGE_DTYPES[storage_type.name]), numel)
        if storage.nbytes > self.max_bytes:
            raise self.limit_error(f"storage {_short(key)} ({numel} elements)", storage.nbytes)
        known = self.storages.setdefault(key, storage)
        if (known.dtype, known.numel) != (storage.dtype, storage.numel):
            raise InputError(f"{self.source}: storage {_short(key)} is declared twice with different type or size")
        return _StorageRef(key)

    def rebuild_tensor_v2(self, storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                          metadata=None):
        if not isinstance(storage, _StorageRef):
            raise InputError(f"{self.source}: tensor rebuilt from a {type(storage).__name__}, expected a storage")
        numel = self.storages[storage.key].numel
        ints = (isinstance(size, tuple) and isinstance(stride, tuple) and _is_int(storage_offset)
                and all(_is_int(v) for v in size + stride))
        if not ints or len(size) != len(stride) or len(size) > MAX_NDIM:
            raise InputError(f"{self.source}: tensor on storage {_short(storage.key)} has offset "
                             f"{_short(storage_offset)}, size {_short(size)}, stride {_short(stride)}; expected an "
                             f"int64 and two int64 tuples of equal length <= {MAX_NDIM}")
        if storage_offset < 0 or any(v < 0 for v in size + stride):
            raise InputError(f"{self.source}: tensor on storage {_short(storage.key)} has a negative "
                             f"offset/size/stride ({storage_offset}, {size}, {stride})")
        if all(size):
            last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
            if last >= numel:
                raise InputError(f"{self.source}: tensor on storage {_short(storage.key)} reaches element {last} "
                                 f"of a {numel}-element storage")
        self.tensor_bytes += math.prod(size) * self.storages[storage.key].dtype.itemsize
        if self.tensor_bytes > self.max_bytes:
            raise self.limit_error(f"tensor of size {size} (stride {stride}) with the tensors before it",
                                   self.tensor_bytes)
        return _TensorRecipe(storage.key, storage_offset, size, stride)

    def load(self, data: bytes, pos: int, what: str):
        return load_pickle_at(data, pos, self.source, what=what, allowed=self.allowed,
                              persistent_load=self.persistent_load)


def load_state_dict(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, np.ndarray]:
    """Read a PyTorch state dict (legacy or zip ``.pth``) as ``{name: numpy array}``.

    Parameters
    ----------
    path : str or Path
        The ``.pth`` / ``.pt`` file.
    max_bytes : int
        Most bytes read from the file, and separately most bytes of returned
        arrays (default :data:`DEFAULT_MAX_BYTES`, 2 GiB).

    Returns
    -------
    dict
        Parameter name -> C-contiguous array of the storage's dtype, in file order.

    Raises
    ------
    InputError
        Unknown container, a global other than storages/tensors/OrderedDict,
        an opcode or header that is not plain data, truncated data, a storage
        whose bytes disagree with its declared element count, a tensor reaching
        past its storage, or a size over ``max_bytes``.
    """
    path = Path(path)
    source = str(path)
    if not _is_int(max_bytes) or max_bytes < 0:
        raise InputError(f"max_bytes must be a non-negative integer, got {_short(max_bytes)}")
    reader = _StateDictReader(source, max_bytes)
    try:
        size = os.path.getsize(path)
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise InputError(f"{source}: cannot read the file ({exc.strerror or exc})") from None
    if is_zip:
        obj = _load_zip(path, reader)
    else:
        if size > max_bytes:
            raise reader.limit_error("the file", size)
        obj = _load_legacy(path.read_bytes(), reader)
    if not isinstance(obj, dict):
        raise InputError(f"{path}: top-level object is a {type(obj).__name__}, expected a state dict")
    out, returned = {}, 0
    for name, value in obj.items():
        if not isinstance(value, _TensorRecipe):
            raise InputError(f"{path}: entry {_short(name)} is a {type(value).__name__}, expected a tensor")
        # Counted again here: one tensor may sit under many names (a memo reference), each one a copy.
        returned += math.prod(value.size) * reader.storages[value.key].dtype.itemsize
        if returned > max_bytes:
            raise reader.limit_error(f"the state dict's arrays up to {_short(name)}", returned)
        out[name] = _materialize(value, name, reader)
    return out


def _load_legacy(data: bytes, reader: _StateDictReader):
    source = reader.source
    try:
        magic, pos = load_pickle_at(data, 0, source, what="magic number")
        protocol, pos = load_pickle_at(data, pos, source, what="protocol version")
        sys_info, pos = load_pickle_at(data, pos, source, what="system info")
    except InputError as exc:
        raise InputError(f"{source}: not a PyTorch file (neither zip nor legacy pickle header): {exc}") from None
    if magic != LEGACY_MAGIC or protocol != LEGACY_PROTOCOL:
        raise InputError(f"{source}: legacy header magic/protocol {_short(magic)}/{_short(protocol)}, expected "
                         f"{LEGACY_MAGIC:#x}/{LEGACY_PROTOCOL}")
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        raise InputError(f"{source}: big-endian checkpoint; only little-endian files are read")
    obj, pos = reader.load(data, pos, "state dict")
    keys, pos = load_pickle_at(data, pos, source, what="storage key list")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or len(set(keys)) != len(keys):
        raise InputError(f"{source}: the storage key list is not a list of distinct strings")
    for key in keys:
        storage = reader.storages.get(key)
        if storage is None:
            raise InputError(f"{source}: storage {_short(key)} listed in the file but never referenced")
        if pos + 8 > len(data):
            raise InputError(f"{source}: truncated before storage {_short(key)}")
        (numel,) = struct.unpack_from("<q", data, pos)
        pos += 8
        if numel != storage.numel:
            raise InputError(f"{source}: storage {_short(key)} holds {numel} elements, the pickle says {storage.numel}")
        if pos + storage.nbytes > len(data):
            raise InputError(f"{source}: storage {_short(key)} truncated ({len(data) - pos} bytes left for "
                             f"{storage.numel} x {storage.dtype.itemsize})")
        storage.data = np.frombuffer(data, dtype=storage.dtype, count=storage.numel, offset=pos)
        pos += storage.nbytes
    return obj


def _load_zip(path: Path, reader: _StateDictReader):
    source = reader.source
    try:
        with zipfile.ZipFile(path) as z:
            infos = {info.filename: info for info in z.infolist()}
            pkl = [n for n in infos if n.endswith("/data.pkl") or n == "data.pkl"]
            if len(pkl) != 1:
                raise InputError(f"{source}: zip file without exactly one data.pkl (found {pkl[:4]})")
            root = pkl[0][: -len("data.pkl")]
            order = infos.get(f"{root}byteorder")
            if order is not None and _read_member(z, order, 16, reader).strip() != b"little":
                raise InputError(f"{source}: big-endian checkpoint; only little-endian files are read")
            read_total = infos[pkl[0]].file_size
            if read_total > reader.max_bytes:
                raise reader.limit_error("data.pkl", read_total)
            obj, _ = reader.load(_read_member(z, infos[pkl[0]], read_total, reader), 0, "data.pkl")
            for key, storage in reader.storages.items():
                info = infos.get(f"{root}data/{key}")
                if info is None:
                    raise InputError(f"{source}: storage {_short(key)} missing (no member {root}data/{key:.40})")
                if info.file_size != storage.nbytes:
                    raise InputError(f"{source}: member {_short(info.filename)} declares {info.file_size} bytes, but "
                                     f"storage {_short(key)} is {storage.numel} x {storage.dtype.itemsize} = "
                                     f"{storage.nbytes} bytes; refused before decompressing")
                read_total += storage.nbytes
                if read_total > reader.max_bytes:
                    raise reader.limit_error(f"data.pkl and the storages up to {_short(key)}", read_total)
                raw = _read_member(z, info, storage.nbytes, reader)
                storage.data = np.frombuffer(raw, dtype=storage.dtype, count=storage.numel)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError,
            ValueError) as exc:  # RuntimeError: an encrypted member
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{source}: corrupt zip checkpoint ({type(exc).__name__}: {exc})") from None
    return obj


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, expected: int, reader: _StateDictReader) -> bytes:
    """At most ``expected`` bytes of a member, whatever its compressed stream would expand to."""
    with z.open(info) as fh:
        raw = fh.read(expected)
    if len(raw) != min(expected, info.file_size):
        raise InputError(f"{reader.source}: member {_short(info.filename)} truncated ({len(raw)} of {expected} bytes)")
    return raw


def _materialize(value: _TensorRecipe, name: str, reader: _StateDictReader) -> np.ndarray:
    storage = reader.storages[value.key]
    if storage.data is None:
        raise InputError(f"{reader.source}: tensor {_short(name)} points at storage {_short(value.key)} "
                         "which holds no data")
    item = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(storage.data[value.offset:], shape=value.size,
                                           strides=tuple(s * item for s in value.stride), writeable=False)
    return np.ascontiguousarray(view)
