// Portable kernel bodies: plain C++ that any x86-64 (or other) CPU runs. They define the
// bits; the AVX-512 bodies must reproduce them exactly (tests/test_cpp_backend.py).
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "kernels.hpp"

namespace adept::detail::portable {

float absmax(const float* x, std::int64_t count) {
  float best = 0.0f;
  for (std::int64_t i = 0; i < count; ++i) {
    float a = std::fabs(x[i]);
    if (a != a) return a;  // NaN: report it; casting it to an integer later would be UB
    best = a > best ? a : best;
  }
  return best;
}

// q = clamp(rint(x / scale), -qmax, qmax) with the division in float32 (quantize.py).
static inline float quantize_one(float v, float scale, float qmax) {
  float q = std::rint(v / scale);
  return q > qmax ? qmax : (q < -qmax ? -qmax : q);
}

void quantize_narrow(const float* x, std::int64_t k, int rows, int rows4, float scale, int qmax, std::uint8_t* out) {
  const float qm = static_cast<float>(qmax);
  for (std::int64_t k0 = 0, t = 0; k0 < k; k0 += rows, ++t) {
    std::uint8_t* dst = out + t * rows4;
    const std::int64_t len = k - k0 < rows ? k - k0 : rows;
    for (std::int64_t i = 0; i < len; ++i)
      dst[i] = static_cast<std::uint8_t>(static_cast<int>(quantize_one(x[k0 + i], scale, qm)) + kInputShift);
    for (std::int64_t i = len; i < rows4; ++i) dst[i] = kInputShift;  // code 0
  }
}

void quantize_wide(const float* x, std::int64_t k, float scale, int qmax, std::int16_t* out) {
  const float qm = static_cast<float>(qmax);
  for (std::int64_t i = 0; i < k; ++i) out[i] = static_cast<std::int16_t>(quantize_one(x[i], scale, qm));
}

namespace {

// Epilogue of one row of partial sums p[0, cols) for output columns n0.. of tile t.
void epilogue_row(const Job& j, const std::int64_t* p, std::int64_t cols, std::int64_t t, std::int64_t m,
                  std::int64_t n0, double* acc_row, std::int64_t* clipped, const std::int64_t* light = nullptr) {
  const std::uint64_t rk = j.noise_kind != kNoiseOff ? row_key(j.base_key, t, m) : 0;
  if (j.abfp || j.dual_rail || j.rin_common) {
    const double zc = j.rin_common ? table_normal(j, rk, 0xFFFFFFFFu) : 0.0;
    for (std::int64_t c = 0; c < cols; ++c) {
      const double l = light ? static_cast<double>(light[c]) : 0.0;
      const double code = adc_code(static_cast<double>(p[c]), rk, n0 + c, j, clipped, l, zc);
      if (j.abfp)
        acc_row[c] = acc_row[c] + code * (j.row_scale[m * j.tiles + t] * j.col_factor[t * j.n + n0 + c]);
      else
        acc_row[c] += code;
    }
    return;
  }
  for (std::int64_t c = 0; c < cols; ++c)
    acc_row[c] += adc_code(static_cast<double>(p[c]), rk, n0 + c, j, clipped);
}

}  // namespace

void block_narrow(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1, double* acc,
                  std::int64_t* clipped) {
  const std::int64_t width = n1 - n0;
  for (std::int64_t i = 0; i < (m1 - m0) * width; ++i) acc[i] = 0.0;
  const int groups = j.rows4 / 4;
  std::int64_t p[kNr], light[kNr];
  for (std::int64_t t = 0; t < j.tiles; ++t) {
    for (std::int64_t np = n0; np < n1; np += kNr) {
      const std::int8_t* wp = j.w8 + (t * (j.n_pad / kNr) + np / kNr) * j.rows4 * kNr;
      const std::int32_t* ws = j.wsum128 + t * j.n_pad + np;
      const std::int64_t cols = n1 - np < kNr ? n1 - np : kNr;
      for (std::int64_t m = m0; m < m1; ++m) {
        const std::uint8_t* xr = j.xq8 + m * j.x_stride + t * j.rows4;
        for (int c = 0; c < kNr; ++c) p[c] = -ws[c];
        for (int g = 0; g < groups; ++g)
          for (int c = 0; c < kNr; ++c)
            for (int e = 0; e < 4; ++e)
              p[c] += static_cast<std::int32_t>(xr[4 * g + e]) * wp[(g * kNr + c) * 4 + e];
        if (j.dual_rail) {  // the light on both rails: sum |qx| |qw| (inputs are stored as q + 128)
          for (int c = 0; c < kNr; ++c) light[c] = 0;
          for (int g = 0; g < groups; ++g)
            for (int c = 0; c < kNr; ++c)
              for (int e = 0; e < 4; ++e) {
                const int q = static_cast<int>(xr[4 * g + e]) - kInputShift;
                const int wv = wp[(g * kNr + c) * 4 + e];
                light[c] += static_cast<std::int64_t>(q < 0 ? -q : q) * (wv < 0 ? -wv : wv);
              }
        }
        epilogue_row(j, p, cols, t, m, np, acc + (m - m0) * width + (np - n0), clipped, j.dual_rail ? light : nullptr);
      }
    }
  }
  dequantize(j, m0, m1, n0, n1, acc);
}

void block_wide(const Job& j, std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1, double* acc,
                std::int64_t* clipped) {
  const std::int64_t width = n1 - n0;
  for (std::int64_t i = 0; i < (m1 - m0) * width; ++i) acc[i] = 0.0;
  std::int64_t p[kNr], light[kNr];
  for (std::int64_t t = 0; t < j.tiles; ++t) {
    const std::int64_t k0 = t * j.rows;
    const std::int64_t len = j.k - k0 < j.rows ? j.k - k0 : j.rows;
    for (std::int64_t np = n0; np < n1; np += kNr) {
      const std::int64_t cols = n1 - np < kNr ? n1 - np : kNr;
      for (std::int64_t m = m0; m < m1; ++m) {
        const std::int16_t* xr = j.xq16 + m * j.x_stride + k0;
        for (std::int64_t c = 0; c < cols; ++c) {
          const std::int16_t* wc = j.w16 + (t * j.n_pad + np + c) * j.rows;
          // |x|, |w| <= 2^15, so each product is exact in int32; the sum needs int64.
          std::int64_t s = 0;
          for (std::int64_t i = 0; i < len; ++i) s += static_cast<std::int32_t>(xr[i]) * wc[i];
          p[c] = s;
          if (j.dual_rail) {
            std::int64_t l = 0;
            for (std::int64_t i = 0; i < len; ++i)
              l += static_cast<std::int64_t>(std::abs(static_cast<std::int32_t>(xr[i]))) * std::abs(static_cast<std::int32_t>(wc[i]));
            light[c] = l;
          }
        }
        epilogue_row(j, p, cols, t, m, np, acc + (m - m0) * width + (np - n0), clipped, j.dual_rail ? light : nullptr);
      }
    }
  }
  dequantize(j, m0, m1, n0, n1, acc);
}

}  // namespace adept::detail::portable
