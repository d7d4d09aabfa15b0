"""Convolution geometry and im2col: how a Conv becomes the GEMM that :mod:`~adept_core.graph.lowering` names.

Activations are logically NCHW (ONNX) but a conv's output is stored
channels-last (the GEMM produces ``[B*Ho*Wo, Cout]`` rows, and exposing it as
an NCHW *view* avoids a transpose); element-wise ASIC ops keep that layout.
So im2col reads NHWC: row ``(b*Ho + i)*Wo + j`` of group ``g`` holds the
receptive field of output pixel ``(b, i, j)`` in the order ``(u, v, c)``,
each pixel's ``Cin/group`` channels one contiguous run. The weight matrix
uses the same order: ``W_g.transpose(2, 3, 1, 0).reshape(K, Cout/group)``
(:func:`weight_matrix`). The order of K inside a GEMM is a mapping choice;
the lowering fixes only the shape ``[B*Ho*Wo, Cin/group*kh*kw] x [K, Cout/group]``.

Two implementations, bit-identical (they only copy values):

- ``"cython"``: :mod:`adept_core.asic._im2col`, built by CMake with the
  kernel; one pass, no padding copy (the default when built);
- ``"numpy"``: ``np.pad`` + ``sliding_window_view`` + one transpose copy;
  the readable reference, and what runs from an uncompiled source tree.

``"auto"`` picks ``"cython"`` when the module is built, else ``"numpy"``
(the result is the same; only the speed differs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import BackendUnavailableError, ConfigError, ShapeError, UnsupportedOpError
from ..graph.lowering import conv_output_len

try:
    from . import _im2col
except ImportError as _exc:  # source tree without the compiled module
    _im2col = None
    _IMPORT_ERROR = str(_exc)
else:
    _IMPORT_ERROR = ""

IMPLS = ("auto", "cython", "numpy")


@dataclass(frozen=True)
class ConvGeometry:
    """Everything im2col needs, resolved from ONNX attributes (NCHW, 2-D only).

    Attributes are ints: kernel ``kh, kw``; strides ``sh, sw``; dilations
    ``dh, dw``; pads top/left/bottom/right ``pt, pl, pb, pr``; ``groups``.
    """

    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    dh: int = 1
    dw: int = 1
    pt: int = 0
    pl: int = 0
    pb: int = 0
    pr: int = 0
    groups: int = 1

    @classmethod
    def from_attrs(cls, attrs: dict, kernel_shape=None, name: str = "?") -> "ConvGeometry":
        """Read ONNX Conv / pooling attributes; ``kernel_shape`` overrides the attribute."""
        ks = tuple(kernel_shape if kernel_shape is not None else attrs.get("kernel_shape", ()))
        if len(ks) != 2:
            raise UnsupportedOpError(f"node {name!r}: only 2-D convolution/pooling is supported, kernel_shape={ks}")
        auto_pad = attrs.get("auto_pad", "NOTSET")
        if isinstance(auto_pad, bytes):
            auto_pad = auto_pad.decode()
        if auto_pad not in ("NOTSET", "VALID"):
            raise UnsupportedOpError(
                f"node {name!r}: auto_pad={auto_pad!r} must be resolved into explicit 'pads' by the importer"
            )
        sh, sw = attrs.get("strides", (1, 1))
        dh, dw = attrs.get("dilations", (1, 1))
        pads = tuple(attrs.get("pads", (0, 0, 0, 0)))
        if len(pads) != 4:
            raise ShapeError(f"node {name!r}: pads must have 4 entries (top, left, bottom, right), got {pads}")
        geo = cls(int(ks[0]), int(ks[1]), int(sh), int(sw), int(dh), int(dw), *(int(p) for p in pads),
                  groups=int(attrs.get("group", 1)))
        if min(geo.kh, geo.kw, geo.sh, geo.sw, geo.dh, geo.dw, geo.groups) < 1 or min(pads) < 0:
            raise ShapeError(f"node {name!r}: kernel, strides, dilations and group must be >= 1 and pads >= 0: {geo}")
        return geo

    def output_hw(self, h: int, w: int) -> tuple[int, int]:
        ho = conv_output_len(h, self.pt, self.pb, self.kh, self.sh, self.dh)
        wo = conv_output_len(w, self.pl, self.pr, self.kw, self.sw, self.dw)
        if ho < 1 or wo < 1:
            raise ShapeError(f"input {h}x{w} is smaller than the (dilated, padded) kernel {self}")
        return ho, wo


def im2col(x: np.ndarray, geo: ConvGeometry, impl: str = "auto", scratch=None) -> np.ndarray:
    """Lower float32 ``x`` (logical NCHW, any memory layout) to ``[groups, B*Ho*Wo, kh*kw*Cin/groups]``.

    ``scratch(n)``: optional, returns a float32 array of ``n`` elements the Cython path may fill
    instead of allocating (the executor reuses one buffer per model: VGG's first im2col is 115 MB,
    and page-faulting a fresh buffer in on every call cost up to 0.3 s per VGG-19 inference).
    """
    if x.dtype != np.float32 or x.ndim != 4:
        raise ShapeError(f"im2col needs a float32 NCHW tensor, got {x.dtype} with shape {x.shape}")
    b, cin, h, w = x.shape
    if cin % geo.groups:
        raise ShapeError(f"{cin} input channels do not split into {geo.groups} groups")
    ho, wo = geo.output_hw(h, w)
    impl = resolve_impl("im2col", impl, _im2col, _IMPORT_ERROR)
    nhwc = channels_last(x)  # free when x is a conv output (stored NHWC)
    cg = cin // geo.groups
    if geo.kh == geo.kw == 1 and not (geo.pt or geo.pl or geo.pb or geo.pr):
        # Pointwise: the columns are the (strided) pixels themselves; no copy for stride 1, group 1.
        rows = nhwc[:, ::geo.sh, ::geo.sw, :].reshape(b * ho * wo, cin)
        if geo.groups == 1:
            return rows[None]
        return np.ascontiguousarray(rows.reshape(b * ho * wo, geo.groups, cg).transpose(1, 0, 2))
    if impl == "numpy":
        return _im2col_numpy(nhwc, geo, ho, wo)
    shape = (geo.groups, b * ho * wo, geo.kh * geo.kw * cg)
    out = np.empty(shape, np.float32) if scratch is None else scratch(shape[0] * shape[1] * shape[2]).reshape(shape)
    _im2col.im2col_nhwc_into(nhwc, out, geo.kh, geo.kw, geo.sh, geo.sw, geo.dh, geo.dw,
                             geo.pt, geo.pl, geo.groups, ho, wo)
    return out


#: Up to this many channels a C-contiguous NCHW input is made channels-last by the typed loop.
FEW_CHANNELS = 16


def channels_last(x: np.ndarray) -> np.ndarray:
    """float32 ``x [B, C, H, W]`` as C-contiguous ``[B, H, W, C]`` (a view when it already is; else a copy).

    A C-contiguous NCHW input with few channels (a network's image input) is copied by
    ``_im2col.nchw_to_nhwc_into`` (bit for bit the same copy, faster than NumPy's transposing
    copy there); everything else by NumPy.
    """
    t = x.transpose(0, 2, 3, 1)
    if t.flags.c_contiguous:
        return t
    b, c, h, w = x.shape
    if (_im2col is not None and hasattr(_im2col, "nchw_to_nhwc_into") and x.flags.c_contiguous
            and 0 < c <= FEW_CHANNELS and x.size > 0 and x.dtype.itemsize == 4):
        out = np.empty((b, h, w, c), x.dtype)
        _im2col.nchw_to_nhwc_into(x.reshape(b, c, h * w).view(np.uint32), out.reshape(b * h * w, c).view(np.uint32))
        return out
    return np.ascontiguousarray(t)


def weight_matrix(w: np.ndarray) -> np.ndarray:
    """Conv weight ``[Cout_g, Cin_g, kh, kw]`` of one group as the ``[kh*kw*Cin_g, Cout_g]`` GEMM operand."""
    cout_g = w.shape[0]
    return np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(-1, cout_g))


def windows(x: np.ndarray, geo: ConvGeometry, pad_value: float = 0.0) -> np.ndarray:
    """Strided view ``[B, C, Ho, Wo, kh, kw]`` of the padded input (no copy of the windows)."""
    if geo.pt or geo.pl or geo.pb or geo.pr:
        x = np.pad(x, ((0, 0), (0, 0), (geo.pt, geo.pb), (geo.pl, geo.pr)), constant_values=pad_value)
    eff_h, eff_w = geo.dh * (geo.kh - 1) + 1, geo.dw * (geo.kw - 1) + 1
    view = sliding_window_view(x, (eff_h, eff_w), axis=(2, 3))
    return view[:, :, ::geo.sh, ::geo.sw, ::geo.dh, ::geo.dw]


def _im2col_numpy(nhwc: np.ndarray, geo: ConvGeometry, ho: int, wo: int) -> np.ndarray:
    b, cin = nhwc.shape[0], nhwc.shape[3]
    v = windows(nhwc.transpose(0, 3, 1, 2), geo)  # [B, C, Ho, Wo, kh, kw] view of the padded input
    assert v.shape[2:4] == (ho, wo)
    v = v.reshape(b, geo.groups, cin // geo.groups, ho, wo, geo.kh, geo.kw).transpose(1, 0, 3, 4, 5, 6, 2)
    return np.ascontiguousarray(v).reshape(geo.groups, b * ho * wo, -1)


def cython_available() -> bool:
    return _im2col is not None


def resolve_impl(what: str, impl: str, module: object, import_error: str = "") -> str:
    """``"cython"`` or ``"numpy"`` for ``impl`` (``"auto"`` prefers Cython when ``module`` is built)."""
    if impl not in IMPLS:
        raise ConfigError(f"{what} impl {impl!r} is unknown; choose one of {', '.join(IMPLS)}")
    if impl == "auto":
        return "cython" if module is not None else "numpy"
    if impl == "cython" and module is None:
        reason = f" ({import_error})" if import_error else ""
        raise BackendUnavailableError(f"the Cython {what} module is not built{reason}; rebuild with `pip install -e .`")
    return impl
