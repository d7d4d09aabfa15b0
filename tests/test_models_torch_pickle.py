"""The torch-free .pth reader on synthetic files written like torch does, and on the real checkpoint.

The synthetic files come from :mod:`torch_files` (torch is not installed).
"""

import pickle

import numpy as np
import pytest
from torch_files import tensors, fake_torch, write_legacy, write_zip  # noqa: F401 - fake_torch is a fixture

from adept_core.errors import InputError
from adept_core.models import efficientnet_lite
from adept_core.models.torch_pickle import LEGACY_MAGIC, LEGACY_PROTOCOL, load_state_dict


@pytest.mark.parametrize("writer", [write_legacy, write_zip])
def test_synthetic_file(tmp_path, fake_torch, writer):
    state, storages, expected = tensors(fake_torch)
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
    state, storages, _ = tensors(fake_torch)
    storages[0].cls = fake_torch.BFloat16Storage
    with pytest.raises(InputError, match="BFloat16Storage"):
        write_legacy(tmp_path / "bf16.pth", state, storages)
        load_state_dict(tmp_path / "bf16.pth")
    state, storages, _ = tensors(fake_torch)
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
    state, storages, _ = tensors(fake_torch)
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
