// pybind11 adapter of the C++ photonic GEMM (adept_core._native). Only adapts: checks dtype,
// shape, contiguity and alignment (never casts), allocates the output, releases the GIL around
// the kernel and lets pybind11 translate C++ exceptions (std::invalid_argument -> ValueError).
// Python code reaches it only through adept_core.kernels.cpp_backend.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "adept/photonic_gemm.hpp"

namespace py = pybind11;

namespace {

template <class T>
void check_array(const py::array& a, const char* name, const char* dtype_name, int ndim) {
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(std::string(name) + " must have dtype " + dtype_name + ", got " +
                         py::str(a.dtype()).cast<std::string>() + " (no implicit casts)");
  if (a.ndim() != ndim)
    throw py::value_error(std::string(name) + " must be " + std::to_string(ndim) + "-D, got " +
                          std::to_string(a.ndim()) + "-D");
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " must be C-contiguous");
  if (!a.attr("flags").attr("aligned").cast<bool>())
    throw py::value_error(std::string(name) + " must be aligned to its dtype");
}

void check_length(const py::array& a, const char* name, py::ssize_t expected) {
  if (a.shape(0) != expected)
    throw py::value_error(std::string(name) + " must have length " + std::to_string(expected) + ", got " +
                          std::to_string(a.shape(0)));
}

adept::Isa parse_isa(const std::string& name) {
  if (name == "auto") return adept::Isa::Auto;
  if (name == "portable") return adept::Isa::Portable;
  if (name == "avx512_vnni") return adept::Isa::Avx512Vnni;
  if (name == "avx2") return adept::Isa::Avx2;
  throw py::value_error("isa must be 'auto', 'portable', 'avx512_vnni' or 'avx2', got '" + name + "'");
}

adept::PackedWeights pack(const py::array& qw, int rows, bool wide) {
  if (qw.ndim() != 2) throw py::value_error("qw must be 2-D [K, N], got " + std::to_string(qw.ndim()) + "-D");
  const bool is16 = qw.dtype().is(py::dtype::of<std::int16_t>());
  if (is16)
    check_array<std::int16_t>(qw, "qw", "int16", 2);
  else
    check_array<std::int8_t>(qw, "qw", "int8 or int16", 2);
  const auto* p8 = is16 ? nullptr : static_cast<const std::int8_t*>(qw.data());
  const auto* p16 = is16 ? static_cast<const std::int16_t*>(qw.data()) : nullptr;
  const std::int64_t k = qw.shape(0), n = qw.shape(1);
  // Safe without the GIL: packing reads only qw's buffer (kept alive by the argument) and
  // builds a plain C++ object; no Python object is touched.
  py::gil_scoped_release release;
  return adept::pack_weights(p8, p16, k, n, rows, wide);
}

py::tuple gemm(const adept::PackedWeights& w, const py::array& x, const adept::GemmSpec& spec, double x_scale,
               const py::array& lsb, const py::array& w_scale, std::uint64_t base_key,
               const py::array& normal_table, int threads, const std::string& isa, adept::WorkerPool* pool) {
  check_array<float>(x, "x", "float32", 2);
  check_array<double>(lsb, "lsb", "float64", 1);
  check_array<float>(w_scale, "w_scale", "float32", 1);
  check_array<float>(normal_table, "normal_table", "float32", 1);
  check_length(lsb, "lsb", w.n);
  check_length(w_scale, "w_scale", spec.scaling == "abfp" ? static_cast<py::ssize_t>(w.tiles) * w.n : w.n);
  check_length(normal_table, "normal_table", adept::kNormalTableSize);
  if (x.shape(1) != w.k)
    throw py::value_error("x has " + std::to_string(x.shape(1)) + " columns but the weights were programmed for K=" +
                          std::to_string(w.k));
  adept::CallPlan plan;
  plan.spec = spec;
  plan.x_scale = static_cast<float>(x_scale);
  plan.lsb = static_cast<const double*>(lsb.data());
  plan.w_scale = static_cast<const float*>(w_scale.data());
  plan.base_key = base_key;
  plan.normal_table = static_cast<const float*>(normal_table.data());
  plan.threads = threads;
  plan.isa = parse_isa(isa);
  plan.pool = pool;
  const std::int64_t m = x.shape(0);
  py::array_t<float> y({static_cast<py::ssize_t>(m), static_cast<py::ssize_t>(w.n)});
  const float* xp = static_cast<const float*>(x.data());
  float* yp = y.mutable_data();
  adept::RunStats stats;
  {
    // Safe without the GIL: the kernel touches only raw buffers of arrays this call holds
    // references to (x, lsb, w_scale, normal_table, the fresh y) and the packed weights, which
    // are immutable after packing and kept alive by the argument, as is the pool (its threads
    // never touch Python); no Python object is used.
    py::gil_scoped_release release;
    stats = adept::photonic_gemm(w, xp, m, w.k, plan, yp);
  }
  return py::make_tuple(y, stats.x_absmax, stats.x_scale, stats.clipped);
}

