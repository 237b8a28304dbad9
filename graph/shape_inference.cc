#include "graph/shape_inference.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "graph/fusion.h"
#include "graph/op_registry.h"

namespace kiln {
namespace {

absl::Status NodeError(const Node& node, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(NodeErrorPrefix(node), message));
}

// Accepts an attribute whose stored type differs from the schema's only where the
// conversion is exact and unsurprising: an int for a float, and an empty list of one
// kind for an empty list of another (a text proto cannot tell empty lists apart).
bool CoerceAttr(AttrType want, AttrValue& value) {
  AttrType have = TypeOf(value);
  if (have == want) return true;
  if (want == AttrType::kFloat && have == AttrType::kInt) {
    value = static_cast<double>(std::get<int64_t>(value));
    return true;
  }
  if (want == AttrType::kFloats && have == AttrType::kInts) {
    const auto& ints = std::get<std::vector<int64_t>>(value);
    value = std::vector<double>(ints.begin(), ints.end());
    return true;
  }
  auto is_empty_list = [](const AttrValue& v) {
    switch (TypeOf(v)) {
      case AttrType::kInts: return std::get<std::vector<int64_t>>(v).empty();
      case AttrType::kFloats: return std::get<std::vector<double>>(v).empty();
      case AttrType::kStrings: return std::get<std::vector<std::string>>(v).empty();
      default: return false;
    }
  };
  if (is_empty_list(value)) {
    if (want == AttrType::kInts) value = std::vector<int64_t>{};
    else if (want == AttrType::kFloats) value = std::vector<double>{};
    else if (want == AttrType::kStrings) value = std::vector<std::string>{};
    else return false;
    return true;
  }
  return false;
}

absl::Status CheckAttrs(const OpDef& def, Node& node) {
  for (auto& [name, value] : node.attrs) {
    const AttrSpec* spec = def.FindAttr(name);
    if (spec == nullptr) return NodeError(node, absl::StrCat("unknown attribute '", name, "'"));
    if (!CoerceAttr(spec->type, value)) {
      return NodeError(node, absl::StrCat("attribute '", name, "' must be ",
                                          AttrTypeName(spec->type), ", got ",
                                          AttrTypeName(TypeOf(value))));
    }
  }
  for (const AttrSpec& spec : def.attrs) {
    if (node.HasAttr(spec.name)) continue;
    if (!spec.default_value) {
      return NodeError(node, absl::StrCat("missing required attribute '", spec.name, "'"));
    }
    node.attrs[spec.name] = *spec.default_value;
  }
  return absl::OkStatus();
}

}  // namespace

std::string NodeErrorPrefix(const Node& node) {
  return absl::StrCat("node '", node.name, "' (", node.op, "): ");
}

absl::StatusOr<std::vector<TensorType>> InferOutputTypes(const Node& node,
                                                         absl::Span<const TensorType> inputs) {
  // Fusion: the verifier binds and verifies the body (graph/fusion.h).
  if (node.def->structural) return InferFusionOutputs(node, inputs);
  std::vector<TensorType> outputs;
  InferContext ctx{node, inputs, outputs};
  RETURN_IF_ERROR(node.def->infer(ctx));
  return outputs;
}

absl::Status InferNode(Graph& graph, int id) {
  Node& node = graph.node(id);
  const OpDef* def = OpRegistry::Global().Find(node.op);
  if (def == nullptr) return NodeError(node, absl::StrCat("unknown op '", node.op, "'"));
  node.def = def;

  int n = static_cast<int>(node.inputs.size());
  if (n < def->min_inputs || (def->max_inputs >= 0 && n > def->max_inputs)) {
    std::string expected =
        def->min_inputs == def->max_inputs ? absl::StrCat(def->min_inputs)
        : def->max_inputs < 0 ? absl::StrCat("at least ", def->min_inputs)
                              : absl::StrCat(def->min_inputs, " to ", def->max_inputs);
    return NodeError(node, absl::StrCat("expected ", expected, " inputs, got ", n));
  }
  std::vector<TensorType> input_types;
  input_types.reserve(n);
  for (int i = 0; i < n; ++i) {
    const TensorRef& in = node.inputs[i];
    if (in.node < 0 || in.node >= graph.num_nodes() || in.node == id) {
      return NodeError(node, absl::StrCat("input ", i, " refers to a missing node"));
    }
    const Node& producer = graph.node(in.node);
    if (in.output < 0 || in.output >= static_cast<int>(producer.outputs.size())) {
      return NodeError(node, absl::StrCat("input ", i, " refers to output ", in.output,
                                          " of '", producer.name, "', which has ",
                                          producer.outputs.size(), " outputs"));
    }
    input_types.push_back(producer.outputs[in.output]);
  }

  absl::Status attrs = CheckAttrs(*def, node);
  if (!attrs.ok()) return attrs;

  if (!def->dtypes.empty() && n > 0 &&
      std::find(def->dtypes.begin(), def->dtypes.end(), input_types[0].dtype) ==
          def->dtypes.end()) {
    std::vector<std::string> names;
    for (DataType t : def->dtypes) names.emplace_back(DataTypeName(t));
    return NodeError(node, absl::StrCat("input 0 has dtype ", DataTypeName(input_types[0].dtype),
                                        ", expected one of ", absl::StrJoin(names, ", ")));
  }

  absl::StatusOr<std::vector<TensorType>> inferred = InferOutputTypes(node, input_types);
  if (!inferred.ok()) return NodeError(node, inferred.status().message());
  std::vector<TensorType> outputs = *std::move(inferred);
  if (def->num_outputs >= 0 && static_cast<int>(outputs.size()) != def->num_outputs) {
    return NodeError(node, absl::StrCat("shape function produced ", outputs.size(),
                                        " outputs, expected ", def->num_outputs));
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    absl::Status valid = ValidateShape(outputs[k].shape);
    if (!valid.ok()) {
      return NodeError(node, absl::StrCat("output ", k, ": ", valid.message()));
    }
    if (DataTypeSize(outputs[k].dtype) == 0) {
      return NodeError(node, absl::StrCat("output ", k, " has no valid dtype"));
    }
  }
  node.outputs = std::move(outputs);
  return absl::OkStatus();
}

}  // namespace kiln
