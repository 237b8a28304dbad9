// The ONNX importer's driver: model checks, initializers, graph inputs and outputs, the
// node loop through the op table, constant folding at emission, and the final dead-node
// sweep. Converters (onnx_ops_*.cc) see only NodeContext.
#include "graph/onnx/onnx_importer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/onnx/onnx_converter.h"
#include "graph/onnx/onnx_tensor.h"
#include "graph/op_registry.h"
#include "graph/shape_inference.h"
#include "base/status_macros.h"
#include "graph/verifier.h"

namespace kiln {
namespace onnx_import {

// Nodes costing more arithmetic than this are not folded at import.
constexpr int64_t kMaxFoldedFlops = int64_t{1} << 27;

// The graph being built and the map from ONNX value names to Kiln tensors.
class ImportState {
 public:
  explicit ImportState(const OnnxImportOptions& options) : options_(options) {}

  Graph& graph() { return graph_; }
  const OnnxImportOptions& options() const { return options_; }

  std::optional<TensorRef> Lookup(absl::string_view onnx_name) const {
    auto it = values_.find(onnx_name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  void Bind(const std::string& onnx_name, TensorRef ref) { values_[onnx_name] = ref; }

  // Adds `node` and infers its types, or, when folding applies, evaluates it and adds
  // Constants instead. Returns the outputs.
  absl::StatusOr<std::vector<TensorRef>> Add(Node node);
  absl::StatusOr<TensorRef> AddConstant(const std::string& name, Tensor value);

  // A node name not yet used, from `prefix`: "prefix", then "prefix_1", "prefix_2", ...
  // Counters per prefix keep this O(1) amortized where Graph::UniqueName probes from 1
  // (an unrolled LSTM emits thousands of nodes with one prefix).
  std::string UniqueName(const std::string& prefix) {
    const std::string base = prefix.empty() ? std::string("node") : prefix;
    if (!graph_.FindNode(base)) return base;
    int64_t& next = next_suffix_[base];
    std::string candidate;
    do {
      candidate = absl::StrCat(base, "_", ++next);
    } while (graph_.FindNode(candidate));
    return candidate;
  }

  // Records that Kiln Input node `id` is the ONNX graph input `onnx_name`.
  void AddGraphInput(int id, const std::string& onnx_name) { graph_input_names_[id] = onnx_name; }

  // ONNX names of the graph inputs `ref` depends on, in graph order.
  std::vector<std::string> GraphInputsFeeding(TensorRef ref) const {
    std::vector<bool> seen(graph_.num_nodes(), false);
    std::vector<int> stack = {ref.node};
    std::vector<int> found;
    while (!stack.empty()) {
      const int n = stack.back();
      stack.pop_back();
      if (seen[n]) continue;
      seen[n] = true;
      if (graph_input_names_.contains(n)) found.push_back(n);
      for (const TensorRef& in : graph_.node(n).inputs) stack.push_back(in.node);
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> names;
    for (int n : found) names.push_back(graph_input_names_.at(n));
    return names;
  }

  const Tensor* ConstantValue(TensorRef ref) const {
    const Node& n = graph_.node(ref.node);
    if (n.op != "Constant") return nullptr;
    return &n.attr<Tensor>("value");
  }

 private:
  absl::StatusOr<std::optional<std::vector<Tensor>>> TryFold(const Node& node);

  const OnnxImportOptions& options_;
  Graph graph_;
  absl::flat_hash_map<std::string, TensorRef> values_;
  absl::flat_hash_map<int, std::string> graph_input_names_;
  absl::flat_hash_map<std::string, int64_t> next_suffix_;
};

namespace {

// Characters outside Kiln's node-name alphabet become '_'; long names are cut.
std::string SanitizeName(absl::string_view raw) {
  std::string out;
  for (char c : raw.substr(0, 200)) {
    out += (absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '/' || c == '-') ? c : '_';
  }
  return out;
}

// "MatMul" -> "matmul": suffixes of the Kiln nodes one ONNX node becomes.
std::string Lower(absl::string_view op) { return absl::AsciiStrToLower(op); }

absl::Status Prefix(const absl::Status& status, absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

}  // namespace

absl::StatusOr<TensorRef> ImportState::AddConstant(const std::string& name, Tensor value) {
  Node node;
  node.name = UniqueName(name);
  node.op = "Constant";
  node.attrs["value"] = std::move(value);
  ASSIGN_OR_RETURN(int id, graph_.AddNode(std::move(node)));
  RETURN_IF_ERROR(InferNode(graph_, id));
  return TensorRef{id, 0};
}

// Evaluates `node` when every input is a constant and the results are small enough;
// nullopt when folding does not apply.
absl::StatusOr<std::optional<std::vector<Tensor>>> ImportState::TryFold(const Node& node) {
  if (!options_.fold_constants || node.inputs.empty()) return std::nullopt;
  for (const TensorRef& in : node.inputs) {
    if (ConstantValue(in) == nullptr) return std::nullopt;
  }
  // Infer in a scratch graph holding only the node and its constant inputs.
  Graph scratch;
  Node copy = node;
  copy.inputs.clear();
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    Node c;
    c.name = absl::StrCat("c", i);
    c.op = "Constant";
    c.attrs["value"] = *ConstantValue(node.inputs[i]);
    ASSIGN_OR_RETURN(int id, scratch.AddNode(std::move(c)));
    RETURN_IF_ERROR(InferNode(scratch, id));
    copy.inputs.push_back(TensorRef{id, 0});
  }
  copy.name = "folded";
  ASSIGN_OR_RETURN(int id, scratch.AddNode(std::move(copy)));
  RETURN_IF_ERROR(InferNode(scratch, id));
  const Node& n = scratch.node(id);
  for (const TensorType& t : n.outputs) {
    if (!t.shape.IsFullyKnown() || t.shape.NumElements() > options_.max_folded_elements) {
      return std::nullopt;
    }
  }
  // Folding runs the reference kernel; leave heavy arithmetic (a weights-only MatMul) to
  // run time rather than stall the import.
  if (n.def->flops) {
    std::vector<TensorType> in_types;
    for (const TensorRef& in : n.inputs) in_types.push_back(scratch.type(in));
    if (n.def->flops(n, in_types, n.outputs) > kMaxFoldedFlops) return std::nullopt;
  }
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < node.inputs.size(); ++i) inputs.push_back(*ConstantValue(node.inputs[i]));
  std::vector<Tensor> outputs;
  for (const TensorType& t : n.outputs) {
    ASSIGN_OR_RETURN(Tensor out, Tensor::Allocate(t.dtype, t.shape));
    outputs.push_back(std::move(out));
  }
  KernelContext kctx{n, inputs, absl::MakeSpan(outputs)};
  RETURN_IF_ERROR(n.def->reference(kctx));
  return std::optional<std::vector<Tensor>>(std::move(outputs));
}

absl::StatusOr<std::vector<TensorRef>> ImportState::Add(Node node) {
  ASSIGN_OR_RETURN(std::optional<std::vector<Tensor>> folded, TryFold(node));
  std::vector<TensorRef> outputs;
  if (folded.has_value()) {
    for (size_t k = 0; k < folded->size(); ++k) {
      std::string name = k == 0 ? node.name : absl::StrCat(node.name, "_", k);
      ASSIGN_OR_RETURN(TensorRef ref, AddConstant(name, std::move((*folded)[k])));
      outputs.push_back(ref);
    }
    return outputs;
  }
  ASSIGN_OR_RETURN(int id, graph_.AddNode(std::move(node)));
  RETURN_IF_ERROR(InferNode(graph_, id));
  for (int k = 0; k < static_cast<int>(graph_.node(id).outputs.size()); ++k) {
    outputs.push_back(TensorRef{id, k});
  }
  return outputs;
}

// ------------------------------------------------------------------------- NodeContext

NodeContext::NodeContext(ImportState& state, const onnx::NodeProto& node,
                         const OpConverter& converter, int64_t opset, std::string name)
    : state_(state), node_(node), converter_(converter), opset_(opset), name_(std::move(name)) {}

absl::StatusOr<TensorRef> NodeContext::Input(int i) const {
  if (!HasInput(i)) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " is required but not given"));
  }
  std::optional<TensorRef> ref = state_.Lookup(node_.input(i));
  if (!ref) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " ('", node_.input(i),
                                                   "') is not defined"));
  }
  return *ref;
}

