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
    /* Plain C so that GCC vectorises: restrict pointers and branch-free selects. */
    static inline float adept_bf16(float v) {
        uint32_t u, r;
        memcpy(&u, &v, 4);
        r = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
        r = ((u & 0x7FFFFFFFu) > 0x7F800000u) ? u : r;  /* NaN: keep the payload */
        memcpy(&v, &r, 4);
        return v;
    }
    /* NumPy's maximum(a, b): a if a > b or a is NaN, else b. */
    static inline float adept_max(float a, float b) { return (a > b || a != a) ? a : b; }
    /* One loop per flag combination (GCC does not unswitch these): each compiles branch-free and vectorises. */
    #define ADEPT_STEP(v, R, B, L, bc) do { if (R) v = adept_bf16(v); if (B) v = v + (bc); \
                                            if (L) v = adept_max(v, 0.0f); } while (0)
    #define ADEPT_EPILOGUE(R, B, L) \
        for (Py_ssize_t i = 0; i < m; ++i) { \
            float *__restrict row = y + i * n; \
            for (Py_ssize_t c = 0; c < n; ++c) { float v = row[c]; ADEPT_STEP(v, R, B, L, bias[c]); row[c] = v; } \
        }
    static void adept_conv_epilogue(float *__restrict y, const float *__restrict bias, Py_ssize_t m,
                                    Py_ssize_t n, int has_bias, int round_bf16, int relu) {
        switch ((round_bf16 ? 4 : 0) | (has_bias ? 2 : 0) | (relu ? 1 : 0)) {
            case 7: ADEPT_EPILOGUE(1, 1, 1) break;
            case 6: ADEPT_EPILOGUE(1, 1, 0) break;
            case 5: ADEPT_EPILOGUE(1, 0, 1) break;
            case 4: ADEPT_EPILOGUE(1, 0, 0) break;
            case 3: ADEPT_EPILOGUE(0, 1, 1) break;
            case 2: ADEPT_EPILOGUE(0, 1, 0) break;
            case 1: ADEPT_EPILOGUE(0, 0, 1) break;
            default: break;
        }
    }
    /* out may alias a or b element for element (same index), which vectorised loops allow. */
    #define ADEPT_ADD(R, L) \
        for (Py_ssize_t i = 0; i < n; ++i) { float v = a[i] + b[i]; ADEPT_STEP(v, R, 0, L, 0.0f); out[i] = v; }
    static void adept_add(const float *a, const float *b, float *out, Py_ssize_t n, int round_bf16, int relu) {
        switch ((round_bf16 ? 2 : 0) | (relu ? 1 : 0)) {
            case 3: ADEPT_ADD(1, 1) break;
            case 2: ADEPT_ADD(1, 0) break;
            case 1: ADEPT_ADD(0, 1) break;
            default: ADEPT_ADD(0, 0) break;
        }
    }
    """
    float adept_max(float a, float b) noexcept nogil
    void adept_conv_epilogue(float* y, const float* bias, Py_ssize_t m, Py_ssize_t n, int has_bias,
                             int round_bf16, int relu) noexcept nogil
    void adept_add(const float* a, const float* b, float* out, Py_ssize_t n, int round_bf16,
                   int relu) noexcept nogil


def conv_epilogue_rows(float[:, ::1] y, const float[::1] bias, bint has_bias, bint round_bf16, bint relu):
    """In place over GEMM rows ``y[pixel, channel]``: ``bf16`` round, ``+ bias[channel]``, ``max(., 0)``."""
    if y.shape[0] == 0 or y.shape[1] == 0:
        return
    with nogil:
        adept_conv_epilogue(&y[0, 0], &bias[0], y.shape[0], y.shape[1], has_bias, round_bf16, relu)


def add_into(const float[::1] a, const float[::1] b, float[::1] out, bint round_bf16, bint relu):
    """``out = max(round(a + b), 0)`` element-wise (each step optional); ``out`` may be ``a`` or ``b``."""
    if a.shape[0] == 0:
        return
    with nogil:
        adept_add(&a[0], &b[0], &out[0], a.shape[0], round_bf16, relu)


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
