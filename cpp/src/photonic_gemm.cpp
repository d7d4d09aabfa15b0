// Driver of the photonic GEMM: validates the plan, packs weights, quantizes the inputs,
// cuts the output into blocks and runs the per-ISA block kernels on std::threads.
// Bits never depend on the thread count or on the ISA: every output element is computed by
// exactly one block with the same sequence of rounded operations (see kernels.hpp).
#include "adept/photonic_gemm.hpp"

#include <algorithm>
#include <functional>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <unistd.h>  // getpid: a WorkerPool is only valid in the process that made it

#include "kernels.hpp"

namespace adept {

namespace {

using detail::kMr;
using detail::kNr;

constexpr std::int64_t kBlockRows = 64;   // output rows per block (multiple of kMr)
constexpr std::int64_t kBlockCols = 256;  // output columns per block (multiple of kNr)
constexpr std::int64_t kQuantRows = 32;   // input rows per quantization work item

std::int64_t round_up(std::int64_t v, std::int64_t to) { return (v + to - 1) / to * to; }

// The message is built only when the check fails (a callable), or is a literal: some checks run once per
// weight or per column, and building the text eagerly made std::string the hottest code of pack_weights.
void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}
template <class Message, class = decltype(std::string(std::declval<Message&>()()))>
void require(bool ok, Message&& what) {
  if (!ok) throw std::invalid_argument(what());
}

/// Work items handed out one at a time: which worker runs which item cannot change any result,
/// because each item writes only its own outputs. A phase that needs the previous one waits for
/// that queue's items to be *done*, not for every worker to arrive: a worker thread the OS has
/// not scheduled yet (a busy machine) delays nobody; it finds the early queues empty.
class WorkQueue {
 public:
  explicit WorkQueue(std::int64_t count) : count_(count) {}
  template <class F>
  void drain(F&& fn) {
    for (std::int64_t i = next_.fetch_add(1); i < count_; i = next_.fetch_add(1)) {
      fn(i);
      done_.fetch_add(1, std::memory_order_release);
    }
  }
  void wait_done() const {  // the items in flight are short: yield instead of sleeping
    while (done_.load(std::memory_order_acquire) < count_) std::this_thread::yield();
  }

 private:
  std::atomic<std::int64_t> next_{0};
  std::atomic<std::int64_t> done_{0};
  std::int64_t count_;
};

/// Run body(worker) on ``workers`` threads, the caller's included: on the caller's pool when it
/// is free and large enough, else on threads started for this call. If a thread cannot be
/// started, the others do its share (work is taken from WorkQueues, never assigned).
template <class F>
void run_team(int workers, WorkerPool* pool, F&& body) {
  if (workers > 1 && pool != nullptr && pool->try_run(workers, std::function<void(int)>(std::ref(body)))) return;
  std::vector<std::thread> team;
  team.reserve(static_cast<std::size_t>(workers - 1));
  for (int w = 1; w < workers; ++w) {
    try {
      team.emplace_back([&body, w] { body(w); });
    } catch (const std::system_error&) {
      break;
    }
  }
  body(0);
  for (auto& th : team) th.join();
}

/// The input-code buffers of one call. Up to kKeptCodeBytes stay with the calling thread for its
/// next call: a fresh multi-megabyte buffer per call is returned to the OS by free() (heap
/// trimming) and page-faulted back in, which cost up to ~2x a dual-rail call on 3136 x 576 x 64.
/// Larger buffers are the call's own, so an occasional huge input does not pin its memory.
class InputCodes {
 public:
  std::uint8_t* get(std::size_t bytes) {
    if (bytes > kKeptCodeBytes) {
      own_.reset(new std::uint8_t[bytes]);
      return own_.get();
    }
    thread_local std::unique_ptr<std::uint8_t[]> kept;
    thread_local std::size_t kept_bytes = 0;
    if (kept_bytes < bytes) {
      kept.reset();  // release before allocating: never both at once
      kept_bytes = 0;
      kept.reset(new std::uint8_t[bytes]);
      kept_bytes = bytes;
    }
    return kept.get();
  }