const TensorType& NodeContext::Type(TensorRef ref) const { return state_.graph().type(ref); }

const Tensor* NodeContext::ConstantValue(TensorRef ref) const { return state_.ConstantValue(ref); }

absl::StatusOr<Tensor> NodeContext::ConstantInput(int i, absl::string_view role) const {
  ASSIGN_OR_RETURN(TensorRef ref, Input(i));
  if (const Tensor* value = ConstantValue(ref)) return *value;
  absl::Status status = absl::UnimplementedError(absl::StrCat(
      "input ", i, " ('", role, "') must be a constant, but '", node_.input(i),
      "' is computed at run time (Kiln shapes and attributes are static)"));
  // Name the graph inputs the value is computed from, so a caller can freeze them.
  std::vector<std::string> inputs = state_.GraphInputsFeeding(ref);
  if (!inputs.empty()) {
    status.SetPayload(kOnnxNeedsConstantPayload, absl::Cord(absl::StrJoin(inputs, "\n")));
  }
  return status;
}

absl::StatusOr<std::vector<int64_t>> NodeContext::ConstantInts(int i,
                                                               absl::string_view role) const {
  ASSIGN_OR_RETURN(Tensor t, ConstantInput(i, role));
  if (!IsInteger(t.dtype())) {
    return absl::InvalidArgumentError(absl::StrCat("input ", i, " ('", role, "') has dtype ",
                                                   DataTypeName(t.dtype()),
                                                   ", expected an integer type"));
  }
  std::vector<int64_t> values(t.NumElements());
  for (int64_t k = 0; k < t.NumElements(); ++k) values[k] = t.GetAsInt64(k);
  return values;
}

