// Evaluation of a graph with the registry's reference kernels: the loop shared by the
// runtime's reference interpreter, the Fusion op's reference kernel and constant folding.
#ifndef KILN_GRAPH_EVALUATE_H_
#define KILN_GRAPH_EVALUATE_H_

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graph/graph.h"
#include "base/tensor.h"

namespace kiln {

// Runs one verified node's reference kernel on `inputs` into `outputs` (preallocated with
// the node's inferred types). A Fusion node evaluates its bound body. Errors are the
// kernel's own, without the node prefix.
absl::Status RunReference(const Node& node, absl::Span<const Tensor> inputs,
                          absl::Span<Tensor> outputs);

// Runs one verified node's reference kernel on `inputs` (fully known shapes matching the
// node's inferred input types) and returns its freshly allocated outputs. Errors carry the
// node prefix ("node 'NAME' (OP): ...").
absl::StatusOr<std::vector<Tensor>> EvaluateNode(const Node& node,
                                                 absl::Span<const Tensor> inputs);

// Evaluates `graph`, whose shapes must all be known (see BindInputShapes), with `feeds`
// keyed by Input node index, and returns the tensors of `fetches` (owned copies). Only the
// nodes the fetches depend on run. Errors name the failing node. Thread-safe: the graph
// is only read.
absl::StatusOr<std::vector<Tensor>> EvaluateGraph(const Graph& graph,
                                                  const absl::flat_hash_map<int, Tensor>& feeds,
                                                  absl::Span<const TensorRef> fetches);

}  // namespace kiln

#endif  // KILN_GRAPH_EVALUATE_H_
