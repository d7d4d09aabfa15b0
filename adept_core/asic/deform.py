"""DeformSample: the bilinear sampling half of ONNX ``DeformConv`` (its weight product is a photonic Conv).

``DeformConv`` samples the input at each kernel tap's position moved by a learned offset, weights the
sample by the (optional) mask, and multiplies by the weight. The import rewrite
(:mod:`adept_core.graph.onnx_deform_conv`) splits it: this op gathers the masked samples into an
im2col-like tensor ``[N, C*kh*kw, Ho, Wo]`` (channel ``c*kh*kw + tap``, so a group's block of rows is
contiguous), and a 1x1 grouped ``Conv`` with the weight reshaped to ``[Cout, Cg*kh*kw, 1, 1]`` does
the product on the photonic core: the same ``K = Cg*kh*kw`` as a plain Conv's im2col.

Sampling follows onnx's reference (``GridSample`` bilinear, ``align_corners=1``, zero padding): tap
``(i, j)`` of output pixel ``(y, x)`` reads position ``(-pad_top + y*stride_h + i*dil_h + dy,
-pad_left + x*stride_w + j*dil_w + dx)``; each of the four neighbouring pixels outside the image
contributes 0. Coordinates and weights are float32 (the ASIC's widest format).
"""

from __future__ import annotations

import numpy as np

from ..errors import BudgetError, ShapeError


def deform_sample(x, offset, mask, kernel, strides, pads, dilations, offset_group: int) -> np.ndarray:
    """The masked bilinear samples of every tap, ``[N, C*kh*kw, Ho, Wo]`` (float32)."""
    n, c, h, w = x.shape
    kh, kw = kernel
    ho, wo = offset.shape[2:]
    og = int(offset_group)
    if c % og or offset.shape[1] != og * kh * kw * 2:
        raise ShapeError(f"DeformSample: offset {offset.shape} does not fit offset_group {og}, kernel {kernel} "
                         f"and {c} input channels")
    cg = c // og
    f32 = np.float32
    off = np.asarray(offset, f32).reshape(n, og, kh, kw, 2, ho, wo)
    rows = (-pads[0] + strides[0] * np.arange(ho))[None, :] + (dilations[0] * np.arange(kh))[:, None]  # [kh, ho]
    cols = (-pads[1] + strides[1] * np.arange(wo))[None, :] + (dilations[1] * np.arange(kw))[:, None]  # [kw, wo]
    ph = off[:, :, :, :, 0] + rows.astype(f32)[None, None, :, None, :, None]  # [n, og, kh, kw, ho, wo]
    pw = off[:, :, :, :, 1] + cols.astype(f32)[None, None, None, :, None, :]
    h0, w0 = np.floor(ph), np.floor(pw)
    lh, lw = ph - h0, pw - w0
    h0, w0 = h0.astype(np.int64), w0.astype(np.int64)
    xg = np.asarray(x, f32).reshape(n, og, cg, h * w)
    taps = kh * kw * ho * wo
    out = np.zeros((n, og, cg, taps), f32)
    for dy, fy in ((0, 1 - lh), (1, lh)):
        for dx, fx in ((0, 1 - lw), (1, lw)):
            hi, wi = h0 + dy, w0 + dx
            inside = (hi >= 0) & (hi < h) & (wi >= 0) & (wi < w)
            index = (np.clip(hi, 0, h - 1) * w + np.clip(wi, 0, w - 1)).reshape(n, og, 1, taps)
            weight = np.where(inside, fy * fx, f32(0)).reshape(n, og, 1, taps)
            out += weight * np.take_along_axis(xg, np.broadcast_to(index, (n, og, cg, taps)), axis=3)
    if mask is not None:
        out *= np.asarray(mask, f32).reshape(n, og, 1, taps)
    return out.reshape(n, c * kh * kw, ho, wo)


def op_deform_sample(node, args, ctx):
    a = node.attrs
    # The sample tensor is kh*kw times the input: check it against the model's element budget first.
    budget = ctx.graph.meta.get("max_elements")
    n, c = args[0].shape[:2]
    count = n * c * int(np.prod(a["kernel_shape"])) * int(np.prod(args[1].shape[2:]))
    if budget is not None and count > budget:
        raise BudgetError(f"node {node.name!r} (DeformSample): its samples would have {count:,} elements, over the "
                         f"model's budget of {budget:,} (from_onnx(..., max_elements=N))")
    mask = args[2] if len(args) > 2 else None
    return (deform_sample(args[0], args[1], mask, a["kernel_shape"], a["strides"], a["pads"], a["dilations"],
                          a["offset_group"]),)


OPS = {"DeformSample": op_deform_sample}
