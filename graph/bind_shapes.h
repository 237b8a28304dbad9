// Binding run-time dimensions: a copy of a graph with concrete input shapes.
#ifndef KILN_GRAPH_BIND_SHAPES_H_
#define KILN_GRAPH_BIND_SHAPES_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace kiln {

// Checks `shape` against the declared shape of input node `input` (same rank, equal
// known dimensions; -1 accepts any size). Errors name the input.
absl::Status CheckInputShape(const Node& input, const Shape& shape);

// Returns a copy of `graph` whose Input nodes have the given shapes (keyed by input name;
// every input must be present), re-verified so every output shape is known. Errors name
// the input or the node whose shape function rejects the bound shapes.
absl::StatusOr<Graph> BindInputShapes(const Graph& graph,
                                      const absl::flat_hash_map<std::string, Shape>& shapes);

}  // namespace kiln

#endif  // KILN_GRAPH_BIND_SHAPES_H_