const onnx::AttributeProto* NodeContext::FindAttr(absl::string_view name) const {
  for (const onnx::AttributeProto& a : node_.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

bool NodeContext::HasAttr(absl::string_view name) const { return FindAttr(name) != nullptr; }

namespace {

absl::Status AttrTypeError(const onnx::AttributeProto& a, absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(
      "attribute '", a.name(), "' has type ",
      onnx::AttributeProto::AttributeType_Name(a.type()), ", expected ", expected));
}

// ONNX writers before IR version 3 may leave `type` unset; the filled field decides then.
bool IsType(const onnx::AttributeProto& a, onnx::AttributeProto::AttributeType type,
            bool has_value) {
  return a.type() == type || (a.type() == onnx::AttributeProto::UNDEFINED && has_value);
}

}  // namespace

absl::StatusOr<int64_t> NodeContext::Int(absl::string_view name, int64_t default_value) {
  handled_.insert(std::string(name));
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return default_value;
  if (!IsType(*a, onnx::AttributeProto::INT, a->has_i())) return AttrTypeError(*a, "INT");
  return a->i();
}

absl::StatusOr<int64_t> NodeContext::RequiredInt(absl::string_view name) {
  if (!HasAttr(name)) {
    return absl::InvalidArgumentError(absl::StrCat("attribute '", name, "' is required"));
  }
  return Int(name, 0);
}

absl::StatusOr<double> NodeContext::Float(absl::string_view name, double default_value) {
  handled_.insert(std::string(name));
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return default_value;
  if (!IsType(*a, onnx::AttributeProto::FLOAT, a->has_f())) return AttrTypeError(*a, "FLOAT");
  return static_cast<double>(a->f());
}

absl::StatusOr<std::string> NodeContext::String(absl::string_view name,
                                                absl::string_view default_value) {
  handled_.insert(std::string(name));
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return std::string(default_value);
  if (!IsType(*a, onnx::AttributeProto::STRING, a->has_s())) return AttrTypeError(*a, "STRING");
  return a->s();
}

absl::StatusOr<std::vector<int64_t>> NodeContext::Ints(absl::string_view name,
                                                       std::vector<int64_t> default_value) {
  handled_.insert(std::string(name));
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return default_value;
  if (!IsType(*a, onnx::AttributeProto::INTS, a->ints_size() > 0)) return AttrTypeError(*a, "INTS");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

absl::StatusOr<std::vector<double>> NodeContext::Floats(absl::string_view name) {
  handled_.insert(std::string(name));
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return std::vector<double>{};
  if (!IsType(*a, onnx::AttributeProto::FLOATS, a->floats_size() > 0)) {
    return AttrTypeError(*a, "FLOATS");
  }
  return std::vector<double>(a->floats().begin(), a->floats().end());
}

absl::StatusOr<std::optional<Tensor>> NodeContext::TensorAttr(absl::string_view name) {
  handled_.insert(std::string(name));
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return std::optional<Tensor>();
  if (!IsType(*a, onnx::AttributeProto::TENSOR, a->has_t())) return AttrTypeError(*a, "TENSOR");
  ASSIGN_OR_RETURN(Tensor t, TensorFromOnnx(a->t(), state_.options().external_data_dir,
                                            absl::StrCat("attribute '", name, "'")));
  return std::optional<Tensor>(std::move(t));
}

std::vector<std::string> NodeContext::UnhandledAttrs() const {
  std::vector<std::string> names;
  for (const onnx::AttributeProto& a : node_.attribute()) {
    if (handled_.find(a.name()) == handled_.end()) names.push_back(a.name());
  }
  return names;
}

absl::Status NodeContext::SetOutput(int i, TensorRef ref) {
  if (i >= node_.output_size()) {
    return absl::InternalError(absl::StrCat("converter set output ", i, " of ", node_.output_size()));
  }
  if (!node_.output(i).empty()) state_.Bind(node_.output(i), ref);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TensorRef>> NodeContext::EmitMulti(absl::string_view op,
                                                              const std::vector<TensorRef>& inputs,
                                                              AttrMap attrs) {
  Node node;
  // The first Kiln node keeps the ONNX node's name; helpers get "name/op".
  node.name = state_.UniqueName(
      state_.graph().FindNode(name_) ? absl::StrCat(name_, "/", Lower(op)) : name_);
  node.op = std::string(op);
  node.inputs = inputs;
  node.attrs = std::move(attrs);
  return state_.Add(std::move(node));
}

absl::StatusOr<TensorRef> NodeContext::Emit(absl::string_view op,
                                            const std::vector<TensorRef>& inputs, AttrMap attrs) {
  ASSIGN_OR_RETURN(std::vector<TensorRef> outputs, EmitMulti(op, inputs, std::move(attrs)));
  if (outputs.size() != 1) {
    return absl::InternalError(absl::StrCat("Kiln op ", op, " has ", outputs.size(), " outputs"));
  }
  return outputs[0];
}

absl::StatusOr<TensorRef> NodeContext::Constant(Tensor value) {
  std::string base = state_.graph().FindNode(name_) ? absl::StrCat(name_, "/const") : name_;
  return state_.AddConstant(base, std::move(value));
}

absl::StatusOr<TensorRef> NodeContext::Scalar(DataType dtype, double value) {
  ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(dtype, Shape{}));
  t.SetFromDouble(0, value);
  return Constant(std::move(t));
}

int64_t NodeContext::max_constant_elements() const {
  return state_.options().max_folded_elements;
}

absl::StatusOr<Tensor> NodeContext::AllocateConstant(DataType dtype, const Shape& shape) const {
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) return absl::InvalidArgumentError(valid.message());
  if (!shape.IsFullyKnown() || shape.NumElements() > max_constant_elements()) {
    return absl::UnimplementedError(absl::StrCat("a constant of shape ", shape.ToString(),
                                                 " exceeds the import limit of ",
                                                 max_constant_elements(), " elements"));
  }
  return Tensor::Allocate(dtype, shape);
}

absl::StatusOr<TensorRef> NodeContext::Int64s(const std::vector<int64_t>& values) {
  return Constant(Tensor::I64(Shape{static_cast<int64_t>(values.size())}, values));
}

absl::Status NodeContext::Unsupported(absl::string_view what) {
  return absl::UnimplementedError(what);
}

// ---------------------------------------------------------------------------- op table

const OpConverter* FindConverter(absl::string_view op_type, int64_t opset) {
  for (const OpConverter& c : OpTable()) {
    if (c.op_type == op_type && opset >= c.first_opset && opset <= c.last_opset) return &c;
  }
  return nullptr;
}

namespace {

// ------------------------------------------------------------------------------ driver

struct ModelInfo {
  int64_t opset = 0;
};

absl::StatusOr<ModelInfo> CheckModel(const onnx::ModelProto& model) {
  ModelInfo info;
  bool found = false;
  for (const onnx::OperatorSetIdProto& op_set : model.opset_import()) {
    if (op_set.domain().empty() || op_set.domain() == "ai.onnx") {
      info.opset = op_set.version();
      found = true;
    }
  }
  // A model of other domains only (training ops) has no default opset; its nodes are
  // then reported as unsupported domains, and a default-domain node is an error.
  if (found && (info.opset > kOnnxMaxOpset || info.opset < kOnnxMinOpset)) {
    return absl::UnimplementedError(absl::StrCat("the model uses ONNX opset ", info.opset,
                                                 "; Kiln imports opsets ", kOnnxMinOpset, " to ",
                                                 kOnnxMaxOpset));
  }
  if (!model.has_graph()) return absl::InvalidArgumentError("the model has no graph");
  if (model.graph().sparse_initializer_size() > 0) {
    return absl::UnimplementedError("sparse initializers are not supported");
  }
  return info;
}

absl::StatusOr<TensorType> ValueInfoType(const onnx::ValueInfoProto& info, absl::string_view what) {
  const onnx::TypeProto& type = info.type();
  if (!type.has_tensor_type()) {
    const char* kind = type.has_sequence_type()        ? "a sequence"
                       : type.has_map_type()           ? "a map"
                       : type.has_optional_type()      ? "an optional"
                       : type.has_sparse_tensor_type() ? "a sparse tensor"
                                                       : "of no tensor type";
    return absl::UnimplementedError(absl::StrCat(what, " '", info.name(), "' is ", kind,
                                                 "; Kiln imports dense tensors only"));
  }
  absl::StatusOr<DataType> dtype = DataTypeFromOnnx(type.tensor_type().elem_type());
  if (!dtype.ok()) {
    return absl::Status(dtype.status().code(), absl::StrCat(what, " '", info.name(), "': ",
                                                            dtype.status().message()));
  }
  if (!type.tensor_type().has_shape()) {
    return absl::UnimplementedError(absl::StrCat(what, " '", info.name(),
                                                 "' has no shape (unknown rank)"));
  }
  std::vector<int64_t> dims;
  for (const onnx::TensorShapeProto::Dimension& d : type.tensor_type().shape().dim()) {
    if (d.has_dim_value()) {
      if (d.dim_value() < 0) {
        return absl::InvalidArgumentError(absl::StrCat(what, " '", info.name(),
                                                       "' has dimension ", d.dim_value()));
      }
      dims.push_back(d.dim_value());
    } else {
      dims.push_back(kUnknownDim);  // dim_param (symbolic) or unset
    }
  }
  Shape shape(std::move(dims));
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", info.name(), "': ", valid.message()));
  }
  return TensorType{*dtype, std::move(shape)};
}

// A graph output must be a dense tensor; a declared element type must be the computed
// one (a mismatch means a converter or the model is wrong). Declared shapes are not
// checked: exporters often leave them partial.
absl::Status CheckOutputType(const onnx::ValueInfoProto& out, const TensorType& computed) {
  const onnx::TypeProto& type = out.type();
  if (type.value_case() != onnx::TypeProto::VALUE_NOT_SET && !type.has_tensor_type()) {
    return ValueInfoType(out, "graph output").status();
  }
  if (type.has_tensor_type() && type.tensor_type().elem_type() != onnx::TensorProto::UNDEFINED) {
    absl::StatusOr<DataType> declared = DataTypeFromOnnx(type.tensor_type().elem_type());
    if (!declared.ok()) {
      return absl::Status(declared.status().code(), absl::StrCat("graph output '", out.name(), "': ",
                                                                 declared.status().message()));
    }
    if (*declared != computed.dtype) {
      return absl::InvalidArgumentError(absl::StrCat("graph output '", out.name(), "' is declared ",
                                                     DataTypeName(*declared), " but computes ",
                                                     computed.ToString()));
    }
  }
  return absl::OkStatus();
}

std::string NodeLabel(const onnx::NodeProto& node) {
  if (!node.name().empty()) return node.name();
  if (node.output_size() > 0 && !node.output(0).empty()) return node.output(0);
  return node.op_type();
}

std::string OpLabel(const onnx::NodeProto& node) {
  if (node.domain().empty() || node.domain() == "ai.onnx") return node.op_type();
  return absl::StrCat(node.domain(), ".", node.op_type());
}

// The reason `node` has no converter at `opset`.
std::string NoConverterReason(const onnx::NodeProto& node, int64_t opset) {
  if (!node.domain().empty() && node.domain() != "ai.onnx") {
    return absl::StrCat("ops of domain '", node.domain(), "' are not supported");
  }
  std::vector<std::string> ranges;
  for (const OpConverter& c : OpTable()) {
    if (c.op_type == node.op_type()) ranges.push_back(absl::StrCat(c.first_opset, "-", c.last_opset));
  }
  if (ranges.empty()) return absl::StrCat("op ", node.op_type(), " is not supported");
  return absl::StrCat("op ", node.op_type(), " is supported at opsets ",
                      absl::StrJoin(ranges, ", "), ", not at opset ", opset);
}

// Keeps the nodes the outputs depend on, and every Input; renumbers references.
absl::StatusOr<Graph> SweepDeadNodes(const Graph& graph) {
  std::vector<bool> live(graph.num_nodes(), false);
  std::vector<int> stack;
  for (const GraphOutput& out : graph.outputs()) stack.push_back(out.tensor.node);
  for (int id : graph.inputs()) stack.push_back(id);
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    if (live[n]) continue;
    live[n] = true;
    for (const TensorRef& in : graph.node(n).inputs) stack.push_back(in.node);
  }
  Graph out;
  out.set_opset_version(graph.opset_version());
  std::vector<int> remap(graph.num_nodes(), -1);
  for (int i = 0; i < graph.num_nodes(); ++i) {
    if (!live[i]) continue;
    Node node = graph.node(i);
    for (TensorRef& in : node.inputs) in.node = remap[in.node];
    ASSIGN_OR_RETURN(remap[i], out.AddNode(std::move(node)));
  }
  for (int id : graph.inputs()) out.inputs().push_back(remap[id]);
  for (const GraphOutput& o : graph.outputs()) {
    out.outputs().push_back(GraphOutput{o.name, TensorRef{remap[o.tensor.node], o.tensor.output}});
  }
  return out;
}

