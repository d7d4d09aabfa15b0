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


cdef extern from *:
    """
    /* Plain C with restrict pointers so GCC vectorises the channel loop, compiled twice
       (target_clones: AVX2 and the baseline, as adept_core/asic/_epilogue.pyx does). The same
       expression as depthwise_nhwc_into's loop, d = d + s * t, with -ffp-contract=off (no FMA;
       "avx2" does not enable FMA), so each product and sum is rounded to float32 separately
       and the bits do not depend on the clone. The bias is added after the last tap. */

    /* d[c] = d[c] + x[pixel (b, ih, iw), c] * taps[u, v, c] over the valid taps of output pixel (b, i, j),
       in row-major tap order: the one accumulation both loops below (and so both clones) share. */
    static inline __attribute__((always_inline)) void adept_depthwise_taps(
            float *__restrict d, const float *x, const float *taps, Py_ssize_t b, Py_ssize_t i, Py_ssize_t j,
            Py_ssize_t h, Py_ssize_t w, Py_ssize_t ch, Py_ssize_t kh, Py_ssize_t kw, int sh, int sw, int dh,
            int dw, int pt, int pl) {
        for (Py_ssize_t u = 0; u < kh; ++u) {
            Py_ssize_t ih = i * sh - pt + u * dh;
            if (ih < 0 || ih >= h) continue;
            for (Py_ssize_t v = 0; v < kw; ++v) {
                Py_ssize_t iw = j * sw - pl + v * dw;
                if (iw < 0 || iw >= w) continue;
                const float *__restrict src = x + ((b * h + ih) * w + iw) * ch;
                const float *__restrict tw = taps + (u * kw + v) * ch;
                for (Py_ssize_t c = 0; c < ch; ++c) d[c] = d[c] + src[c] * tw[c];
            }
        }
    }

    __attribute__((target_clones("avx2", "default")))
    static void adept_depthwise(const float *x, const float *taps, const float *bias, float *out,
                                Py_ssize_t nb, Py_ssize_t h, Py_ssize_t w, Py_ssize_t ch, Py_ssize_t ho,
                                Py_ssize_t wo, Py_ssize_t kh, Py_ssize_t kw, int sh, int sw, int dh, int dw,
                                int pt, int pl, int has_bias) {
        for (Py_ssize_t b = 0; b < nb; ++b)
            for (Py_ssize_t i = 0; i < ho; ++i)
                for (Py_ssize_t j = 0; j < wo; ++j) {
                    float *__restrict dst = out + ((b * ho + i) * wo + j) * ch;
                    adept_depthwise_taps(dst, x, taps, b, i, j, h, w, ch, kh, kw, sh, sw, dh, dw, pt, pl);
                    if (has_bias) {
                        const float *__restrict bs = bias;
                        for (Py_ssize_t c = 0; c < ch; ++c) dst[c] = dst[c] + bs[c];
                    }
                }
    }
    """
    void adept_depthwise(const float* x, const float* taps, const float* bias, float* out, Py_ssize_t nb,
                         Py_ssize_t h, Py_ssize_t w, Py_ssize_t ch, Py_ssize_t ho, Py_ssize_t wo, Py_ssize_t kh,
                         Py_ssize_t kw, int sh, int sw, int dh, int dw, int pt, int pl, int has_bias) noexcept nogil


def depthwise_bias_nhwc_into(const float[:, :, :, ::1] x, const float[:, :, ::1] taps, const float[::1] bias,
                             float[:, :, :, ::1] out, int sh, int sw, int dh, int dw, int pt, int pl):
    """:func:`depthwise_nhwc_into`, then ``out[b, i, j, c] += bias[c]`` in the same pass over each pixel.

    Per element the same float32 operations in the same order as the taps loop followed by a
    separate ``out += bias`` (the bias is added after the last tap), so the bits are identical;
    one pass over the output fewer, and the vectorised C loop above (AVX2 when the CPU has it).
    ``out`` must be zero on entry; shapes (C of x, taps, bias and out equal) are checked here.
    """
    if not (x.shape[3] == taps.shape[2] == bias.shape[0] == out.shape[3] and x.shape[0] == out.shape[0]):
        raise ValueError("depthwise_bias_nhwc_into: channel or batch sizes disagree")
    with nogil:
        adept_depthwise(&x[0, 0, 0, 0], &taps[0, 0, 0], &bias[0], &out[0, 0, 0, 0], x.shape[0], x.shape[1],
                        x.shape[2], x.shape[3], out.shape[1], out.shape[2], taps.shape[0], taps.shape[1],
                        sh, sw, dh, dw, pt, pl, 1)


