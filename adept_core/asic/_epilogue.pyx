# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Fused element-wise passes of the ASIC: one trip through memory instead of two or three.

At ResNet-50 sizes every element-wise pass is bound by memory traffic (about
0.1 ms per 56x56x64 activation), so the executor fuses what it can prove
bit-identical to the op-by-op NumPy path (``docs/asic.md``, "Fused passes"):

- a conv's epilogue: bf16 rounding of the GEMM output, the bias add and (when
  a Relu is the output's only reader) the Relu;
- ``round(a + b)`` of an Add, optionally followed by its only reader's Relu;
- MaxPool over channels-last memory.

Each element sees exactly the float32 operations of the unfused path, in the
same order (the module is compiled with ``-ffp-contract=off``). The
comparisons copy NumPy's: ``maximum(a, b)`` is ``a if (a > b or a is NaN)
else b`` (so ``maximum(-0.0, +0.0)`` is ``+0.0``, and NaN propagates); the
bf16 rule is :func:`adept_core.asic.numfmt.round_bf16`'s (NaNs kept).
"""

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* Plain C so that GCC vectorises: restrict pointers and branch-free selects. The two entry
       points are compiled twice (target_clones: AVX2 and the baseline), the loader picks the clone
       the CPU runs (2.2x faster with AVX2 on ResNet-50 sizes); the same IEEE operations either way
       (no FMA: -ffp-contract=off, and "avx2" does not enable FMA), so the bits do not depend on it. */
    static inline float adept_bf16(float v) {
        uint32_t u, r;
        memcpy(&u, &v, 4);
        r = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
        r = ((u & 0x7FFFFFFFu) > 0x7F800000u) ? u : r;  /* NaN: keep the payload */
        memcpy(&v, &r, 4);
        return v;
    }
    /* a + b with x86's (and so NumPy's) NaN rule: of two NaNs the first, quieted. GCC treats + as
       commutative and may swap the operands, which only shows when both are NaN. */
    static inline uint32_t adept_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
    static inline float adept_sum(float a, float b) {
        /* x86: a NaN first operand is the result, quieted, whatever b is. An integer select, as a
           branch on floats would stop vectorisation. */
        float v = a + b;
        uint32_t ua = adept_bits(a), uv = adept_bits(v);
        uint32_t nan_a = 0u - (uint32_t)((ua & 0x7FFFFFFFu) > 0x7F800000u);
        uint32_t r = ((ua | 0x00400000u) & nan_a) | (uv & ~nan_a);
        memcpy(&v, &r, 4);
        return v;
    }
    /* NumPy's maximum(a, b): a if a > b or a is NaN, else b. */
    static inline float adept_max(float a, float b) { return ((a > b) | (a != a)) ? a : b; }
    /* maximum(v, +0.0) on the bits: v stays when its sign is clear (+0, positives, +inf, NaN) or it is
       a NaN; else +0.0. Integer selects keep the loops free of control flow, so they vectorise. */
    static inline float adept_relu(float v) {
        uint32_t u = adept_bits(v);
        uint32_t keep = 0u - (uint32_t)(((u >> 31) == 0u) | ((u & 0x7FFFFFFFu) > 0x7F800000u));
        u &= keep;
        memcpy(&v, &u, 4);
        return v;
    }
    /* Element steps; R, B, S, L, X are compile-time flags, so each instantiation is branch-free and
       vectorises. X: some addend may be NaN, so sums take adept_sum's exact NaN rule (twice the work);
       without NaN addends a plain + is exact whatever order GCC picks. */
    #define ADEPT_SUM(X, a, b) ((X) ? adept_sum((a), (b)) : (a) + (b))
    #define ADEPT_STEP(v, R, B, L, bc, X) do { if (R) v = adept_bf16(v); if (B) v = ADEPT_SUM(X, v, (bc)); \
                                               if (L) v = adept_relu(v); } while (0)
    /* Conv epilogue over rows: round (R), + bias (B), Relu (L). */
    template <int R, int B, int L, int X>
    static inline __attribute__((always_inline)) void adept_epi(float *__restrict y, const float *__restrict bias, Py_ssize_t m, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < m; ++i) {
            float *__restrict row = y + i * n;
            for (Py_ssize_t c = 0; c < n; ++c) {
                float v = row[c];
                ADEPT_STEP(v, R, B, L, bias[c], X);
                row[c] = v;
            }
        }
    }
    template <int R, int B, int X> static inline __attribute__((always_inline)) void adept_epi_l(int l, float *y, const float *bias, Py_ssize_t m,
                                                           Py_ssize_t n) {
        if (l) adept_epi<R, B, 1, X>(y, bias, m, n); else adept_epi<R, B, 0, X>(y, bias, m, n);
    }
    template <int X> static inline __attribute__((always_inline)) void adept_epi_rb(int r, int b, int l, float *y, const float *bias, Py_ssize_t m,
                                              Py_ssize_t n) {
        if (r) {
            if (b) adept_epi_l<1, 1, X>(l, y, bias, m, n); else adept_epi_l<1, 0, X>(l, y, bias, m, n);
        } else {
            if (b) adept_epi_l<0, 1, X>(l, y, bias, m, n); else adept_epi_l<0, 0, X>(l, y, bias, m, n);
        }
    }
    __attribute__((target_clones("avx2", "default")))
    static void adept_conv_epilogue(float *y, const float *bias, Py_ssize_t m, Py_ssize_t n, int has_bias,
                                    int round_bf16, int relu, int nan_addends) {
        if (nan_addends) adept_epi_rb<1>(round_bf16, has_bias, relu, y, bias, m, n);
        else adept_epi_rb<0>(round_bf16, has_bias, relu, y, bias, m, n);
    }
    /* out may alias a or b element for element (same index), which vectorised loops allow. */
    template <int R, int L, int X> static inline __attribute__((always_inline)) void adept_add_t(const float *a, const float *b, float *out, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; ++i) {
            float v = ADEPT_SUM(X, a[i], b[i]);
            ADEPT_STEP(v, R, 0, L, 0.0f, X);
            out[i] = v;
        }
    }
    template <int X> static inline __attribute__((always_inline)) void adept_add_x(const float *a, const float *b, float *out, Py_ssize_t n, int r, int l) {
        if (r) { if (l) adept_add_t<1, 1, X>(a, b, out, n); else adept_add_t<1, 0, X>(a, b, out, n); }
        else { if (l) adept_add_t<0, 1, X>(a, b, out, n); else adept_add_t<0, 0, X>(a, b, out, n); }
    }
    __attribute__((target_clones("avx2", "default")))
    static void adept_add(const float *a, const float *b, float *out, Py_ssize_t n, int round_bf16, int relu,
                          int nan_addends) {
        if (nan_addends) adept_add_x<1>(a, b, out, n, round_bf16, relu);
        else adept_add_x<0>(a, b, out, n, round_bf16, relu);
    }
    /* AveragePool over channels-last rows: the window's taps summed in row-major order, the first
       copied, taps in the padding adding +0.0 (as the NumPy path's zero padding does: -0.0 + 0.0 is
       +0.0), each sum with adept_sum's NaN rule (the running total is the first operand, as in
       np.add(total, tap, out=total)), then one division by the window's count. */
    __attribute__((target_clones("avx2", "default")))
    static void adept_avg_pool(const float *x, const float *count, float *out, Py_ssize_t nb, Py_ssize_t h,
                               Py_ssize_t w, Py_ssize_t ch, Py_ssize_t ho, Py_ssize_t wo, Py_ssize_t kh,
                               Py_ssize_t kw, int sh, int sw, int dh, int dw, int pt, int pl) {
        for (Py_ssize_t b = 0; b < nb; ++b)
            for (Py_ssize_t i = 0; i < ho; ++i)
                for (Py_ssize_t j = 0; j < wo; ++j) {
                    float *__restrict dst = out + ((b * ho + i) * wo + j) * ch;
                    const float cnt = count[i * wo + j];
                    for (Py_ssize_t u = 0; u < kh; ++u) {
                        Py_ssize_t ih = i * sh - pt + u * dh;
                        for (Py_ssize_t v = 0; v < kw; ++v) {
                            Py_ssize_t iw = j * sw - pl + v * dw;
                            int first = (u == 0 && v == 0);
                            if (ih >= 0 && ih < h && iw >= 0 && iw < w) {
                                const float *__restrict src = x + ((b * h + ih) * w + iw) * ch;
                                if (first) for (Py_ssize_t c = 0; c < ch; ++c) dst[c] = src[c];
                                else for (Py_ssize_t c = 0; c < ch; ++c) dst[c] = adept_sum(dst[c], src[c]);
                            } else {
                                if (first) for (Py_ssize_t c = 0; c < ch; ++c) dst[c] = 0.0f;
                                else for (Py_ssize_t c = 0; c < ch; ++c) dst[c] = adept_sum(dst[c], 0.0f);
                            }
                        }
                    }
                    for (Py_ssize_t c = 0; c < ch; ++c) dst[c] = dst[c] / cnt;
                }
    }
    """
    float adept_max(float a, float b) noexcept nogil
    void adept_avg_pool(const float* x, const float* count, float* out, Py_ssize_t nb, Py_ssize_t h, Py_ssize_t w,
                        Py_ssize_t ch, Py_ssize_t ho, Py_ssize_t wo, Py_ssize_t kh, Py_ssize_t kw, int sh, int sw,
                        int dh, int dw, int pt, int pl) noexcept nogil
    void adept_conv_epilogue(float* y, const float* bias, Py_ssize_t m, Py_ssize_t n, int has_bias,
                             int round_bf16, int relu, int nan_addends) noexcept nogil
    void adept_add(const float* a, const float* b, float* out, Py_ssize_t n, int round_bf16,
                   int relu, int nan_addends) noexcept nogil


