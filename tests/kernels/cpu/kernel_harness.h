// Test harness for CPU kernels: builds a single-op graph, prepares the node with
// CpuKernelProvider, runs the kernel over 64-byte-aligned operands whose outputs (and
// scratch) are poisoned with 0xFF bytes (NaN for every float dtype), under several
// workgroup splits run in shuffled order and in place where the kernel allows, and
// compares every output with the reference interpreter.
#ifndef KILN_TESTS_KERNELS_CPU_KERNEL_HARNESS_H_
#define KILN_TESTS_KERNELS_CPU_KERNEL_HARNESS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/attr.h"
#include "graph/graph.h"
#include "base/tensor.h"
#include "kernels/kernel_provider.h"
#include "kernels/cpu/cpu_kernel_provider.h"

namespace kiln::testing {

// Allowed error per element: atol + rtol * |want| + bound_scale * magnitude[i], where
// magnitude is the reference op evaluated on the absolute values of the inputs (for a
// GEMM: sum_k |a_ik| |b_kj|, so bound_scale = K * eps gives the classic error bound).
// Integer and bool outputs are always compared exactly; NaN must match NaN and
// infinities must match exactly.
struct Tolerance {
  double rtol = 0.0;
  double atol = 0.0;
  double bound_scale = 0.0;
};

struct KernelCase {
  std::string op;
  std::vector<Tensor> inputs;
  AttrMap attrs;
  CpuKernelOptions options;
  // The provider that prepares the node; null: CpuKernelProvider with `options`.
  std::shared_ptr<const KernelProvider> provider;
};

// A single-op graph: one Input node per input and the op node (named "op"), verified.
absl::StatusOr<Graph> SingleOpGraph(const KernelCase& c);

// Prepares c's node; errors are Prepare's.
absl::StatusOr<PreparedKernel> PrepareCase(const KernelCase& c);

// Runs the checks described above; adds GoogleTest failures naming the case. Returns
// false when something failed.
bool CheckKernel(const KernelCase& c, const Tolerance& tol);

// Runs c's kernel once with the prepared workgroup count and returns the first non-zero
// code a workgroup returned (0 if none).
absl::StatusOr<int32_t> RunForCode(const KernelCase& c);

// Deterministic random tensors. Floats are uniform in [lo, hi) rounded to the dtype,
// integers uniform in [lo, hi] (clamped to the dtype's range), bools 0/1.
Tensor Random(DataType dtype, const Shape& shape, uint64_t seed, double lo = -1.0,
              double hi = 1.0);
// Elements drawn from `values` (converted to the dtype): duplicates and specials (NaN, inf,
// -0) for comparisons and NaN propagation.
Tensor FromSet(DataType dtype, const Shape& shape, uint64_t seed,
               const std::vector<double>& values);

// A short description for failure messages: "Add(f32[3,4], f32[4])".
std::string Describe(const KernelCase& c);

// The unit roundoff-ish spacing used in tolerances: 2^-23 (f32), 2^-52 (f64), 2^-10
// (f16), 2^-7 (bf16): one unit in the last place relative to the value.
double Ulp(DataType dtype);

// The weight (input 1) of the MatMul or Conv2D case `unpacked`, packed by the CPU
// provider for `options` (what Compile does for a constant weight); nullopt when the
// provider keeps it as it is.
std::optional<Tensor> PackedWeightOf(const KernelCase& unpacked, const CpuKernelOptions& options);

// Appends an f32 input of the case's output shape (a folded residual), random by `seed`.
// False, with a test failure, when the case does not build.
bool AddOutputShapedInput(KernelCase& c, uint64_t seed);

// Clamp attributes for a contraction case (clamp_min / clamp_max, a folded ReLU or
// ReLU6) by `variant`: none for 0 mod 3, a ReLU for 1, for 2 a clamp to [-0.25, 0.5]
// that clips both ways on random data in [-1, 1].
void AddClampVariant(KernelCase& c, int variant);

}  // namespace kiln::testing

#endif  // KILN_TESTS_KERNELS_CPU_KERNEL_HARNESS_H_
