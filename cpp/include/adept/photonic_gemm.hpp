// The photonic GEMM kernel: see adept_core/kernels/spec.py for the bit-level contract and
// cpp/README.md for the implementation notes (packing, fused epilogue, ISA dispatch).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adept/gemm_spec.hpp"

namespace adept {

/// Programmed (quantized) weights laid out for the kernel. Built once per core and read-only
/// afterwards, so any number of threads may run calls on it at the same time.
///
/// Narrow path (input_bits <= 8 and 8-bit weight codes): ``w8`` is
/// [tiles][n_pad/32][rows4/4][32][4] int8 (four consecutive k of one column side by side, the
/// operand order of a u8 x s8 dot-product instruction), zero-padded in k (to rows4 = rows
/// rounded up to 4) and in n (to n_pad, a multiple of 32). ``wsum128`` is [tiles][n_pad]:
/// 128 * sum of the tile's weights, the correction for inputs stored as u8 = q + 128.
/// Wide path (any operand wider than 8 bits): ``w16`` is [tiles][n_pad][rows] int16.
struct PackedWeights {
  std::int64_t k = 0, n = 0, n_pad = 0;
  int rows = 0, rows4 = 0, tiles = 0;
  bool wide = false;
  std::vector<std::int8_t> w8;
  std::vector<std::int32_t> wsum128;
  std::vector<std::int16_t> w16;
};

/// Threads owned by the caller (e.g. one per Python backend object) so that a call does not pay
/// for starting and joining threads (~40 us on this machine, a few % of a millisecond GEMM).
/// Not global: whoever creates it passes it in CallPlan::pool. One call uses it at a time; a
/// concurrent call finds it busy and starts its own threads (same bits either way). The pool
/// grows on demand to the largest team a call has used (never beyond kMaxThreads), so its size
/// follows the useful work of the calls, not the thread counts they asked for. After a
/// fork() the child has none of the pool's threads: the pool then declines every call and its
/// destructor leaves the (non-existent) threads alone.
class WorkerPool {
 public:
  /// How long an idle pool thread polls (yielding) before it sleeps on the condition variable.
  /// Measured on the 2-core AVX2 VM (docs/kernel.md, "Worker threads"): a thread that went to
  /// sleep took 2.8-3.9 ms to run again after a gap of 5-20 ms (the hypervisor parks its idle
  /// vCPU), against ~1-2 us while it polls; the layers of a network are issued with gaps of a
  /// few ms (ASIC ops in between). 50 ms is an assumption in the range of OpenBLAS (~0.1 s) and
  /// of the Intel OpenMP runtime's KMP_BLOCKTIME (200 ms); its cost is up to 50 ms of a core's
  /// time after the last call, given up to any other runnable thread (it yields).
  static constexpr int kDefaultSpinUs = 50000;
  static constexpr int kMaxSpinUs = 1000000;
  /// ``threads`` in [1, kMaxThreads] to start with, the caller's included. After a job a pool
  /// thread polls for the next one for ``spin_us`` microseconds (in [0, kMaxSpinUs]) before it
  /// sleeps: see kDefaultSpinUs.
  explicit WorkerPool(int threads, int spin_us = kDefaultSpinUs);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  int size() const { return static_cast<int>(threads_.size()) + 1; }
  int spin_us() const { return spin_us_; }
  /// Run body(w), w in [0, workers), the caller being worker 0, and wait for all, first growing
  /// the pool to ``workers`` threads if needed. Returns false without running anything when the
  /// pool is in use, was forked, or cannot start enough threads.
  bool try_run(int workers, const std::function<void(int)>& body);

 private:
  // Heap state, so that a forked child can leak it: the parent's threads were waiting on these
  // condition variables at fork time, and destroying them in the child would block forever.
  struct State {
    std::mutex busy;  // held by the call using the pool
    std::mutex mutex;
    std::condition_variable wake, finished;
    const std::function<void(int)>* job = nullptr;
    int job_workers = 0;
    int pending = 0;
    std::atomic<std::uint64_t> generation{0};  // read without the lock while spinning
    bool stop = false;
  };
  void loop(int worker, std::uint64_t seen);
  bool grow(int threads);  // caller holds state_->busy
  void stop_threads();     // joins the threads and frees the state
  State* state_;
  int spin_us_;
  long owner_pid_;
  std::vector<std::thread> threads_;
};

/// Pack weight codes ``qw`` [k, n] (row-major; exactly one of qw8 / qw16 non-null) for tiles of
/// ``rows``. ``wide`` selects the int16 path (required when qw16 is given or input_bits > 8).
PackedWeights pack_weights(const std::int8_t* qw8, const std::int16_t* qw16, std::int64_t k,
                           std::int64_t n, int rows, bool wide);

/// Y [m, n] float32 = photonic GEMM of x [m, k] float32 with the packed weights.
/// Throws std::invalid_argument on an inconsistent plan. If max|x| is not finite, returns at
/// once with stats.x_absmax set to it and ``y`` untouched (the caller raises).
RunStats photonic_gemm(const PackedWeights& w, const float* x, std::int64_t m, std::int64_t k,
                       const CallPlan& plan, float* y);

/// True when this CPU (and OS) can run the AVX-512 VNNI path.
bool avx512_vnni_supported();

/// True when this CPU (and OS) can run the AVX2 path (the fallback when AVX-512 VNNI is missing).
bool avx2_supported();

/// The ISA ``Isa::Auto`` resolves to on this machine.
Isa resolve_isa(Isa requested);

/// "portable" / "avx512_vnni" / "avx2".
std::string isa_name(Isa isa);

/// Version of the binary interface between the binding and adept_core.kernels.cpp_backend.
int abi_version();

}  // namespace adept
