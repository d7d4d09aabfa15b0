// AVX-512 (F, BW, DQ, VL, VNNI) kernel bodies; this file alone is compiled with -mavx512*.
// Run only when avx512_vnni_supported() says so. They reproduce the portable bodies bit for
// bit: integer parts are exact, and every floating-point step is the same IEEE operation
// (div, sqrt, mul, add, round-to-nearest-even) in the same order; -ffp-contract=off keeps GCC
// from fusing the vector mul/add into FMA.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels.hpp"

namespace adept::detail::avx512 {

namespace {

constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;  // rint: ties to even

inline __mmask16 lanes16(std::int64_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << count) - 1u);
}

inline __m512i lowbias32(__m512i x) {
  x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 16));
  x = _mm512_mullo_epi32(x, _mm512_set1_epi32(0x7FEB352D));
  x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 15));
  x = _mm512_mullo_epi32(x, _mm512_set1_epi32(static_cast<int>(0x846CA68Bu)));
  return _mm512_xor_si512(x, _mm512_srli_epi32(x, 16));
}

// acc += u8 x s8 dot products of 4-byte groups. Inline asm ties the accumulator to one register:
// GCC 12 copies the accumulators around every _mm512_dpbusd_epi32 in an unrolled kernel.
inline void dpbusd(__m512i& acc, __m512i u8, __m512i s8) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
}

inline __m256 high_half(__m512 v) { return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)); }

// Per-call constants of the vector epilogue.
struct Consts {
  __m512d sc2, shot, rin, sigma, qmax, neg_qmax, gain;
  bool dual_rail = false, rin_common = false;
};

// Noise + ADC + accumulate for 8 partial sums (doubles) of one row; ``valid`` masks real columns.
// The same IEEE operations in the same order as adc_code() in kernels.hpp. (Removing the
// division or the sqrt altogether saves only ~5% each here; an approximate reciprocal/rsqrt
// path with a proven error bound and an exact fallback near ties cost more instructions than
// it saved and was measured slower, so the exact instructions stay.)
// Abfp: y * gain before the ADC and acc + code * (sx * col_factor) (kernels.hpp adc_code and
// kernel_portable.cpp epilogue_row); ``cf`` is the tile's col_factor at these columns, ``sx`` the row scale.
template <int Kind, bool Abfp>
inline void adc8(__m512d pd, __m512d z, const double* lsb, double* acc, __mmask8 valid, const Consts& c,
                 std::int64_t& clipped, const double* cf, __m512d sx, __m512d light, __m512d zc) {
  __m512d y = pd;
  if (Kind == kNoiseModes) {  // light = sum |qx||qw| when dual rail, else |p|; zc set when the RIN is common
    const __m512d rp = _mm512_mul_pd(c.rin, pd);
    const __m512d base = _mm512_add_pd(c.sc2, _mm512_mul_pd(c.shot, light));
    if (c.rin_common)
      y = _mm512_add_pd(_mm512_add_pd(pd, _mm512_mul_pd(_mm512_sqrt_pd(base), z)), _mm512_mul_pd(rp, zc));
    else
      y = _mm512_add_pd(pd, _mm512_mul_pd(_mm512_sqrt_pd(_mm512_add_pd(base, _mm512_mul_pd(rp, rp))), z));
  } else if (Kind == kNoiseConstSigma) {
    y = _mm512_add_pd(pd, _mm512_mul_pd(c.sigma, z));
  } else if (Kind == kNoiseFull) {
    const __m512d rp = _mm512_mul_pd(c.rin, pd);
    const __m512d var = _mm512_add_pd(_mm512_add_pd(c.sc2, _mm512_mul_pd(c.shot, _mm512_abs_pd(pd))),
                                      _mm512_mul_pd(rp, rp));
    y = _mm512_add_pd(pd, _mm512_mul_pd(_mm512_sqrt_pd(var), z));
  }
  if (Abfp) y = _mm512_mul_pd(y, c.gain);
  const __m512d r = _mm512_roundscale_pd(_mm512_div_pd(y, _mm512_loadu_pd(lsb)), kRound);
  const __m512d code = _mm512_min_pd(_mm512_max_pd(r, c.neg_qmax), c.qmax);
  // |r| > qmax exactly when clamping changed r (r is never NaN: y and lsb are finite, lsb > 0).
  clipped += __builtin_popcount(static_cast<unsigned>(_mm512_mask_cmp_pd_mask(valid, r, code, _CMP_NEQ_UQ)));
  if (Abfp) {
    const __m512d d = _mm512_mul_pd(code, _mm512_mul_pd(sx, _mm512_maskz_loadu_pd(valid, cf)));
    _mm512_mask_storeu_pd(acc, valid, _mm512_add_pd(_mm512_maskz_loadu_pd(valid, acc), d));
  } else {
    _mm512_mask_storeu_pd(acc, valid, _mm512_add_pd(_mm512_maskz_loadu_pd(valid, acc), code));
  }
}