// live[i]: some graph output depends on node i.
std::vector<bool> LiveNodes(const onnx::GraphProto& g) {
  absl::flat_hash_map<std::string, int> producer;
  for (int i = 0; i < g.node_size(); ++i) {
    for (const std::string& out : g.node(i).output()) {
      if (!out.empty()) producer[out] = i;
    }
  }
  std::vector<bool> live(g.node_size(), false);
  std::vector<int> stack;
  auto visit = [&](const std::string& name) {
    auto it = producer.find(name);
    if (it != producer.end() && !live[it->second]) {
      live[it->second] = true;
      stack.push_back(it->second);
    }
  };
  for (const onnx::ValueInfoProto& out : g.output()) visit(out.name());
  while (!stack.empty()) {
    const int n = stack.back();
    stack.pop_back();
    for (const std::string& in : g.node(n).input()) visit(in);
  }
  return live;
}

class Importer {
 public:
  Importer(const onnx::ModelProto& model, const OnnxImportOptions& options,
           std::vector<OnnxUnsupportedNode>* report)
      : model_(model), options_(options), state_(options), report_(report) {}

  absl::StatusOr<Graph> Run() {
    ASSIGN_OR_RETURN(ModelInfo info, CheckModel(model_));
    opset_ = info.opset;
    const onnx::GraphProto& g = model_.graph();
    RETURN_IF_ERROR(AddInitializers(g));
    RETURN_IF_ERROR(AddInputs(g));
    // Nodes no graph output depends on are skipped, as ONNX Runtime's graph
    // optimizations remove them: they cannot change a result.
    const std::vector<bool> live = LiveNodes(g);
    for (int i = 0; i < g.node_size(); ++i) {
      if (live[i]) RETURN_IF_ERROR(ConvertNode(g.node(i)));
    }
    if (report_ != nullptr) return Graph();
    for (const onnx::ValueInfoProto& out : g.output()) {
      std::optional<TensorRef> ref = state_.Lookup(out.name());
      if (!ref) {
        return absl::InvalidArgumentError(
            absl::StrCat("graph output '", out.name(), "' is not produced by any node"));
      }
      RETURN_IF_ERROR(CheckOutputType(out, state_.graph().type(*ref)));
      state_.graph().outputs().push_back(GraphOutput{out.name(), *ref});
    }
    ASSIGN_OR_RETURN(Graph graph, SweepDeadNodes(state_.graph()));
    RETURN_IF_ERROR(VerifyGraph(graph));
    return graph;
  }

