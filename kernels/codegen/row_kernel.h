// Generated row kernels: Softmax along the last axis, LayerNorm, and ReduceSum, ReduceMean
// and ReduceMax over trailing axes, each row reduced (and normalized) on its own, as MLIR
// text (scf loops on tensors with scalar accumulators, the
// sums in f64 as the CPU library's, marked reassociable so that LLVM's loop vectorizer
// turns them into vector reductions). Same calling convention and lowering as loop
// kernels (loop_kernel.h). Plain text, no MLIR headers: cheap to include.
#ifndef KILN_KERNELS_CODEGEN_ROW_KERNEL_H_
#define KILN_KERNELS_CODEGEN_ROW_KERNEL_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "kernels/codegen/loop_kernel.h"

namespace kiln::codegen {

// Whether node `node` of `graph` (shapes bound) can become a generated row kernel: an f32
// Softmax whose axis is the last, an f32 LayerNorm, or an f32 ReduceSum, ReduceMean or
// ReduceMax whose reduced axes are the trailing ones (any keepdims). kUnimplemented naming
// the node and the reason.
absl::Status CheckRowKernel(const Graph& graph, const Node& node);

// The module of `node`: the function kLoopFunction over the node's inputs and output as
// 1-D tensors and the workgroup id and count; workgroups own ranges of rows. Errors: those
// of CheckRowKernel.
absl::StatusOr<LoopKernelSource> EmitRowKernel(const Graph& graph, const Node& node);

}  // namespace kiln::codegen

#endif  // KILN_KERNELS_CODEGEN_ROW_KERNEL_H_
