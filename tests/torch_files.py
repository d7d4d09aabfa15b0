"""Writers of synthetic ``.pth`` files, as torch does, for the reader's tests (``from torch_files import ...``).

torch is not installed, so the files are written with pickle and zipfile: a
stand-in ``torch`` module (inserted into ``sys.modules`` only for the test)
gives pickle the globals ``torch._utils._rebuild_tensor_v2`` and
``torch.FloatStorage`` ... to emit, and storages are written by persistent id,
as ``torch.save`` does in its legacy and zip formats.
"""

import io
import pickle
import struct
import sys
import types
import zipfile

import numpy as np
import pytest

from adept_core.models.torch_pickle import LEGACY_MAGIC, LEGACY_PROTOCOL

LEGACY_HEADER = (LEGACY_MAGIC, LEGACY_PROTOCOL, {"protocol_version": LEGACY_PROTOCOL, "little_endian": True})


class FakeStorage:
    def __init__(self, key, cls, data):
        self.key, self.cls, self.data = key, cls, data


class FakeTensor:
    def __init__(self, storage, offset, size, stride, rebuild):
        self.args = (storage, offset, size, stride, False, {})
        self.rebuild = rebuild

    def __reduce__(self):
        return self.rebuild, self.args


@pytest.fixture
def fake_torch(monkeypatch):
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # never called: the reader resolves the name itself
        raise AssertionError

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    for name in ("FloatStorage", "LongStorage", "HalfStorage", "BFloat16Storage"):
        setattr(torch, name, type(name, (), {"__module__": "torch"}))
    torch._utils = utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


def tensors(torch):
    base = np.arange(12, dtype=np.float32)
    floats = FakeStorage("0", torch.FloatStorage, base)
    longs = FakeStorage("1", torch.LongStorage, np.array([7, -3], dtype=np.int64))
    rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
    state = {
        "w": FakeTensor(floats, 0, (3, 4), (4, 1), rebuild),  # contiguous
        "wt": FakeTensor(floats, 0, (4, 3), (1, 4), rebuild),  # transposed view of the same storage
        "tail": FakeTensor(floats, 10, (2,), (1,), rebuild),  # storage offset
        "n": FakeTensor(longs, 1, (1,), (1,), rebuild),
    }
    expected = {"w": base.reshape(3, 4), "wt": base.reshape(3, 4).T, "tail": base[10:], "n": np.array([-3])}
    return state, [floats, longs], expected


def storage_pid(obj, zip_style: bool):
    """The persistent id torch writes for a storage (legacy ids carry a sixth, view field)."""
    pid = ("storage", obj.cls, obj.key, "cpu", obj.data.size)
    return pid if zip_style else pid + (None,)


def pickle_state(state, zip_style: bool, pid=storage_pid) -> bytes:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=2)
    pickler.persistent_id = lambda obj: pid(obj, zip_style) if isinstance(obj, FakeStorage) else None
    pickler.dump(state)
    return buf.getvalue()


def write_legacy(path, state, storages, numel_override=None, header=LEGACY_HEADER, keys=None, pid=storage_pid):
    """A legacy file; ``header`` (magic, protocol, sys info) and ``keys`` replace those pickles' objects."""
    with open(path, "wb") as f:
        for obj in header:
            pickle.dump(obj, f, protocol=2)
        f.write(pickle_state(state, zip_style=False, pid=pid))
        pickle.dump([s.key for s in storages] if keys is None else keys, f, protocol=2)
        for s in storages:
            f.write(struct.pack("<q", s.data.size if numel_override is None else numel_override))
            f.write(s.data.tobytes())


def write_zip(path, state, storages, pid=storage_pid):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle_state(state, zip_style=True, pid=pid))
        for s in storages:
            z.writestr(f"archive/data/{s.key}", s.data.tobytes())