 private:
  static constexpr std::size_t kKeptCodeBytes = std::size_t{64} << 20;
  std::unique_ptr<std::uint8_t[]> own_;
};

void check_bits(const char* name, int bits) {
  require(bits >= kMinBits && bits <= kMaxBits,
          [&] { return std::string(name) + " must be in [2, 16], got " + std::to_string(bits); });
}

void check_coeff(const char* name, double v) {
  require(std::isfinite(v) && v >= 0.0, [&] { return std::string("noise.") + name + " must be finite and >= 0"; });
}

int qmax(int bits) { return (1 << (bits - 1)) - 1; }

}  // namespace

PackedWeights pack_weights(const std::int8_t* qw8, const std::int16_t* qw16, std::int64_t k, std::int64_t n,
                           int rows, bool wide) {
  require((qw8 == nullptr) != (qw16 == nullptr), "pack_weights needs exactly one of the int8 / int16 weight arrays");
  require(k >= 0 && n >= 0, "weight extents must be >= 0");
  require(rows >= 1 && rows <= kMaxCoreDim, [&] { return "rows must be in [1, 4096], got " + std::to_string(rows); });
  require(wide || qw16 == nullptr, "int16 weight codes need the wide (int16) path");
  PackedWeights pw;
  pw.k = k;
  pw.n = n;
  pw.rows = rows;
  pw.wide = wide;
  pw.tiles = static_cast<int>((k + rows - 1) / rows);
  pw.n_pad = round_up(std::max<std::int64_t>(n, 1), kNr);
  auto code = [&](std::int64_t kk, std::int64_t c) -> int {
    return qw8 ? qw8[kk * n + c] : qw16[kk * n + c];
  };
  if (!wide) {
    pw.rows4 = static_cast<int>(round_up(rows, 4));
    pw.w8.assign(static_cast<std::size_t>(pw.tiles) * pw.n_pad * pw.rows4, 0);
    pw.wsum128.assign(static_cast<std::size_t>(pw.tiles) * pw.n_pad, 0);
    for (std::int64_t kk = 0; kk < k; ++kk) {
      const std::int64_t t = kk / rows, i = kk % rows, g = i / 4, e = i % 4;
      for (std::int64_t c = 0; c < n; ++c) {
        const std::int64_t panel = c / kNr, cc = c % kNr;
        const int v = code(kk, c);
        // The dual-rail light reads |w| as int8 (vpabsb): -128 has no int8 magnitude. Codes are
        // within +-qmax(8) = 127 whenever they come from the quantizer.
        require(v >= -127, [&] { return "int8 weight codes must be in [-127, 127], got " + std::to_string(v); });
        const auto at = static_cast<std::size_t>(((t * (pw.n_pad / kNr) + panel) * pw.rows4 / 4 + g) * kNr * 4 + cc * 4 + e);
        pw.w8[at] = static_cast<std::int8_t>(v);
        pw.wsum128[static_cast<std::size_t>(t * pw.n_pad + c)] += detail::kInputShift * v;
      }
    }
  } else {
    pw.rows4 = rows;
    pw.w16.assign(static_cast<std::size_t>(pw.tiles) * pw.n_pad * rows, 0);
    for (std::int64_t kk = 0; kk < k; ++kk) {
      const std::int64_t t = kk / rows, i = kk % rows;
      for (std::int64_t c = 0; c < n; ++c)
        pw.w16[static_cast<std::size_t>((t * pw.n_pad + c) * rows + i)] = static_cast<std::int16_t>(code(kk, c));
    }
  }
  return pw;
}

