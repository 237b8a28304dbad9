// A small non-allocating kernel library for runtime tests and benchmarks (f32 only),
// with knobs for workgroups, in-place hints, scratch and failures. It stands in for the
// CPU kernel library until that lands.
#ifndef KILN_TESTS_RUNTIME_TEST_KERNEL_PROVIDER_H_
#define KILN_TESTS_RUNTIME_TEST_KERNEL_PROVIDER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "kernels/kernel_provider.h"

namespace kiln::testing {

struct TestProviderOptions {
  // Workgroups per kernel (capped at the output elements, or the rows of a MatMul).
  int64_t workgroups = 1;
  // Elementwise kernels declare inplace_input = 0 when input 0 has the output's shape.
  bool inplace = true;
  // Scratch every kernel asks for; each call fills it with 0xFF, so a scratch slice that
  // overlaps a live tensor corrupts results.
  int64_t scratch_bytes = 0;
  // Kernels of this op return `fail_code` from every workgroup (reporting a detail
  // first when it is a data error, see kernels/abi/kernel_abi.h).
  std::string fail_op;
  int32_t fail_code = 7;
};

// Kernels: Add, Sub, Mul (y of x's shape, or a suffix of it: bias broadcast), Relu, Neg,
// Tanh, Identity, and MatMul of 2-D f32 matrices without transposes. Every other op (or
// dtype) is kUnimplemented. Run functions neither allocate nor check.
class TestKernelProvider : public KernelProvider {
 public:
  explicit TestKernelProvider(TestProviderOptions options = {}) : options_(options) {}
  absl::string_view name() const override { return "test"; }
  absl::StatusOr<PreparedKernel> Prepare(const Graph& graph, const Node& node) const override;

 private:
  TestProviderOptions options_;
};

}  // namespace kiln::testing

#endif  // KILN_TESTS_RUNTIME_TEST_KERNEL_PROVIDER_H_