#define ADEPT_FIELD_NAME(type, name, init) #name,
#define ADEPT_BIND_FIELD(type, name, init) .def_readwrite(#name, &Struct::name)

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "C++ photonic GEMM kernel (private; use adept_core.kernels.cpp_backend)";
  m.def("abi_version", &adept::abi_version);
  m.def("spec_fields", [] {
    py::dict d;
    d["GemmSpec"] = std::vector<std::string>{ADEPT_GEMM_SPEC_FIELDS(ADEPT_FIELD_NAME)};
    d["NoiseSpec"] = std::vector<std::string>{ADEPT_NOISE_SPEC_FIELDS(ADEPT_FIELD_NAME)};
    return d;
  }, "Field names of the C++ GemmSpec / NoiseSpec structs, in declaration order.");
  m.def("avx512_vnni_supported", &adept::avx512_vnni_supported);
  m.def("avx2_supported", &adept::avx2_supported);
  m.def("resolve_isa", [](const std::string& isa) { return adept::isa_name(adept::resolve_isa(parse_isa(isa))); },
        py::arg("isa"));
  {
    using Struct = adept::NoiseSpec;
    py::class_<Struct>(m, "NoiseSpec").def(py::init<>()) ADEPT_NOISE_SPEC_FIELDS(ADEPT_BIND_FIELD);
  }
  {
    using Struct = adept::GemmSpec;
    py::class_<Struct>(m, "GemmSpec").def(py::init<>()) ADEPT_GEMM_SPEC_FIELDS(ADEPT_BIND_FIELD);
  }
  py::class_<adept::PackedWeights>(m, "PackedWeights")
      .def_property_readonly("k", [](const adept::PackedWeights& w) { return w.k; })
      .def_property_readonly("n", [](const adept::PackedWeights& w) { return w.n; })
      .def_property_readonly("rows", [](const adept::PackedWeights& w) { return w.rows; })
      .def_property_readonly("wide", [](const adept::PackedWeights& w) { return w.wide; })
      .def_property_readonly("nbytes", [](const adept::PackedWeights& w) {
        return w.w8.size() + 4 * w.wsum128.size() + 2 * w.w16.size();
      });
  py::class_<adept::WorkerPool>(m, "WorkerPool",
                                "Threads kept for gemm calls (threads in total, the caller's included); an idle thread "
                                "polls for spin_us microseconds before it sleeps.")
      .def(py::init<int, int>(), py::arg("threads"), py::arg("spin_us") = adept::WorkerPool::kDefaultSpinUs)
      .def_readonly_static("default_spin_us", &adept::WorkerPool::kDefaultSpinUs)
      .def_readonly_static("max_spin_us", &adept::WorkerPool::kMaxSpinUs)
      .def_property_readonly("size", &adept::WorkerPool::size)
      .def_property_readonly("spin_us", &adept::WorkerPool::spin_us);
  m.def("pack_weights", &pack, py::arg("qw"), py::arg("rows"), py::arg("wide"),
        "Pack weight codes qw [K, N] (int8 or int16) for K-tiles of `rows`; `wide` selects the int16 path.");
  m.def("gemm", &gemm, py::arg("packed"), py::arg("x"), py::arg("spec"), py::arg("x_scale"), py::arg("lsb"),
        py::arg("w_scale"), py::arg("base_key"), py::arg("normal_table"), py::arg("threads"), py::arg("isa") = "auto",
        py::arg("pool") = nullptr,
        "Run x [M, K] float32 through packed weights; returns (y, x_absmax, x_scale, clipped).");
}
