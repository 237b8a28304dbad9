// fuse-elementwise: loop fusion. Clusters of elementwise and channel-axis ops with one loop
// shape (broadcast operands are cluster inputs) become Fusion nodes of kind "loop", grown
// from each consumer up through its producers under the cost model of fusion_rules.h.
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "passes/cluster.h"
#include "passes/fusion_rules.h"
#include "passes/passes.h"

namespace kiln::passes {
namespace {

class FuseElementwisePass : public Pass {
 public:
  explicit FuseElementwisePass(const PassOptions& options) : options_(options) {
    PopulateProducerFusionRules(rules_);
  }
  absl::string_view name() const override { return "fuse-elementwise"; }
  absl::string_view description() const override {
    return "Fuse chains of elementwise ops (with broadcast operands) into loop Fusion nodes.";
  }

  absl::StatusOr<bool> Run(Graph& graph) override {
    std::set<std::string> tried;
    bool changed = false;
    while (true) {
      ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
      UseInfo uses = ComputeUses(graph);
      bool outlined = false;
      for (auto it = order.rbegin(); it != order.rend() && !outlined; ++it) {
        const Node& root = graph.node(*it);
        if (!IsLoopFusible(root) || !tried.insert(root.name).second) continue;
        std::vector<int> members = {*it};
        std::vector<bool> in_cluster(graph.num_nodes(), false);
        in_cluster[*it] = true;
        GrowProducers(graph, uses, rules_, root.outputs[0].shape, false, options_, name(),
                      members, in_cluster);
        if (members.size() < 2) continue;  // a lone op is already one kernel
        ASSIGN_OR_RETURN(int fusion, OutlineCluster(graph, members, FusionKind::kLoop, "fusion",
                                                    options_.max_inline_constant_elements));
        tried.insert(graph.node(fusion).name);
        outlined = changed = true;
      }
      if (!outlined) break;
    }
    if (changed) RemoveDeadNodes(graph);
    return changed;
  }

 private:
  PassOptions options_;
  std::vector<FusionRule> rules_;
};

}  // namespace

std::unique_ptr<Pass> CreateFuseElementwisePass(const PassOptions& options) {
  return std::make_unique<FuseElementwisePass>(options);
}

}  // namespace kiln::passes
