// AVX2 kernel bodies (no AVX-512, no FMA: this file alone is compiled with -mavx2 and nothing
// else, so the compiler cannot emit a fused multiply-add even by accident). Run only when
// avx2_supported() says so (runtime dispatch in photonic_gemm.cpp). They reproduce the portable
// bodies bit for bit: the integer parts are exact, and every floating-point step is the same
// IEEE operation (vdivps/vdivpd, vsqrtpd, mul, add, round-to-nearest-even), correctly rounded
// like its scalar twin, in the same order as adc_code() in kernels.hpp. Two divisions go through
// a reciprocal with an exact near-tie re-check that provably gives the same codes
// (quotient_recip_ps, rint_quotient_pd; docs/kernel.md "The AVX2 body").
//
// Integer products without VNNI: vpmaddwd multiplies int16 pairs exactly into int32. The input
// codes are stored as int16 (not u8 + 128), so no column-sum correction is needed; the packed
// int8 weights ([tile][32-col panel][k/4][32][4]) are sign-extended in registers: one 32-byte load
// holds 8 columns x 4 k; its low bytes (k0, k2) and high bytes (k1, k3) of each 16-bit word give
// two int16 vectors A and B. With the inputs of each group of 4 stored in the order (q0, q2, q1, q3),
// madd(A, bcast32(q0, q2)) + madd(B, bcast32(q1, q3)) = sum over the 4 k of q * w for 8 columns.
// Bounds: |q|, |w| <= 127, so each pair sum is < 2^15 and a tile sum (<= 4096 rows) < 2^27.
// Dual rail uses int8 codes and |codes| instead (micro_kernel_dual).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels.hpp"

namespace adept::detail::avx2 {

namespace {

constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;  // rint: ties to even
// 1/2 - E of the near-tie re-check (quotient_recip_ps has the proof and E).
constexpr float kTieMarginPs = 0.5f - 0x1p-14f;
constexpr double kTieMarginPd = 0.5 - 0x1p-30;

inline __m256i lowbias32(__m256i x) {
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
  x = _mm256_mullo_epi32(x, _mm256_set1_epi32(0x7FEB352D));
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 15));
  x = _mm256_mullo_epi32(x, _mm256_set1_epi32(static_cast<int>(0x846CA68Bu)));
  return _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
}

// The 8 normals z = table[lowbias32(...) >> (32 - kTableBits)] of row key rk, columns [n, n+8).
inline __m256 normals8(const Job& j, __m256i n_golden, std::uint64_t rk) {
  const __m256i counter = _mm256_add_epi32(n_golden, _mm256_set1_epi32(static_cast<int>(rk >> 32)));
  const __m256i h = lowbias32(_mm256_xor_si256(counter, _mm256_set1_epi32(static_cast<int>(rk & 0xFFFFFFFFu))));
  return _mm256_i32gather_ps(j.table, _mm256_srli_epi32(h, 32 - kTableBits), 4);
}

struct Consts {
  __m256d sc2, shot, rin, sigma, qmax, neg_qmax, gain, sign_mask;
  bool recip = false;  // Job::recip_lsb: y / lsb through inv_lsb_pad (rint_quotient_pd)
};

inline __m256d abs_pd(__m256d v, const Consts& c) { return _mm256_andnot_pd(c.sign_mask, v); }

// rint(fl(y / lsb)) as far as clamp(., +-qmax_adc) can tell: the reciprocal multiply with the
// near-tie re-check of quotient_recip_ps (its comment has the proof; here qmax_adc <= 2^15 - 1 and
// 1/lsb is normal: Job::recip_lsb), the divide on the rare vectors near a tie or without c.recip.
inline __m256d rint_quotient_pd(__m256d y, const double* lsb, const double* inv, const Consts& c) {
  if (c.recip) {
    const __m256d q = _mm256_mul_pd(y, _mm256_loadu_pd(inv));
    const __m256d r = _mm256_round_pd(q, kRound);
    const __m256d d = abs_pd(_mm256_sub_pd(q, r), c);
    if (__builtin_expect(_mm256_movemask_pd(_mm256_cmp_pd(d, _mm256_set1_pd(kTieMarginPd), _CMP_LT_OQ)) == 0xF, 1))
      return r;
  }
  return _mm256_round_pd(_mm256_div_pd(y, _mm256_loadu_pd(lsb)), kRound);
}

