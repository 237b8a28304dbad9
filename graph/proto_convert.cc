#include "graph/proto_convert.h"

#include <fstream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "graph/shape_inference.h"
#include "base/status_macros.h"
#include "graph/verifier.h"

namespace kiln {
namespace {

// External data must stay inside the graph's directory: no absolute paths, no "..".
absl::Status CheckExternalLocation(absl::string_view location, absl::string_view what) {
  if (location.empty() || location[0] == '/' || absl::StrContains(location, "..") ||
      absl::StrContains(location, absl::string_view("\0", 1))) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": external data location '", location, "' must be a relative path inside the graph's directory"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Tensor> ReadExternal(const proto::ExternalData& ext, DataType dtype,
                                    const Shape& shape, const std::string& dir,
                                    absl::string_view what) {
  if (dir.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": external data needs the graph's directory (load it from a file)"));
  }
  RETURN_IF_ERROR(CheckExternalLocation(ext.location(), what));
  ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(dtype, shape));
  if (ext.offset() < 0 || ext.length() != t.ByteSize()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": external data length ", ext.length(),
                                                   " at offset ", ext.offset(), ", expected ",
                                                   t.ByteSize(), " bytes for ", t.TypeString()));
  }
  std::string path = absl::StrCat(dir, "/", ext.location());
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(what, ": cannot open external data '", path, "'"));
  in.seekg(0, std::ios::end);
  int64_t file_size = static_cast<int64_t>(in.tellg());
  if (ext.offset() > file_size || file_size - ext.offset() < ext.length()) {
    return absl::OutOfRangeError(absl::StrCat(what, ": external data '", ext.location(),
                                              "' is ", file_size, " bytes, too short for ",
                                              ext.length(), " bytes at offset ", ext.offset()));
  }
  in.seekg(ext.offset());
  in.read(static_cast<char*>(t.raw_data()), ext.length());
  if (!in) return absl::DataLossError(absl::StrCat(what, ": reading '", path, "' failed"));
  return t;
}

absl::StatusOr<AttrValue> AttrFromProto(const proto::AttrValue& a, const std::string& dir,
                                        absl::string_view what) {
  if (a.value_case() == proto::AttrValue::kGraph) {
    // Bodies are verified on import like any graph; protobuf's parser bounds the nesting.
    ImportOptions body_options;
    body_options.external_data_dir = dir;
    absl::StatusOr<Graph> body = GraphFromProto(a.graph(), body_options);
    if (!body.ok()) {
      return absl::Status(body.status().code(),
                          absl::StrCat(what, ": subgraph: ", body.status().message()));
    }
    return AttrValue(std::make_shared<const Graph>(*std::move(body)));
  }
  switch (a.value_case()) {
    case proto::AttrValue::kI: return AttrValue(a.i());
    case proto::AttrValue::kF: return AttrValue(a.f());
    case proto::AttrValue::kS: return AttrValue(a.s());
    case proto::AttrValue::kB: return AttrValue(a.b());
    case proto::AttrValue::kInts:
      return AttrValue(std::vector<int64_t>(a.ints().values().begin(), a.ints().values().end()));
    case proto::AttrValue::kFloats:
      return AttrValue(
          std::vector<double>(a.floats().values().begin(), a.floats().values().end()));
    case proto::AttrValue::kStrings:
      return AttrValue(
          std::vector<std::string>(a.strings().values().begin(), a.strings().values().end()));
    case proto::AttrValue::kDtype: {
      ASSIGN_OR_RETURN(DataType t, DataTypeFromProto(a.dtype()));
      return AttrValue(t);
    }
    case proto::AttrValue::kTensor: {
      ASSIGN_OR_RETURN(Tensor t, TensorFromProto(a.tensor(), dir, what));
      return AttrValue(std::move(t));
    }
    case proto::AttrValue::kGraph:  // handled above
    case proto::AttrValue::VALUE_NOT_SET: break;
  }
  return absl::InvalidArgumentError(absl::StrCat(what, ": attribute has no value"));
}

