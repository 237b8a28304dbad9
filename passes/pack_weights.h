// Packing constant MatMul and Conv2D weights once, at compile time, in the layout a kernel
// library's GEMM reads (oneDNN's and XLA:CPU's weight prepacking): the library then packs no
// weight panel per call. Compile applies it for its kernel provider (runtime/compile.cc).
#ifndef KILN_PASSES_PACK_WEIGHTS_H_
#define KILN_PASSES_PACK_WEIGHTS_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace kiln::passes {

// What a kernel library makes of a node's constant weight (KernelProvider::PackGemmWeight):
// the weight as a GEMM's k x n B in panels [P, K, W], or nullopt when its kernel reads the
// weight as it is.
using PackGemmWeight = std::function<std::optional<Tensor>(const Node& node, const Tensor& weight)>;

// Replaces each f32 MatMul with a constant 2-D b by PackedMatMul, and each f32 NHWC Conv2D
// (groups 1) with a constant HWIO filter by PackedConv2D (graph/ops), over a Constant
// holding what `pack` made of the weight; one packed constant per (weight, transpose) serves
// every reader. The node's name moves to its replacement. Returns the number rewritten.
// Errors, naming the node: a packed tensor that is not [ceil(N / W), K, W] f32, or shape
// inference of the replacement failing (a malformed graph).
absl::StatusOr<int> PackGemmWeights(Graph& graph, const PackGemmWeight& pack);

}  // namespace kiln::passes

#endif  // KILN_PASSES_PACK_WEIGHTS_H_
