// Plan-time helpers of the CPU kernels: the context a prepare function sees, errors that
// name the node, workgroup sizing and broadcast layouts collapsed into fixed-size params.
#ifndef KILN_KERNELS_CPU_PREPARE_UTIL_H_
#define KILN_KERNELS_CPU_PREPARE_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "graph/graph.h"
#include "kernels/kernel_provider.h"
#include "kernels/cpu/cpu_kernel_library.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "kernels/cpu/params.h"

namespace kiln::cpu {

// What a prepare function sees: the verified node, its input types (fully known, rank
// <= kMaxRank), the provider's options and the table entry's variant (which op of a family).
struct PrepareContext {
  const Graph& graph;
  const Node& node;
  std::vector<TensorType> inputs;
  const CpuKernelOptions& options;
  int variant = 0;

  const TensorType& output(int i = 0) const { return node.outputs[i]; }
};

// "node 'NAME' (OP): message" with the given code.
absl::Status NodeError(absl::StatusCode code, const Node& node, absl::string_view message);
// kUnimplemented naming the node and the dtype.
absl::Status UnsupportedDtype(const Node& node, DataType dtype);

// Workgroups for `units` of work where one workgroup should get at least `min_units`:
// ceil(units / min_units), clamped to [1, max_groups].
int64_t WorkgroupsFor(int64_t units, int64_t min_units, int64_t max_groups = 1024);
// Elementwise sizing: pieces of at least 64 KiB of output.
int64_t ElementwiseWorkgroups(int64_t elements, int64_t element_bytes);

inline constexpr int64_t kMinWorkgroupBytes = 64 * 1024;

// A broadcast of several inputs to one output shape, with size-1 output dimensions dropped
// and adjacent dimensions merged wherever every input allows; strides are in elements and 0
// on broadcast dimensions. rank >= 1 (a scalar output becomes [1]).
struct CollapsedBroadcast {
  int rank = 1;
  int64_t dims[kMaxRank] = {1};
  // strides[i][d] for input i.
  std::vector<std::vector<int64_t>> strides;
};
CollapsedBroadcast CollapseBroadcast(const Shape& out, absl::Span<const Shape> inputs);

// Row-major strides of `shape` in elements, safe for shapes with a zero dimension.
std::vector<int64_t> Strides(const Shape& shape);

// A packed contraction's clamp attributes (PackedMatMul, PackedConv2D; absent: none) as
// the kernels take them: *clamp is 1 when either bound is finite.
void ClampOf(const Node& node, int32_t* clamp, float* lo, float* hi);

// "cpu.<op>.<dtype>", or its AVX2 + FMA build ("....avx2") for f32 where the CPU has
// those: the compute-bound f32 loops registered in both builds.
std::string F32Avx2SymbolName(absl::string_view op, DataType dtype);

// The CPU library's kernel `symbol` ("cpu.add.f32") around the parameter block `params`,
// split into `workgroups` (at least 1). When the library has no such kernel:
// kUnimplemented naming the node, and `dtype` unless it is kInvalid.
absl::StatusOr<PreparedKernel> MakeKernelFromBytes(const PrepareContext& ctx,
                                                   const std::string& symbol,
                                                   std::vector<uint8_t> params,
                                                   int64_t workgroups, DataType dtype);
template <typename P>
absl::StatusOr<PreparedKernel> MakeKernel(const PrepareContext& ctx, const std::string& symbol,
                                          const P& params, int64_t workgroups,
                                          DataType dtype = DataType::kInvalid) {
  return MakeKernelFromBytes(ctx, symbol, PackParams(params), workgroups, dtype);
}
// The kernel SymbolName(op, dtype) of the element type `dtype` ("add", f32: "cpu.add.f32").
template <typename P>
absl::StatusOr<PreparedKernel> MakeTypedKernel(const PrepareContext& ctx, absl::string_view op,
                                               DataType dtype, const P& params,
                                               int64_t workgroups) {
  return MakeKernel(ctx, SymbolName(op, dtype), params, workgroups, dtype);
}

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_PREPARE_UTIL_H_