// Noise + ADC + accumulate for 4 partial sums (doubles) of one row, every lane a real column:
// the same IEEE operations in the same order as adc_code() (kernels.hpp) and adc8 (kernel_avx512.cpp).
template <int Kind, bool Abfp, bool RinCommon>
inline void adc4(__m256d pd, __m256d z, const double* lsb, const double* inv, double* acc, const Consts& c, std::int64_t& clipped,
                 const double* cf, __m256d sx, __m256d light, __m256d zc) {
  __m256d y = pd;
  if (Kind == kNoiseModes) {  // light = sum |qx||qw| when dual rail, else |p|
    const __m256d rp = _mm256_mul_pd(c.rin, pd);
    const __m256d base = _mm256_add_pd(c.sc2, _mm256_mul_pd(c.shot, light));
    if (RinCommon)
      y = _mm256_add_pd(_mm256_add_pd(pd, _mm256_mul_pd(_mm256_sqrt_pd(base), z)), _mm256_mul_pd(rp, zc));
    else
      y = _mm256_add_pd(pd, _mm256_mul_pd(_mm256_sqrt_pd(_mm256_add_pd(base, _mm256_mul_pd(rp, rp))), z));
  } else if (Kind == kNoiseConstSigma) {
    y = _mm256_add_pd(pd, _mm256_mul_pd(c.sigma, z));
  } else if (Kind == kNoiseFull) {
    const __m256d rp = _mm256_mul_pd(c.rin, pd);
    const __m256d var = _mm256_add_pd(_mm256_add_pd(c.sc2, _mm256_mul_pd(c.shot, abs_pd(pd, c))), _mm256_mul_pd(rp, rp));
    y = _mm256_add_pd(pd, _mm256_mul_pd(_mm256_sqrt_pd(var), z));
  }
  if (Abfp) y = _mm256_mul_pd(y, c.gain);
  const __m256d r = rint_quotient_pd(y, lsb, inv, c);
  const __m256d code = _mm256_min_pd(_mm256_max_pd(r, c.neg_qmax), c.qmax);
  // |r| > qmax exactly when clamping changed r (r is never NaN: y and lsb are finite, lsb > 0).
  clipped += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_pd(_mm256_cmp_pd(r, code, _CMP_NEQ_UQ))));
  if (Abfp)
    _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), _mm256_mul_pd(code, _mm256_mul_pd(sx, _mm256_loadu_pd(cf)))));
  else
    _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), code));
}

// Epilogue of the 8 columns [n, n+8) of one row (all real columns).
template <int Kind, bool Abfp, bool Dual, bool RinCommon>
inline void epilogue8(const Job& j, __m256i p, __m256 z, std::int64_t n, double* acc, const Consts& c,
                      std::int64_t& clipped, const double* cf, __m256d sx, __m256i light, __m256d zc) {
  const __m256d p_lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(p));
  const __m256d p_hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(p, 1));
  const __m256d z_lo = _mm256_cvtps_pd(_mm256_castps256_ps128(z));
  const __m256d z_hi = _mm256_cvtps_pd(_mm256_extractf128_ps(z, 1));
  const __m256d l_lo = Dual ? _mm256_cvtepi32_pd(_mm256_castsi256_si128(light)) : abs_pd(p_lo, c);
  const __m256d l_hi = Dual ? _mm256_cvtepi32_pd(_mm256_extracti128_si256(light, 1)) : abs_pd(p_hi, c);
  adc4<Kind, Abfp, RinCommon>(p_lo, z_lo, j.lsb_pad + n, j.inv_lsb_pad + n, acc, c, clipped, cf, sx, l_lo, zc);
  adc4<Kind, Abfp, RinCommon>(p_hi, z_hi, j.lsb_pad + n + 4, j.inv_lsb_pad + n + 4, acc + 4, c, clipped, Abfp ? cf + 4 : cf, sx, l_hi, zc);
}

