"""Read PyTorch ``.pth`` state dicts into NumPy arrays without importing torch.

A ``.pth`` file is a pickle whose tensors point at raw storages by
*persistent id*. Unpickling it with the standard :mod:`pickle` would execute
whatever globals the file names, so this reader uses a restricted
:class:`pickle.Unpickler` that resolves only the handful of globals a plain
state dict needs (``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``,
``torch._utils._rebuild_parameter`` and the typed storage classes) and refuses
anything else with a :class:`~adept_core.errors.InputError` naming it.

Two container formats exist and both are read:

- **legacy** (torch < 1.6, and what ``efficientnet-lite0-57934424.pth`` uses):
  five pickles in a row -- magic number ``0x1950a86a20f9469cfc6c``, protocol
  version ``1001``, system info (endianness, type sizes), the object itself,
  and the list of storage keys in file order -- followed by each storage as a
  little-endian int64 element count and its raw bytes;
- **zip** (torch >= 1.6): ``<root>/data.pkl`` is the object pickle and each
  storage is the raw bytes of ``<root>/data/<key>``.

A tensor is rebuilt as ``as_strided`` of its storage (element offset, size,
stride in elements) and copied, so the result owns contiguous memory.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

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


@dataclass
class _Storage:
    """A storage named by the pickle; ``data`` is filled once its bytes are read."""

    key: str
    dtype: np.dtype
    numel: int
    data: np.ndarray | None = None


@dataclass(frozen=True)
class _StorageType:
    name: str


@dataclass(frozen=True)
class _TensorRecipe:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    if not isinstance(storage, _Storage):
        raise InputError(f"tensor rebuilt from {type(storage).__name__}, expected a storage")
    return _TensorRecipe(storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _StateDictUnpickler(pickle.Unpickler):
    """Unpickler that knows storages and tensors and nothing else."""

    def __init__(self, file, source: str):
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}
        self.source = source

    def find_class(self, module: str, name: str):
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            allowed = sorted(f"{m}.{n}" for m, n in _ALLOWED_GLOBALS) + [f"torch.{n}" for n in STORAGE_DTYPES]
            raise InputError(
                f"{self.source}: refusing to unpickle global {module}.{name}; a state dict may only use {allowed}"
            ) from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise InputError(f"{self.source}: unsupported persistent id {pid!r:.80}; only storages are allowed")
        storage_type, key, _location, numel = pid[1:5]
        view = pid[5] if len(pid) > 5 else None
        if view is not None:
            raise InputError(f"{self.source}: storage views (torch < 0.4 files) are not supported (key {key!r})")
        if not isinstance(storage_type, _StorageType):
            raise InputError(f"{self.source}: storage {key!r} has type {storage_type!r}, not a torch typed storage")
        key = str(key)
        if key not in self.storages:
            self.storages[key] = _Storage(key, np.dtype(STORAGE_DTYPES[storage_type.name]), int(numel))
        return self.storages[key]


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Read a PyTorch state dict (legacy or zip ``.pth``) as ``{name: numpy array}``.

    Parameters
    ----------
    path : str or Path
        The ``.pth`` / ``.pt`` file.

    Returns
    -------
    dict
        Parameter name -> C-contiguous array of the storage's dtype, in file order.

    Raises
    ------
    InputError
        Unknown container, a global other than storages/tensors/OrderedDict,
        truncated data, or a tensor reaching past its storage.
    """
    path = Path(path)
    if zipfile.is_zipfile(path):
        obj, storages = _load_zip(path)
    else:
        with open(path, "rb") as f:
            obj, storages = _load_legacy(f, str(path))
    if not isinstance(obj, dict):
        raise InputError(f"{path}: top-level object is a {type(obj).__name__}, expected a state dict")
    return {str(name): _materialize(value, name, path) for name, value in obj.items()}


def _load_legacy(f, source: str):
    try:
        magic = pickle.load(f)
        protocol = pickle.load(f)
        pickle.load(f)  # sys info: endianness and type sizes; storages are read as little-endian below
    except Exception as exc:  # noqa: BLE001 - any failure here means "not a torch file"
        raise InputError(f"{source}: not a PyTorch file (neither zip nor legacy pickle header): {exc}") from None
    if magic != LEGACY_MAGIC or protocol != LEGACY_PROTOCOL:
        raise InputError(f"{source}: legacy header magic/protocol {magic!r}/{protocol!r}, expected "
                         f"{LEGACY_MAGIC:#x}/{LEGACY_PROTOCOL}")
    unpickler = _StateDictUnpickler(f, source)
    obj = unpickler.load()
    keys = pickle.load(f)
    for key in keys:
        storage = unpickler.storages.get(str(key))
        if storage is None:
            raise InputError(f"{source}: storage {key!r} listed in the file but never referenced")
        header = f.read(8)
        if len(header) != 8:
            raise InputError(f"{source}: truncated before storage {key!r}")
        (numel,) = struct.unpack("<q", header)
        if numel != storage.numel:
            raise InputError(f"{source}: storage {key!r} holds {numel} elements, the pickle says {storage.numel}")
        storage.data = _frombuffer(f.read(numel * storage.dtype.itemsize), storage, source)
    return obj, unpickler.storages


def _load_zip(path: Path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise InputError(f"{path}: zip file without exactly one data.pkl (found {pkl})")
        root = pkl[0][: -len("data.pkl")]
        unpickler = _StateDictUnpickler(io.BytesIO(z.read(pkl[0])), str(path))
        obj = unpickler.load()
        for key, storage in unpickler.storages.items():
            member = f"{root}data/{key}"
            if member not in names:
                raise InputError(f"{path}: storage {key!r} missing (no member {member!r})")
            storage.data = _frombuffer(z.read(member), storage, str(path))
    return obj, unpickler.storages


def _frombuffer(raw: bytes, storage: _Storage, source: str) -> np.ndarray:
    if len(raw) < storage.numel * storage.dtype.itemsize:
        raise InputError(f"{source}: storage {storage.key!r} truncated ({len(raw)} bytes for "
                         f"{storage.numel} x {storage.dtype.itemsize})")
    return np.frombuffer(raw, dtype=storage.dtype, count=storage.numel)


def _materialize(value, name, path) -> np.ndarray:
    if not isinstance(value, _TensorRecipe):
        raise InputError(f"{path}: entry {name!r} is a {type(value).__name__}, expected a tensor")
    data = value.storage.data
    if data is None:
        raise InputError(f"{path}: tensor {name!r} points at storage {value.storage.key!r} which holds no data")
    if any(s < 0 for s in value.size) or any(s < 0 for s in value.stride) or value.offset < 0:
        raise InputError(f"{path}: tensor {name!r} has negative size/stride/offset")
    last = value.offset + sum((n - 1) * s for n, s in zip(value.size, value.stride)) if all(value.size) else -1
    if last >= data.size:
        raise InputError(f"{path}: tensor {name!r} reaches element {last} of a {data.size}-element storage")
    item = data.itemsize
    view = np.lib.stride_tricks.as_strided(data[value.offset:], shape=value.size,
                                           strides=tuple(s * item for s in value.stride), writeable=False)
    return np.ascontiguousarray(view)
