// expand-fusions: inlines Fusion bodies. Compile uses it for clusters no kernel library
// runs as one kernel, so an optimized graph is never slower than the unoptimized one
// while fused kernels are missing (folding and layout still apply).
#include "passes/expand_fusions.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/fusion.h"
#include "graph/graph_rewrite.h"
#include "base/status_macros.h"
#include "passes/passes.h"

namespace kiln::passes {
namespace {

// Inlines the body of Fusion node `f`; its outputs' readers move to the body's outputs.
absl::Status ExpandOne(Graph& graph, int f) {
  // Copies: adding nodes may move graph's nodes, and with them the body attribute.
  const Node& fusion = graph.node(f);
  const Graph* body_ptr = FusionBody(fusion);
  if (body_ptr == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("expand-fusions: node '", fusion.name, "' (Fusion) has no body"));
  }
  const Graph body = *body_ptr;
  const std::vector<TensorRef> fusion_inputs = fusion.inputs;
  const std::string fusion_name = fusion.name;
  const int num_outputs = static_cast<int>(fusion.outputs.size());
  if (body.inputs().size() != fusion_inputs.size() ||
      static_cast<int>(body.outputs().size()) != num_outputs) {
    return absl::FailedPreconditionError(absl::StrCat(
        "expand-fusions: node '", fusion_name, "' (Fusion): the body's signature does not match "
        "the node's inputs and outputs"));
  }

  // Where each body node's outputs live in the outer graph: -1 for body inputs, which
  // resolve to the fusion's inputs.
  std::vector<int> outer(body.num_nodes(), -1);
  std::vector<int> input_position(body.num_nodes(), -1);
  for (size_t i = 0; i < body.inputs().size(); ++i) input_position[body.inputs()[i]] = i;
  auto resolve = [&](TensorRef ref) -> TensorRef {
    if (input_position[ref.node] >= 0) return fusion_inputs[input_position[ref.node]];
    return TensorRef{outer[ref.node], ref.output};
  };

  ASSIGN_OR_RETURN(std::vector<int> order, body.TopologicalOrder());
  for (int b : order) {
    const Node& node = body.node(b);
    if (input_position[b] >= 0) continue;
    std::vector<TensorRef> inputs;
    for (TensorRef ref : node.inputs) inputs.push_back(resolve(ref));
    absl::StatusOr<int> added = AddNodeInferred(graph, node.name, node.op, inputs, node.attrs);
    if (!added.ok()) {
      return absl::Status(added.status().code(),
                          absl::StrCat("expand-fusions: node '", fusion_name, "' (Fusion), body node '",
                                       node.name, "': ", added.status().message()));
    }
    outer[b] = *added;
  }
  for (int i = 0; i < num_outputs; ++i) {
    ReplaceAllUses(graph, TensorRef{f, i}, resolve(body.outputs()[i].tensor));
  }
  return absl::OkStatus();
}

class ExpandFusionsPass : public Pass {
 public:
  absl::string_view name() const override { return "expand-fusions"; }
  absl::string_view description() const override {
    return "Replace every Fusion node by the ops of its body.";
  }
  absl::StatusOr<bool> Run(Graph& graph) override {
    ASSIGN_OR_RETURN(int expanded, ExpandFusions(graph, [](const Node&) { return true; }));
    return expanded > 0;
  }
};

}  // namespace

absl::StatusOr<int> ExpandFusions(Graph& graph, const std::function<bool(const Node&)>& expand) {
  int expanded = 0;
  const int original_nodes = graph.num_nodes();
  for (int f = 0; f < original_nodes; ++f) {
    if (graph.node(f).op != kFusionOp || !expand(graph.node(f))) continue;
    RETURN_IF_ERROR(ExpandOne(graph, f));
    ++expanded;
  }
  if (expanded == 0) return 0;
  RemoveDeadNodes(graph);
  RETURN_IF_ERROR(SortNodesTopologically(graph));
  return expanded;
}

std::unique_ptr<Pass> CreateExpandFusionsPass(const PassOptions&) {
  return std::make_unique<ExpandFusionsPass>();
}

}  // namespace kiln::passes