// The last columns of a block that do not fill 8 lanes: the scalar definition (adc_code), exactly
// as kernel_portable.cpp's epilogue_row runs it.
inline void epilogue_tail(const Job& j, const std::int32_t* p, const std::int32_t* light, std::int64_t cols,
                          std::int64_t t, std::int64_t m, std::int64_t n, double* acc, std::int64_t* clipped) {
  const std::uint64_t rk = j.noise_kind != kNoiseOff ? row_key(j.base_key, t, m) : 0;
  const double zc = j.rin_common ? table_normal(j, rk, 0xFFFFFFFFu) : 0.0;
  for (std::int64_t c = 0; c < cols; ++c) {
    const double l = j.dual_rail ? static_cast<double>(light[c]) : 0.0;
    const double code = adc_code(static_cast<double>(p[c]), rk, n + c, j, clipped, l, zc);
    if (j.abfp)
      acc[c] = acc[c] + code * (j.row_scale[m * j.tiles + t] * j.col_factor[t * j.n + n + c]);
    else
      acc[c] += code;
  }
}

// The 4 bytes at ``at`` (two int16 codes, or four int8 codes) in every 32-bit lane.
inline __m256i bcast32(const void* at) {
  std::int32_t v;
  std::memcpy(&v, at, 4);
  return _mm256_set1_epi32(v);
}

// Exact partial sums of R input rows x 8*NV columns over ``groups`` groups of 4 k, into p (row
// stride kNr int32). R * NV accumulators + 2 * NV weight vectors + 2 broadcasts <= 16 registers.
template <int R, int NV>
__attribute__((noinline)) void micro_kernel(const std::int16_t* xr, std::int64_t x_stride, const std::int8_t* wp,
                                            int groups, std::int32_t* p) {
  __m256i a[R][NV];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) a[i][v] = _mm256_setzero_si256();
  for (int g = 0; g < groups; ++g) {
    __m256i wa[NV], wb[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + g * kNr * 4 + v * 32));
      wa[v] = _mm256_srai_epi16(_mm256_slli_epi16(raw, 8), 8);  // k0, k2 of each column
      wb[v] = _mm256_srai_epi16(raw, 8);                        // k1, k3
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m256i x02 = bcast32(xr + i * x_stride + 4 * g), x13 = bcast32(xr + i * x_stride + 4 * g + 2);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        a[i][v] = _mm256_add_epi32(a[i][v], _mm256_add_epi32(_mm256_madd_epi16(wa[v], x02), _mm256_madd_epi16(wb[v], x13)));
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + i * kNr + 8 * v), a[i][v]);
}

