// fuse-epilogues: fuses the elementwise chain that follows a contraction (bias, scale,
// activation, residual add) into it, as cuBLASLt/cuDNN epilogues and the CPU
// microkernels' store loops apply them. Kind "<op>_epilogue" ("matmul_epilogue",
// "conv2d_epilogue").
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "passes/cluster.h"
#include "passes/decision.h"
#include "passes/fusion_rules.h"
#include "passes/passes.h"

namespace kiln::passes {
namespace {

class FuseEpiloguesPass : public Pass {
 public:
  explicit FuseEpiloguesPass(const PassOptions& options) : options_(options) {}
  absl::string_view name() const override { return "fuse-epilogues"; }
  absl::string_view description() const override {
    return "Fuse bias, scale, activation and residual-add chains into the MatMul or Conv2D "
           "they follow.";
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
        if (root.def == nullptr || !root.def->Has(kContraction) ||
            !tried.insert(root.name).second) {
          continue;
        }
        std::vector<int> members = Grow(graph, uses, id);
        if (members.size() < 2) continue;
        ASSIGN_OR_RETURN(FusionKind kind, EpilogueKindFor(root.op));
        ASSIGN_OR_RETURN(int fusion, OutlineCluster(graph, members, kind, "fusion",
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
  // Follows the single reader of the cluster's result while it is an elementwise op of the
  // contraction's shape whose other operands do not depend on the cluster.
  std::vector<int> Grow(const Graph& g, const UseInfo& uses, int root) {
    std::vector<int> members = {root};
    std::vector<bool> in_cluster(g.num_nodes(), false);
    in_cluster[root] = true;
    const Shape& shape = g.node(root).outputs[0].shape;
    int current = root;
    while (true) {
      std::vector<int> readers = uses.DistinctConsumers(current);
      if (readers.size() != 1 || uses.is_output[current]) break;
      const int next = readers[0];
      const Node& n = g.node(next);
      Decision d = Decision::Yes();
      if (!IsLoopFusible(n)) {
        d = Decision::No(absl::StrCat(n.op, " is not an elementwise op"));
      } else if (n.outputs[0].shape != shape) {
        d = Decision::No(absl::StrCat("its shape ", n.outputs[0].shape.ToString(),
                                      " differs from the contraction's ", shape.ToString()));
      } else if (CountClusterInputs(g, in_cluster, next) > options_.max_fusion_inputs) {
        d = Decision::No("too many inputs");
      } else {
        for (const TensorRef& in : n.inputs) {
          if (!in_cluster[in.node] && DependsOnAny(g, in.node, in_cluster)) {
            d = Decision::No("another operand depends on the cluster (fusing would form a cycle)");
          }
        }
      }
      LogDecision(options_, name(),
                  absl::StrCat("epilogue '", n.name, "' into '", g.node(root).name, "'"), d);
      if (!d) break;
      in_cluster[next] = true;
      members.push_back(next);
      current = next;
    }
    return members;
  }

  PassOptions options_;
};

}  // namespace

std::unique_ptr<Pass> CreateFuseEpiloguesPass(const PassOptions& options) {
  return std::make_unique<FuseEpiloguesPass>(options);
}

}  // namespace kiln::passes
