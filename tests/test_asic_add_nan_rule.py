"""fused.add_ always takes the exact NaN rule (no _has_nan pass): the same bits as NumPy for any addends."""

from __future__ import annotations

import numpy as np
import pytest

from adept_core.asic import fused


def words(a):
    return np.ascontiguousarray(a).view(np.uint32)


@pytest.mark.skipif(fused._epilogue is None, reason="Cython epilogue module not built")
@pytest.mark.parametrize("fmt", ["bf16", "fp32"])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("nans_in", ["a", "b", "both", "none"])
def test_add_matches_numpy_whichever_addend_holds_nans(fmt, relu, nans_in):
    rng = np.random.default_rng(11)
    a = rng.standard_normal((3, 9, 9, 16)).astype(np.float32)
    b = rng.standard_normal((3, 9, 9, 16)).astype(np.float32)
    for x, seed in ((a, 1), (b, 2)):  # -0.0 and infinities in both
        idx = np.random.default_rng(seed).permutation(x.size)[:60]
        x.reshape(-1)[idx[:20]] = -0.0
        x.reshape(-1)[idx[20:40]] = np.inf
        x.reshape(-1)[idx[40:]] = -np.inf
    if nans_in in ("a", "both"):
        a.reshape(-1).view(np.uint32)[::5] = 0x7FC00011
        a.reshape(-1).view(np.uint32)[1::7] = 0xFF800123  # signalling: quieted by the add
    if nans_in in ("b", "both"):
        b.reshape(-1).view(np.uint32)[::3] = 0xFFC00022
    a, b = a.transpose(0, 3, 1, 2), b.transpose(0, 3, 1, 2)  # NCHW views of NHWC memory (conv outputs)
    with np.errstate(all="ignore"):
        want = fused.add_(a.copy(), b.copy(), np.empty_like(a), fmt, relu, cython=False)
        got = fused.add_(a.copy(order="K"), b.copy(order="K"), np.empty_like(a), fmt, relu)
    assert np.array_equal(words(got), words(want))
