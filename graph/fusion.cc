// Binding a Fusion body to the types its node sees.
#include "graph/fusion.h"

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "graph/verifier.h"

namespace kiln {

const Graph* FusionBody(const Node& node) {
  if (node.op != kFusionOp) return nullptr;
  auto it = node.attrs.find(kFusionBodyAttr);
  if (it == node.attrs.end()) return nullptr;
  const GraphValue* value = std::get_if<GraphValue>(&it->second);
  return value != nullptr ? value->get() : nullptr;
}

absl::StatusOr<Graph> BindFusionBody(const Graph& body, absl::Span<const TensorType> inputs) {
  if (body.inputs().size() != inputs.size()) {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'body' has ", body.inputs().size(),
                                                   " inputs, but the node has ", inputs.size()));
  }
  if (body.outputs().empty()) {
    return absl::InvalidArgumentError("attribute 'body' has no outputs");
  }
  Graph bound = body;
  for (const Node& node : bound.nodes()) {
    if (node.op == kFusionOp) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attribute 'body': node '", node.name, "' is a nested Fusion, which is not supported"));
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    int id = bound.inputs()[i];
    if (id < 0 || id >= bound.num_nodes()) {
      return absl::InvalidArgumentError("attribute 'body': an input refers to a missing node");
    }
    Node& input = bound.node(id);
    auto dtype = input.attrs.find("dtype");
    auto shape = input.attrs.find("shape");
    if (input.op != "Input" || dtype == input.attrs.end() || shape == input.attrs.end() ||
        !std::holds_alternative<DataType>(dtype->second) ||
        !std::holds_alternative<std::vector<int64_t>>(shape->second)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attribute 'body': input ", i, " ('", input.name, "') is not a typed Input node"));
    }
    if (std::get<DataType>(dtype->second) != inputs[i].dtype) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attribute 'body': input ", i, " ('", input.name, "') has dtype ",
          DataTypeName(std::get<DataType>(dtype->second)), ", but the node's input ", i, " is ",
          inputs[i].ToString()));
    }
    const auto& declared = std::get<std::vector<int64_t>>(shape->second);
    const Shape& actual = inputs[i].shape;
    bool compatible = static_cast<int>(declared.size()) == actual.rank();
    for (int d = 0; compatible && d < actual.rank(); ++d) {
      compatible = declared[d] == kUnknownDim || actual.dim(d) == kUnknownDim ||
                   declared[d] == actual.dim(d);
    }
    if (!compatible) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attribute 'body': input ", i, " ('", input.name, "') is declared ",
          Shape(declared).ToString(), ", but the node's input ", i, " is ",
          inputs[i].ToString()));
    }
    shape->second = actual.dims();
  }
  absl::Status verified = VerifyGraph(bound);
  if (!verified.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'body': ", verified.message()));
  }
  return bound;
}

}  // namespace kiln
