#include "graph/builder.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "graph/proto_convert.h"
#include "graph/shape_inference.h"
#include "graph/verifier.h"

namespace kiln {
namespace {

const Shape& EmptyShape() {
  static const Shape* shape = new Shape();
  return *shape;
}

// "MatMul" -> "mat_mul", "Conv2D" -> "conv2d".
std::string SnakeCase(absl::string_view op) {
  std::string out;
  for (size_t i = 0; i < op.size(); ++i) {
    char c = op[i];
    if (absl::ascii_isupper(c) && i > 0 && absl::ascii_islower(op[i - 1])) out += '_';
    out += absl::ascii_tolower(c);
  }
  return out;
}

}  // namespace

DataType Value::dtype() const {
  return valid() ? builder_->graph_.type(ref_).dtype : DataType::kInvalid;
}

const Shape& Value::shape() const {
  return valid() ? builder_->graph_.type(ref_).shape : EmptyShape();
}

void GraphBuilder::RecordError(absl::Status status) {
  if (status_.ok()) status_ = std::move(status);
}

std::string GraphBuilder::NodeName(absl::string_view requested, absl::string_view op) {
  if (!requested.empty()) return std::string(requested);
  std::string base = SnakeCase(op);
  if (!scope_.empty()) base = absl::StrCat(scope_, "/", base);
  return graph_.UniqueName(base);
}

Value GraphBuilder::Input(absl::string_view name, DataType dtype, const Shape& shape) {
  AttrMap attrs;
  attrs["dtype"] = dtype;
  attrs["shape"] = shape.dims();
  Value v = AddOp1("Input", {}, std::move(attrs), name);
  if (v.valid()) graph_.inputs().push_back(v.ref().node);
  return v;
}

Value GraphBuilder::Constant(Tensor value, absl::string_view name) {
  AttrMap attrs;
  attrs["value"] = std::move(value);
  std::string node_name = name.empty() ? graph_.UniqueName(scope_.empty() ? "const" : absl::StrCat(scope_, "/const")) : std::string(name);
  return AddOp1("Constant", {}, std::move(attrs), node_name);
}

std::vector<Value> GraphBuilder::AddOp(absl::string_view op, const std::vector<Value>& inputs,
                                       AttrMap attrs, absl::string_view name) {
  if (!status_.ok()) return {};
  Node node;
  node.name = NodeName(name, op);
  node.op = std::string(op);
  node.attrs = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value& in = inputs[i];
    if (!in.valid() || in.builder() != this) {
      RecordError(absl::InvalidArgumentError(absl::StrCat(
          "node '", node.name, "' (", op, "): input ", i, " is not a value of this builder")));
      return {};
    }
    node.inputs.push_back(in.ref());
  }
  absl::StatusOr<int> id = graph_.AddNode(std::move(node));
  if (!id.ok()) {
    RecordError(id.status());
    return {};
  }
  absl::Status inferred = InferNode(graph_, *id);
  if (!inferred.ok()) {
    RecordError(inferred);
    return {};
  }
  std::vector<Value> outputs;
  for (int k = 0; k < static_cast<int>(graph_.node(*id).outputs.size()); ++k) {
    outputs.push_back(Value(this, TensorRef{*id, k}));
  }
  return outputs;
}

Value GraphBuilder::AddOp1(absl::string_view op, const std::vector<Value>& inputs,
                           AttrMap attrs, absl::string_view name) {
  std::vector<Value> outputs = AddOp(op, inputs, std::move(attrs), name);
  if (outputs.size() != 1) {
    if (status_.ok()) {
      RecordError(absl::InvalidArgumentError(
          absl::StrCat("op ", op, " has ", outputs.size(), " outputs; use AddOp")));
    }
    return Value();
  }
  return outputs[0];
}

void GraphBuilder::Output(absl::string_view name, Value value) {
  if (!status_.ok()) return;
  if (!value.valid() || value.builder() != this) {
    RecordError(absl::InvalidArgumentError(
        absl::StrCat("output '", name, "' is not a value of this builder")));
    return;
  }
  graph_.outputs().push_back(GraphOutput{std::string(name), value.ref()});
}

absl::StatusOr<Graph> GraphBuilder::BuildGraph() const {
  if (!status_.ok()) return status_;
  Graph graph = graph_;
  absl::Status verified = VerifyGraph(graph);
  if (!verified.ok()) return verified;
  return graph;
}

absl::StatusOr<proto::GraphDef> GraphBuilder::Build() const {
  absl::StatusOr<Graph> graph = BuildGraph();
  if (!graph.ok()) return graph.status();
  return GraphToProto(*graph);
}

}  // namespace kiln