// The 16 normals z = table[lowbias32(...) >> 16] of row key rk, columns [n, n+16).
inline __m512 normals16(const Job& j, __m512i n_golden, std::uint64_t rk) {
  const __m512i counter = _mm512_add_epi32(n_golden, _mm512_set1_epi32(static_cast<int>(rk >> 32)));
  const __m512i h = lowbias32(_mm512_xor_si512(counter, _mm512_set1_epi32(static_cast<int>(rk & 0xFFFFFFFFu))));
  return _mm512_i32gather_ps(_mm512_srli_epi32(h, 32 - kTableBits), j.table, 4);
}

// Epilogue of 16 columns [n, n+16) of one row: p holds the exact partial sums, z the normals.
template <int Kind, bool Abfp>
inline void epilogue16(const Job& j, __m512i p, __m512 z, std::int64_t n, double* acc, __mmask16 valid,
                       const Consts& c, std::int64_t& clipped, const double* cf, __m512d sx, __m512i light,
                       __m512d zc) {
  const __m512d p_lo = _mm512_cvtepi32_pd(_mm512_castsi512_si256(p));
  const __m512d z_lo = _mm512_cvtps_pd(_mm512_castps512_ps256(z));
  const __m512d l_lo = c.dual_rail ? _mm512_cvtepi32_pd(_mm512_castsi512_si256(light)) : _mm512_abs_pd(p_lo);
  adc8<Kind, Abfp>(p_lo, z_lo, j.lsb_pad + n, acc, static_cast<__mmask8>(valid), c, clipped, cf, sx, l_lo, zc);
  if (valid >> 8) {
    const __m512d p_hi = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(p, 1));
    const __m512d z_hi = _mm512_cvtps_pd(high_half(z));
    const __m512d l_hi = c.dual_rail ? _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(light, 1)) : _mm512_abs_pd(p_hi);
    adc8<Kind, Abfp>(p_hi, z_hi, j.lsb_pad + n + 8, acc + 8, static_cast<__mmask8>(valid >> 8), c, clipped,
                     Abfp ? cf + 8 : cf, sx, l_hi, zc);
  }
}

// Exact partial sums of MR input rows x kNr columns over ``groups`` groups of 4 k:
// u8 (q + 128) x s8 dot products, then minus 128 * sum(w): p[i][c] as int32.
template <int MR>
__attribute__((noinline)) void micro_kernel(const std::uint8_t* xr, std::int64_t x_stride, const std::int8_t* wp, int groups,
                         __m512i ws0, __m512i ws1, __m512i (&p)[kMr][2]) {
  // Full unrolling lets GCC keep the 2 * MR accumulators in registers.
  __m512i a[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) a[i][0] = a[i][1] = _mm512_setzero_si512();
  for (int g = 0; g < groups; ++g) {
    const __m512i w0 = _mm512_loadu_si512(wp + g * 128);
    const __m512i w1 = _mm512_loadu_si512(wp + g * 128 + 64);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      std::int32_t quad;
      std::memcpy(&quad, xr + i * x_stride + 4 * g, 4);
      const __m512i xb = _mm512_set1_epi32(quad);
      dpbusd(a[i][0], xb, w0);
      dpbusd(a[i][1], xb, w1);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    p[i][0] = _mm512_sub_epi32(a[i][0], ws0);
    p[i][1] = _mm512_sub_epi32(a[i][1], ws1);
  }
}

