// Fusion nodes: a kernel cluster held as a subgraph ("body") that lowering turns into one
// kernel. The body's Input nodes are the fusion's inputs in order; its signature outputs
// are the fusion's outputs in order.
#ifndef KILN_GRAPH_FUSION_H_
#define KILN_GRAPH_FUSION_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace kiln {

inline constexpr absl::string_view kFusionOp = "Fusion";
inline constexpr absl::string_view kFusionBodyAttr = "body";
inline constexpr absl::string_view kFusionKindAttr = "kind";

// The shape of a cluster, which decides how it is lowered. The `kind` attribute holds its
// name; the verifier rejects any other string.
enum class FusionKind {
  kLoop,            // elementwise and channel-axis ops over one loop shape
  kReduction,       // a reduction (or Softmax, LayerNorm) with its elementwise producers
  kMatMulEpilogue,  // a MatMul and the elementwise ops applied to its output
  kConv2DEpilogue,  // a Conv2D and the elementwise ops applied to its output
  kAttention,       // MatMul, scale, optional mask, Softmax, MatMul
};

// "loop", "reduction", "matmul_epilogue", "conv2d_epilogue", "attention".
absl::string_view FusionKindName(FusionKind kind);
// The kind named `name`; InvalidArgument listing the kinds otherwise.
absl::StatusOr<FusionKind> ParseFusionKind(absl::string_view name);
// The epilogue kind of a contraction op (MatMul, Conv2D); InvalidArgument otherwise.
absl::StatusOr<FusionKind> EpilogueKindFor(absl::string_view contraction_op);

// The body of a Fusion node, or null when `node` is not a Fusion or has no body.
const Graph* FusionBody(const Node& node);

// A copy of `body` whose Input nodes take the dtypes and shapes of `inputs` (the fusion's
// input types, possibly with unknown dims), verified. Errors name the body input or node:
// a count or dtype mismatch, a shape of another rank or with a different known dimension,
// a nested Fusion (not supported: a cluster is one level), or no outputs.
absl::StatusOr<Graph> BindFusionBody(const Graph& body, absl::Span<const TensorType> inputs);

// The output types of Fusion node `node` for input types `inputs`: checks the kind and
// binds the body (what shape inference does for other ops through OpDef::infer).
absl::StatusOr<std::vector<TensorType>> InferFusionOutputs(const Node& node,
                                                           absl::Span<const TensorType> inputs);

// The FLOPs of a verified node with these input and output types: OpDef::flops, or the
// sum over a Fusion's bound body. 0 when the op counts none or the body does not bind.
int64_t NodeFlops(const Node& node, absl::Span<const TensorType> inputs,
                  absl::Span<const TensorType> outputs);

}  // namespace kiln

#endif  // KILN_GRAPH_FUSION_H_
