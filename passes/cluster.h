// Turning a set of nodes into one Fusion node (outlining) and back (inlining): the two
// graph surgeries every fusion pass is built from.
#ifndef KILN_PASSES_CLUSTER_H_
#define KILN_PASSES_CLUSTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/fusion.h"
#include "graph/graph.h"

namespace kiln::passes {

// True when no path leaves the node set `in_cluster` and comes back into it (a cluster
// that is not convex would make its Fusion node depend on itself).
bool IsConvex(const Graph& graph, const std::vector<bool>& in_cluster);

// Replaces the nodes `cluster` (at least one, none an Input) by one Fusion node of `kind`
// named after `name_hint`. Its inputs are the tensors the cluster reads from outside, in
// order of first use, except Constants of at most `max_inline_constant_elements` elements,
// which are copied into the body; its outputs are the cluster's tensors read outside it
// (nodes or signature), in topological order. Returns the Fusion node's index (indices of
// other nodes change: the cluster's nodes are removed). Error, graph unchanged, when the
// cluster is not convex or the body does not verify.
absl::StatusOr<int> OutlineCluster(Graph& graph, const std::vector<int>& cluster,
                                   FusionKind kind, absl::string_view name_hint,
                                   int64_t max_inline_constant_elements);

// Replaces Fusion node `id` by a copy of its body's nodes (renamed where names are taken)
// and returns their indices in the changed graph.
absl::StatusOr<std::vector<int>> InlineFusion(Graph& graph, int id);

}  // namespace kiln::passes

#endif  // KILN_PASSES_CLUSTER_H_
