#include <pybind11/pybind11.h>
namespace adept { int abi_version(); }
PYBIND11_MODULE(_native, m) { m.def("abi_version", &adept::abi_version); }