absl::Status AttrToProto(const AttrValue& value, proto::AttrValue* out) {
  switch (TypeOf(value)) {
    case AttrType::kInt: out->set_i(std::get<int64_t>(value)); break;
    case AttrType::kFloat: out->set_f(std::get<double>(value)); break;
    case AttrType::kString: out->set_s(std::get<std::string>(value)); break;
    case AttrType::kBool: out->set_b(std::get<bool>(value)); break;
    case AttrType::kInts:
      for (int64_t v : std::get<std::vector<int64_t>>(value)) out->mutable_ints()->add_values(v);
      out->mutable_ints();
      break;
    case AttrType::kFloats:
      for (double v : std::get<std::vector<double>>(value)) out->mutable_floats()->add_values(v);
      out->mutable_floats();
      break;
    case AttrType::kStrings:
      for (const auto& v : std::get<std::vector<std::string>>(value)) {
        out->mutable_strings()->add_values(v);
      }
      out->mutable_strings();
      break;
    case AttrType::kDType:
      out->set_dtype(static_cast<proto::DataType>(std::get<DataType>(value)));
      break;
    case AttrType::kTensor: *out->mutable_tensor() = TensorToProto(std::get<Tensor>(value)); break;
    case AttrType::kGraph: {
      const GraphValue& graph = std::get<GraphValue>(value);
      if (graph == nullptr) return absl::InvalidArgumentError("graph attribute is empty");
      // Bodies are written inline: their constants are small (large ones are fusion inputs).
      ASSIGN_OR_RETURN(*out->mutable_graph(), GraphToProto(*graph));
      break;
    }
  }
  return absl::OkStatus();
}

// Splits "name" / "name:k" without a graph (producers may come later in the file).
absl::StatusOr<std::pair<std::string, int>> SplitTensorName(absl::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) return std::make_pair(std::string(text), 0);
  int output = 0;
  absl::string_view digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 6) {
    return absl::InvalidArgumentError(absl::StrCat("bad tensor reference '", text, "'"));
  }
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(absl::StrCat("bad tensor reference '", text, "'"));
    }
    output = output * 10 + (c - '0');
  }
  return std::make_pair(std::string(text.substr(0, colon)), output);
}

absl::StatusOr<TensorRef> ResolveRef(const Graph& graph, absl::string_view text,
                                     absl::string_view what) {
  auto split = SplitTensorName(text);
  if (!split.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", split.status().message()));
  std::optional<int> id = graph.FindNode(split->first);
  if (!id) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", text, "' names no node in the graph"));
  }
  return TensorRef{*id, split->second};
}

}  // namespace

absl::StatusOr<Tensor> TensorFromProto(const proto::TensorProto& proto,
                                       const std::string& external_data_dir,
                                       absl::string_view what) {
  absl::StatusOr<DataType> dtype = DataTypeFromProto(proto.dtype());
  if (!dtype.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": tensor ", dtype.status().message()));
  Shape shape(std::vector<int64_t>(proto.shape().begin(), proto.shape().end()));
  if (!shape.IsFullyKnown()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": tensor shape ", shape.ToString(), " has a negative dimension"));
  }
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": tensor ", valid.message()));
  if (proto.has_external()) {
    if (!proto.raw_data().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": tensor has both raw_data and external data"));
    }
    return ReadExternal(proto.external(), *dtype, shape, external_data_dir, what);
  }
  const std::string& raw = proto.raw_data();
  int64_t expected = shape.NumElements() * DataTypeSize(*dtype);
  if (static_cast<int64_t>(raw.size()) != expected) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": tensor ", DataTypeName(*dtype),
                                                   shape.ToString(), " needs ", expected,
                                                   " bytes of raw_data, got ", raw.size()));
  }
  return Tensor::FromBytes(*dtype, shape,
                           absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()),
                                                     raw.size()));
}

proto::TensorProto TensorToProto(const Tensor& tensor) {
  proto::TensorProto out;
  out.set_dtype(static_cast<proto::DataType>(tensor.dtype()));
  for (int64_t d : tensor.shape().dims()) out.add_shape(d);
  out.set_raw_data(static_cast<const char*>(tensor.raw_data()), tensor.ByteSize());
  return out;
}