WorkerPool::WorkerPool(int threads, int spin_us)
    : state_(nullptr), spin_us_(spin_us), owner_pid_(static_cast<long>(getpid())) {
  require(threads >= 1 && threads <= kMaxThreads,
          [&] { return "a WorkerPool needs threads in [1, " + std::to_string(kMaxThreads) + "], got " + std::to_string(threads); });
  require(spin_us >= 0 && spin_us <= kMaxSpinUs,
          [&] { return "a WorkerPool needs spin_us in [0, " + std::to_string(kMaxSpinUs) + "], got " + std::to_string(spin_us); });
  state_ = new State();
  threads_.reserve(static_cast<std::size_t>(threads - 1));
  try {
    for (int w = 1; w < threads; ++w) threads_.emplace_back([this, w] { loop(w, 0); });
  } catch (...) {
    stop_threads();
    throw;
  }
}

void WorkerPool::stop_threads() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stop = true;
    state_->generation.fetch_add(1, std::memory_order_release);  // ends a polling thread's spin now
  }
  state_->wake.notify_all();
  for (auto& th : threads_) th.join();
  delete state_;
}

WorkerPool::~WorkerPool() {
  if (static_cast<long>(getpid()) != owner_pid_) {
    // Forked child: the threads exist only in the parent. Joining them would fail, a joinable
    // std::thread may not be destroyed, and the condition variables still count the parent's
    // waiters: thread handles and state are deliberately leaked.
    new std::vector<std::thread>(std::move(threads_));
    return;
  }
  stop_threads();
}

bool WorkerPool::grow(int threads) {
  // A new thread starts from the current generation, so it never mistakes the last finished job
  // for a new one; ``pending`` is only set by the next try_run, which counts it.
  const std::uint64_t seen = state_->generation.load(std::memory_order_acquire);
  while (size() < threads) {
    const int w = size();
    try {
      threads_.emplace_back([this, w, seen] { loop(w, seen); });
    } catch (const std::system_error&) {
      return false;  // the threads already started stay: the pool is still consistent
    }
  }
  return true;
}

void WorkerPool::loop(int worker, std::uint64_t seen) {
  State& st = *state_;
  for (;;) {
    const std::function<void(int)>* job;
    int workers;
    // Poll before sleeping (kDefaultSpinUs says why); the clock is read per poll (~20 ns, vDSO),
    // next to a yield of ~0.6 us.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us_);
    while (st.generation.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until)
      std::this_thread::yield();
    {
      std::unique_lock<std::mutex> lock(st.mutex);
      st.wake.wait(lock, [&] { return st.stop || st.generation.load(std::memory_order_relaxed) != seen; });
      if (st.stop) return;
      seen = st.generation.load(std::memory_order_relaxed);
      job = st.job;
      workers = st.job_workers;
    }
    if (worker < workers) (*job)(worker);
    {
      std::lock_guard<std::mutex> lock(st.mutex);
      if (--st.pending == 0) st.finished.notify_one();
    }
  }
}

bool WorkerPool::try_run(int workers, const std::function<void(int)>& body) {
  State& st = *state_;
  if (workers > kMaxThreads || static_cast<long>(getpid()) != owner_pid_ || !st.busy.try_lock()) return false;
  if (workers > size() && !grow(workers)) {
    st.busy.unlock();
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(st.mutex);
    st.job = &body;
    st.job_workers = workers;
    st.pending = static_cast<int>(threads_.size());
    st.generation.fetch_add(1, std::memory_order_release);
  }
  st.wake.notify_all();
  body(0);
  {
    std::unique_lock<std::mutex> lock(st.mutex);
    st.finished.wait(lock, [&] { return st.pending == 0; });
    st.job = nullptr;
  }
  st.busy.unlock();
  return true;
}

