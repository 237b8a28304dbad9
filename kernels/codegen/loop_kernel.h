// The first stage of code generation for loop Fusion clusters (kind "loop": elementwise and
// channel-axis ops over one loop shape): the cluster as an MLIR module on tensors, one
// linalg.generic per member op, which the lowering pipeline (lowering.h) fuses, bufferizes
// onto the planned buffers and compiles. Plain text, no MLIR headers: cheap to include.
#ifndef KILN_KERNELS_CODEGEN_LOOP_KERNEL_H_
#define KILN_KERNELS_CODEGEN_LOOP_KERNEL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace kiln::codegen {

// The name of the function a loop kernel module defines. Its arguments are the fusion's
// inputs (each 1-D, as many elements as the input), then its outputs (the collapsed loop
// shape), then the workgroup id and count (index); the kernel entry (native.h) adapts the
// kernel ABI to it.
inline constexpr char kLoopFunction[] = "kiln_loop";

struct LoopKernelSource {
  // The tensor-level module (func, tensor, linalg, arith, math).
  std::string mlir;
  // Operands of the kernel call: the fusion's inputs then its outputs.
  int num_buffers = 0;
  // Workgroups the rows of the loop split into (the outermost collapsed dimension).
  int64_t workgroup_count = 1;
  // Whether the kernel's vector stores bypass the caches (streaming_stores.h): its
  // outputs hold at least kStreamingOutputBytes and it computes at most kStreamingMaxCost
  // operations per element.
  bool stream_stores = false;
};

// The output bytes of one loop kernel from which its stores may stream: about a server's
// last-level cache (32 MiB on the machines measured), beyond which the output is evicted
// before its consumer runs anyway.
inline constexpr int64_t kStreamingOutputBytes = int64_t{32} << 20;
// The most operations per element of a kernel whose stores stream. Streaming paid only
// where memory bounds the loop (16M floats, 2 threads: a multiply-add and a ReLU,
// 4 operations, 1.2-1.8x faster); with more arithmetic it cost time instead (x *
// sigmoid(x), about 35 operations: 5% slower; the suite's eltwise chain: 17% slower).
inline constexpr int kStreamingMaxCost = 16;

// Whether a Fusion node can become a generated loop kernel, from what is known before
// shapes are bound: kind "loop", every member op in the scalar table (scalar_ops.h), every
// value f32, no nested fusion. kUnimplemented naming the fusion and the first member or
// dtype that is not supported.
absl::Status CheckLoopFusion(const Node& fusion);

// The module of Fusion node `fusion` of `graph` (shapes bound). Errors: those of
// CheckLoopFusion; kUnimplemented when outputs differ in shape or the rank exceeds 8.
absl::StatusOr<LoopKernelSource> EmitLoopKernel(const Graph& graph, const Node& fusion);

}  // namespace kiln::codegen

#endif  // KILN_KERNELS_CODEGEN_LOOP_KERNEL_H_