// Dual rail: the partial sums and the light sum |q||w| of R rows x 8 columns in one pass, on int8
// codes: vpmaddubsw(|x|, sign(w, x)) = |x0| w0 sgn(x0) + |x1| w1 sgn(x1) = x0 w0 + x1 w1 and
// vpmaddubsw(|x|, |w|) the light, each pair <= 2 * 127 * 127 = 32258 < 2^15 (no saturation);
// vpmaddwd with ones adds the two pairs of each column. The light of two groups is first added in
// 16 bits: each lane is then a sum of four products, 0 <= s <= 64516 < 2^16, exact modulo 2^16
// (vpaddw wraps). XOR with 0x8000 reads that lane as the signed s - 2^15, exactly, which vpmaddwd
// can widen; the 2 * 2^15 that each widened pair of lanes lacks is added back once per pair of
// groups at the end. 7 multiply-port operations per row and two groups instead of 8 (measured:
// 4-8 % off the micro-kernel's time on Zen 4).
template <int R>
__attribute__((noinline)) void micro_kernel_dual(const std::int8_t* xr, const std::uint8_t* xa, std::int64_t x_stride,
                                                 const std::int8_t* wp, int groups, std::int32_t* p, std::int32_t* pl) {
  __m256i a[R], l[R];
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) a[i] = l[i] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1), bias = _mm256_set1_epi16(static_cast<std::int16_t>(0x8000));
  auto signed_pairs = [&](__m256i w, const std::int8_t* x, const std::uint8_t* ax) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(bcast32(ax), _mm256_sign_epi8(w, bcast32(x))), ones);
  };
  int g = 0;
  for (; g + 2 <= groups; g += 2) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + g * kNr * 4));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + (g + 1) * kNr * 4));
    const __m256i wabs0 = _mm256_abs_epi8(w0), wabs1 = _mm256_abs_epi8(w1);
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) {
      const std::int8_t* x = xr + i * x_stride + 4 * g;
      const std::uint8_t* ax = xa + i * x_stride + 4 * g;
      a[i] = _mm256_add_epi32(a[i], _mm256_add_epi32(signed_pairs(w0, x, ax), signed_pairs(w1, x + 4, ax + 4)));
      const __m256i light16 = _mm256_add_epi16(_mm256_maddubs_epi16(bcast32(ax), wabs0), _mm256_maddubs_epi16(bcast32(ax + 4), wabs1));
      l[i] = _mm256_add_epi32(l[i], _mm256_madd_epi16(_mm256_xor_si256(light16, bias), ones));
    }
  }
  const __m256i unbias = _mm256_set1_epi32((g / 2) * 2 * 32768);
  if (g < groups) {  // an odd last group
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + g * kNr * 4));
    const __m256i wabs = _mm256_abs_epi8(w);
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) {
      const std::int8_t* x = xr + i * x_stride + 4 * g;
      const std::uint8_t* ax = xa + i * x_stride + 4 * g;
      a[i] = _mm256_add_epi32(a[i], signed_pairs(w, x, ax));
      l[i] = _mm256_add_epi32(l[i], _mm256_madd_epi16(_mm256_maddubs_epi16(bcast32(ax), wabs), ones));
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + i * kNr), a[i]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pl + i * kNr), _mm256_add_epi32(l[i], unbias));
  }
}

template <int NV>
void sums_rows(int rows, const std::int16_t* xr, std::int64_t x_stride, const std::int8_t* wp, int groups,
               std::int32_t* p) {
  for (int r0 = 0; r0 < rows; r0 += 4) {
    const std::int16_t* x0 = xr + r0 * x_stride;
    std::int32_t* p0 = p + r0 * kNr;
    switch (rows - r0) {
      case 1: micro_kernel<1, NV>(x0, x_stride, wp, groups, p0); break;
      case 2: micro_kernel<2, NV>(x0, x_stride, wp, groups, p0); break;
      case 3: micro_kernel<3, NV>(x0, x_stride, wp, groups, p0); break;
      default: micro_kernel<4, NV>(x0, x_stride, wp, groups, p0); break;
    }
  }
}

// p[i][c] (and the light pl when dual rail) for rows_here rows and the first ``vecs`` 8-column vectors.
void partial_sums(bool dual, int rows, int vecs, const std::int16_t* xr, const std::int8_t* xd, const std::uint8_t* xa,
                  std::int64_t x_stride, const std::int8_t* wp, int groups, std::int32_t* p, std::int32_t* pl) {
  if (dual) {
    for (int v = 0; v < vecs; ++v)
      for (int r0 = 0; r0 < rows; r0 += 4) {
        const std::int8_t* x0 = xd + r0 * x_stride;
        const std::uint8_t* a0 = xa + r0 * x_stride;
        const std::int8_t* w0 = wp + v * 32;
        std::int32_t* p0 = p + r0 * kNr + 8 * v;
        std::int32_t* l0 = pl + r0 * kNr + 8 * v;
        switch (rows - r0) {
          case 1: micro_kernel_dual<1>(x0, a0, x_stride, w0, groups, p0, l0); break;
          case 2: micro_kernel_dual<2>(x0, a0, x_stride, w0, groups, p0, l0); break;
          case 3: micro_kernel_dual<3>(x0, a0, x_stride, w0, groups, p0, l0); break;
          default: micro_kernel_dual<4>(x0, a0, x_stride, w0, groups, p0, l0); break;
        }
      }
    return;
  }
  int v = 0;
  for (; v + 2 <= vecs; v += 2) sums_rows<2>(rows, xr, x_stride, wp + v * 32, groups, p + 8 * v);
  if (v < vecs) sums_rows<1>(rows, xr, x_stride, wp + v * 32, groups, p + 8 * v);
}

