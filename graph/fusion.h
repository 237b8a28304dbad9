// Fusion nodes: a kernel cluster held as a subgraph ("body") that lowering turns into one
// kernel. The body's Input nodes are the fusion's inputs in order; its signature outputs
// are the fusion's outputs in order.
#ifndef KILN_GRAPH_FUSION_H_
#define KILN_GRAPH_FUSION_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "graph/graph.h"

namespace kiln {

inline constexpr absl::string_view kFusionOp = "Fusion";
inline constexpr absl::string_view kFusionBodyAttr = "body";
inline constexpr absl::string_view kFusionKindAttr = "kind";

// The body of a Fusion node, or null when `node` is not a Fusion or has no body.
const Graph* FusionBody(const Node& node);

// A copy of `body` whose Input nodes take the dtypes and shapes of `inputs` (the fusion's
// input types, possibly with unknown dims), verified. Errors name the body input or node:
// a count or dtype mismatch, a shape of another rank or with a different known dimension,
// a nested Fusion (not supported: a cluster is one level), or no outputs.
absl::StatusOr<Graph> BindFusionBody(const Graph& body, absl::Span<const TensorType> inputs);

}  // namespace kiln

#endif  // KILN_GRAPH_FUSION_H_