 private:
  absl::Status AddInitializers(const onnx::GraphProto& g) {
    for (const onnx::TensorProto& init : g.initializer()) {
      if (init.name().empty()) return absl::InvalidArgumentError("an initializer has no name");
      std::string what = absl::StrCat("initializer '", init.name(), "'");
      ASSIGN_OR_RETURN(Tensor t, TensorFromOnnx(init, options_.external_data_dir, what));
      ASSIGN_OR_RETURN(TensorRef ref,
                       state_.AddConstant(NodeName(init.name(), "initializer"), std::move(t)));
      state_.Bind(init.name(), ref);
    }
    return absl::OkStatus();
  }

  absl::Status AddInputs(const onnx::GraphProto& g) {
    for (const onnx::ValueInfoProto& input : g.input()) {
      // An initializer listed as an input is a constant (a default value under IR < 4).
      if (state_.Lookup(input.name())) continue;
      absl::StatusOr<TensorType> declared = ValueInfoType(input, "graph input");
      auto bound = options_.input_shapes.find(input.name());
      if (declared.ok() && bound != options_.input_shapes.end()) {
        RETURN_IF_ERROR(BindShape(input.name(), bound->second, declared->shape));
      }
      if (!declared.ok() && report_ != nullptr &&
          declared.status().code() == absl::StatusCode::kUnimplemented) {
        report_->push_back(OnnxUnsupportedNode{input.name(), "graph input", opset_,
                                               std::string(declared.status().message())});
        poisoned_.insert(input.name());
        continue;
      }
      RETURN_IF_ERROR(declared.status());
      const TensorType& type = *declared;
      auto frozen = options_.frozen_inputs.find(input.name());
      if (frozen != options_.frozen_inputs.end()) {
        const Tensor& value = frozen->second;
        bool fits = value.dtype() == type.dtype && value.shape().rank() == type.shape.rank();
        for (int d = 0; fits && d < type.shape.rank(); ++d) {
          fits = type.shape.dim(d) == kUnknownDim || type.shape.dim(d) == value.shape().dim(d);
        }
        if (!fits) {
          return absl::InvalidArgumentError(absl::StrCat(
              "frozen input '", input.name(), "' is ", value.TypeString(), ", declared ",
              type.ToString()));
        }
        ASSIGN_OR_RETURN(TensorRef ref, state_.AddConstant(NodeName(input.name(), "input"), value));
        state_.Bind(input.name(), ref);
        continue;
      }
      Node node;
      node.name = NodeName(input.name(), "input");
      node.op = "Input";
      node.attrs["dtype"] = type.dtype;
      node.attrs["shape"] = type.shape.dims();
      ASSIGN_OR_RETURN(std::vector<TensorRef> refs, state_.Add(std::move(node)));
      state_.graph().inputs().push_back(refs[0].node);
      state_.AddGraphInput(refs[0].node, input.name());
      state_.Bind(input.name(), refs[0]);
    }
    return absl::OkStatus();
  }

