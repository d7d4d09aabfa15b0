# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""im2col for channels-last (NHWC) convolution input with padding, stride, dilation and groups.

Why Cython here: the NumPy version (``np.pad`` copy, a strided
``sliding_window_view`` and a 7-D transpose copy) touches the data twice and
walks it with strides NumPy cannot block; this loop writes every output row
once, front to back, copying each receptive-field pixel's channels as one
contiguous run. A Numba version would need a warm-up compile in every
process and a second, JIT-disabled path for coverage; a typed loop compiled
with the C++ kernel has neither cost. ``benchmarks/test_im2col_speed.py``
measures the gain on ResNet-50 layer shapes.
"""

from libc.string cimport memcpy, memset


def im2col_nhwc_into(const float[:, :, :, ::1] x, float[:, :, ::1] out,
                     int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl,
                     int groups, int ho, int wo):
    """Fill ``out[g, (b*ho + i)*wo + j, (u*kw + v)*cg + c]`` from ``x[b, ih, iw, g*cg + c]``.

    ``x`` is NHWC; ``out`` has shape ``[groups, B*ho*wo, kh*kw*cg]``; pixels
    in the padding read as 0. Shapes are checked by the Python wrapper.
    """
    cdef Py_ssize_t nb = x.shape[0], h = x.shape[1], w = x.shape[2], cin = x.shape[3]
    cdef Py_ssize_t cg = cin // groups
    cdef size_t run = cg * sizeof(float)
    cdef Py_ssize_t g, b, i, j, u, v, ih, iw
    cdef float* dst
    # With one group and no dilation, a kernel row's taps are one contiguous run of x.
    cdef bint whole_rows = groups == 1 and dw == 1
    with nogil:
        for g in range(groups):
            for b in range(nb):
                for i in range(ho):
                    for j in range(wo):
                        dst = &out[g, (b * ho + i) * wo + j, 0]
                        for u in range(kh):
                            ih = i * sh - pt + u * dh
                            iw = j * sw - pl
                            if whole_rows and 0 <= ih < h and iw >= 0 and iw + kw <= w:
                                # The kw taps are adjacent pixels of one input row: one copy
                                # (7x fewer calls for the 3-channel 7x7 stem of ResNet-50).
                                memcpy(dst, &x[b, ih, iw, 0], kw * run)
                                dst += kw * cg
                                continue
                            for v in range(kw):
                                iw = j * sw - pl + v * dw
                                if ih < 0 or ih >= h or iw < 0 or iw >= w:
                                    memset(dst, 0, run)
                                else:
                                    memcpy(dst, &x[b, ih, iw, g * cg], run)
                                dst += cg


def nchw_to_nhwc_into(const unsigned int[:, :, ::1] x, unsigned int[:, ::1] out):
    """``out[p, c] = x[b, c, p]`` for one batch item: a C-contiguous NCHW tensor's channels-last copy.

    Typed as 32-bit words (a copy, every bit kept, NaN payloads included). For few channels (an
    image's 3) NumPy's transposing copy walks the C-strided source one element at a time; this
    loop reads the C planes as C sequential streams (~2x faster for a 224x224 RGB input).
    ``x`` is ``[B, C, H*W]``, ``out`` ``[B*H*W, C]``; shapes checked here.
    """
    cdef Py_ssize_t nb = x.shape[0], ch = x.shape[1], npix = x.shape[2]
    cdef Py_ssize_t b, p, c
    if out.shape[0] != nb * npix or out.shape[1] != ch:
        raise ValueError("nchw_to_nhwc_into: shapes disagree")
    with nogil:
        for b in range(nb):
            for p in range(npix):
                for c in range(ch):
                    out[b * npix + p, c] = x[b, c, p]
