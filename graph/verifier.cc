#include "graph/verifier.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "graph/shape_inference.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

absl::Status VerifySignature(const Graph& graph) {
  absl::flat_hash_set<int> seen_inputs;
  for (int id : graph.inputs()) {
    if (id < 0 || id >= graph.num_nodes()) {
      return absl::InvalidArgumentError("signature: an input refers to a missing node");
    }
    const Node& node = graph.node(id);
    if (node.op != "Input") {
      return absl::InvalidArgumentError(absl::StrCat(
          "signature: input '", node.name, "' is a ", node.op, " node, expected Input"));
    }
    if (!seen_inputs.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("signature: input '", node.name, "' is listed twice"));
    }
  }
  for (int i = 0; i < graph.num_nodes(); ++i) {
    if (graph.node(i).op == "Input" && !seen_inputs.contains(i)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "node '", graph.node(i).name, "' (Input): not listed in the signature's inputs"));
    }
  }
  absl::flat_hash_set<std::string> names;
  for (const GraphOutput& out : graph.outputs()) {
    if (out.name.empty()) return absl::InvalidArgumentError("signature: an output has no name");
    if (!names.insert(out.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("signature: output name '", out.name, "' is used twice"));
    }
    const TensorRef& ref = out.tensor;
    if (ref.node < 0 || ref.node >= graph.num_nodes() || ref.output < 0 ||
        ref.output >= static_cast<int>(graph.node(ref.node).outputs.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("signature: output '", out.name, "' refers to a missing tensor"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status VerifyGraph(Graph& graph) {
  for (const Node& node : graph.nodes()) {
    RETURN_IF_ERROR(ValidateNodeName(node.name));
  }
  ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
  for (int id : order) RETURN_IF_ERROR(InferNode(graph, id));
  return VerifySignature(graph);
}

}  // namespace kiln
