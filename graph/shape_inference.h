// Checks one node against its op's schema and infers the dtype and shape of its outputs.
#ifndef KILN_GRAPH_SHAPE_INFERENCE_H_
#define KILN_GRAPH_SHAPE_INFERENCE_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graph/graph.h"

namespace kiln {

// For node `id`, whose producers are already inferred: resolves the op (unknown op is an
// error), checks the input count and that each input names an existing output, rejects
// unknown attributes and attributes of the wrong type, fills defaulted attributes, checks
// the input dtype, runs the op's shape function and validates the resulting shapes.
// Errors read "node 'NAME' (OP): reason".
absl::Status InferNode(Graph& graph, int id);

// The output types of `node`, whose op definition is resolved (node.def), for input types
// `inputs`: the op's shape function, or for a structural op (Fusion) its body bound to
// them (graph/fusion.h). Errors carry the shape function's message, without the node.
absl::StatusOr<std::vector<TensorType>> InferOutputTypes(const Node& node,
                                                         absl::Span<const TensorType> inputs);

// Formats the standard prefix of an error about a node: "node 'NAME' (OP): ".
std::string NodeErrorPrefix(const Node& node);

}  // namespace kiln

#endif  // KILN_GRAPH_SHAPE_INFERENCE_H_