  // Replaces a declared shape by `shape`: same rank, and equal wherever declared known.
  static absl::Status BindShape(const std::string& name, const Shape& shape, Shape& declared) {
    bool fits = shape.rank() == declared.rank();
    for (int d = 0; fits && d < shape.rank(); ++d) {
      fits = shape.dim(d) >= kUnknownDim &&
             (declared.dim(d) == kUnknownDim || declared.dim(d) == shape.dim(d));
    }
    if (!fits) {
      return absl::InvalidArgumentError(absl::StrCat("input shape ", shape.ToString(), " for '",
                                                     name, "' does not fit its declared shape ",
                                                     declared.ToString()));
    }
    declared = shape;
    return absl::OkStatus();
  }

  std::string NodeName(absl::string_view onnx_name, absl::string_view fallback) {
    std::string base = SanitizeName(onnx_name);
    return state_.UniqueName(base.empty() ? std::string(fallback) : base);
  }

  void Report(const onnx::NodeProto& node, absl::string_view reason) {
    report_->push_back(OnnxUnsupportedNode{NodeLabel(node), OpLabel(node), opset_,
                                           std::string(reason)});
  }

  absl::Status ConvertNode(const onnx::NodeProto& node) {
    const std::string prefix = absl::StrCat("node '", NodeLabel(node), "' (", OpLabel(node),
                                            ", opset ", opset_, "): ");
    const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
    if (default_domain && opset_ == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "the model imports no opset of the default ONNX domain"));
    }
    const OpConverter* converter = default_domain ? FindConverter(node.op_type(), opset_) : nullptr;
    // In report mode, nodes fed by an unconverted node are only checked against the table.
    bool poisoned = false;
    for (const std::string& in : node.input()) {
      if (in.empty() || state_.Lookup(in)) continue;
      if (report_ != nullptr && poisoned_.contains(in)) {
        poisoned = true;
        continue;
      }
      return absl::InvalidArgumentError(absl::StrCat(
          prefix, "input '", in, "' is not a graph input, an initializer or an earlier node's output"));
    }
    absl::Status status;
    if (converter == nullptr) {
      status = absl::UnimplementedError(NoConverterReason(node, opset_));
    } else if (poisoned) {
      for (const std::string& out : node.output()) poisoned_.insert(out);
      return absl::OkStatus();
    } else {
      status = RunConverter(node, *converter);
    }
    if (status.ok()) return status;
    if (report_ != nullptr && status.code() == absl::StatusCode::kUnimplemented) {
      Report(node, status.message());
      for (const std::string& out : node.output()) poisoned_.insert(out);
      return absl::OkStatus();
    }
    return Prefix(status, prefix);
  }

  absl::Status RunConverter(const onnx::NodeProto& node, const OpConverter& converter) {
    std::string base = SanitizeName(NodeLabel(node));
    if (base.empty()) base = Lower(node.op_type());
    NodeContext ctx(state_, node, converter, opset_, state_.UniqueName(base));
    RETURN_IF_ERROR(converter.convert(ctx));
    std::vector<std::string> unhandled = ctx.UnhandledAttrs();
    if (!unhandled.empty()) {
      return absl::UnimplementedError(absl::StrCat(
          "attribute", unhandled.size() > 1 ? "s '" : " '", absl::StrJoin(unhandled, "', '"),
          "' ", unhandled.size() > 1 ? "are" : "is", " not supported"));
    }
    for (int i = 0; i < node.output_size(); ++i) {
      if (!node.output(i).empty() && !state_.Lookup(node.output(i))) {
        return absl::UnimplementedError(
            absl::StrCat("output ", i, " ('", node.output(i), "') is not supported"));
      }
    }
    return absl::OkStatus();
  }

  const onnx::ModelProto& model_;
  const OnnxImportOptions& options_;
  ImportState state_;
  std::vector<OnnxUnsupportedNode>* report_;
  absl::flat_hash_set<std::string> poisoned_;
  int64_t opset_ = 0;
};

}  // namespace
}  // namespace onnx_import

