// The reference evaluation loop: topological order, one reference kernel per node.
#include "graph/evaluate.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "graph/fusion.h"
#include "graph/op_registry.h"
#include "graph/shape_inference.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

// Marks the nodes that `fetches` transitively depend on.
std::vector<bool> NeededNodes(const Graph& graph, absl::Span<const TensorRef> fetches) {
  std::vector<bool> needed(graph.num_nodes(), false);
  std::vector<int> stack;
  for (const TensorRef& f : fetches) stack.push_back(f.node);
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    if (needed[n]) continue;
    needed[n] = true;
    for (const TensorRef& in : graph.node(n).inputs) stack.push_back(in.node);
  }
  return needed;
}

absl::Status WithPrefix(const Node& node, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(NodeErrorPrefix(node), status.message()));
}

}  // namespace

absl::StatusOr<std::vector<Tensor>> EvaluateNode(const Node& node,
                                                 absl::Span<const Tensor> inputs) {
  const OpDef* def = node.def != nullptr ? node.def : OpRegistry::Global().Find(node.op);
  if (def == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(NodeErrorPrefix(node), "unknown op"));
  }
  if (inputs.size() != node.inputs.size()) {
    return absl::InvalidArgumentError(absl::StrCat(NodeErrorPrefix(node), "given ",
                                                   inputs.size(), " inputs, expected ",
                                                   node.inputs.size()));
  }
  std::vector<Tensor> outputs;
  outputs.reserve(node.outputs.size());
  for (const TensorType& type : node.outputs) {
    absl::StatusOr<Tensor> t = Tensor::Allocate(type.dtype, type.shape);
    if (!t.ok()) return WithPrefix(node, t.status());
    outputs.push_back(*std::move(t));
  }
  absl::Status status = RunReference(node, inputs, absl::MakeSpan(outputs));
  if (!status.ok()) return WithPrefix(node, status);
  return outputs;
}

absl::Status RunReference(const Node& node, absl::Span<const Tensor> inputs,
                          absl::Span<Tensor> outputs) {
  const OpDef* def = node.def != nullptr ? node.def : OpRegistry::Global().Find(node.op);
  if (def == nullptr) return absl::InvalidArgumentError("unknown op");
  if (!def->structural) {
    KernelContext ctx{node, inputs, outputs};
    return def->reference(ctx);
  }
  // Fusion: evaluate the body bound to these inputs.
  const Graph* body = FusionBody(node);
  if (body == nullptr) return absl::InvalidArgumentError("attribute 'body' is empty");
  std::vector<TensorType> types;
  for (const Tensor& t : inputs) types.push_back({t.dtype(), t.shape()});
  ASSIGN_OR_RETURN(Graph bound, BindFusionBody(*body, types));
  absl::flat_hash_map<int, Tensor> feeds;
  for (size_t i = 0; i < inputs.size(); ++i) feeds[bound.inputs()[i]] = inputs[i];
  std::vector<TensorRef> fetches;
  for (const GraphOutput& out : bound.outputs()) fetches.push_back(out.tensor);
  ASSIGN_OR_RETURN(std::vector<Tensor> results, EvaluateGraph(bound, feeds, fetches));
  if (results.size() != outputs.size()) {
    return absl::InternalError("the fusion body's outputs differ from the node's");
  }
  for (size_t k = 0; k < results.size(); ++k) {
    if (results[k].ByteSize() != outputs[k].ByteSize()) {
      return absl::InternalError("fusion body output size differs from the node's output");
    }
    if (results[k].ByteSize() > 0) {
      std::memcpy(outputs[k].raw_data(), results[k].raw_data(), results[k].ByteSize());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Tensor>> EvaluateGraph(const Graph& graph,
                                                  const absl::flat_hash_map<int, Tensor>& feeds,
                                                  absl::Span<const TensorRef> fetches) {
  for (const TensorRef& f : fetches) {
    if (f.node < 0 || f.node >= graph.num_nodes() || f.output < 0 ||
        f.output >= static_cast<int>(graph.node(f.node).outputs.size())) {
      return absl::InvalidArgumentError("fetch refers to a missing tensor");
    }
  }
  ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
  std::vector<bool> needed = NeededNodes(graph, fetches);
  std::vector<std::vector<Tensor>> values(graph.num_nodes());

  for (int id : order) {
    if (!needed[id]) continue;
    const Node& node = graph.node(id);
    if (node.op == "Input") {
      auto it = feeds.find(id);
      if (it == feeds.end()) {
        return absl::InvalidArgumentError(absl::StrCat("input '", node.name, "' is not fed"));
      }
      values[id] = {it->second};
      continue;
    }
    std::vector<Tensor> inputs;
    inputs.reserve(node.inputs.size());
    for (const TensorRef& in : node.inputs) inputs.push_back(values[in.node][in.output]);
    ASSIGN_OR_RETURN(values[id], EvaluateNode(node, inputs));
  }

  std::vector<Tensor> results;
  results.reserve(fetches.size());
  for (const TensorRef& f : fetches) results.push_back(values[f.node][f.output].Clone());
  return results;
}

}  // namespace kiln