cdef extern from *:
    """
    /* Depthwise conv of a channel-shuffled input without materialising the shuffle
       (ShuffleNet's Reshape [B, G, C/G, H, W] -> Transpose (0, 2, 1, 3, 4) -> Reshape [B, C, H, W]
       feeding a depthwise conv). x holds the *unshuffled* channels: shuffled channel
       s = j * G + g is x's channel o = g * (C/G) + j. taps and bias are given in x's order
       (taps_o[o] = taps[s]). Per output pixel the taps accumulate into acc[o] exactly as
       adept_depthwise accumulates into dst[s] (acc starts at +0, d = d + s * t per valid tap in
       row-major order, then + bias), and the result is stored at its shuffled channel, so every
       element is the same float32 operations in the same order: bit-identical to shuffling
       first. acc: C floats of scratch (the caller's). */
    __attribute__((target_clones("avx2", "default")))
    static void adept_depthwise_unshuffle(const float *x, const float *taps, const float *bias, float *out,
                                          float *acc, Py_ssize_t nb, Py_ssize_t h, Py_ssize_t w,
                                          Py_ssize_t ch, Py_ssize_t groups, Py_ssize_t ho, Py_ssize_t wo,
                                          Py_ssize_t kh, Py_ssize_t kw, int sh, int sw, int dh, int dw,
                                          int pt, int pl, int has_bias) {
        Py_ssize_t ng = ch / groups;
        for (Py_ssize_t b = 0; b < nb; ++b)
            for (Py_ssize_t i = 0; i < ho; ++i)
                for (Py_ssize_t j = 0; j < wo; ++j) {
                    float *__restrict a = acc;
                    for (Py_ssize_t c = 0; c < ch; ++c) a[c] = 0.0f;
                    adept_depthwise_taps(a, x, taps, b, i, j, h, w, ch, kh, kw, sh, sw, dh, dw, pt, pl);
                    float *__restrict dst = out + ((b * ho + i) * wo + j) * ch;
                    for (Py_ssize_t g = 0; g < groups; ++g) {
                        const float *__restrict ag = a + g * ng;
                        if (has_bias) {
                            const float *__restrict bg = bias + g * ng;
                            for (Py_ssize_t q = 0; q < ng; ++q) dst[q * groups + g] = ag[q] + bg[q];
                        } else {
                            for (Py_ssize_t q = 0; q < ng; ++q) dst[q * groups + g] = ag[q];
                        }
                    }
                }
    }
    """
    void adept_depthwise_unshuffle(const float* x, const float* taps, const float* bias, float* out, float* acc,
                                   Py_ssize_t nb, Py_ssize_t h, Py_ssize_t w, Py_ssize_t ch, Py_ssize_t groups,
                                   Py_ssize_t ho, Py_ssize_t wo, Py_ssize_t kh, Py_ssize_t kw, int sh, int sw,
                                   int dh, int dw, int pt, int pl, int has_bias) noexcept nogil


def depthwise_unshuffle_nhwc_into(const float[:, :, :, ::1] x, const float[:, :, ::1] taps, const float[::1] bias,
                                  bint has_bias, Py_ssize_t groups, float[:, :, :, ::1] out, float[::1] acc,
                                  int sh, int sw, int dh, int dw, int pt, int pl):
    """Depthwise conv (bias after the last tap) of the channel shuffle of ``x``, shuffle never stored.

    ``x`` [B, H, W, C]: the unshuffled channels; ``taps`` [kh, kw, C] and ``bias`` [C] in x's
    channel order; ``out`` [B, Ho, Wo, C] receives shuffled channel ``j * groups + g`` from x's
    channel ``g * (C / groups) + j`` (need not be zeroed); ``acc``: C floats of scratch.
    """
    cdef Py_ssize_t ch = x.shape[3]
    if not (taps.shape[2] == ch == out.shape[3] and acc.shape[0] >= ch and x.shape[0] == out.shape[0]
            and (not has_bias or bias.shape[0] == ch) and groups > 0 and ch % groups == 0):
        raise ValueError("depthwise_unshuffle_nhwc_into: channel, group or batch sizes disagree")
    if out.shape[0] * out.shape[1] * out.shape[2] == 0 or ch == 0:
        return
    with nogil:
        adept_depthwise_unshuffle(&x[0, 0, 0, 0], &taps[0, 0, 0], &bias[0], &out[0, 0, 0, 0], &acc[0], x.shape[0],
                                  x.shape[1], x.shape[2], ch, groups, out.shape[1], out.shape[2], taps.shape[0],
                                  taps.shape[1], sh, sw, dh, dw, pt, pl, has_bias)
