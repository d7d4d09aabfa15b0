// Placeholder until the kernel lands (issue 2): mirrors adept_core.kernels.spec.PhotonicGemmSpec.
#pragma once
namespace adept {
struct GemmSpec {
  int rows = 128;
  int cols = 128;
  int input_bits = 8;
  int weight_bits = 8;
  int adc_bits = 8;
};
}  // namespace adept
