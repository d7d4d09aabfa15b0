"""im2col.channels_last: the typed NCHW -> NHWC copy equals NumPy's transposing copy bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from adept_core.asic import im2col as im2col_mod
from adept_core.asic.im2col import FEW_CHANNELS, ConvGeometry, channels_last, im2col


def words(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint32)


def special_values(shape, seed=0) -> np.ndarray:
    """Normal values with -0.0, +-inf, a quiet and a signalling NaN (payloads must survive the copy)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape).astype(np.float32)
    flat = a.reshape(-1)
    specials = np.array([0x80000000, 0x7F800000, 0xFF800000, 0x7FC00001, 0x7F800123, 0xFFC00456], np.uint32)
    flat[rng.permutation(flat.size)[:specials.size]] = specials.view(np.float32)
    return a


@pytest.mark.parametrize("shape", [(1, 3, 224, 224), (2, 1, 5, 7), (2, FEW_CHANNELS, 3, 4), (1, FEW_CHANNELS + 1, 3, 3),
                                   (3, 5, 1, 1)])
def test_channels_last_is_numpys_copy(shape):
    x = special_values(shape)
    got = channels_last(x)
    want = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    assert got.shape == want.shape and got.flags.c_contiguous
    assert np.array_equal(words(got), words(want))


def test_channels_last_of_channels_last_memory_is_a_view():
    x = special_values((1, 4, 4, 8)).transpose(0, 3, 1, 2)  # NCHW view of NHWC memory (a conv output)
    assert np.shares_memory(channels_last(x), x)


def test_channels_last_of_other_layouts_and_empty():
    x = special_values((2, 3, 6, 5))[:, :, ::2]  # not contiguous: NumPy's copy
    assert np.array_equal(words(channels_last(x)), words(np.ascontiguousarray(x.transpose(0, 2, 3, 1))))
    assert channels_last(np.zeros((0, 3, 4, 4), np.float32)).shape == (0, 4, 4, 3)


def test_im2col_of_an_image_input_is_unchanged(monkeypatch):
    """The stem conv's columns are the same with the typed copy as with NumPy's (uncompiled fallback)."""
    x = special_values((1, 3, 20, 18), seed=3)
    geo = ConvGeometry(3, 3, 2, 2, 1, 1, 1, 1, 1, 1, groups=1)
    got = im2col(x, geo)
    monkeypatch.setattr(im2col_mod, "FEW_CHANNELS", 0)  # NumPy's transposing copy instead
    want = im2col(x, geo)
    assert np.array_equal(words(got), words(want))
