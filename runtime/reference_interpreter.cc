// The runtime's entry to the reference evaluation loop, which lives in graph/evaluate.cc so
// that the Fusion op's kernel and constant folding share it.
#include "runtime/reference_interpreter.h"

#include "graph/evaluate.h"

namespace kiln {

absl::StatusOr<std::vector<Tensor>> EvaluateReference(
    const Graph& graph, const absl::flat_hash_map<int, Tensor>& feeds,
    absl::Span<const TensorRef> fetches) {
  return EvaluateGraph(graph, feeds, fetches);
}

}  // namespace kiln
