// Packing constant MatMul weights once, at compile time, in the layout a kernel library's
// GEMM reads (oneDNN's and XLA:CPU's weight prepacking): the library then packs no weight
// panel per call. Compile applies it for its kernel provider (runtime/compile.cc).
#ifndef KILN_PASSES_PACK_WEIGHTS_H_
#define KILN_PASSES_PACK_WEIGHTS_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace kiln::passes {

// What a kernel library makes of a MatMul's constant b: op(b) in PackedMatMul's layout
// ([P, K, W], graph/ops/matmul_ops.cc), or nullopt when its kernel reads b as it is.
using PackMatMulWeight = std::function<std::optional<Tensor>(const Node& matmul, const Tensor& b)>;

// Replaces each f32 MatMul whose b is a rank-2 Constant that `pack` packs by PackedMatMul
// over a Constant holding the packed b; one packed constant per (b, transpose) serves every
// reader. The MatMul's name moves to its replacement. Returns the number rewritten.
// Errors, naming the node: a packed tensor that is not [ceil(N / W), K, W] f32, or shape
// inference of the replacement failing (a malformed graph).
absl::StatusOr<int> PackMatMulWeights(Graph& graph, const PackMatMulWeight& pack);

}  // namespace kiln::passes

#endif  // KILN_PASSES_PACK_WEIGHTS_H_