absl::StatusOr<onnx::ModelProto> ReadOnnxModel(const std::string& path) {
  // The file is mapped and parsed in place: large models are mostly weights, and on these
  // machines each fresh copy of them costs more than the parse (first touch of new pages).
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > std::numeric_limits<int>::max()) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is not a regular file under 2 GiB "
                                                   "(larger models keep weights as external data)"));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* data = size == 0 ? nullptr : mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (data == MAP_FAILED) return absl::DataLossError(absl::StrCat("reading '", path, "' failed"));
  onnx::ModelProto model;
  const bool parsed = model.ParseFromArray(data, static_cast<int>(size));
  if (data != nullptr) munmap(data, size);
  if (!parsed) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is not an ONNX model (ModelProto)"));
  }
  return model;
}

namespace {

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

absl::StatusOr<Graph> ImportOnnx(const std::string& path, const OnnxImportOptions& options) {
  ASSIGN_OR_RETURN(onnx::ModelProto model, ReadOnnxModel(path));
  OnnxImportOptions resolved = options;
  if (resolved.external_data_dir.empty()) resolved.external_data_dir = DirectoryOf(path);
  return ImportOnnxModel(model, resolved);
}

absl::StatusOr<Graph> ImportOnnxFromBytes(absl::string_view bytes,
                                          const OnnxImportOptions& options) {
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("the bytes are not an ONNX model (ModelProto)");
  }
  return ImportOnnxModel(model, options);
}

absl::StatusOr<Graph> ImportOnnxModel(const onnx::ModelProto& model,
                                      const OnnxImportOptions& options) {
  onnx_import::Importer importer(model, options, nullptr);
  return importer.Run();
}

absl::StatusOr<std::vector<OnnxUnsupportedNode>> ListUnsupportedOnnxNodes(
    const onnx::ModelProto& model, const OnnxImportOptions& options) {
  std::vector<OnnxUnsupportedNode> report;
  onnx_import::Importer importer(model, options, &report);
  absl::StatusOr<Graph> graph = importer.Run();
  if (!graph.ok()) return graph.status();
  return report;
}

std::vector<std::string> OnnxSupportedOps() {
  std::vector<std::string> lines;
  for (const onnx_import::OpConverter& c : onnx_import::OpTable()) {
    lines.push_back(absl::StrCat(c.op_type, " opsets ", c.first_opset, "-", c.last_opset));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace kiln