// Dual and RinCommon (kNoiseModes only) are template flags: as run-time tests they cost the dual-rail
// block ~0.3 ns per conversion (benchmarks/test_avx2_block_cost.py).
template <int Kind, bool Abfp, bool Dual, bool RinCommon>
void block_narrow_impl(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1, double* acc,
                       std::int64_t* clipped_out) {
  const std::int64_t width = n1 - n0;
  for (std::int64_t i = 0; i < (m1 - m0) * width; ++i) acc[i] = 0.0;
  Consts c;
  c.sc2 = _mm256_set1_pd(j.sc2);
  c.shot = _mm256_set1_pd(j.shot);
  c.rin = _mm256_set1_pd(j.rin);
  c.sigma = _mm256_set1_pd(j.sigma_fixed);
  c.qmax = _mm256_set1_pd(j.qmax_adc);
  c.neg_qmax = _mm256_set1_pd(-j.qmax_adc);
  c.gain = _mm256_set1_pd(j.gain);
  c.sign_mask = _mm256_set1_pd(-0.0);
  // Only where a sqrt shares the divider (measured: coherent -0.04x of numpy, off / const-sigma
  // +0.02x, abfp even).
  c.recip = (Kind == kNoiseFull || Kind == kNoiseModes) && j.recip_lsb && j.qmax_adc <= 32767.0;
  std::int64_t clipped = 0;
  alignas(32) std::int32_t p[kMr * kNr];
  alignas(32) std::int32_t pl[kMr * kNr];
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i golden = _mm256_set1_epi32(static_cast<int>(kGolden32));
  const __m256i zero = _mm256_setzero_si256();
  for (std::int64_t t = 0; t < j.tiles; ++t) {
    const std::int64_t len = j.k - t * j.rows < j.rows ? j.k - t * j.rows : j.rows;
    const int groups = static_cast<int>((len + 3) / 4);  // the padding of a short last tile is zero
    for (std::int64_t np = n0; np < n1; np += kNr) {
      const std::int8_t* wp = j.w8 + (t * (j.n_pad / kNr) + np / kNr) * j.rows4 * kNr;
      const std::int64_t cols = n1 - np < kNr ? n1 - np : kNr;
      const int full = static_cast<int>(cols / 8), vecs = static_cast<int>((cols + 7) / 8);
      __m256i ng[kNr / 8];
      for (int v = 0; v < kNr / 8; ++v)
        ng[v] = _mm256_mullo_epi32(_mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(np + 8 * v)), iota), golden);
      for (std::int64_t mm = m0; mm < m1; mm += kMr) {
        const int rows_here = static_cast<int>(m1 - mm < kMr ? m1 - mm : kMr);
        // The normals of the whole micro-block are hashed and gathered first, into an L1 buffer,
        // and only then are the partial sums computed: the table (256 KB) lives in L2, and the
        // gathers' latency now overlaps the integer micro-kernel instead of stalling the epilogue.
        alignas(32) float zb[kMr * kNr];
        double zcb[kMr];
        if (Kind != kNoiseOff) {
          for (int i = 0; i < rows_here; ++i) {
            const std::uint64_t rk = row_key(j.base_key, t, mm + i);
            for (int v = 0; v < full; ++v) _mm256_store_ps(zb + i * kNr + 8 * v, normals8(j, ng[v], rk));
            if (RinCommon) zcb[i] = table_normal(j, rk, 0xFFFFFFFFu);
          }
        }
        const std::int64_t xo = mm * j.x_stride + t * j.rows4;
        partial_sums(Dual, rows_here, vecs, Dual ? nullptr : j.xs16 + xo, Dual ? j.xs8 + xo : nullptr,
                     Dual ? j.xabs8 + xo : nullptr, j.x_stride, wp, groups, p, pl);
        for (int i = 0; i < rows_here; ++i) {
          const std::int64_t m = mm + i;
          double* acc_row = acc + (m - m0) * width + (np - n0);
          const double* cf = Abfp ? j.col_factor + t * j.n + np : nullptr;
          const __m256d sx = Abfp ? _mm256_set1_pd(j.row_scale[m * j.tiles + t]) : _mm256_setzero_pd();
          const __m256d zc = RinCommon ? _mm256_set1_pd(zcb[i]) : _mm256_setzero_pd();
          for (int v = 0; v < full; ++v) {
            const __m256 z = Kind != kNoiseOff ? _mm256_load_ps(zb + i * kNr + 8 * v) : _mm256_setzero_ps();
            const __m256i pv = _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i * kNr + 8 * v));
            const __m256i lv = Dual ? _mm256_load_si256(reinterpret_cast<const __m256i*>(pl + i * kNr + 8 * v)) : zero;
            epilogue8<Kind, Abfp, Dual, RinCommon>(j, pv, z, np + 8 * v, acc_row + 8 * v, c, clipped, Abfp ? cf + 8 * v : cf, sx, lv, zc);
          }
          if (full < vecs)
            epilogue_tail(j, p + i * kNr + 8 * full, pl + i * kNr + 8 * full, cols - 8 * full, t, m, np + 8 * full,
                          acc_row + 8 * full, &clipped);
        }
      }
    }
  }
  *clipped_out += clipped;
  dequantize(j, m0, m1, n0, n1, acc);
}