inline void partial_sums(int rows, const std::uint8_t* xr, std::int64_t x_stride, const std::int8_t* wp, int groups,
                         __m512i ws0, __m512i ws1, __m512i (&p)[kMr][2]) {
  switch (rows) {  // a short block (e.g. M = 1) does not pay for kMr rows
    case 1: return micro_kernel<1>(xr, x_stride, wp, groups, ws0, ws1, p);
    case 2: return micro_kernel<2>(xr, x_stride, wp, groups, ws0, ws1, p);
    case 3: return micro_kernel<3>(xr, x_stride, wp, groups, ws0, ws1, p);
    case 4: return micro_kernel<4>(xr, x_stride, wp, groups, ws0, ws1, p);
    case 5: return micro_kernel<5>(xr, x_stride, wp, groups, ws0, ws1, p);
    case 6: return micro_kernel<6>(xr, x_stride, wp, groups, ws0, ws1, p);
    case 7: return micro_kernel<7>(xr, x_stride, wp, groups, ws0, ws1, p);
    default: return micro_kernel<kMr>(xr, x_stride, wp, groups, ws0, ws1, p);
  }
}

// Dual rail: the partial sums and the light sum |q||w| of MR <= 4 rows in one pass. |w| is taken
// from the weight register (vpabsb; |codes| <= 127 for weight_bits <= 8), so the weights are read
// once: a second product over a packed |w| doubled the weight traffic, which bounds M = 1 calls.
// 4 rows x (2 sums + 2 lights) + 4 weight registers + 2 broadcasts fit the 32 registers.
template <int MR>
__attribute__((noinline)) void micro_kernel_dual(const std::uint8_t* xr, const std::uint8_t* xa, std::int64_t x_stride,
                                                 const std::int8_t* wp, int groups, __m512i ws0, __m512i ws1,
                                                 __m512i* p, __m512i* pl) {
  __m512i a[MR][2], l[MR][2];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) a[i][0] = a[i][1] = l[i][0] = l[i][1] = _mm512_setzero_si512();
  for (int g = 0; g < groups; ++g) {
    const __m512i w0 = _mm512_loadu_si512(wp + g * 128);
    const __m512i w1 = _mm512_loadu_si512(wp + g * 128 + 64);
    const __m512i aw0 = _mm512_abs_epi8(w0), aw1 = _mm512_abs_epi8(w1);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      std::int32_t quad, quad_abs;
      std::memcpy(&quad, xr + i * x_stride + 4 * g, 4);
      std::memcpy(&quad_abs, xa + i * x_stride + 4 * g, 4);
      const __m512i xb = _mm512_set1_epi32(quad), xab = _mm512_set1_epi32(quad_abs);
      dpbusd(a[i][0], xb, w0);
      dpbusd(a[i][1], xb, w1);
      dpbusd(l[i][0], xab, aw0);
      dpbusd(l[i][1], xab, aw1);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    p[2 * i] = _mm512_sub_epi32(a[i][0], ws0);
    p[2 * i + 1] = _mm512_sub_epi32(a[i][1], ws1);
    pl[2 * i] = l[i][0];
    pl[2 * i + 1] = l[i][1];
  }
}

inline void partial_sums_dual(int rows, const std::uint8_t* xr, const std::uint8_t* xa, std::int64_t x_stride,
                              const std::int8_t* wp, int groups, __m512i ws0, __m512i ws1, __m512i (&p)[kMr][2],
                              __m512i (&pl)[kMr][2]) {
  for (int r0 = 0; r0 < rows; r0 += 4) {
    const std::uint8_t* xr0 = xr + r0 * x_stride;
    const std::uint8_t* xa0 = xa + r0 * x_stride;
    __m512i* p0 = &p[r0][0];
    __m512i* l0 = &pl[r0][0];
    switch (rows - r0) {
      case 1: micro_kernel_dual<1>(xr0, xa0, x_stride, wp, groups, ws0, ws1, p0, l0); break;
      case 2: micro_kernel_dual<2>(xr0, xa0, x_stride, wp, groups, ws0, ws1, p0, l0); break;
      case 3: micro_kernel_dual<3>(xr0, xa0, x_stride, wp, groups, ws0, ws1, p0, l0); break;
      default: micro_kernel_dual<4>(xr0, xa0, x_stride, wp, groups, ws0, ws1, p0, l0); break;
    }
  }
}

