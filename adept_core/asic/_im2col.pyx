# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""im2col for NCHW convolution with padding, stride, dilation and groups: one typed loop.

Why Cython here: the NumPy version (a strided ``sliding_window_view`` made
contiguous by a 7-D transpose copy, plus an ``np.pad`` copy) touches the data
twice and walks it with strides NumPy cannot block; this loop writes every
output element once, row by row, with the bounds test hoisted out of the
innermost loop. A Numba version would need a warm-up compile in every
process and a second, JIT-disabled path for coverage; a typed loop compiled
with the C++ kernel has neither cost. ``benchmarks/test_im2col_speed.py``
measures the gain on ResNet-50 layer shapes.
"""



def im2col_into(const float[:, :, :, ::1] x, float[:, :, ::1] out,
                int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl,
                int groups, int ho, int wo):
    """Fill ``out[g, (b*ho + i)*wo + j, (c*kh + u)*kw + v]`` from ``x[b, g*cg + c, ...]``.

    ``out`` must have shape ``[groups, B*ho*wo, cg*kh*kw]``; positions in the
    padding read as 0. Shapes are checked by the Python wrapper. Output rows
    are written front to back (streaming stores); the row test for padding
    is hoisted out of the ``v`` loop.
    """
    cdef Py_ssize_t nb = x.shape[0], cin = x.shape[1], h = x.shape[2], w = x.shape[3]
    cdef Py_ssize_t cg = cin // groups
    cdef Py_ssize_t g, b, i, j, c, u, v, ih, iw0, ch
    cdef bint inside
    cdef const float* src
    cdef float* dst
    with nogil:
        for g in range(groups):
            for b in range(nb):
                for i in range(ho):
                    for j in range(wo):
                        dst = &out[g, (b * ho + i) * wo + j, 0]
                        iw0 = j * sw - pl
                        inside = iw0 >= 0 and iw0 + (kw - 1) * dw < w
                        for c in range(cg):
                            ch = g * cg + c
                            for u in range(kh):
                                ih = i * sh - pt + u * dh
                                if ih < 0 or ih >= h:
                                    for v in range(kw):
                                        dst[v] = 0.0
                                else:
                                    src = &x[b, ch, ih, 0]
                                    if inside:
                                        for v in range(kw):
                                            dst[v] = src[iw0 + v * dw]
                                    else:
                                        for v in range(kw):
                                            if iw0 + v * dw >= 0 and iw0 + v * dw < w:
                                                dst[v] = src[iw0 + v * dw]
                                            else:
                                                dst[v] = 0.0
                                dst += kw
