// Cost of the AVX2 block body per ADC conversion (one output of one tile), in one process, on
// operands that stay in L1/L2: the stable half of a kernel measurement (the Python-level paired
// ratios move by 5-10 % on a shared machine; this moves by ~1 %). Built and run by
// benchmarks/test_avx2_block_cost.py, which also times numpy on the same GEMM shape.
//
// It includes kernel_avx2.cpp itself, so it sees the translation unit's internal micro-kernels.
// Prints one JSON object per line: {"part": ..., "ns_per_conversion": ...} (for the "_per_input" parts, the
// abfp quantizer, the time per element of X instead).
#include "../../cpp/src/kernel_avx2.cpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace adept::detail;

namespace {

template <class F>
double best_ns(F&& f, int reps) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 40;
  // 64 rows x 9 tiles of 128 x 128 columns: one output block of a ResNet-50 conv (784 x 1152 x 128).
  const std::int64_t m = 64, tiles = 9, rows = 128, n = 128, k = tiles * rows;
  const double conversions = static_cast<double>(m * n * tiles);
  std::mt19937 gen(1);
  std::uniform_int_distribution<int> code(-127, 127);
  std::normal_distribution<float> normal;
  std::vector<std::int16_t> xs16(m * k);  // any order: the cost does not depend on the values
  std::vector<std::int8_t> xs8(m * k), w8(tiles * n * rows);
  std::vector<std::uint8_t> xabs8(m * k);
  for (std::int64_t i = 0; i < m * k; ++i) {
    const int v = code(gen);
    xs16[i] = static_cast<std::int16_t>(v);
    xs8[i] = static_cast<std::int8_t>(v);
    xabs8[i] = static_cast<std::uint8_t>(std::abs(v));
  }
  for (auto& v : w8) v = static_cast<std::int8_t>(code(gen));
  std::vector<float> table(adept::kNormalTableSize);
  for (auto& v : table) v = normal(gen);
  // ADC full scale ~ 3 sigma of the partial sums: a few per mille of the codes clip, as in a calibrated layer.
  std::vector<double> lsb(n), inv(n), factor(n, 1e-3), row_scale(m * tiles, 0.01), col_factor(tiles * n, 0.02);
  for (std::int64_t c = 0; c < n; ++c) {
    lsb[c] = 1400.0 + static_cast<double>(c);
    inv[c] = 1.0 / lsb[c];
  }
  std::vector<float> y(m * n);
  std::vector<double> acc(m * n);
  struct Mode {
    const char* name;
    int kind;
    bool abfp, dual, rin_common;
  };
  // preset: the "adept" preset's modes (dual-rail abfp, RIN common to a laser pulse).
  const Mode modes[] = {{"noise_off", kNoiseOff, false, false, false},
                        {"coherent", kNoiseFull, false, false, false},
                        {"abfp", kNoiseFull, true, false, false},
                        {"dual_rail", kNoiseModes, false, true, false},
                        {"dual_rail_abfp", kNoiseModes, true, true, false},
                        {"preset", kNoiseModes, true, true, true}};
  for (const Mode& mode : modes) {
    Job j;
    j.m = m;
    j.k = k;
    j.n = n;
    j.n_pad = n;
    j.rows = static_cast<int>(rows);
    j.rows4 = static_cast<int>(rows);
    j.tiles = static_cast<int>(tiles);
    j.xs16 = xs16.data();
    j.xs8 = xs8.data();
    j.xabs8 = xabs8.data();
    j.x_stride = k;
    j.w8 = w8.data();
    j.noise_kind = mode.kind;
    j.sc2 = 4.0;
    j.shot = 0.5;
    j.rin = 1e-3;
    j.qmax_adc = 127.0;
    j.lsb = lsb.data();
    j.lsb_pad = lsb.data();
    j.inv_lsb_pad = inv.data();
    j.recip_lsb = true;
    j.factor = factor.data();
    j.table = table.data();
    j.base_key = 12345;
    j.y = y.data();
    j.abfp = mode.abfp;
    j.gain = 2.0;
    j.row_scale = row_scale.data();
    j.col_factor = col_factor.data();
    j.dual_rail = mode.dual;
    j.rin_common = mode.rin_common;
    std::int64_t clipped = 0;
    const double ns = best_ns([&] {
      for (std::int64_t n0 = 0; n0 < n; n0 += 64) avx2::block_narrow(j, 0, m, n0, n0 + 64, acc.data(), &clipped);
    }, reps);
    double checksum = 0.0;
    for (float v : y) checksum += v;
    std::printf("{\"part\": \"block_%s\", \"ns_per_conversion\": %.4f, \"finite\": %s}\n", mode.name, ns / conversions,
                checksum == checksum ? "true" : "false");
  }
  // The integer partial sums alone (one 8 x 32 micro-block, every tile's worth of groups).
  alignas(32) std::int32_t p[kMr * kNr], pl[kMr * kNr];
  const int groups = static_cast<int>(rows / 4);
  for (bool dual : {false, true}) {
    const double ns = best_ns([&] {
      for (int rep = 0; rep < 1000; ++rep) {
        avx2::partial_sums(dual, kMr, kNr / 8, xs16.data(), xs8.data(), xabs8.data(), k, w8.data(), groups, p, pl);
        __asm__ volatile("" : : "r"(p), "r"(pl) : "memory");
      }
    }, reps / 4 + 1);
    std::printf("{\"part\": \"partial_sums_%s\", \"ns_per_conversion\": %.4f, \"finite\": true}\n",
                dual ? "dual_rail" : "coherent", ns / (1000.0 * kMr * kNr));
  }
  // The abfp quantizer of one row (every tile: absmax, scale, codes), per input element; coherent and dual-rail layouts.
  std::vector<float> xf(m * k);
  for (auto& v : xf) v = normal(gen);
  std::vector<double> rs(m * tiles);
  for (bool dual : {false, true}) {
    const double ns = best_ns([&] {
      for (std::int64_t r = 0; r < m; ++r)
        avx2::quantize_abfp_row(xf.data() + r * k, k, static_cast<int>(rows), static_cast<int>(rows), 127,
                                dual ? nullptr : xs16.data() + r * k, dual ? xs8.data() + r * k : nullptr,
                                dual ? xabs8.data() + r * k : nullptr, rs.data() + r * tiles);
    }, reps);
    std::printf("{\"part\": \"quantize_abfp_%s_per_input\", \"ns_per_conversion\": %.4f, \"finite\": true}\n",
                dual ? "dual_rail" : "coherent", ns / static_cast<double>(m * k));
  }
  return 0;
}
