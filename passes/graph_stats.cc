// Node, kernel, fusion and transpose counts.
#include "passes/graph_stats.h"

#include "absl/strings/str_cat.h"
#include "graph/fusion.h"
#include "graph/op_registry.h"

namespace kiln::passes {

std::string GraphStats::ToString() const {
  return absl::StrCat("nodes ", nodes, ", kernels ", kernels, ", fusions ", fusions,
                      ", transposes ", transposes,
                      fused_transposes > 0 ? absl::StrCat(" (+", fused_transposes, " fused)") : "");
}

GraphStats ComputeGraphStats(const Graph& graph) {
  GraphStats stats;
  stats.nodes = graph.num_nodes();
  for (const Node& node : graph.nodes()) {
    if (node.op == "Transpose") ++stats.transposes;
    if (const Graph* body = FusionBody(node)) {
      ++stats.fusions;
      ++stats.kernels;
      for (const Node& inner : body->nodes()) stats.fused_transposes += inner.op == "Transpose";
      continue;
    }
    const OpDef* def = node.def != nullptr ? node.def : OpRegistry::Global().Find(node.op);
    if (def == nullptr || def->Has(kSource) || def->Has(kBitcast)) continue;
    ++stats.kernels;
  }
  return stats;
}

}  // namespace kiln::passes
