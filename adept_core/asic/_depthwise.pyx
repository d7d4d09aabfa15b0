# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Depthwise convolution, channels-last, as the ASIC's vector lanes compute it: one typed loop.

For each output pixel the ``kh*kw`` taps are accumulated in row-major order,
``acc[c] += x[c] * w[c]`` over contiguous channels (the loop vectorises; the
module is compiled with ``-ffp-contract=off``, so every product and sum is
rounded to float32 separately, exactly as the NumPy path in
:func:`adept_core.asic.pool.depthwise_conv` does). Taps in the padding are
skipped: adding their ``+-0`` products to a float32 sum that starts at +0
never changes it (IEEE round-to-nearest gives +0 for exact zero sums).
"""


def depthwise_nhwc_into(const float[:, :, :, ::1] x, const float[:, :, ::1] taps, float[:, :, :, ::1] out,
                        int sh, int sw, int dh, int dw, int pt, int pl):
    """``out[b, i, j, c] += sum_{u, v} x[b, i*sh - pt + u*dh, j*sw - pl + v*dw, c] * taps[u, v, c]``.

    ``out`` ([B, Ho, Wo, C]) must be zero on entry; shapes are checked by the caller.
    """
    cdef Py_ssize_t nb = x.shape[0], h = x.shape[1], w = x.shape[2], ch = x.shape[3]
    cdef Py_ssize_t ho = out.shape[1], wo = out.shape[2], kh = taps.shape[0], kw = taps.shape[1]
    cdef Py_ssize_t b, i, j, u, v, c, ih, iw
    cdef const float* src
    cdef const float* tw
    cdef float* dst
    with nogil:
        for b in range(nb):
            for i in range(ho):
                for j in range(wo):
                    dst = &out[b, i, j, 0]
                    for u in range(kh):
                        ih = i * sh - pt + u * dh
                        if ih < 0 or ih >= h:
                            continue
                        for v in range(kw):
                            iw = j * sw - pl + v * dw
                            if iw < 0 or iw >= w:
                                continue
                            src = &x[b, ih, iw, 0]
                            tw = &taps[u, v, 0]
                            for c in range(ch):
                                dst[c] = dst[c] + src[c] * tw[c]


def depthwise_bias_nhwc_into(const float[:, :, :, ::1] x, const float[:, :, ::1] taps, const float[::1] bias,
                             float[:, :, :, ::1] out, int sh, int sw, int dh, int dw, int pt, int pl):
    """:func:`depthwise_nhwc_into`, then ``out[b, i, j, c] += bias[c]`` in the same pass over each pixel.

    Per element the same float32 operations in the same order as the taps loop followed by a
    separate ``out += bias`` (the bias is added after the last tap), so the bits are identical;
    one pass over the output fewer.
    """
    cdef Py_ssize_t nb = x.shape[0], h = x.shape[1], w = x.shape[2], ch = x.shape[3]
    cdef Py_ssize_t ho = out.shape[1], wo = out.shape[2], kh = taps.shape[0], kw = taps.shape[1]
    cdef Py_ssize_t b, i, j, u, v, c, ih, iw
    cdef const float* src
    cdef const float* tw
    cdef const float* bs = &bias[0]
    cdef float* dst
    with nogil:
        for b in range(nb):
            for i in range(ho):
                for j in range(wo):
                    dst = &out[b, i, j, 0]
                    for u in range(kh):
                        ih = i * sh - pt + u * dh
                        if ih < 0 or ih >= h:
                            continue
                        for v in range(kw):
                            iw = j * sw - pl + v * dw
                            if iw < 0 or iw >= w:
                                continue
                            src = &x[b, ih, iw, 0]
                            tw = &taps[u, v, 0]
                            for c in range(ch):
                                dst[c] = dst[c] + src[c] * tw[c]
                    for c in range(ch):
                        dst[c] = dst[c] + bs[c]