template <int Kind, bool Abfp>
void block_narrow_impl(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1, double* acc,
                       std::int64_t* clipped_out) {
  const std::int64_t width = n1 - n0;
  for (std::int64_t i = 0; i < (m1 - m0) * width; ++i) acc[i] = 0.0;
  Consts c;
  c.sc2 = _mm512_set1_pd(j.sc2);
  c.shot = _mm512_set1_pd(j.shot);
  c.rin = _mm512_set1_pd(j.rin);
  c.sigma = _mm512_set1_pd(j.sigma_fixed);
  c.qmax = _mm512_set1_pd(j.qmax_adc);
  c.neg_qmax = _mm512_set1_pd(-j.qmax_adc);
  c.gain = _mm512_set1_pd(j.gain);
  c.dual_rail = Kind == kNoiseModes && j.dual_rail;
  c.rin_common = Kind == kNoiseModes && j.rin_common;
  std::int64_t clipped = 0;
  const __m512i zero = _mm512_setzero_si512();
  __m512i pl[kMr][2];
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i golden = _mm512_set1_epi32(static_cast<int>(kGolden32));
  __m512i p[kMr][2];
  for (std::int64_t t = 0; t < j.tiles; ++t) {
    const std::int64_t len = j.k - t * j.rows < j.rows ? j.k - t * j.rows : j.rows;
    const int groups = static_cast<int>((len + 3) / 4);  // the padding of a short last tile is zero
    for (std::int64_t np = n0; np < n1; np += kNr) {
      const std::int8_t* wp = j.w8 + (t * (j.n_pad / kNr) + np / kNr) * j.rows4 * kNr;
      const __m512i ws0 = _mm512_loadu_si512(j.wsum128 + t * j.n_pad + np);
      const __m512i ws1 = _mm512_loadu_si512(j.wsum128 + t * j.n_pad + np + 16);
      const __m512i ng0 = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(np)), iota), golden);
      const __m512i ng1 = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(np + 16)), iota), golden);
      const __mmask16 valid0 = lanes16(n1 - np), valid1 = n1 - np > 16 ? lanes16(n1 - np - 16) : 0;
      for (std::int64_t mm = m0; mm < m1; mm += kMr) {
        const int rows_here = static_cast<int>(m1 - mm < kMr ? m1 - mm : kMr);
        if (c.dual_rail)  // the light on both rails: |q| (u8) x |w| (s8), no offset to correct
          partial_sums_dual(rows_here, j.xq8 + mm * j.x_stride + t * j.rows4, j.xabs8 + mm * j.x_stride + t * j.rows4,
                            j.x_stride, wp, groups, ws0, ws1, p, pl);
        else
          partial_sums(rows_here, j.xq8 + mm * j.x_stride + t * j.rows4, j.x_stride, wp, groups, ws0, ws1, p);
        // Software pipelining: the normals of row i + 1 are hashed and gathered before row i is
        // digitised, so the gathers' latency overlaps arithmetic (measured ~6% faster).
        __m512 zn0 = _mm512_setzero_ps(), zn1 = zn0;
        if (Kind != kNoiseOff) {
          const std::uint64_t rk = row_key(j.base_key, t, mm);
          zn0 = normals16(j, ng0, rk);
          if (valid1) zn1 = normals16(j, ng1, rk);
        }
        for (int i = 0; i < rows_here; ++i) {
          const __m512 z0 = zn0, z1 = zn1;
          if (Kind != kNoiseOff && i + 1 < rows_here) {
            const std::uint64_t rk = row_key(j.base_key, t, mm + i + 1);
            zn0 = normals16(j, ng0, rk);
            if (valid1) zn1 = normals16(j, ng1, rk);
          }
          double* acc_row = acc + (mm + i - m0) * width + (np - n0);
          const double* cf = Abfp ? j.col_factor + t * j.n + np : nullptr;
          const __m512d sx = Abfp ? _mm512_set1_pd(j.row_scale[(mm + i) * j.tiles + t]) : _mm512_setzero_pd();
          const __m512d zc = c.rin_common ? _mm512_set1_pd(table_normal(j, row_key(j.base_key, t, mm + i), 0xFFFFFFFFu))
                                          : _mm512_setzero_pd();
          epilogue16<Kind, Abfp>(j, p[i][0], z0, np, acc_row, valid0, c, clipped, cf, sx,
                                 c.dual_rail ? pl[i][0] : zero, zc);
          if (valid1)
            epilogue16<Kind, Abfp>(j, p[i][1], z1, np + 16, acc_row + 16, valid1, c, clipped, Abfp ? cf + 16 : cf, sx,
                                   c.dual_rail ? pl[i][1] : zero, zc);
        }
      }
    }
  }
  *clipped_out += clipped;
  dequantize(j, m0, m1, n0, n1, acc);
}

}  // namespace

