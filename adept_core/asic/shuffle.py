"""Channel shuffle feeding a depthwise conv, computed without storing the shuffle.

ShuffleNet writes its channel shuffle as ``Reshape [B, G, C/G, H, W] -> Transpose (0, 2, 1, 3, 4)
-> Reshape [B, C, H, W]``, and the shuffled tensor's only reader is a depthwise conv. The shuffle
is pure data movement (a copy: every value keeps its bits), and a depthwise conv computes each
channel on its own, so the conv can read the *unshuffled* channels with its taps and bias
permuted to match and store each result at its shuffled channel: per element the same float32
operations in the same order as shuffling first, hence the same bits, one activation-sized copy
fewer (:mod:`adept_core.asic._depthwise`, ``adept_depthwise_unshuffle``).

:func:`shuffled_depthwise_conv` is the NumPy definition (shuffle, then
:func:`~adept_core.asic.pool.depthwise_conv`); :func:`unshuffle_depthwise_conv` the fast path,
tested against it bit for bit (``tests/test_asic_shuffle.py``). The executor decides where the
pattern applies (:func:`adept_core.emulate.fusion.shuffle_depthwise_chains`).
"""

from __future__ import annotations

import numpy as np

from .im2col import ConvGeometry
from .pool import _depthwise, depthwise_conv, padded_nonfinite_taps


def channel_shuffle(x: np.ndarray, groups: int) -> np.ndarray:
    """The ONNX definition: ``x [B, C, H, W]`` reshaped to ``[B, G, C/G, H, W]``, axes 1, 2 swapped, reshaped back."""
    b, c, h, w = x.shape
    return x.reshape(b, groups, c // groups, h, w).transpose(0, 2, 1, 3, 4).reshape(b, c, h, w)


def shuffled_depthwise_conv(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, geo: ConvGeometry,
                            groups: int) -> np.ndarray:
    """Depthwise conv of ``channel_shuffle(x, groups)`` (the reference: the shuffle materialised)."""
    return depthwise_conv(channel_shuffle(x, groups), w, bias, geo)


def unshuffle_taps(w: np.ndarray, bias: np.ndarray | None, groups: int) -> tuple[np.ndarray, np.ndarray | None]:
    """A depthwise weight ``[C, 1, kh, kw]`` (and bias) of the shuffled channels, in the unshuffled order.

    Returns ``taps [kh, kw, C]`` (float32, contiguous) and the bias ``[C]``: unshuffled channel
    ``o = g * (C/G) + j`` takes shuffled channel ``s = j * G + g``'s weight. A weight's: compute once.
    """
    c = w.shape[0]
    s = np.arange(c).reshape(c // groups, groups).T.reshape(c)  # s[o] = shuffled channel of unshuffled o
    taps = np.ascontiguousarray(w[s, 0].transpose(1, 2, 0), dtype=np.float32)
    return taps, (None if bias is None else np.ascontiguousarray(bias[s], dtype=np.float32))


def unshuffle_depthwise_conv(x: np.ndarray, taps: np.ndarray, bias: np.ndarray | None, geo: ConvGeometry,
                             groups: int) -> np.ndarray | None:
    """:func:`shuffled_depthwise_conv` from :func:`unshuffle_taps`'s operands, no shuffle stored; else None.

    None when the C loop is not built, for non-float32 operands and without a bias (see below):
    the caller then materialises the shuffle.

    ``x`` is the unshuffled float32 ``[B, C, H, W]`` (read channels-last: free for a conv
    output, else one copy). Returns an NCHW view of NHWC memory, like ``depthwise_conv``.
    """
    if _depthwise is None or not hasattr(_depthwise, "depthwise_unshuffle_nhwc_into"):
        return None
    # Without a bias, depthwise_conv runs the Cython taps loop, whose vectorised adds pick a
    # different operand's NaN payload when both addends are NaN (IEEE leaves the payload open):
    # only the C loop with the bias (depthwise_bias_nhwc_into's, the same expression) is matched.
    if bias is None or x.dtype != np.float32 or x.ndim != 4 or bias.dtype != np.float32:
        return None
    b, c, h, wd = x.shape
    if taps.shape != (geo.kh, geo.kw, c) or c % groups or bias.shape != (c,) or padded_nonfinite_taps(taps, geo):
        return None
    ho, wo = geo.output_hw(h, wd)
    out = np.empty((b, ho, wo, c), np.float32)  # every element is stored (acc starts at +0 in C)
    acc = np.empty(c, np.float32)  # the per-pixel accumulator
    _depthwise.depthwise_unshuffle_nhwc_into(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), taps, bias, True,
                                             groups, out, acc, geo.sh, geo.sw, geo.dh, geo.dw, geo.pt, geo.pl)
    return out.transpose(0, 3, 1, 2)

