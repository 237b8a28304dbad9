// eliminate-dead-nodes: removes nodes no signature output depends on.
#include "graph/graph_rewrite.h"
#include "passes/passes.h"

namespace kiln::passes {
namespace {

class EliminateDeadNodesPass : public Pass {
 public:
  absl::string_view name() const override { return "eliminate-dead-nodes"; }
  absl::string_view description() const override {
    return "Remove nodes that no graph output depends on (signature inputs stay).";
  }
  absl::StatusOr<bool> Run(Graph& graph) override { return RemoveDeadNodes(graph) > 0; }
};

}  // namespace

std::unique_ptr<Pass> CreateEliminateDeadNodesPass(const PassOptions&) {
  return std::make_unique<EliminateDeadNodesPass>();
}

}  // namespace kiln::passes