float absmax(const float* x, std::int64_t count) {
  // On the bit patterns of |x| (sign cleared), unsigned integer order is float order for
  // finite values and Inf, and every NaN pattern is above Inf: one integer max finds max|x|
  // and lets any NaN win.
  const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
  __m512i b0 = _mm512_setzero_si512(), b1 = b0, b2 = b0, b3 = b0;
  std::int64_t i = 0;
  for (; i + 64 <= count; i += 64) {
    b0 = _mm512_max_epu32(b0, _mm512_and_si512(_mm512_loadu_si512(x + i), magnitude));
    b1 = _mm512_max_epu32(b1, _mm512_and_si512(_mm512_loadu_si512(x + i + 16), magnitude));
    b2 = _mm512_max_epu32(b2, _mm512_and_si512(_mm512_loadu_si512(x + i + 32), magnitude));
    b3 = _mm512_max_epu32(b3, _mm512_and_si512(_mm512_loadu_si512(x + i + 48), magnitude));
  }
  for (; i < count; i += 16)
    b0 = _mm512_max_epu32(b0, _mm512_and_si512(_mm512_maskz_loadu_epi32(lanes16(count - i), x + i), magnitude));
  const std::uint32_t bits =
      _mm512_reduce_max_epu32(_mm512_max_epu32(_mm512_max_epu32(b0, b1), _mm512_max_epu32(b2, b3)));
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

void quantize_narrow(const float* x, std::int64_t k, int rows, int rows4, float scale, int qmax, std::uint8_t* out,
                     std::uint8_t* out_abs) {
  const __m512 s = _mm512_set1_ps(scale);
  const __m512 hi = _mm512_set1_ps(static_cast<float>(qmax)), lo = _mm512_set1_ps(-static_cast<float>(qmax));
  const __m512i shift = _mm512_set1_epi32(kInputShift);
  for (std::int64_t k0 = 0, t = 0; k0 < k; k0 += rows, ++t) {
    std::uint8_t* dst = out + t * rows4;
    const std::int64_t len = k - k0 < rows ? k - k0 : rows;
    for (std::int64_t i = 0; i < len; i += 16) {
      const __mmask16 mask = lanes16(len - i);
      // clamp(rint(v)) == rint(clamp(v)) for integer bounds, and the clamped value converts
      // without overflow: one rounding conversion instead of round + convert.
      const __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(mask, x + k0 + i), s);
      const __m512i code = _mm512_cvt_roundps_epi32(_mm512_min_ps(_mm512_max_ps(v, lo), hi), kRound);
      // register-form vpmovdb + byte-masked store: the masked memory form is slow on Zen 4
      _mm_mask_storeu_epi8(dst + i, mask, _mm512_cvtepi32_epi8(_mm512_add_epi32(code, shift)));
      // |q| for the dual-rail light, written while the codes are in registers (a separate
      // byte pass over the codes cost ~15% of a dual-rail call on 3136 x 576 x 64)
      if (out_abs != nullptr) _mm_mask_storeu_epi8(out_abs + t * rows4 + i, mask, _mm512_cvtepi32_epi8(_mm512_abs_epi32(code)));
    }
    for (std::int64_t i = len; i < rows4; ++i) dst[i] = kInputShift;
    if (out_abs != nullptr)
      for (std::int64_t i = len; i < rows4; ++i) out_abs[t * rows4 + i] = 0;
  }
}

void block_narrow(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1, double* acc,
                  std::int64_t* clipped) {
  dispatch_mode(j, [&](auto mode) {
    block_narrow_impl<decltype(mode)::kind, decltype(mode)::abfp>(j, m0, m1, n0, n1, acc, clipped);
  });
}

}  // namespace adept::detail::avx512
