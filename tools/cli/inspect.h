// `kiln inspect`: a graph's signature, op histogram, parameter size and FLOP count, or
// the static memory plan of one run.
#ifndef KILN_TOOLS_CLI_INSPECT_H_
#define KILN_TOOLS_CLI_INSPECT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "kernels/kernel_provider.h"
#include "runtime/plan.h"

namespace kiln::cli {

struct GraphSummary {
  struct Port {
    std::string name;
    TensorType type;
  };
  std::vector<Port> inputs;   // declared types; -1 dims are bound at run time
  std::vector<Port> outputs;  // inferred types
  // (op, node count), most frequent first, ties by op name.
  std::vector<std::pair<std::string, int64_t>> op_counts;
  int64_t num_nodes = 0;
  // Total elements and bytes of the tensors held by Constant nodes.
  int64_t parameter_elements = 0;
  int64_t parameter_bytes = 0;
  // True when some input has a -1 dimension, so the FLOP count depends on `batch`.
  bool has_unknown_dims = false;
  int64_t batch = 1;
  // FLOPs with every -1 input dimension bound to `batch`; nullopt when binding fails,
  // with the reason in flops_error.
  std::optional<int64_t> flops;
  std::string flops_error;
};

// Sum of OpDef::flops over the nodes of `graph`, whose shapes must be fully known and
// whose nodes are verified (Node::def set). Error naming the node when an op reports a
// negative count, or when the sum exceeds int64.
absl::StatusOr<int64_t> CountFlops(const Graph& graph);

// Summarizes a verified graph; FLOPs are counted at `batch` (see GraphSummary::flops).
GraphSummary SummarizeGraph(const Graph& graph, int64_t batch);

// The text `kiln inspect` prints; `label` is the graph's path. The format is described
// in the command's help text and pinned by tests/tools/inspect_test.cc.
std::string FormatGraphSummary(const GraphSummary& summary, absl::string_view label);

// The plan a Session makes for `graph` with every -1 input dimension bound to `batch`,
// every graph output fetched and kept in the arena, kernels prepared by `provider`
// (planning only: nothing runs). `bound` receives the bound graph, which the plan's
// parameters may point into. Errors: binding (naming the input or node) and planning.
absl::StatusOr<Plan> PlanForInspection(const Graph& graph, int64_t batch,
                                       const KernelProvider& provider, Graph& bound);

// The text of `kiln inspect --memory` for a plan; the format is in the command's help.
std::string FormatMemoryReport(const Plan& plan);

// PlanForInspection then FormatMemoryReport.
absl::StatusOr<std::string> MemoryReport(const Graph& graph, int64_t batch,
                                         const KernelProvider& provider);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_INSPECT_H_
