#include "adept/gemm_spec.hpp"
namespace adept {
int abi_version() { return 0; }
}  // namespace adept
