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

// How a kernel library packs weights: `gemm` as above; `winograd` (optional), for a 3x3
// stride-1 NHWC Conv2D's HWIO filter, the filter in the Winograd domain
// [36 or 16, ceil(O / W), C, W] (WinogradConv2D's filter_winograd; KernelProvider::
// PackWinogradFilter), or nullopt where the library would rather run it as a GEMM.
struct WeightPackers {
  PackGemmWeight gemm;
  PackGemmWeight winograd;
};

// Replaces each f32 MatMul with a constant 2-D b by PackedMatMul, and each f32 NHWC Conv2D
// (groups 1) with a constant HWIO filter by WinogradConv2D where `packers.winograd` takes
// it, else by PackedConv2D (graph/ops), over a Constant holding what the packer made of the
// weight; one packed constant per (weight, form) serves every reader. The node's name
// moves to its replacement. Returns the number rewritten. Errors, naming the node: a
// packed tensor of the wrong type, or shape inference of the replacement failing (a
// malformed graph).
absl::StatusOr<int> PackGemmWeights(Graph& graph, const WeightPackers& packers);
// The same with GEMM packing only.
absl::StatusOr<int> PackGemmWeights(Graph& graph, const PackGemmWeight& pack);

}  // namespace kiln::passes

#endif  // KILN_PASSES_PACK_WEIGHTS_H_
