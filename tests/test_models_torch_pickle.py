"""The torch-free .pth reader on synthetic files written like torch does, and on the real checkpoint.

torch is not installed, so the synthetic files are written with pickle and
zipfile: a stand-in ``torch`` module (inserted into ``sys.modules`` only for
the test) gives pickle the globals ``torch._utils._rebuild_tensor_v2`` and
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

from adept_core.errors import InputError
from adept_core.models import efficientnet_lite
from adept_core.models.torch_pickle import LEGACY_MAGIC, LEGACY_PROTOCOL, load_state_dict


class _FakeStorage:
    def __init__(self, key, cls, data):
        self.key, self.cls, self.data = key, cls, data


class _FakeTensor:
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


def _tensors(torch):
    base = np.arange(12, dtype=np.float32)
    floats = _FakeStorage("0", torch.FloatStorage, base)
    longs = _FakeStorage("1", torch.LongStorage, np.array([7, -3], dtype=np.int64))
    rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
    state = {
        "w": _FakeTensor(floats, 0, (3, 4), (4, 1), rebuild),  # contiguous
        "wt": _FakeTensor(floats, 0, (4, 3), (1, 4), rebuild),  # transposed view of the same storage
        "tail": _FakeTensor(floats, 10, (2,), (1,), rebuild),  # storage offset
        "n": _FakeTensor(longs, 1, (1,), (1,), rebuild),
    }
    expected = {"w": base.reshape(3, 4), "wt": base.reshape(3, 4).T, "tail": base[10:], "n": np.array([-3])}
    return state, [floats, longs], expected


def _pickle_state(state, zip_style: bool) -> bytes:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=2)

    def persistent_id(obj):
        if isinstance(obj, _FakeStorage):
            pid = ("storage", obj.cls, obj.key, "cpu", obj.data.size)
            return pid if zip_style else pid + (None,)
        return None

    pickler.persistent_id = persistent_id
    pickler.dump(state)
    return buf.getvalue()


def write_legacy(path, state, storages, numel_override=None):
    with open(path, "wb") as f:
        for header in (LEGACY_MAGIC, LEGACY_PROTOCOL, {"protocol_version": LEGACY_PROTOCOL, "little_endian": True}):
            pickle.dump(header, f, protocol=2)
        f.write(_pickle_state(state, zip_style=False))
        pickle.dump([s.key for s in storages], f, protocol=2)
        for s in storages:
            f.write(struct.pack("<q", numel_override or s.data.size))
            f.write(s.data.tobytes())


def write_zip(path, state, storages):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", _pickle_state(state, zip_style=True))
        for s in storages:
            z.writestr(f"archive/data/{s.key}", s.data.tobytes())


@pytest.mark.parametrize("writer", [write_legacy, write_zip])
def test_synthetic_file(tmp_path, fake_torch, writer):
    state, storages, expected = _tensors(fake_torch)
    path = tmp_path / "model.pth"
    writer(path, state, storages)
    loaded = load_state_dict(path)
    assert list(loaded) == list(expected)
    for name, want in expected.items():
        assert loaded[name].dtype == want.dtype and loaded[name].flags.c_contiguous
        np.testing.assert_array_equal(loaded[name], want)


def test_refuses_foreign_globals(tmp_path, fake_torch):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        for header in (LEGACY_MAGIC, LEGACY_PROTOCOL, {}):
            pickle.dump(header, f, protocol=2)
        pickle.dump({"w": Evil()}, f, protocol=2)
    with pytest.raises(InputError, match=r"refusing to unpickle global (__builtin__|builtins)\.print"):
        load_state_dict(path)


def test_refuses_unsupported_dtype_and_bad_data(tmp_path, fake_torch):
    state, storages, _ = _tensors(fake_torch)
    storages[0].cls = fake_torch.BFloat16Storage
    with pytest.raises(InputError, match="BFloat16Storage"):
        write_legacy(tmp_path / "bf16.pth", state, storages)
        load_state_dict(tmp_path / "bf16.pth")
    state, storages, _ = _tensors(fake_torch)
    write_legacy(tmp_path / "count.pth", state, storages, numel_override=5)
    with pytest.raises(InputError, match="holds 5 elements"):
        load_state_dict(tmp_path / "count.pth")
    good = tmp_path / "good.pth"
    write_legacy(good, state, storages)
    (tmp_path / "cut.pth").write_bytes(good.read_bytes()[:-8])
    with pytest.raises(InputError, match="truncated"):
        load_state_dict(tmp_path / "cut.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint at all")
    with pytest.raises(InputError, match="not a PyTorch file"):
        load_state_dict(tmp_path / "junk.pth")


def test_tensor_past_its_storage(tmp_path, fake_torch):
    state, storages, _ = _tensors(fake_torch)
    state["w"].args = (storages[0], 4, (3, 4), (4, 1), False, {})  # 4 + 11 > 11
    write_zip(tmp_path / "oob.pth", state, storages)
    with pytest.raises(InputError, match="reaches element 15"):
        load_state_dict(tmp_path / "oob.pth")


def test_real_efficientnet_lite0_checkpoint():
    sd = efficientnet_lite.load_weights()
    assert len(sd) == 296
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3) and sd["_conv_stem.weight"].dtype == np.float32
    assert sd["_fc.weight"].shape == (1000, 1280) and sd["_bn0.num_batches_tracked"].dtype == np.int64
    # 4,652,008 trainable parameters: the published size of EfficientNet-Lite0 (4.65 M).
    trainable = [k for k in sd if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert sum(sd[k].size for k in trainable) == 4_652_008
    # Dead channels (ReLU6 never active in training) have variance exactly 0; BN's eps covers them.
    assert all((sd[k] >= 0).all() for k in sd if k.endswith("running_var"))
    assert all(np.isfinite(v).all() for v in sd.values())