inline __m256i lanes8(std::int64_t count) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count < 8 ? count : 8)), iota);
}

// clamp(rint(x / s), +-qmax) without the divide: q = x * inv, inv = fl(1/s) correctly rounded
// and normal (the callers check s), u = 2^-24 (float) or 2^-53 (double). Proof of exactness:
// fl(x/s) = (x/s)(1+e3) and q = (x/s)(1+e1)(1+e2) with |e_i| <= u (plus at most two subnormal
// ulps on underflow, where both quotients are far below 1/2 and round to 0), so
// |q - fl(x/s)| <= 3.01 u |q|. Only |q| <= qmax + 1 matters: beyond it |fl(x/s)| > qmax + 1/2 as
// well, so both round past qmax and clamp to the same +-qmax (and both count as clipped). There
// the error is below E = 2^-14 (float, qmax <= 127: 3.01 * 2^-24 * 128 < 2^-15) or 2^-30 (double,
// qmax <= 2^15 - 1: 3.01 * 2^-53 * 2^15 < 2^-36). d = |q - rint(q)| is exact; if d < 1/2 - E,
// fl(x/s) lies strictly inside q's rounding interval and rounds to the same integer (no tie, no
// crossing). Otherwise (within E of a half-integer, or q is Inf/NaN: the compare is false) the
// whole vector is divided. Bit-identical by construction; tests/test_kernel_avx2_exact_shortcuts.py
// puts x / s on half-integers and one ulp either side.
inline __m256 quotient_recip_ps(__m256 x, __m256 s, __m256 inv) {
  const __m256 q = _mm256_mul_ps(x, inv);
  const __m256 d = _mm256_and_ps(_mm256_sub_ps(q, _mm256_round_ps(q, kRound)),
                                 _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
  if (__builtin_expect(_mm256_movemask_ps(_mm256_cmp_ps(d, _mm256_set1_ps(kTieMarginPs), _CMP_LT_OQ)) != 0xFF, 0))
    return _mm256_div_ps(x, s);
  return q;
}

}  // namespace

