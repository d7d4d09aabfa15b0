// Internal interface between the driver (photonic_gemm.cpp: validation, packing, threads) and
// the per-ISA kernel bodies (kernel_portable.cpp, kernel_avx512.cpp, kernel_avx2.cpp).
//
// The AVX-512 / AVX2 translation units are compiled with -mavx512* / -mavx2; to keep those instructions from
// leaking into code the portable path runs (ODR merging of inline/template functions), the
// kernel files use only raw pointers and the internal-linkage helpers of this header: no STL.
#pragma once

#include <cmath>
#include <cstdint>

#include "adept/gemm_spec.hpp"  // constants only (kTableBits)

namespace adept::detail {

// kNoiseModes: dual-rail light and/or laser-common RIN (Job::dual_rail, Job::rin_common).
enum NoiseKind : int { kNoiseOff = 0, kNoiseConstSigma = 1, kNoiseFull = 2, kNoiseModes = 3 };

/// Micro-tile of the narrow path: kMr input rows x kNr output columns.
constexpr int kMr = 8;
constexpr int kNr = 32;
constexpr int kInputShift = 128;  // u8 = q + 128 for the u8 x s8 dot product

/// Everything a block kernel reads; plain pointers, no ownership.
struct Job {
  std::int64_t m = 0, k = 0, n = 0, n_pad = 0;
  int rows = 0, rows4 = 0, tiles = 0;
  // quantized inputs: row r of tile t starts at x + r * x_stride + t * (narrow ? rows4 : rows)
  const std::uint8_t* xq8 = nullptr;
  const std::int16_t* xq16 = nullptr;
  // AVX2 narrow path: int16 codes in the xq8 layout (tile stride rows4), each group of 4 stored (q0, q2, q1, q3)
  const std::int16_t* xs16 = nullptr;
  // AVX2 dual rail instead: int8 codes q and u8 |q| (xabs8), both in the xq8 layout, natural order
  const std::int8_t* xs8 = nullptr;
  std::int64_t x_stride = 0;
  const std::int8_t* w8 = nullptr;
  const std::int32_t* wsum128 = nullptr;
  const std::int16_t* w16 = nullptr;
  int noise_kind = kNoiseOff;
  double sc2 = 0.0, shot = 0.0, rin = 0.0;  // sc2 = sigma_const * sigma_const
  double sigma_fixed = 0.0;                 // sqrt(sc2) when only sigma_const is set
  double qmax_adc = 0.0;
  const double* lsb = nullptr;     // [n]
  const double* lsb_pad = nullptr;  // [n_pad] lsb, padded with 1.0 so vector loads need no mask
  // AVX2: fl(1 / lsb_pad) [n_pad]; recip_lsb: every lsb in [2^-1000, 2^1000], so each reciprocal
  // is a normal double within 2^-53 relative (the premise of kernel_avx2.cpp's near-tie re-check)
  const double* inv_lsb_pad = nullptr;
  bool recip_lsb = false;
  const double* factor = nullptr;  // [n] lsb * (double(sx) * double(sw))
  const float* table = nullptr;
  std::uint64_t base_key = 0;
  float* y = nullptr;              // [m, n]
  // scaling "abfp" (spec.py steps 1'-5'): gain before the ADC, codes dequantized per tile into acc
  bool abfp = false;
  double gain = 1.0;
  const double* row_scale = nullptr;   // [m][tiles] double(sx[m, t])
  const double* col_factor = nullptr;  // [tiles][n] (lsb / gain) * double(sw[t, n])
  // noise modes (spec.py step 3): shot noise on the light of both rails; RIN common to a laser pulse
  bool dual_rail = false;
  bool rin_common = false;
  const std::uint8_t* xabs8 = nullptr;  // |q| in the xq8 layout (narrow path, dual_rail)
};

// ---- counter-based noise (rng.py), internal linkage so each ISA file has its own copy ----
static inline std::uint64_t splitmix64(std::uint64_t x) {
  std::uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static inline std::uint32_t lowbias32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  return x ^ (x >> 16);
}
static inline std::uint64_t row_key(std::uint64_t base, std::int64_t t, std::int64_t m) {
  return splitmix64(base ^ ((static_cast<std::uint64_t>(t) << 32) | static_cast<std::uint64_t>(m)));
}
constexpr std::uint32_t kGolden32 = 0x9E3779B9u;

/// Scalar epilogue of one partial sum: noise, ADC, clip count; returns the code as a double.
/// Each floating-point operation is rounded separately (-ffp-contract=off on every target).
static inline double table_normal(const Job& j, std::uint64_t rk, std::uint32_t n) {
  std::uint32_t counter = n * kGolden32 + static_cast<std::uint32_t>(rk >> 32);
  std::uint32_t h = lowbias32(counter ^ static_cast<std::uint32_t>(rk));
  return static_cast<double>(j.table[h >> (32 - kTableBits)]);
}

/// ``light`` is sum |qx||qw| (read with dual_rail), ``zc`` the row's common RIN normal (rin_common).
static inline double adc_code(double pd, std::uint64_t rk, std::int64_t n, const Job& j, std::int64_t* clipped,
                              double light = 0.0, double zc = 0.0) {
  double y = pd;
  if (j.noise_kind != kNoiseOff && (j.dual_rail || j.rin_common)) {
    const double z = table_normal(j, rk, static_cast<std::uint32_t>(n));
    const double s = j.dual_rail ? light : std::fabs(pd);
    const double rp = j.rin * pd;
    if (j.rin_common)
      y = (pd + std::sqrt(j.sc2 + j.shot * s) * z) + rp * zc;
    else
      y = pd + std::sqrt((j.sc2 + j.shot * s) + rp * rp) * z;
  } else if (j.noise_kind != kNoiseOff) {
    std::uint32_t counter = static_cast<std::uint32_t>(n) * kGolden32 + static_cast<std::uint32_t>(rk >> 32);
    std::uint32_t h = lowbias32(counter ^ static_cast<std::uint32_t>(rk));
    double z = static_cast<double>(j.table[h >> (32 - kTableBits)]);
    double sigma;
    if (j.noise_kind == kNoiseConstSigma) {
      sigma = j.sigma_fixed;
    } else {
      double rp = j.rin * pd;
      double var = (j.sc2 + j.shot * std::fabs(pd)) + rp * rp;
      sigma = std::sqrt(var);
    }
    y = pd + sigma * z;
  }
  if (j.abfp) y = y * j.gain;
  double r = std::rint(y / j.lsb[n]);
  if (std::fabs(r) > j.qmax_adc) {
    ++*clipped;
    r = r > 0 ? j.qmax_adc : -j.qmax_adc;
  }
  return r;
}

/// abfp's scale of one (row, K-tile) input block: float32(max|x|) / float32(qmax). It is the block's
/// dequantization scale as it is, so 0 for a block that is all zero or below float32's range (its codes
/// are 0 and its partial sums pure noise, which scale 1 would turn into outputs in units of 1;
/// docs/kernel.md, step 1').
static inline float abfp_block_scale(float tile_max, int qmax) { return tile_max / static_cast<float>(qmax); }

/// The scale that block is quantized with: a zero scale becomes 1 (the codes are 0 either way), as for an
/// all-zero tensor.
static inline float abfp_quant_scale(float block_scale) { return block_scale == 0.0f ? 1.0f : block_scale; }

/// The block's outputs y[m0:m1, n0:n1] from its float64 accumulators: abfp tiles are already
/// dequantized (code * scales, tile by tile); tensor scaling multiplies the code sum by factor[n].
static inline void dequantize(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1,
                              const double* acc) {
  const std::int64_t width = n1 - n0;
  if (j.abfp) {
    for (std::int64_t m = m0; m < m1; ++m)
      for (std::int64_t c = 0; c < width; ++c) j.y[m * j.n + n0 + c] = static_cast<float>(acc[(m - m0) * width + c]);
    return;
  }
  for (std::int64_t m = m0; m < m1; ++m)
    for (std::int64_t c = 0; c < width; ++c)
      j.y[m * j.n + n0 + c] = static_cast<float>(acc[(m - m0) * width + c] * j.factor[n0 + c]);
}

/// One noise kind and scaling as types, for dispatch_mode.
template <int K, bool A>
struct Mode {
  static constexpr int kind = K;
  static constexpr bool abfp = A;
};

/// Calls f(Mode<kind, abfp>{}) for the job's noise kind and scaling: the one switch every ISA's block
/// kernel instantiates its body through (four kinds x two scalings).
template <class F>
static inline void dispatch_mode(const Job& j, F&& f) {
  switch (j.noise_kind) {
    case kNoiseOff:
      return j.abfp ? f(Mode<kNoiseOff, true>{}) : f(Mode<kNoiseOff, false>{});
    case kNoiseConstSigma:
      return j.abfp ? f(Mode<kNoiseConstSigma, true>{}) : f(Mode<kNoiseConstSigma, false>{});
    case kNoiseModes:
      return j.abfp ? f(Mode<kNoiseModes, true>{}) : f(Mode<kNoiseModes, false>{});
    default:
      return j.abfp ? f(Mode<kNoiseFull, true>{}) : f(Mode<kNoiseFull, false>{});
  }
}

// ---- per-ISA entry points ----
// absmax: float32 max |x| over count values; NaN if any value is NaN.
// quantize_*: one input row into the tile-padded layout of Job (see x_stride).
// block_*: output rows [m0, m1) x columns [n0, n1) (n0 a multiple of kNr, m0 of kMr), every
//   tile; acc is scratch of (m1 - m0) * (n1 - n0) doubles; adds ADC clips to *clipped.
namespace portable {
float absmax(const float* x, std::int64_t count);
void quantize_narrow(const float* x, std::int64_t k, int rows, int rows4, float scale, int qmax, std::uint8_t* out);
void quantize_wide(const float* x, std::int64_t k, float scale, int qmax, std::int16_t* out);
void block_narrow(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1, double* acc,
                  std::int64_t* clipped);
void block_wide(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1, double* acc,
                std::int64_t* clipped);
}  // namespace portable

namespace avx512 {
float absmax(const float* x, std::int64_t count);
// out_abs (may be null): |q| in the layout of out, tile padding 0 (the dual-rail light operand)
void quantize_narrow(const float* x, std::int64_t k, int rows, int rows4, float scale, int qmax, std::uint8_t* out,
                     std::uint8_t* out_abs);
void block_narrow(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1, double* acc,
                  std::int64_t* clipped);
}  // namespace avx512

namespace avx2 {
float absmax(const float* x, std::int64_t count);
// int16 codes in the layout of Job::xs16 (tile padding: code 0)
void quantize_narrow(const float* x, std::int64_t k, int rows, int rows4, float scale, int qmax, std::int16_t* out);
// dual rail: int8 codes and their magnitudes in the layout of Job::xs8 / Job::xabs8 (padding: code 0)
void quantize_narrow_dual(const float* x, std::int64_t k, int rows, int rows4, float scale, int qmax, std::int8_t* out,
                          std::uint8_t* out_abs);
// abfp: one row, every tile: scale float32(max|x|) / float32(qmax) (0 -> 1) into row_scale[t] as a
// double, codes into out16 (quantize_narrow's layout) or out8 + out_abs (quantize_narrow_dual's);
// returns the max bit pattern of |x| over the row (absmax's order: NaN wins).
std::uint32_t quantize_abfp_row(const float* x, std::int64_t k, int rows, int rows4, int qmax, std::int16_t* out16,
                                std::int8_t* out8, std::uint8_t* out_abs, double* row_scale);
void block_narrow(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1, double* acc,
                  std::int64_t* clipped);
}  // namespace avx2

}  // namespace adept::detail
