"""Hostile ``.pth`` files: no pickle slot runs code, and no size in the file allocates before it is checked.

Each payload would, if unpickled by the standard loader, run ``touch MARKER``
through ``os.system``; the tests assert the marker never appears. Files that
declare more memory than they hold are loaded under a cap on the process's
address space (:func:`capped_memory`), so a reader that trusted the declared
size fails with MemoryError instead of taking the machine's memory.
"""

import contextlib
import os
import pickle
import resource
import shlex
import zipfile

import numpy as np
import pytest
from torch_files import (LEGACY_HEADER, FakeTensor, fake_torch, pickle_state, storage_pid,  # noqa: F401
                         tensors, write_legacy, write_zip)

from adept_core.errors import InputError
from adept_core.models.torch_pickle import DEFAULT_MAX_BYTES, LEGACY_MAGIC, load_state_dict


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


@contextlib.contextmanager
def capped_memory(extra_bytes=1 << 30):
    """Address space limited to today's use plus ``extra_bytes`` while the block runs."""
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (used + extra_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _assert_refused(path, marker=None, match=None):
    with capped_memory(), pytest.raises(InputError, match=match):
        load_state_dict(path)
    if marker is not None:
        assert not marker.exists(), "the payload ran"


LEGACY_SLOTS = ["magic", "protocol", "sys_info", "state_dict_value", "tensor_argument", "storage_keys"]


@pytest.mark.parametrize("slot", LEGACY_SLOTS)
def test_legacy_payload_never_runs(tmp_path, fake_torch, slot):
    marker = tmp_path / "MARKER"
    state, storages, _ = tensors(fake_torch)
    header, keys = list(LEGACY_HEADER), None
    if slot in ("magic", "protocol", "sys_info"):
        header[["magic", "protocol", "sys_info"].index(slot)] = Payload(marker)
    elif slot == "state_dict_value":
        state["evil"] = Payload(marker)
    elif slot == "tensor_argument":
        state["w"].args = state["w"].args[:4] + (Payload(marker), {})
    else:
        keys = Payload(marker)
    write_legacy(tmp_path / "evil.pth", state, storages, header=header, keys=keys)
    _assert_refused(tmp_path / "evil.pth", marker, match=r"system|global|opcode")


@pytest.mark.parametrize("slot", ["state_dict_value", "tensor_argument", "persistent_id"])
def test_zip_payload_never_runs(tmp_path, fake_torch, slot):
    marker = tmp_path / "MARKER"
    state, storages, _ = tensors(fake_torch)
    pid = storage_pid
    if slot == "state_dict_value":
        state["evil"] = Payload(marker)
    elif slot == "tensor_argument":
        state["w"].args = state["w"].args[:4] + (Payload(marker), {})
    else:
        def pid(obj, zip_style):
            return ("storage", obj.cls, obj.key, Payload(marker), obj.data.size)
    write_zip(tmp_path / "evil.pth", state, storages, pid=pid)
    _assert_refused(tmp_path / "evil.pth", marker, match=r"system")


def test_header_pickles_are_plain_data_only(tmp_path, fake_torch):
    # A harmless global is still a global: the header slots admit no object-building opcodes at all.
    state, storages, _ = tensors(fake_torch)
    header = (LEGACY_MAGIC, np.int64(1001), {})
    write_legacy(tmp_path / "g.pth", state, storages, header=header)
    _assert_refused(tmp_path / "g.pth", match=r"protocol version pickle uses opcode GLOBAL")


def _legacy_with_magic_pickle(tmp_path, torch, magic_pickle: bytes):
    state, storages, _ = tensors(torch)
    path = tmp_path / "h.pth"
    write_legacy(path, state, storages)
    good = path.read_bytes()
    path.write_bytes(magic_pickle + good[len(pickle.dumps(LEGACY_MAGIC, protocol=2)):])
    return path


def test_header_memo_bomb(tmp_path, fake_torch):
    # LONG_BINPUT 0xffffffff: the C unpickler grows its memo array to 2**33 entries (64 GiB).
    bomb = b"\x80\x02" + pickle.dumps(LEGACY_MAGIC, protocol=2)[2:-1] + b"r\xff\xff\xff\xff."
    path = _legacy_with_magic_pickle(tmp_path, fake_torch, bomb)
    with capped_memory():
        assert load_state_dict(path)["w"].shape == (3, 4)


def test_header_claims_exabytes(tmp_path, fake_torch):
    path = _legacy_with_magic_pickle(tmp_path, fake_torch, b"\x80\x04\x8e" + (1 << 60).to_bytes(8, "little") + b"xx.")
    _assert_refused(path, match=r"magic number pickle is truncated")


# -- memory bombs -------------------------------------------------------------------------------

def test_zero_stride_view_of_one_element(tmp_path, fake_torch):
    # Issue 8: a 413-byte zip whose (65536, 65536) tensor with stride (0, 0) would copy out 16 GiB.
    state, storages, _ = tensors(fake_torch)
    storages[0].data = storages[0].data[:1]
    state = {"w": FakeTensor(storages[0], 0, (65536, 65536), (0, 0), state["w"].rebuild)}
    write_zip(tmp_path / "s.pth", state, storages[:1])
    assert (tmp_path / "s.pth").stat().st_size < 1000
    _assert_refused(tmp_path / "s.pth", match=rf"needs 17179869184 bytes, over the reader's limit "
                                              rf"max_bytes={DEFAULT_MAX_BYTES}")


def test_zip_bomb_refused_before_decompressing(tmp_path, fake_torch, monkeypatch):
    state, storages, _ = tensors(fake_torch)
    storages[0].data = storages[0].data[:6]
    state = {"w": FakeTensor(storages[0], 0, (6,), (1,), state["w"].rebuild)}
    path = tmp_path / "bomb.pth"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", pickle_state(state, zip_style=True))
        with z.open("archive/data/0", "w") as fh:
            for _ in range(64):
                fh.write(bytes(1 << 20))  # 64 MiB of zeros behind a 6-element storage
    assert path.stat().st_size < 1 << 20
    inflated = []
    real_read = zipfile.ZipExtFile.read
    monkeypatch.setattr(zipfile.ZipExtFile, "read", lambda self, n=-1: inflated.append(n) or real_read(self, n))
    _assert_refused(path, match=r"declares 67108864 bytes, but storage '0' is 6 x 4 = 24 bytes; refused before")
    assert all(0 <= n <= 1024 for n in inflated), inflated


@pytest.mark.parametrize("writer", [write_legacy, write_zip])
@pytest.mark.parametrize("numel, match", [(-1, "non-negative int64"), (6.0, "non-negative int64"),
                                          ("6", "non-negative int64"), (True, "non-negative int64"),
                                          (1 << 62, "max_bytes=")])
def test_bad_declared_numel(tmp_path, fake_torch, writer, numel, match):
    state, storages, _ = tensors(fake_torch)

    def pid(obj, zip_style):
        return storage_pid(obj, zip_style)[:4] + (numel,) + storage_pid(obj, zip_style)[5:]

    writer(tmp_path / "n.pth", state, storages, pid=pid)
    _assert_refused(tmp_path / "n.pth", match=match)


@pytest.mark.parametrize("writer", [write_legacy, write_zip])
def test_three_field_persistent_id(tmp_path, fake_torch, writer):
    state, storages, _ = tensors(fake_torch)
    writer(tmp_path / "p.pth", state, storages, pid=lambda obj, zip_style: ("storage", obj.cls, obj.key))
    _assert_refused(tmp_path / "p.pth", match=r"is not \('storage', type, key, location, numel")


@pytest.mark.parametrize("size, stride", [((2.5, 4), (4, 1)), (("3", 4), (4, 1)), ((3, 4), (4,)),
                                          ((3, 4), (4.0, 1)), ([3, 4], [4, 1])])
def test_non_integer_tensor_geometry(tmp_path, fake_torch, size, stride):
    state, storages, _ = tensors(fake_torch)
    state["w"].args = (storages[0], 0, size, stride, False, {})
    write_zip(tmp_path / "t.pth", state, storages)
    _assert_refused(tmp_path / "t.pth", match=r"expected an int64 and two int64 tuples")


@pytest.mark.parametrize("writer", [write_legacy, write_zip])
def test_truncated_state_dict_pickle(tmp_path, fake_torch, writer):
    state, storages, _ = tensors(fake_torch)
    whole = pickle_state(state, zip_style=writer is write_zip)
    path = tmp_path / "c.pth"
    writer(path, state, storages)
    data = path.read_bytes()
    if writer is write_zip:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("archive/data.pkl", whole[: len(whole) // 2])
            for s in storages:
                z.writestr(f"archive/data/{s.key}", s.data.tobytes())
    else:
        start = data.index(whole)
        path.write_bytes(data[: start + len(whole) // 2])
    _assert_refused(path, match=r"state dict pickle is truncated|data.pkl pickle is truncated")


def test_legacy_storage_count_past_the_end(tmp_path, fake_torch):
    state, storages, _ = tensors(fake_torch)
    storages[0].data = storages[0].data[:1]
    state = {"w": FakeTensor(storages[0], 0, (1,), (1,), state["w"].rebuild)}

    def pid(obj, zip_style):
        return storage_pid(obj, zip_style)[:4] + (1 << 28,) + (None,)

    write_legacy(tmp_path / "l.pth", state, storages[:1], numel_override=1 << 28, pid=pid)
    _assert_refused(tmp_path / "l.pth", match=r"storage '0' truncated \(4 bytes left for 268435456 x 4\)")


def test_max_bytes_is_a_keyword(tmp_path, fake_torch):
    state, storages, expected = tensors(fake_torch)
    write_zip(tmp_path / "ok.pth", state, storages)
    assert load_state_dict(tmp_path / "ok.pth", max_bytes=1 << 20).keys() == expected.keys()
    with pytest.raises(InputError, match=r"max_bytes=64;"):
        load_state_dict(tmp_path / "ok.pth", max_bytes=64)


def test_hostile_values_in_messages_stay_short(tmp_path, fake_torch):
    # A persistent id nested 100000 deep and an element count of 10**5000: repr() of either would raise
    # (RecursionError, the int-to-str digit limit) instead of giving the message.
    deep = b"\x80\x02}X\x01\x00\x00\x00w)" + b"\x85" * 100_000 + b"Qs."  # {"w": persistent id ((((...))))}
    with zipfile.ZipFile(tmp_path / "d.pth", "w") as z:
        z.writestr("archive/data.pkl", deep)
    _assert_refused(tmp_path / "d.pth", match=r"persistent id \(\(\(\(\(\(.*is not \('storage'")
    state, storages, _ = tensors(fake_torch)
    write_zip(tmp_path / "n.pth", state, storages, pid=lambda obj, zip_style: storage_pid(obj, True)[:4] + (10 ** 5000,))
    _assert_refused(tmp_path / "n.pth", match="element count <int>; it must be")


def test_state_dict_keys_are_strings(tmp_path, fake_torch):
    state, storages, _ = tensors(fake_torch)
    state[("w", 1)] = state.pop("w")
    write_zip(tmp_path / "k.pth", state, storages)
    _assert_refused(tmp_path / "k.pth", match=r"a dict key in the pickle is a tuple; only str keys are read")


def test_colliding_hash_keys_are_refused(tmp_path, fake_torch):
    # 20000 int keys with one hash (multiples of 2**61 - 1): quadratic dict building, were they admitted.
    state, storages, _ = tensors(fake_torch)
    header = (LEGACY_MAGIC, 1001, {i * ((1 << 61) - 1): 0 for i in range(20_000)})
    write_legacy(tmp_path / "h.pth", state, storages, header=header)
    _assert_refused(tmp_path / "h.pth", match=r"system info pickle|a dict key in the pickle is a int")


def test_ordered_dict_takes_no_arguments(tmp_path, fake_torch):
    class Items:  # OrderedDict([(1, 0)]) would carry a non-str key past the SETITEMS check
        def __reduce__(self):
            import collections
            return collections.OrderedDict, ([(1, 0)],)

    state, storages, _ = tensors(fake_torch)
    state["meta"] = Items()
    write_zip(tmp_path / "o.pth", state, storages)
    _assert_refused(tmp_path / "o.pth", match=r"_empty_ordered_dict\(\) takes 0 positional arguments")


def test_encrypted_zip_member(tmp_path, fake_torch):
    state, storages, _ = tensors(fake_torch)
    write_zip(tmp_path / "e.pth", state, storages)
    raw = bytearray((tmp_path / "e.pth").read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        at = raw.find(signature)
        while at >= 0:
            raw[at + flag_at] |= 1  # "encrypted"
            at = raw.find(signature, at + 1)
    (tmp_path / "e.pth").write_bytes(bytes(raw))
    _assert_refused(tmp_path / "e.pth", match=r"corrupt zip checkpoint \(RuntimeError: File .* is encrypted")


def test_one_tensor_under_many_names_counts_each_copy(tmp_path, fake_torch):
    state, storages, _ = tensors(fake_torch)
    storages[0].data = np.zeros(150, dtype=np.float32)  # 600 bytes, pickled once, returned twice
    shared = FakeTensor(storages[0], 0, (150,), (1,), state["w"].rebuild)
    write_zip(tmp_path / "twice.pth", {"a": shared, "b": shared}, storages[:1])
    assert load_state_dict(tmp_path / "twice.pth", max_bytes=1200).keys() == {"a", "b"}
    with pytest.raises(InputError, match=r"arrays up to 'b' needs 1200 bytes, over the reader's limit max_bytes=1000"):
        load_state_dict(tmp_path / "twice.pth", max_bytes=1000)
