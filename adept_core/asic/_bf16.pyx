# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Round float32 bit patterns to bfloat16, round to nearest even: one pass, no temporaries.

Same integer rule as :func:`adept_core.asic.numfmt.round_bf16` (the NumPy
version takes about seven passes over memory and two temporaries); NaNs are
kept. Operates on the raw uint32 view of contiguous memory.
"""


def round_bf16_into(const unsigned int[::1] src, unsigned int[::1] dst):
    """``dst[i] = bf16_round(src[i])``; ``src`` and ``dst`` may be the same buffer."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef unsigned int b
    with nogil:
        for i in range(n):
            b = src[i]
            if (b & 0x7FFFFFFFu) > 0x7F800000u:  # NaN: keep the payload
                dst[i] = b
            else:
                dst[i] = (b + 0x7FFFu + ((b >> 16) & 1u)) & 0xFFFF0000u