float absmax(const float* x, std::int64_t count) {
  // Unsigned integer max over the bit patterns of |x| (as the AVX-512 body): any NaN wins.
  const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF);
  __m256i b0 = _mm256_setzero_si256(), b1 = b0, b2 = b0, b3 = b0;
  std::int64_t i = 0;
  for (; i + 32 <= count; i += 32) {
    b0 = _mm256_max_epu32(b0, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), magnitude));
    b1 = _mm256_max_epu32(b1, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 8)), magnitude));
    b2 = _mm256_max_epu32(b2, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 16)), magnitude));
    b3 = _mm256_max_epu32(b3, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 24)), magnitude));
  }
  for (; i < count; i += 8) {
    const __m256i v = _mm256_maskload_epi32(reinterpret_cast<const int*>(x + i), lanes8(count - i));
    b0 = _mm256_max_epu32(b0, _mm256_and_si256(v, magnitude));
  }
  const __m256i b = _mm256_max_epu32(_mm256_max_epu32(b0, b1), _mm256_max_epu32(b2, b3));
  alignas(32) std::uint32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), b);
  std::uint32_t bits = 0;
  for (std::uint32_t v : lanes) bits = v > bits ? v : bits;
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

namespace {

// The quantizer loop of both layouts: store8(dst_offset, codes) gets the 8 int32 codes of
// elements [i, i+8) of a tile (lanes past the tile's length: code 0) and writes min(8, rows4 - i)
// of them; pad(i) writes code 0 at offset i.
template <class Store8, class Pad>
inline void quantize_rows(const float* x, std::int64_t k, int rows, int rows4, float scale, int qmax, Store8&& store8,
                          Pad&& pad) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256 hi = _mm256_set1_ps(static_cast<float>(qmax)), lo = _mm256_set1_ps(-static_cast<float>(qmax));
  // x / scale through the reciprocal (quotient_recip_ps): exact after the near-tie re-check, when
  // 1/scale is a normal float (relative error <= 2^-24) and qmax <= 127 (the bound's premise).
  const bool recip = scale >= 0x1p-100f && scale <= 0x1p100f && qmax <= 127;
  const __m256 inv = _mm256_set1_ps(recip ? 1.0f / scale : 1.0f);
  // clamp(rint(v)) == rint(clamp(v)) for integer bounds, and max/min turn NaN into -qmax (defined;
  // the driver stops on non-finite maxima before any result is used). vcvtps2dq rounds to nearest
  // even (default MXCSR), as rint.
  auto codes8 = [&](__m256 xv) {
    const __m256 v = recip ? quotient_recip_ps(xv, s, inv) : _mm256_div_ps(xv, s);
    return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi));
  };
  for (std::int64_t k0 = 0, t = 0; k0 < k; k0 += rows, ++t) {
    const std::int64_t at = t * rows4;
    const float* src = x + k0;
    const std::int64_t len = k - k0 < rows ? k - k0 : rows;
    std::int64_t i = 0;
    // Full vectors: plain loads (a masked load costs more on this core).
    for (; i + 8 <= len; i += 8) store8(at + i, codes8(_mm256_loadu_ps(src + i)), 8);
    // Lanes past len load 0 and give code 0 (the padding).
    if (i < len) {
      const int count = rows4 - i < 8 ? static_cast<int>(rows4 - i) : 8;
      store8(at + i, codes8(_mm256_maskload_ps(src + i, lanes8(len - i))), count);
      i += 8;
    }
    for (; i < rows4; ++i) pad(at + i);
  }
}

}  // namespace

void quantize_narrow(const float* x, std::int64_t k, int rows, int rows4, float scale, int qmax, std::int16_t* out) {
  // Each group of 4 codes is stored (q0, q2, q1, q3): the pairs the micro-kernel broadcasts.
  const __m256i order = _mm256_setr_epi32(0, 2, 1, 3, 4, 6, 5, 7);
  quantize_rows(
      x, k, rows, rows4, scale, qmax,
      [&](std::int64_t at, __m256i code, int count) {
        code = _mm256_permutevar8x32_epi32(code, order);
        const __m128i packed = _mm_packs_epi32(_mm256_castsi256_si128(code), _mm256_extracti128_si256(code, 1));
        if (count == 8) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(out + at), packed);
        } else {  // count is 4: the last group of the tile
          alignas(16) std::int16_t tmp[8];
          _mm_store_si128(reinterpret_cast<__m128i*>(tmp), packed);
          std::memcpy(out + at, tmp, static_cast<std::size_t>(count) * sizeof(std::int16_t));
        }
      },
      [&](std::int64_t at) { out[at] = 0; });
}

