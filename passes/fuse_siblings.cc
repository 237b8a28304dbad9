// fuse-siblings: merges loop clusters (loop Fusions or lone elementwise ops) that read the
// same tensor and have the same loop shape into one multi-output loop Fusion, so the shared
// input is read once (XLA's sibling multi-output fusion). Siblings where one depends on the
// other are left apart: merging them would not save the read and could form a cycle.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/fusion.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "passes/cluster.h"
#include "passes/decision.h"
#include "passes/fusion_rules.h"
#include "passes/passes.h"

namespace kiln::passes {
namespace {

bool IsLoopCluster(const Node& n) {
  if (n.op == kFusionOp) {
    return n.HasAttr(kFusionKindAttr) && n.string_attr(kFusionKindAttr) == FusionKindName(FusionKind::kLoop);
  }
  return IsLoopFusible(n);
}

class FuseSiblingsPass : public Pass {
 public:
  explicit FuseSiblingsPass(const PassOptions& options) : options_(options) {}
  absl::string_view name() const override { return "fuse-siblings"; }
  absl::string_view description() const override {
    return "Merge loop clusters that read the same tensor with the same loop shape into one "
           "multi-output loop Fusion.";
  }

  absl::StatusOr<bool> Run(Graph& graph) override {
    bool changed = false;
    std::set<std::pair<std::string, std::string>> refused;
    while (true) {
      ASSIGN_OR_RETURN(bool merged, MergeOnePair(graph, refused));
      if (!merged) break;
      changed = true;
    }
    if (changed) RemoveDeadNodes(graph);
    return changed;
  }

 private:
  absl::StatusOr<bool> MergeOnePair(Graph& graph,
                                    std::set<std::pair<std::string, std::string>>& refused) {
    ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
    UseInfo uses = ComputeUses(graph);
    for (int producer : order) {
      std::vector<int> siblings;
      for (int c : uses.DistinctConsumers(producer)) {
        if (IsLoopCluster(graph.node(c))) siblings.push_back(c);
      }
      for (size_t i = 0; i < siblings.size(); ++i) {
        for (size_t j = i + 1; j < siblings.size(); ++j) {
          const Node& a = graph.node(siblings[i]);
          const Node& b = graph.node(siblings[j]);
          if (refused.count({a.name, b.name})) continue;
          Decision d = MayMerge(graph, siblings[i], siblings[j]);
          LogDecision(options_, name(), absl::StrCat("merge '", a.name, "' and '", b.name, "'"), d);
          if (d) {
            ASSIGN_OR_RETURN(bool merged, Merge(graph, siblings[i], siblings[j]));
            if (merged) return true;
          }
          refused.insert({a.name, b.name});
        }
      }
    }
    return false;
  }

  Decision MayMerge(const Graph& g, int a, int b) {
    if (g.node(a).outputs[0].shape != g.node(b).outputs[0].shape) {
      return Decision::No("different loop shapes");
    }
    std::vector<bool> mark(g.num_nodes(), false);
    mark[a] = true;
    if (DependsOnAny(g, b, mark)) return Decision::No("one depends on the other");
    mark[a] = false;
    mark[b] = true;
    if (DependsOnAny(g, a, mark)) return Decision::No("one depends on the other");
    if (!(g.node(a).inputs.size() + g.node(b).inputs.size() <=
          static_cast<size_t>(options_.max_fusion_inputs) + 1)) {
      return Decision::No("too many inputs");
    }
    return Decision::Yes();
  }

  // Inlines both (when Fusions) and outlines their union on a copy; keeps it if it worked.
  absl::StatusOr<bool> Merge(Graph& graph, int a, int b) {
    Graph trial = graph;
    const std::string a_name = trial.node(a).name;
    const std::string b_name = trial.node(b).name;
    std::vector<std::string> names;
    for (const std::string& n : {a_name, b_name}) {
      int id = *trial.FindNode(n);
      if (trial.node(id).op == kFusionOp) {
        ASSIGN_OR_RETURN(std::vector<int> inlined, InlineFusion(trial, id));
        for (int k : inlined) names.push_back(trial.node(k).name);
      } else {
        names.push_back(n);
      }
    }
    std::vector<int> members;
    for (const std::string& n : names) members.push_back(*trial.FindNode(n));
    absl::StatusOr<int> fused = OutlineCluster(trial, members, FusionKind::kLoop, "fusion",
                                               options_.max_inline_constant_elements);
    if (!fused.ok()) {
      if (fused.status().code() == absl::StatusCode::kFailedPrecondition) return false;
      return fused.status();
    }
    graph = std::move(trial);
    return true;
  }

  PassOptions options_;
};

}  // namespace

std::unique_ptr<Pass> CreateFuseSiblingsPass(const PassOptions& options) {
  return std::make_unique<FuseSiblingsPass>(options);
}

}  // namespace kiln::passes
