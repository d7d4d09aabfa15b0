"""Pooling and depthwise convolution on the ASIC (NCHW, 2-D).

Depthwise convolution runs here and not on the photonic core
(:func:`adept_core.graph.lowering.is_depthwise`): lowered to a GEMM it would
use ``kh*kw`` (9 or 25) of the core's rows and one output column per
channel, so the core would sit >99 % idle while paying full laser and ADC
power; on the ASIC it is ``kh*kw`` multiply-adds per output, accumulated in
float32 and rounded once (see ``docs/asic.md``).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError
from .fused import max_pool_nhwc
from .im2col import ConvGeometry, resolve_impl, windows

try:
    from . import _epilogue
except ImportError:  # uncompiled source tree: the NumPy taps below compute the same bits
    _epilogue = None
try:
    from . import _depthwise
except ImportError:  # uncompiled source tree: the NumPy path computes the same bits
    _depthwise = None


def _ceil_extension(geo: ConvGeometry, h: int, w: int, ceil_mode: bool) -> ConvGeometry:
    """Extra bottom/right padding so that floor division gives the ceil_mode output size."""
    if not ceil_mode:
        return geo
    eff_h, eff_w = geo.dh * (geo.kh - 1) + 1, geo.dw * (geo.kw - 1) + 1
    ho = math.ceil((h + geo.pt + geo.pb - eff_h) / geo.sh) + 1
    wo = math.ceil((w + geo.pl + geo.pr - eff_w) / geo.sw) + 1
    # ONNX/PyTorch: the last window must start inside the input or left padding.
    if (ho - 1) * geo.sh >= h + geo.pt:
        ho -= 1
    if (wo - 1) * geo.sw >= w + geo.pl:
        wo -= 1
    extra_h = max(0, (ho - 1) * geo.sh + eff_h - (h + geo.pt + geo.pb))
    extra_w = max(0, (wo - 1) * geo.sw + eff_w - (w + geo.pl + geo.pr))
    return ConvGeometry(geo.kh, geo.kw, geo.sh, geo.sw, geo.dh, geo.dw, geo.pt, geo.pl,
                        geo.pb + extra_h, geo.pr + extra_w, geo.groups)


def _tap_reduce(v: np.ndarray, ufunc) -> np.ndarray:
    """Reduce a window view ``[..., kh, kw]`` over its taps, one strided slice at a time.

    NumPy reduces the two small trailing axes of a strided view element by
    element; ``kh*kw`` whole-array ufunc calls are an order of magnitude faster.
    Taps are combined in row-major order (float32 for sums).
    """
    kh, kw = v.shape[-2:]
    out = np.array(v[..., 0, 0], dtype=np.float32)
    for u in range(kh):
        for t in range(kw):
            if u or t:
                ufunc(out, v[..., u, t], out=out)
    return out


def op_max_pool(node, args, ctx):
    x = args[0]
    if len(node.outputs) > 1 and node.outputs[1]:
        raise ShapeError(f"MaxPool {node.name!r}: the Indices output is not supported")
    geo = ConvGeometry.from_attrs(node.attrs, name=node.name)
    geo = _ceil_extension(geo, x.shape[2], x.shape[3], bool(node.attrs.get("ceil_mode", 0)))
    fast = max_pool_nhwc(x, geo)  # the same taps in the same order, one pass (see .fused)
    return (fast if fast is not None else _tap_reduce(windows(x, geo, pad_value=-np.inf), np.maximum),)


def op_average_pool(node, args, ctx):
    x = args[0]
    base = ConvGeometry.from_attrs(node.attrs, name=node.name)
    geo = _ceil_extension(base, x.shape[2], x.shape[3], bool(node.attrs.get("ceil_mode", 0)))
    include_pad = bool(node.attrs.get("count_include_pad", 0))
    if x.dtype == np.float32 and x.ndim == 4:
        return (_average_pool_nhwc(x, base, geo, include_pad),)
    return (_average_pool_reference(x, base, geo, include_pad),)


def _average_pool_reference(x: np.ndarray, base: ConvGeometry, geo: ConvGeometry, include_pad: bool) -> np.ndarray:
    """AveragePool over an NCHW window view: the readable definition :func:`_average_pool_nhwc` must equal."""
    total = _tap_reduce(windows(x, geo), np.add)
    # Divisor per output: window cells inside the input, plus the explicit pads when
    # count_include_pad=1 (the ceil_mode extension never counts).
    ones = np.ones((1, 1) + x.shape[2:], dtype=np.float32)
    if include_pad:
        ones = np.pad(ones, ((0, 0), (0, 0), (base.pt, base.pb), (base.pl, base.pr)), constant_values=1.0)
        geo = ConvGeometry(geo.kh, geo.kw, geo.sh, geo.sw, geo.dh, geo.dw, 0, 0,
                           geo.pb - base.pb, geo.pr - base.pr, geo.groups)
    count = windows(ones, geo).sum(axis=(4, 5), dtype=np.float32)
    return total / count


def _average_pool_nhwc(x: np.ndarray, base: ConvGeometry, geo: ConvGeometry, include_pad: bool) -> np.ndarray:
    """AveragePool of float32 ``x`` over channels-last memory; bit-identical to :func:`_average_pool_reference`.

    The same taps are added in the same row-major order, each tap one slice whose channels are
    contiguous (the reference's NCHW window view made NumPy walk strided memory, and ``np.pad``
    copied the input NCHW first although conv outputs are stored NHWC). The divisor is the count
    of window cells inside the counted region, separable as rows x columns (small integers, so
    the float32 product is exact and equals the reference's float32 sum of ones). The sums run in
    one typed pass (``_epilogue.avg_pool_nhwc_into``, with the reference's NaN rule: the running
    sum is the first operand); an uncompiled tree runs the reference. Returns an NCHW view of
    NHWC memory, as conv outputs are.
    """
    b, c, h, w = x.shape
    ho, wo = geo.output_hw(h, w)

    def inside(n_out: int, size: int, lo_pad: int, hi_pad: int, ceil_extra: int, k: int, stride: int,
               dil: int) -> np.ndarray:
        # Cells of each window along one axis that fall in the counted region of the padded axis:
        # the input, plus the explicit pads when count_include_pad=1 (never the ceil_mode extension).
        counted = np.zeros(size + lo_pad + hi_pad, np.float32)
        if include_pad:
            counted[:size + lo_pad + hi_pad - ceil_extra] = 1
        else:
            counted[lo_pad:lo_pad + size] = 1
        starts = np.arange(n_out) * stride
        return counted[starts[:, None] + np.arange(k) * dil].sum(axis=1, dtype=np.float32)

    rows = inside(ho, h, geo.pt, geo.pb, geo.pb - base.pb, geo.kh, geo.sh, geo.dh)
    cols = inside(wo, w, geo.pl, geo.pr, geo.pr - base.pr, geo.kw, geo.sw, geo.dw)
    count = rows[:, None] * cols[None, :]
    if _epilogue is not None and b and c:  # one typed pass: the same sums, the same division
        out = np.empty((b, ho, wo, c), np.float32)
        _epilogue.avg_pool_nhwc_into(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), count, out, geo.kh, geo.kw,
                                     geo.sh, geo.sw, geo.dh, geo.dw, geo.pt, geo.pl)
        return out.transpose(0, 3, 1, 2)
    # Uncompiled tree: the reference itself (NumPy's contiguous and strided add loops may pick
    # different payloads when two NaNs meet, so a NumPy channels-last variant is not bit-exact).
    return _average_pool_reference(x, base, geo, include_pad)


def op_global_average_pool(node, args, ctx):
    x = args[0]
    return (np.mean(x, axis=tuple(range(2, x.ndim)), keepdims=True, dtype=np.float32),)


def op_global_max_pool(node, args, ctx):
    x = args[0]
    return (np.max(x, axis=tuple(range(2, x.ndim)), keepdims=True),)


def padded_nonfinite_taps(taps: np.ndarray, geo: ConvGeometry) -> bool:
    """True when the compiled depthwise loops would differ from the definition: padding and a non-finite tap.

    The C / Cython loops skip the taps that fall on padding; the definition multiplies the padded zeros,
    and ``0 * inf`` or ``0 * nan`` is NaN. With finite taps a skipped ``0 * w`` adds a signed zero to a
    sum that started at +0 and so changes no bit; with an inf / NaN tap the NumPy path must run.
    """
    padded = geo.pt or geo.pb or geo.pl or geo.pr
    return bool(padded) and not bool(np.isfinite(taps).all())


def depthwise_conv(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, geo: ConvGeometry,
                   impl: str = "auto") -> np.ndarray:
    """Depthwise conv ``[B, C, H, W] * [C*mult, 1, kh, kw]`` (group = C), float32 accumulation.

    Output channel ``o`` reads input channel ``o // mult``. Works channels-last
    (how conv outputs are stored, see :mod:`adept_core.asic.im2col`) so each
    of the ``kh*kw`` taps is one multiply-add over contiguous channel runs;
    taps accumulate in row-major order, each product and sum rounded to
    float32. ``impl``: ``"cython"`` (:mod:`adept_core.asic._depthwise`, one
    pass), ``"numpy"`` (one array operation per tap), ``"auto"`` (Cython when
    built); bit-identical. Returns an NCHW view of NHWC memory.
    """
    b, c, h, wd = x.shape
    cout = w.shape[0]
    if w.shape[1] != 1 or geo.groups != c or cout % c:
        raise ShapeError(f"depthwise conv needs weight [C*mult, 1, kh, kw] with group = C = {c}, got {w.shape}")
    mult = cout // c
    xh = x.transpose(0, 2, 3, 1)
    if mult > 1:
        xh = np.repeat(xh, mult, axis=3)
    ho, wo = geo.output_hw(h, wd)
    taps = np.ascontiguousarray(w[:, 0].transpose(1, 2, 0), dtype=np.float32)  # [kh, kw, Cout]
    out = np.zeros((b, ho, wo, cout), dtype=np.float32)
    if resolve_impl("depthwise", impl, _depthwise) == "cython" and not padded_nonfinite_taps(taps, geo):
        fused_bias = (bias is not None and hasattr(_depthwise, "depthwise_bias_nhwc_into")
                      and bias.dtype == np.float32 and bias.shape == (cout,))
        if fused_bias:  # the bias in the same pass (same order of operations: after the last tap)
            _depthwise.depthwise_bias_nhwc_into(np.ascontiguousarray(xh), taps, np.ascontiguousarray(bias), out,
                                                geo.sh, geo.sw, geo.dh, geo.dw, geo.pt, geo.pl)
            return out.transpose(0, 3, 1, 2)
        _depthwise.depthwise_nhwc_into(np.ascontiguousarray(xh), taps, out, geo.sh, geo.sw, geo.dh, geo.dw,
                                       geo.pt, geo.pl)
    else:
        xh = np.pad(xh, ((0, 0), (geo.pt, geo.pb), (geo.pl, geo.pr), (0, 0)))
        tmp = np.empty_like(out)
        for u in range(geo.kh):
            for t in range(geo.kw):
                window = xh[:, u * geo.dh: u * geo.dh + geo.sh * (ho - 1) + 1: geo.sh,
                            t * geo.dw: t * geo.dw + geo.sw * (wo - 1) + 1: geo.sw]
                np.multiply(window, taps[u, t], out=tmp)
                out += tmp
    if bias is not None:
        out += bias
    return out.transpose(0, 3, 1, 2)


OPS = {
    "MaxPool": op_max_pool,
    "AveragePool": op_average_pool,
    "GlobalAveragePool": op_global_average_pool,
    "GlobalMaxPool": op_global_max_pool,
}