absl::StatusOr<Graph> GraphFromProto(const proto::GraphDef& def, const ImportOptions& options) {
  Graph graph;
  graph.set_opset_version(def.opset_version());
  if (def.opset_version() < 0 || def.opset_version() > kOpsetVersion) {
    return absl::InvalidArgumentError(absl::StrCat("graph opset_version ", def.opset_version(),
                                                   " is not supported (this Kiln reads 0 to ",
                                                   kOpsetVersion, ")"));
  }
  // Nodes first, so inputs may refer to nodes declared later in the file.
  for (const proto::NodeDef& nd : def.node()) {
    Node node;
    node.name = nd.name();
    node.op = nd.op();
    for (const auto& [key, value] : nd.attr()) {
      std::string what = absl::StrCat("node '", nd.name(), "' (", nd.op(), "): attribute '", key, "'");
      ASSIGN_OR_RETURN(node.attrs[key], AttrFromProto(value, options.external_data_dir, what));
    }
    absl::StatusOr<int> id = graph.AddNode(std::move(node));
    if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat("node ", graph.num_nodes(), ": ", id.status().message()));
  }
  for (int i = 0; i < def.node_size(); ++i) {
    const proto::NodeDef& nd = def.node(i);
    for (int k = 0; k < nd.input_size(); ++k) {
      std::string what = absl::StrCat("node '", nd.name(), "' (", nd.op(), "): input ", k);
      ASSIGN_OR_RETURN(TensorRef ref, ResolveRef(graph, nd.input(k), what));
      graph.node(i).inputs.push_back(ref);
    }
  }
  for (const std::string& name : def.signature().inputs()) {
    std::optional<int> id = graph.FindNode(name);
    if (!id) {
      return absl::InvalidArgumentError(
          absl::StrCat("signature: input '", name, "' names no node in the graph"));
    }
    graph.inputs().push_back(*id);
  }
  for (const proto::OutputSpec& out : def.signature().outputs()) {
    std::string what = absl::StrCat("signature: output '", out.name(), "'");
    ASSIGN_OR_RETURN(TensorRef ref, ResolveRef(graph, out.tensor(), what));
    graph.outputs().push_back(GraphOutput{out.name(), ref});
  }
  if (options.verify) RETURN_IF_ERROR(VerifyGraph(graph));
  return graph;
}

absl::StatusOr<proto::GraphDef> GraphToProto(const Graph& graph, const ExportOptions& options) {
  proto::GraphDef def;
  def.set_opset_version(graph.opset_version());
  std::unique_ptr<std::ofstream> external;
  int64_t external_offset = 0;
  if (options.external_data_threshold > 0) {
    external = std::make_unique<std::ofstream>(options.external_data_path,
                                               std::ios::binary | std::ios::trunc);
    if (!*external) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot write external data '", options.external_data_path, "'"));
    }
  }
  for (const Node& node : graph.nodes()) {
    proto::NodeDef* nd = def.add_node();
    nd->set_name(node.name);
    nd->set_op(node.op);
    for (const TensorRef& in : node.inputs) nd->add_input(graph.TensorName(in));
    for (const auto& [key, value] : node.attrs) {
      proto::AttrValue& out = (*nd->mutable_attr())[key];
      const Tensor* tensor = std::get_if<Tensor>(&value);
      if (external && tensor != nullptr && tensor->ByteSize() >= options.external_data_threshold) {
        proto::TensorProto* tp = out.mutable_tensor();
        tp->set_dtype(static_cast<proto::DataType>(tensor->dtype()));
        for (int64_t d : tensor->shape().dims()) tp->add_shape(d);
        tp->mutable_external()->set_location(options.external_data_location);
        tp->mutable_external()->set_offset(external_offset);
        tp->mutable_external()->set_length(tensor->ByteSize());
        external->write(static_cast<const char*>(tensor->raw_data()), tensor->ByteSize());
        external_offset += tensor->ByteSize();
      } else {
        absl::Status status = AttrToProto(value, &out);
        if (!status.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(NodeErrorPrefix(node), "attribute '", key, "': ", status.message()));
        }
      }
    }
  }
  for (int id : graph.inputs()) def.mutable_signature()->add_inputs(graph.node(id).name);
  for (const GraphOutput& out : graph.outputs()) {
    proto::OutputSpec* spec = def.mutable_signature()->add_outputs();
    spec->set_name(out.name);
    spec->set_tensor(graph.TensorName(out.tensor));
  }
  if (external) {
    external->flush();
    if (!*external) {
      return absl::DataLossError(
          absl::StrCat("writing external data '", options.external_data_path, "' failed"));
    }
  }
  return def;
}

}  // namespace kiln
