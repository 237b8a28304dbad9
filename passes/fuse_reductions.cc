// fuse-reductions: fuses elementwise producers into the reduction that consumes them
// (ReduceSum/Mean/Max, Softmax, LayerNorm): the producers run inside the reduction's loop
// over its input, so their results never reach memory. Kind "reduction".
#include <set>
#include <string>

#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "passes/cluster.h"
#include "passes/fusion_rules.h"
#include "passes/passes.h"

namespace kiln::passes {
namespace {

class FuseReductionsPass : public Pass {
 public:
  explicit FuseReductionsPass(const PassOptions& options) : options_(options) {
    PopulateProducerFusionRules(rules_);
  }
  absl::string_view name() const override { return "fuse-reductions"; }
  absl::string_view description() const override {
    return "Fuse elementwise producers into the reduction, softmax or layer norm reading them.";
  }

  absl::StatusOr<bool> Run(Graph& graph) override {
    std::set<std::string> tried;
    bool changed = false;
    while (true) {
      ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
      UseInfo uses = ComputeUses(graph);
      bool outlined = false;
      for (int id : order) {
        const Node& root = graph.node(id);
        if (root.def == nullptr ||
            !(root.def->Has(kReduction) || root.def->Has(kAxisReduction)) ||
            !tried.insert(root.name).second) {
          continue;
        }
        std::vector<int> members = {id};
        std::vector<bool> in_cluster(graph.num_nodes(), false);
        in_cluster[id] = true;
        // The loop runs over the reduction's input.
        GrowProducers(graph, uses, rules_, graph.type(root.inputs[0]).shape, true, options_,
                      name(), members, in_cluster);
        if (members.size() < 2) continue;
        ASSIGN_OR_RETURN(int fusion, OutlineCluster(graph, members, FusionKind::kReduction, "fusion",
                                                    options_.max_inline_constant_elements));
        tried.insert(graph.node(fusion).name);
        outlined = changed = true;
        break;
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

std::unique_ptr<Pass> CreateFuseReductionsPass(const PassOptions& options) {
  return std::make_unique<FuseReductionsPass>(options);
}

}  // namespace kiln::passes
