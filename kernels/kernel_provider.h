// How a kernel library hands kernels to the compiler (compiler side, not the ABI): for
// each node, a prepared kernel (function pointer, parameter block, workgroup count,
// scratch size). The planner calls a KernelProvider once per node at plan time, never at
// run time.
#ifndef KILN_KERNELS_KERNEL_PROVIDER_H_
#define KILN_KERNELS_KERNEL_PROVIDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "kernels/abi/kernel_abi.h"

namespace kiln {

// A kernel ready to run for one node with fixed shapes.
struct PreparedKernel {
  kiln_kernel_fn fn = nullptr;
  // Parameter block passed as kiln_kernel_call::params. The plan stores it 64-byte
  // aligned, so a kernel may reinterpret it as its own trivially copyable struct.
  std::vector<uint8_t> params;
  // Independent workgroups the work splits into (>= 1; 1 for tiny work).
  int64_t workgroup_count = 1;
  // Bytes of scratch the kernel needs per call, planned in the arena (0: none).
  int64_t scratch_bytes = 0;
  // When >= 0, the output may share the buffer of this input if the input dies here
  // (elementwise kernels that read element i before writing element i).
  int inplace_input = -1;
  // The kernel's stable name in its library ("cpu.add.f32"), which an Executable stores,
  // and the layout version of `params` the kernel reads.
  std::string name;
  uint32_t params_version = 1;
};

// Backend interface: one level of virtuals, implemented by each kernel library.
// Implementations are immutable after construction and thread-safe.
class KernelProvider {
 public:
  virtual ~KernelProvider() = default;
  // Short backend name ("cpu-portable").
  virtual absl::string_view name() const = 0;
  // Prepares node `node` of `graph` (all shapes known). Errors name the node: an op
  // without a kernel here is kUnimplemented.
  virtual absl::StatusOr<PreparedKernel> Prepare(const Graph& graph, const Node& node) const = 0;
  // True when Prepare runs the Fusion node `fusion` as one kernel; Compile expands the
  // other fusions back into their ops (passes/expand_fusions.h).
  virtual bool RunsFusion(const Node& fusion) const { return false; }
  // For a MatMul's constant f32 b, or an NHWC Conv2D's constant f32 HWIO filter (groups 1,
  // read as the [KH*KW*C, O] matrix it is): the weight packed in the layout this provider's
  // GEMM reads ([P, K, W], PackedMatMul's and PackedConv2D's), so Compile packs it once
  // (passes/pack_weights.h); nullopt when its kernel reads the weight as it is.
  virtual std::optional<Tensor> PackGemmWeight(const Node& node, const Tensor& weight) const {
    return std::nullopt;
  }
  // For a 3x3, stride-1, undilated NHWC Conv2D's constant f32 HWIO filter (groups 1): the
  // filter in Winograd's F(4x4, 3x3) or F(2x2, 3x3) domain, [36 or 16, P, C, W]
  // (WinogradConv2D's), where this provider runs such a convolution faster that way;
  // nullopt otherwise.
  virtual std::optional<Tensor> PackWinogradFilter(const Node& conv, const Tensor& filter) const {
    return std::nullopt;
  }
};

// Copies a trivially copyable parameter struct into a PreparedKernel's block.
template <typename Params>
std::vector<uint8_t> PackParams(const Params& params) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(&params);
  return std::vector<uint8_t>(bytes, bytes + sizeof(Params));
}

}  // namespace kiln

#endif  // KILN_KERNELS_KERNEL_PROVIDER_H_
