// Whole-graph verification: structure, signature, and types of every output.
#ifndef KILN_GRAPH_VERIFIER_H_
#define KILN_GRAPH_VERIFIER_H_

#include "absl/status/status.h"
#include "graph/graph.h"

namespace kiln {

// Verifies `graph` and annotates every node with its op definition, defaulted attributes
// and inferred output types. Rejects cycles, dangling or out-of-range inputs, unknown ops,
// bad attributes, dtype and shape mismatches, element counts that overflow, and a bad
// signature (inputs that are not Input nodes, duplicate or missing output names). The
// error names the node or signature entry and the reason. Never crashes on a bad graph.
absl::Status VerifyGraph(Graph& graph);

}  // namespace kiln

#endif  // KILN_GRAPH_VERIFIER_H_
