// The reference interpreter: runs a graph node by node with the registry's reference
// kernels. It is the numerical oracle every optimized path is checked against, so it
// stays plain and obviously correct; speed is not its job.
#ifndef KILN_RUNTIME_REFERENCE_INTERPRETER_H_
#define KILN_RUNTIME_REFERENCE_INTERPRETER_H_

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graph/graph.h"
#include "base/tensor.h"

namespace kiln {

// Evaluates `graph`, whose shapes must all be known (see BindInputShapes), with `feeds`
// keyed by Input node index, and returns the tensors of `fetches` (owned copies). Only the
// nodes the fetches depend on run. Errors name the failing node. Thread-safe: the graph
// is only read.
absl::StatusOr<std::vector<Tensor>> EvaluateReference(
    const Graph& graph, const absl::flat_hash_map<int, Tensor>& feeds,
    absl::Span<const TensorRef> fetches);

}  // namespace kiln

#endif  // KILN_RUNTIME_REFERENCE_INTERPRETER_H_
