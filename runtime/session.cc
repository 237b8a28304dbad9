#include "runtime/session.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "graph/bind_shapes.h"
#include "graph/status_macros.h"
#include "graph/verifier.h"
#include "runtime/reference_interpreter.h"

namespace kiln {

absl::StatusOr<std::unique_ptr<Session>> Session::Create(const proto::GraphDef& def,
                                                         const SessionOptions& options,
                                                         const ImportOptions& import) {
  ImportOptions verified = import;
  verified.verify = true;
  ASSIGN_OR_RETURN(Graph graph, GraphFromProto(def, verified));
  return std::unique_ptr<Session>(new Session(std::move(graph), options));
}

absl::StatusOr<std::unique_ptr<Session>> Session::Create(Graph graph,
                                                         const SessionOptions& options) {
  RETURN_IF_ERROR(VerifyGraph(graph));
  if (options.num_threads < 0) {
    return absl::InvalidArgumentError("SessionOptions.num_threads must be >= 0");
  }
  return std::unique_ptr<Session>(new Session(std::move(graph), options));
}

absl::StatusOr<TensorRef> Session::ResolveFetch(const std::string& fetch) const {
  for (const GraphOutput& out : graph_.outputs()) {
    if (out.name == fetch) return out.tensor;
  }
  absl::StatusOr<TensorRef> ref = graph_.ParseTensorName(fetch);
  if (!ref.ok() || ref->output >= static_cast<int>(graph_.node(ref->node).outputs.size())) {
    return absl::NotFoundError(
        absl::StrCat("fetch '", fetch, "' is neither a graph output nor a tensor of the graph"));
  }
  return *ref;
}

absl::StatusOr<std::vector<Tensor>> Session::Run(const Feeds& feeds,
                                                 const std::vector<std::string>& fetches) const {
  absl::flat_hash_map<std::string, Shape> shapes;
  absl::flat_hash_map<int, Tensor> by_node;
  for (const auto& [name, tensor] : feeds) {
    std::optional<int> id = graph_.FindNode(name);
    if (!id || graph_.node(*id).op != "Input") {
      return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' is not a graph input"));
    }
    if (by_node.contains(*id)) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' is given twice"));
    }
    const Node& input = graph_.node(*id);
    DataType declared = input.attr<DataType>("dtype");
    if (!tensor.valid() || tensor.dtype() != declared) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", name, "': dtype ",
                                                     DataTypeName(tensor.dtype()), ", expected ",
                                                     DataTypeName(declared)));
    }
    if (tensor.raw_data() == nullptr && tensor.NumElements() > 0) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' has no data"));
    }
    RETURN_IF_ERROR(CheckInputShape(input, tensor.shape()));
    shapes[name] = tensor.shape();
    by_node[*id] = tensor;
  }
  for (int id : graph_.inputs()) {
    if (!by_node.contains(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", graph_.node(id).name, "' is not fed"));
    }
  }
  std::vector<TensorRef> refs;
  refs.reserve(fetches.size());
  for (const std::string& fetch : fetches) {
    ASSIGN_OR_RETURN(TensorRef ref, ResolveFetch(fetch));
    refs.push_back(ref);
  }
  ASSIGN_OR_RETURN(Graph bound, BindInputShapes(graph_, shapes));
  return EvaluateReference(bound, by_node, refs);
}

absl::StatusOr<std::vector<Tensor>> Session::Run(const Feeds& feeds) const {
  std::vector<std::string> fetches;
  for (const GraphOutput& out : graph_.outputs()) fetches.push_back(out.name);
  return Run(feeds, fetches);
}

}  // namespace kiln
