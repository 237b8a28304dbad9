// Binding a Fusion body to the types its node sees.
#include "graph/fusion.h"

#include "absl/strings/str_cat.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "graph/verifier.h"

namespace kiln {

namespace {

struct KindName {
  FusionKind kind;
  absl::string_view name;
};
constexpr KindName kKindNames[] = {
    {FusionKind::kLoop, "loop"},
    {FusionKind::kReduction, "reduction"},
    {FusionKind::kMatMulEpilogue, "matmul_epilogue"},
    {FusionKind::kConv2DEpilogue, "conv2d_epilogue"},
    {FusionKind::kAttention, "attention"},
};

}  // namespace

absl::string_view FusionKindName(FusionKind kind) {
  for (const KindName& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

absl::StatusOr<FusionKind> ParseFusionKind(absl::string_view name) {
  std::string valid;
  for (const KindName& k : kKindNames) {
    if (k.name == name) return k.kind;
    absl::StrAppend(&valid, valid.empty() ? "" : ", ", k.name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("attribute 'kind': '", name, "' is not a fusion kind (", valid, ")"));
}

absl::StatusOr<FusionKind> EpilogueKindFor(absl::string_view contraction_op) {
  if (contraction_op == "MatMul") return FusionKind::kMatMulEpilogue;
  if (contraction_op == "Conv2D") return FusionKind::kConv2DEpilogue;
  return absl::InvalidArgumentError(
      absl::StrCat("no epilogue fusion kind for op '", contraction_op, "'"));
}

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

absl::StatusOr<std::vector<TensorType>> InferFusionOutputs(const Node& node,
                                                           absl::Span<const TensorType> inputs) {
  const Graph* body = FusionBody(node);
  if (body == nullptr) return absl::InvalidArgumentError("attribute 'body' is empty");
  auto kind = node.attrs.find(kFusionKindAttr);
  const std::string* kind_name =
      kind == node.attrs.end() ? nullptr : std::get_if<std::string>(&kind->second);
  RETURN_IF_ERROR(ParseFusionKind(kind_name != nullptr ? *kind_name : "").status());
  ASSIGN_OR_RETURN(Graph bound, BindFusionBody(*body, inputs));
  std::vector<TensorType> outputs;
  for (const GraphOutput& out : bound.outputs()) outputs.push_back(bound.type(out.tensor));
  return outputs;
}

int64_t NodeFlops(const Node& node, absl::Span<const TensorType> inputs,
                  absl::Span<const TensorType> outputs) {
  if (node.op != kFusionOp) {
    return node.def != nullptr && node.def->flops ? node.def->flops(node, inputs, outputs) : 0;
  }
  const Graph* body = FusionBody(node);
  if (body == nullptr) return 0;
  absl::StatusOr<Graph> bound = BindFusionBody(*body, inputs);
  if (!bound.ok()) return 0;
  int64_t total = 0;
  for (const Node& n : bound->nodes()) {
    std::vector<TensorType> in;
    for (const TensorRef& ref : n.inputs) in.push_back(bound->type(ref));
    int64_t f = NodeFlops(n, in, n.outputs);
    if (f > 0 && total <= INT64_MAX - f) total += f;
  }
  return total;
}

}  // namespace kiln
