// The execution order of a plan: a topological order of the kernel nodes a set of fetches
// needs, chosen to keep the bytes of live tensors small.
#ifndef KILN_RUNTIME_SCHEDULE_H_
#define KILN_RUNTIME_SCHEDULE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graph/graph.h"

namespace kiln {

enum class ScheduleOrder {
  // Greedy list scheduling (see ScheduleNodes).
  kMemoryAware,
  // Graph::TopologicalOrder (node index order where the graph allows), for comparison.
  kNodeIndex,
};

// True for nodes that run a kernel: every node but the sources (Input nodes are fed,
// Constant nodes live in the plan's weights region).
bool IsKernelNode(const Node& node);

// The kernel nodes that `fetches` transitively depend on, in execution order. `graph`
// must be verified with every shape known (a bound graph).
//
// kMemoryAware is greedy list scheduling over the ready set (nodes whose producers have
// all run): it takes the ready node with the largest net effect on the live bytes, i.e.
// the bytes of the input tensors that die at it (it is their last consumer and they are
// not fetched) minus the bytes of the outputs it adds (outputs nobody reads and nobody
// fetches are not counted: they die where they are born). Ties go to the lower node
// index, so the order is deterministic and follows the graph where memory does not
// care. This finishes a chain that frees memory before starting one that allocates, and
// among allocating nodes prefers the smallest. It is one pass, O(nodes x ready).
//
// Errors: a fetch out of range, or a cycle (never in a verified graph).
absl::StatusOr<std::vector<int>> ScheduleNodes(const Graph& graph,
                                               absl::Span<const TensorRef> fetches,
                                               ScheduleOrder order = ScheduleOrder::kMemoryAware);

// The largest total of 64-byte-aligned tensor sizes live at one step of `schedule`,
// without in-place reuse: what the greedy heuristic minimizes, for comparing orders.
// A tensor is live from its producer's step to its last consumer's step; fetched tensors
// stay live to the end; graph inputs and constants are not counted.
int64_t PeakLiveBytes(const Graph& graph, absl::Span<const int> schedule,
                      absl::Span<const TensorRef> fetches);

}  // namespace kiln

#endif  // KILN_RUNTIME_SCHEDULE_H_