void quantize_narrow_dual(const float* x, std::int64_t k, int rows, int rows4, float scale, int qmax, std::int8_t* out,
                          std::uint8_t* out_abs) {
  quantize_rows(
      x, k, rows, rows4, scale, qmax,
      [&](std::int64_t at, __m256i code, int count) {
        // |code| <= 127: the saturating packs are exact.
        const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(code), _mm256_extracti128_si256(code, 1));
        const __m128i b8 = _mm_packs_epi16(w16, w16), a8 = _mm_abs_epi8(b8);
        if (count == 8) {
          _mm_storel_epi64(reinterpret_cast<__m128i*>(out + at), b8);
          _mm_storel_epi64(reinterpret_cast<__m128i*>(out_abs + at), a8);
        } else {  // count is 4
          const int lo = _mm_cvtsi128_si32(b8), alo = _mm_cvtsi128_si32(a8);
          std::memcpy(out + at, &lo, 4);
          std::memcpy(out_abs + at, &alo, 4);
        }
      },
      [&](std::int64_t at) { out[at] = 0; out_abs[at] = 0; });
}

std::uint32_t quantize_abfp_row(const float* x, std::int64_t k, int rows, int rows4, int qmax, std::int16_t* out16,
                                std::int8_t* out8, std::uint8_t* out_abs, double* row_scale) {
  // The driver's per-(row, tile) loop (photonic_gemm.cpp, non-AVX2 branch) in one call: the same
  // float32 operations, without two calls and their setup per 128 inputs.
  std::uint32_t row_bits = 0;
  for (std::int64_t t = 0, k0 = 0; k0 < k; ++t, k0 += rows) {
    const std::int64_t len = k - k0 < rows ? k - k0 : rows;
    const float tile_max = absmax(x + k0, len);
    std::uint32_t tile_bits;
    std::memcpy(&tile_bits, &tile_max, sizeof tile_bits);
    row_bits = tile_bits > row_bits ? tile_bits : row_bits;
    const float block_scale = abfp_block_scale(tile_max, qmax);
    row_scale[t] = static_cast<double>(block_scale);
    const float bs = abfp_quant_scale(block_scale);
    if (out8)
      quantize_narrow_dual(x + k0, len, rows, rows4, bs, qmax, out8 + t * rows4, out_abs + t * rows4);
    else
      quantize_narrow(x + k0, len, rows, rows4, bs, qmax, out16 + t * rows4);
  }
  return row_bits;
}

void block_narrow(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1, double* acc,
                  std::int64_t* clipped) {
  dispatch_mode(j, [&](auto mode) {
    constexpr int kind = decltype(mode)::kind;
    constexpr bool abfp = decltype(mode)::abfp;
    if constexpr (kind == kNoiseModes) {
      if (j.dual_rail)
        return j.rin_common ? block_narrow_impl<kind, abfp, true, true>(j, m0, m1, n0, n1, acc, clipped)
                            : block_narrow_impl<kind, abfp, true, false>(j, m0, m1, n0, n1, acc, clipped);
      return j.rin_common ? block_narrow_impl<kind, abfp, false, true>(j, m0, m1, n0, n1, acc, clipped)
                          : block_narrow_impl<kind, abfp, false, false>(j, m0, m1, n0, n1, acc, clipped);
    } else {
      block_narrow_impl<kind, abfp, false, false>(j, m0, m1, n0, n1, acc, clipped);
    }
  });
}

}  // namespace adept::detail::avx2