bool avx512_vnni_supported() {
#if defined(ADEPT_HAVE_AVX512_KERNEL)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

bool avx2_supported() {
#if defined(ADEPT_HAVE_AVX2_KERNEL)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

Isa resolve_isa(Isa requested) {
  if (requested == Isa::Auto)
    return avx512_vnni_supported() ? Isa::Avx512Vnni : (avx2_supported() ? Isa::Avx2 : Isa::Portable);
  require(requested != Isa::Avx512Vnni || avx512_vnni_supported(),
          "isa 'avx512_vnni' was requested but this CPU does not support AVX-512 VNNI");
  require(requested != Isa::Avx2 || avx2_supported(), "isa 'avx2' was requested but this CPU does not support AVX2");
  return requested;
}

std::string isa_name(Isa isa) {
  switch (isa) {
    case Isa::Auto: return "auto";
    case Isa::Portable: return "portable";
    case Isa::Avx512Vnni: return "avx512_vnni";
    case Isa::Avx2: return "avx2";
  }
  return "?";
}

int abi_version() { return 3; }

#if !defined(ADEPT_HAVE_AVX512_KERNEL)
// Built without the AVX-512 file (non-x86 or another compiler): avx512_vnni_supported() is
// false, so these are never reached; they exist only to satisfy the linker.
namespace detail::avx512 {
float absmax(const float*, std::int64_t) { throw std::logic_error("AVX-512 kernel not built"); }
void quantize_narrow(const float*, std::int64_t, int, int, float, int, std::uint8_t*, std::uint8_t*) {
  throw std::logic_error("AVX-512 kernel not built");
}
void block_narrow(const Job&, std::int64_t, std::int64_t, std::int64_t, std::int64_t, double*, std::int64_t*) {
  throw std::logic_error("AVX-512 kernel not built");
}
}  // namespace detail::avx512
#endif
#if !defined(ADEPT_HAVE_AVX2_KERNEL)
namespace detail::avx2 {
float absmax(const float*, std::int64_t) { throw std::logic_error("AVX2 kernel not built"); }
void quantize_narrow(const float*, std::int64_t, int, int, float, int, std::int16_t*) {
  throw std::logic_error("AVX2 kernel not built");
}
void quantize_narrow_dual(const float*, std::int64_t, int, int, float, int, std::int8_t*, std::uint8_t*) {
  throw std::logic_error("AVX2 kernel not built");
}
std::uint32_t quantize_abfp_row(const float*, std::int64_t, int, int, int, std::int16_t*, std::int8_t*, std::uint8_t*,
                                double*) {
  throw std::logic_error("AVX2 kernel not built");
}
void block_narrow(const Job&, std::int64_t, std::int64_t, std::int64_t, std::int64_t, double*, std::int64_t*) {
  throw std::logic_error("AVX2 kernel not built");
}
}  // namespace detail::avx2
#endif

RunStats photonic_gemm(const PackedWeights& w, const float* x, std::int64_t m, std::int64_t k, const CallPlan& plan,
                       float* y) {
  const GemmSpec& s = plan.spec;
  require(m >= 0, "m must be >= 0");
  require(k == w.k, [&] {
    return "x has " + std::to_string(k) + " columns but the weights were programmed for K=" + std::to_string(w.k);
  });
  require(s.rows == w.rows, [&] {
    return "plan rows (" + std::to_string(s.rows) + ") differ from the packed weights' rows (" + std::to_string(w.rows) + ")";
  });
  check_bits("input_bits", s.input_bits);
  check_bits("weight_bits", s.weight_bits);
  check_bits("adc_bits", s.adc_bits);
  require(w.wide || s.input_bits <= 8, "input_bits > 8 needs weights packed for the wide (int16) path");
  check_coeff("sigma_const", s.noise.sigma_const);
  check_coeff("shot_coeff", s.noise.shot_coeff);
  check_coeff("rin_coeff", s.noise.rin_coeff);
  const bool abfp = s.scaling == "abfp";
  require(abfp || s.scaling == "tensor", [&] { return "scaling must be 'tensor' or 'abfp', got '" + s.scaling + "'"; });
  require(std::isfinite(s.analog_gain) && s.analog_gain > 0.0, "analog_gain must be finite and > 0");
  require(abfp || s.analog_gain == 1.0, "analog_gain other than 1 needs scaling 'abfp'");
  require(!abfp || plan.x_scale == 0.0f, "x_scale cannot be given with scaling 'abfp' (one scale per row and tile)");
  const NoiseSpec& ns = s.noise;
  require(ns.detection == "coherent" || ns.detection == "dual_rail",
          [&] { return "noise.detection must be 'coherent' or 'dual_rail', got '" + ns.detection + "'"; });
  require(ns.rin_correlation == "independent" || ns.rin_correlation == "laser",
          [&] { return "noise.rin_correlation must be 'independent' or 'laser', got '" + ns.rin_correlation + "'"; });
  const bool dual_rail = ns.enabled() && ns.detection == "dual_rail";
  const bool rin_common = ns.enabled() && ns.rin_correlation == "laser";
  require(std::isfinite(plan.x_scale) && plan.x_scale >= 0.0f, "x_scale must be finite and >= 0 (0: from the data)");
  require(plan.lsb && plan.w_scale && plan.normal_table, "lsb, w_scale and normal_table must be given");
  require(plan.threads >= 1 && plan.threads <= kMaxThreads,
          [&] { return "threads must be in [1, " + std::to_string(kMaxThreads) + "], got " + std::to_string(plan.threads); });
  require(m == 0 || (x != nullptr && y != nullptr), "x and y must be given");
  for (std::int64_t c = 0; c < w.n; ++c)
    require(std::isfinite(plan.lsb[c]) && plan.lsb[c] > 0.0, "lsb must be finite and > 0 in every column");
  const Isa isa = resolve_isa(plan.isa);
  // The dual-rail light and the laser-common RIN exist in portable C++ only; same bits either way.
  const bool simd = isa == Isa::Avx512Vnni && !w.wide;
  const bool simd_blocks = simd;
  // AVX2: int16 input codes (vpmaddwd), its own quantizer and block bodies; same bits.
  const bool avx2 = isa == Isa::Avx2 && !w.wide;

  RunStats stats;
  const std::int64_t n = w.n;
  const int qx = qmax(s.input_bits);
  const std::int64_t qitems = (m + kQuantRows - 1) / kQuantRows;

  detail::Job j;
  j.m = m;
  j.k = k;
  j.n = n;
  j.n_pad = w.n_pad;
  j.rows = w.rows;
  j.rows4 = w.rows4;
  j.tiles = w.tiles;
  InputCodes codes;
  std::uint8_t* xq8 = nullptr;  // uninitialised: no pass over M * K bytes before quantizing
  std::uint8_t* xabs8 = nullptr;
  std::vector<std::int16_t> xq16;
  std::int16_t* xs16 = nullptr;
  std::int8_t* xs8 = nullptr;
  if (avx2 && dual_rail) {
    // Dual rail: int8 codes and |codes| (vpsignb / vpmaddubsw in micro_kernel_dual), padding 0.
    j.x_stride = static_cast<std::int64_t>(w.tiles) * w.rows4;
    const auto plane = static_cast<std::size_t>(round_up(m, kMr) * j.x_stride);
    std::uint8_t* both = codes.get(2 * plane);
    xs8 = reinterpret_cast<std::int8_t*>(both);
    xabs8 = both + plane;
    std::fill(both + m * j.x_stride, both + round_up(m, kMr) * j.x_stride, std::uint8_t{0});
    std::fill(xabs8 + m * j.x_stride, xabs8 + round_up(m, kMr) * j.x_stride, std::uint8_t{0});
    j.xs8 = xs8;
    j.xabs8 = xabs8;
    j.w8 = w.w8.data();
    j.wsum128 = w.wsum128.data();
  } else if (avx2) {
    j.x_stride = static_cast<std::int64_t>(w.tiles) * w.rows4;
    const auto plane = static_cast<std::size_t>(round_up(m, kMr) * j.x_stride);
    xs16 = reinterpret_cast<std::int16_t*>(codes.get(plane * sizeof(std::int16_t)));
    std::fill(xs16 + m * j.x_stride, xs16 + round_up(m, kMr) * j.x_stride, std::int16_t{0});
    j.xs16 = xs16;
    j.w8 = w.w8.data();
    j.wsum128 = w.wsum128.data();
  } else if (!w.wide) {
    j.x_stride = static_cast<std::int64_t>(w.tiles) * w.rows4;
    // Quantization writes every byte of the first m rows (tile padding included); only the
    // rows that pad m to a multiple of kMr need code 0 here.
    const auto plane = static_cast<std::size_t>(round_up(m, kMr) * j.x_stride);
    xq8 = codes.get(dual_rail && simd ? 2 * plane : plane);
    std::fill(xq8 + m * j.x_stride, xq8 + round_up(m, kMr) * j.x_stride,
              static_cast<std::uint8_t>(detail::kInputShift));
    j.xq8 = xq8;
    if (dual_rail && simd) {  // |q| of every input code, same layout (padding: code 0)
      xabs8 = xq8 + plane;
      std::fill(xabs8 + m * j.x_stride, xabs8 + round_up(m, kMr) * j.x_stride, std::uint8_t{0});
      j.xabs8 = xabs8;
    }
    j.w8 = w.w8.data();
    j.wsum128 = w.wsum128.data();
  } else {
    j.x_stride = k;
    xq16.assign(static_cast<std::size_t>(m * k), 0);
    j.xq16 = xq16.data();
    j.w16 = w.w16.data();
  }
  const NoiseSpec& nz = s.noise;
  j.sc2 = nz.sigma_const * nz.sigma_const;
  j.shot = nz.shot_coeff;
  j.rin = nz.rin_coeff;
  if (!nz.enabled()) {
    j.noise_kind = detail::kNoiseOff;
  } else if (dual_rail || rin_common) {
    j.noise_kind = detail::kNoiseModes;
  } else if (nz.shot_coeff == 0.0 && nz.rin_coeff == 0.0) {
    // var = (sc2 + 0*|p|) + (0*p)^2 == sc2 exactly for every finite p: sigma is one number.
    j.noise_kind = detail::kNoiseConstSigma;
    j.sigma_fixed = std::sqrt(j.sc2);
  } else {
    j.noise_kind = detail::kNoiseFull;
  }
  j.qmax_adc = static_cast<double>(qmax(s.adc_bits));
  std::vector<double> factor(static_cast<std::size_t>(n)), lsb_pad(static_cast<std::size_t>(w.n_pad), 1.0);
  std::copy(plan.lsb, plan.lsb + n, lsb_pad.begin());
  j.lsb = plan.lsb;
  j.lsb_pad = lsb_pad.data();
  std::vector<double> inv_lsb_pad;
  if (avx2) {
    inv_lsb_pad.resize(lsb_pad.size());
    j.recip_lsb = true;
    for (std::size_t c = 0; c < lsb_pad.size(); ++c) {
      inv_lsb_pad[c] = 1.0 / lsb_pad[c];
      j.recip_lsb = j.recip_lsb && lsb_pad[c] >= 0x1p-1000 && lsb_pad[c] <= 0x1p1000;
    }
    j.inv_lsb_pad = inv_lsb_pad.data();
  }
  j.factor = factor.data();
  j.table = plan.normal_table;
  j.base_key = plan.base_key;
  j.y = y;
  j.dual_rail = dual_rail;
  j.rin_common = rin_common;
  std::vector<double> row_scale, col_factor;
  if (abfp) {
    row_scale.assign(static_cast<std::size_t>(m * w.tiles), 1.0);
    col_factor.assign(static_cast<std::size_t>(w.tiles) * n, 0.0);
    j.abfp = true;
    j.gain = s.analog_gain;
    j.row_scale = row_scale.data();
    j.col_factor = col_factor.data();
  }

  // Output blocks: up to 64 rows (reuse of each weight tile), fewer rows until there are at least
  // 32 blocks per thread (the last blocks of a call leave threads idle; small blocks bound that).
  const std::int64_t bn = (n + kBlockCols - 1) / kBlockCols;
  std::int64_t block_rows = kBlockRows;
  while (block_rows > 2 * kMr && ((m + block_rows - 1) / block_rows) * bn < 32 * static_cast<std::int64_t>(plan.threads))
    block_rows /= 2;
  const std::int64_t bm = (m + block_rows - 1) / block_rows;
  const int workers = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(plan.threads, std::max(qitems, bm * bn))));
  std::vector<float> part(static_cast<std::size_t>(qitems), 0.0f);
  std::vector<double> acc(static_cast<std::size_t>(workers) * block_rows * kBlockCols);
  std::vector<std::int64_t> clipped(static_cast<std::size_t>(workers), 0);
  float amax = 0.0f, sx = 0.0f;
  // The quantize queue has one extra item: the dequantization factors (they need the scale).
  // abfp on AVX-512 needs no tensor scale: the chunk maxima come out of the per-(row, tile) scales
  // of the quantize pass, which saves a pass over X. The vector quantizer is defined for NaN/Inf
  // (min/max/cvt, no UB), so the non-finite check can wait until the blocks; the portable one
  // casts to int and must not see them.
  const bool fused_absmax = abfp && (simd || avx2);
  WorkQueue absmax_items(fused_absmax ? 0 : qitems), quantize_items(qitems + 1), blocks(m > 0 && n > 0 ? bm * bn : 0);
  // Every worker derives the same scale from the same partial maxima.
  auto reduce_parts = [&part] {
    float a = 0.0f;
    for (float v : part) {
      if (!(v <= a)) a = v;  // also picks up NaN
      if (v != v) break;
    }
    return a;
  };

  run_team(workers, plan.pool, [&](int worker) {
    // 1. max |x|, per chunk of rows.
    absmax_items.drain([&](std::int64_t i) {
      const std::int64_t r0 = i * kQuantRows, r1 = std::min(m, r0 + kQuantRows);
      part[i] = simd   ? detail::avx512::absmax(x + r0 * k, (r1 - r0) * k)
                : avx2 ? detail::avx2::absmax(x + r0 * k, (r1 - r0) * k)
                       : detail::portable::absmax(x + r0 * k, (r1 - r0) * k);
    });
    absmax_items.wait_done();
    const float a = reduce_parts();
    // NaN/Inf: stop before anything is divided, rounded or cast to an integer.
    if (!std::isfinite(a)) {
      if (worker == 0) amax = a;
      return;
    }
    float scale = plan.x_scale;
    if (scale == 0.0f) scale = a == 0.0f ? 1.0f : a / static_cast<float>(qx);
    if (worker == 0) {
      amax = a;
      sx = scale;
    }
    // 2. quantize X into the tile-padded layout.
    quantize_items.drain([&](std::int64_t i) {
      if (i == qitems && abfp) {
        for (std::int64_t t = 0; t < w.tiles; ++t)
          for (std::int64_t c = 0; c < n; ++c)
            col_factor[t * n + c] = (plan.lsb[c] / s.analog_gain) * static_cast<double>(plan.w_scale[t * n + c]);
        return;
      }
      if (i == qitems) {
        for (std::int64_t c = 0; c < n; ++c)
          factor[c] = plan.lsb[c] * (static_cast<double>(scale) * static_cast<double>(plan.w_scale[c]));
        return;
      }
      const std::int64_t r1 = std::min(m, (i + 1) * kQuantRows);
      std::uint32_t chunk_bits = 0;  // max over bit patterns of |x|: absmax()'s order, NaN included
      for (std::int64_t r = i * kQuantRows; r < r1 && abfp && avx2; ++r) {  // the loop below, fused
        const std::uint32_t row_bits = detail::avx2::quantize_abfp_row(
            x + r * k, k, w.rows, w.rows4, qx, xs8 ? nullptr : xs16 + r * j.x_stride, xs8 ? xs8 + r * j.x_stride : nullptr,
            xs8 ? xabs8 + r * j.x_stride : nullptr, row_scale.data() + r * w.tiles);
        chunk_bits = std::max(chunk_bits, row_bits);
      }
      for (std::int64_t r = i * kQuantRows; r < r1 && abfp && !avx2; ++r) {
        // One scale per (row, tile) (abfp_block_scale; quantized with abfp_quant_scale).
        for (std::int64_t t = 0, k0 = 0; k0 < k; ++t, k0 += w.rows) {
          const std::int64_t len = std::min<std::int64_t>(w.rows, k - k0);
          const float* xs = x + r * k + k0;
          const float tile_max = simd ? detail::avx512::absmax(xs, len) : detail::portable::absmax(xs, len);
          std::uint32_t tile_bits;
          std::memcpy(&tile_bits, &tile_max, sizeof tile_bits);
          chunk_bits = std::max(chunk_bits, tile_bits);
          const float block_scale = detail::abfp_block_scale(tile_max, qx);
          row_scale[static_cast<std::size_t>(r * w.tiles + t)] = static_cast<double>(block_scale);
          const float bs = detail::abfp_quant_scale(block_scale);
          if (w.wide)
            detail::portable::quantize_wide(xs, len, bs, qx, xq16.data() + r * k + k0);
          else if (simd)
            detail::avx512::quantize_narrow(xs, len, w.rows, w.rows4, bs, qx, xq8 + r * j.x_stride + t * w.rows4,
                                            j.xabs8 ? xabs8 + r * j.x_stride + t * w.rows4 : nullptr);
          else
            detail::portable::quantize_narrow(xs, len, w.rows, w.rows4, bs, qx, xq8 + r * j.x_stride + t * w.rows4);
        }
      }
      for (std::int64_t r = i * kQuantRows; r < r1 && !abfp; ++r) {
        if (w.wide)
          detail::portable::quantize_wide(x + r * k, k, scale, qx, xq16.data() + r * k);
        else if (xs8)
          detail::avx2::quantize_narrow_dual(x + r * k, k, w.rows, w.rows4, scale, qx, xs8 + r * j.x_stride,
                                             xabs8 + r * j.x_stride);
        else if (avx2)
          detail::avx2::quantize_narrow(x + r * k, k, w.rows, w.rows4, scale, qx, xs16 + r * j.x_stride);
        else if (simd)
          detail::avx512::quantize_narrow(x + r * k, k, w.rows, w.rows4, scale, qx, xq8 + r * j.x_stride,
                                          j.xabs8 ? xabs8 + r * j.x_stride : nullptr);
        else
          detail::portable::quantize_narrow(x + r * k, k, w.rows, w.rows4, scale, qx, xq8 + r * j.x_stride);
      }
      if (fused_absmax) std::memcpy(&part[i], &chunk_bits, sizeof chunk_bits);
    });
    quantize_items.wait_done();
    if (fused_absmax) {
      const float fa = reduce_parts();
      if (worker == 0) amax = fa;
      if (!std::isfinite(fa)) return;
    }
    // 3. output blocks, each through every tile with the fused epilogue.
    double* scratch = acc.data() + static_cast<std::size_t>(worker) * block_rows * kBlockCols;
    blocks.drain([&](std::int64_t b) {
      const std::int64_t m0 = (b / bn) * block_rows, n0 = (b % bn) * kBlockCols;
      const std::int64_t m1 = std::min(m, m0 + block_rows), n1 = std::min(n, n0 + kBlockCols);
      if (w.wide)
        detail::portable::block_wide(j, m0, m1, n0, n1, scratch, &clipped[worker]);
      else if (simd_blocks)
        detail::avx512::block_narrow(j, m0, m1, n0, n1, scratch, &clipped[worker]);
      else if (avx2)
        detail::avx2::block_narrow(j, m0, m1, n0, n1, scratch, &clipped[worker]);
      else
        detail::portable::block_narrow(j, m0, m1, n0, n1, scratch, &clipped[worker]);
    });
  });
  stats.x_absmax = amax;
  stats.x_scale = abfp ? 0.0f : sx;
  if (!std::isfinite(amax)) return stats;
  for (std::int64_t c : clipped) stats.clipped += c;
  return stats;
}

}  // namespace adept
