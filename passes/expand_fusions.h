// Expanding Fusion nodes back into the ops of their bodies, for backends that have no
// kernel for a cluster (passes/expand_fusions.cc; the pass "expand-fusions" expands all).
#ifndef KILN_PASSES_EXPAND_FUSIONS_H_
#define KILN_PASSES_EXPAND_FUSIONS_H_

#include <functional>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace kiln::passes {

// Replaces every Fusion node for which `expand(node)` is true by the nodes of its body,
// wired to the fusion's inputs, and makes the fusion's readers read the body's outputs.
// Body nodes keep their names where the outer graph has none of that name (else a
// unique name derived from it), so errors still name the ops the user wrote. The graph
// stays verified and topologically sorted. Returns the number of fusions expanded.
// Errors (graph then unspecified): a Fusion without a body, or a body op whose shape
// inference fails on the outer types, naming the fusion and the node.
absl::StatusOr<int> ExpandFusions(Graph& graph, const std::function<bool(const Node&)>& expand);

}  // namespace kiln::passes

#endif  // KILN_PASSES_EXPAND_FUSIONS_H_
