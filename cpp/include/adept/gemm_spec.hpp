// The C++ mirror of adept_core.kernels.spec (PhotonicGemmSpec, NoiseSpec) and of the per-call
// plan (adept_core.kernels.plan.CallPlan). Plain structs, no Python, no global state.
//
// The field lists are X-macros so that the struct members and the names the binding reports
// (tests/test_cpp_backend.py compares them with the Python dataclasses) cannot drift apart.
#pragma once

#include <cstdint>
#include <string>

namespace adept {

#define ADEPT_NOISE_SPEC_FIELDS(X) \
  X(double, sigma_const, 0.0)      \
  X(double, shot_coeff, 0.0)       \
  X(double, rin_coeff, 0.0)        \
  X(std::string, detection, "coherent") \
  X(std::string, rin_correlation, "independent")

#define ADEPT_GEMM_SPEC_FIELDS(X) \
  X(int, rows, 128)               \
  X(int, cols, 128)               \
  X(int, input_bits, 8)           \
  X(int, weight_bits, 8)          \
  X(int, adc_bits, 8)             \
  X(NoiseSpec, noise, NoiseSpec{}) \
  X(std::string, scaling, "tensor") \
  X(double, analog_gain, 1.0)

#define ADEPT_DECLARE_FIELD(type, name, init) type name = init;

/// Analog noise on each partial sum, in partial-sum units (see spec.py, step 3).
struct NoiseSpec {
  ADEPT_NOISE_SPEC_FIELDS(ADEPT_DECLARE_FIELD)
  bool enabled() const { return sigma_const > 0.0 || shot_coeff > 0.0 || rin_coeff > 0.0; }
};

/// Geometry and resolutions of one photonic core (mirrors PhotonicGemmSpec field for field).
struct GemmSpec {
  ADEPT_GEMM_SPEC_FIELDS(ADEPT_DECLARE_FIELD)
};

#undef ADEPT_DECLARE_FIELD

class WorkerPool;  // photonic_gemm.hpp

/// Instruction set of the kernel body. The bits never depend on it (tests check).
enum class Isa { Auto, Portable, Avx512Vnni, Avx2 };

/// Everything one call needs, decided by the caller (mirrors CallPlan). Pointers are borrowed.
struct CallPlan {
  GemmSpec spec;              ///< rows, input_bits, adc_bits and noise are used; cols is scheduling only
  float x_scale = 0.0f;       ///< input scale; 0 means "float32(max|x|) / float32(qmax_x)"
  const double* lsb = nullptr;       ///< [N] ADC step per output column, partial-sum units
  const float* w_scale = nullptr;    ///< [N] weight scale per output column ("abfp": [tiles][N])
  std::uint64_t base_key = 0;        ///< rng.call_base(seed, call_key)
  const float* normal_table = nullptr;  ///< [kNormalTableSize] inverse-CDF table
  int threads = 1;            ///< worker threads in [1, kMaxThreads], the caller's included; capped at the work
  Isa isa = Isa::Auto;
  WorkerPool* pool = nullptr;  ///< optional caller-owned threads to run on (else started per call)
};

constexpr int kTableBits = 16;
constexpr std::int64_t kNormalTableSize = std::int64_t{1} << kTableBits;
constexpr int kMinBits = 2;
constexpr int kMaxBits = 16;
constexpr int kMaxCoreDim = 4096;
/// Most threads one call (or one WorkerPool) may use; mirrors kernels.spec.MAX_THREADS, which
/// Python checks first (this is the backstop for direct callers of the C++ API).
constexpr int kMaxThreads = 256;

/// What one call reports besides Y (mirrors RunResult).
struct RunStats {
  float x_absmax = 0.0f;  ///< float32(max|x|); NaN/Inf means x was not finite and Y is unset
  float x_scale = 0.0f;   ///< the input scale used (0 in "abfp" mode: one per row and tile)
  std::int64_t clipped = 0;  ///< ADC conversions with |rint(y/lsb)| > qmax_adc
};

}  // namespace adept