def conv_epilogue_rows(float[:, ::1] y, const float[::1] bias, bint has_bias, bint round_bf16, bint relu,
                       bint nan_addends):
    """In place over GEMM rows ``y[pixel, channel]``: ``bf16`` round, ``+ bias[channel]``, ``max(., 0)``.

    ``nan_addends``: the bias holds a NaN (the sums then keep NumPy's NaN payloads).
    """
    if y.shape[0] == 0 or y.shape[1] == 0:
        return
    with nogil:
        adept_conv_epilogue(&y[0, 0], &bias[0], y.shape[0], y.shape[1], has_bias, round_bf16, relu, nan_addends)


def add_into(const float[::1] a, const float[::1] b, float[::1] out, bint round_bf16, bint relu,
             bint nan_addends):
    """``out = max(round(a + b), 0)`` element-wise (each step optional); ``out`` may be ``a`` or ``b``.

    ``nan_addends``: ``b`` holds a NaN (the sums then keep NumPy's NaN payloads).
    """
    if a.shape[0] == 0:
        return
    with nogil:
        adept_add(&a[0], &b[0], &out[0], a.shape[0], round_bf16, relu, nan_addends)


def max_pool_nhwc_into(const float[:, :, :, ::1] x, float[:, :, :, ::1] out,
                       int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl):
    """``out[b, i, j, c] = max`` over the window's taps inside ``x`` (row-major tap order).

    Taps in the padding are skipped: NumPy's path pads with -inf, and
    ``maximum(m, -inf)`` is ``m`` (or the same -inf), so skipping is exact.
    """
    cdef Py_ssize_t nb = x.shape[0], h = x.shape[1], w = x.shape[2], ch = x.shape[3]
    cdef Py_ssize_t ho = out.shape[1], wo = out.shape[2]
    cdef Py_ssize_t b, i, j, u, v, c, ih, iw
    cdef const float* src
    cdef float* dst
    cdef float neg_inf = -float("inf")
    with nogil:
        for b in range(nb):
            for i in range(ho):
                for j in range(wo):
                    dst = &out[b, i, j, 0]
                    for c in range(ch):
                        dst[c] = neg_inf
                    for u in range(kh):
                        ih = i * sh - pt + u * dh
                        if ih < 0 or ih >= h:
                            continue
                        for v in range(kw):
                            iw = j * sw - pl + v * dw
                            if iw < 0 or iw >= w:
                                continue
                            src = &x[b, ih, iw, 0]
                            for c in range(ch):
                                dst[c] = adept_max(dst[c], src[c])


def avg_pool_nhwc_into(const float[:, :, :, ::1] x, const float[:, ::1] count, float[:, :, :, ::1] out,
                       int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl):
    """``out[b, i, j, c] = (sum of the window's taps in row-major order, padding as +0.0) / count[i, j]``.

    Bit-identical to :func:`adept_core.asic.pool._average_pool_reference` (tested with -0.0, NaN, inf).
    """
    if not (x.shape[0] == out.shape[0] and x.shape[3] == out.shape[3] and count.shape[0] == out.shape[1]
            and count.shape[1] == out.shape[2]):
        raise ValueError("avg_pool_nhwc_into: shapes disagree")
    with nogil:
        adept_avg_pool(&x[0, 0, 0, 0], &count[0, 0], &out[0, 0, 0, 0], x.shape[0], x.shape[1], x.shape[2],
                       x.shape[3], out.shape[1], out.shape[2], kh, kw, sh, sw, dh, dw, pt, pl)
