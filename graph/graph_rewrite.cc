// Graph mutation utilities shared by the passes.
#include "graph/graph_rewrite.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "graph/op_registry.h"
#include "graph/shape_inference.h"
#include "base/status_macros.h"

namespace kiln {

int UseInfo::NumUses(const Graph& graph, TensorRef ref) const {
  int uses = 0;
  const std::vector<int>& readers = consumers[ref.node];
  for (size_t i = 0; i < readers.size(); ++i) {
    if (i > 0 && readers[i] == readers[i - 1]) continue;  // counted below, edge by edge
    for (const TensorRef& in : graph.node(readers[i]).inputs) uses += in == ref ? 1 : 0;
  }
  for (const GraphOutput& out : graph.outputs()) uses += out.tensor == ref ? 1 : 0;
  return uses;
}

std::vector<int> UseInfo::DistinctConsumers(int n) const {
  std::vector<int> distinct = consumers[n];
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  return distinct;
}

UseInfo ComputeUses(const Graph& graph) {
  UseInfo info;
  info.consumers.resize(graph.num_nodes());
  info.is_output.assign(graph.num_nodes(), false);
  for (int i = 0; i < graph.num_nodes(); ++i) {
    for (const TensorRef& in : graph.node(i).inputs) {
      if (in.node >= 0 && in.node < graph.num_nodes()) info.consumers[in.node].push_back(i);
    }
  }
  for (const GraphOutput& out : graph.outputs()) {
    if (out.tensor.node >= 0 && out.tensor.node < graph.num_nodes()) {
      info.is_output[out.tensor.node] = true;
    }
  }
  return info;
}

int ReplaceAllUses(Graph& graph, TensorRef from, TensorRef to, int except) {
  int changed = 0;
  for (int i = 0; i < graph.num_nodes(); ++i) {
    if (i == except) continue;
    for (TensorRef& in : graph.node(i).inputs) {
      if (in == from) {
        in = to;
        ++changed;
      }
    }
  }
  for (GraphOutput& out : graph.outputs()) {
    if (out.tensor == from) {
      out.tensor = to;
      ++changed;
    }
  }
  return changed;
}

absl::StatusOr<int> AddNodeInferred(Graph& graph, absl::string_view name_hint,
                                    absl::string_view op, std::vector<TensorRef> inputs,
                                    AttrMap attrs) {
  Node node;
  node.name = graph.UniqueName(name_hint);
  node.op = std::string(op);
  node.inputs = std::move(inputs);
  node.attrs = std::move(attrs);
  ASSIGN_OR_RETURN(int id, graph.AddNode(std::move(node)));
  absl::Status inferred = InferNode(graph, id);
  if (!inferred.ok()) {
    std::vector<int> keep(id);
    for (int i = 0; i < id; ++i) keep[i] = i;
    RETURN_IF_ERROR(graph.KeepNodes(keep));
    return inferred;
  }
  return id;
}

absl::StatusOr<TensorRef> AddConstant(Graph& graph, absl::string_view name_hint, Tensor value) {
  AttrMap attrs;
  attrs["value"] = std::move(value);
  ASSIGN_OR_RETURN(int id, AddNodeInferred(graph, name_hint, "Constant", {}, std::move(attrs)));
  return TensorRef{id, 0};
}

absl::Status TakeOverName(Graph& graph, int old, int fresh) {
  if (old == fresh) return absl::OkStatus();
  const std::string name = graph.node(old).name;
  RETURN_IF_ERROR(graph.RenameNode(old, graph.UniqueName(absl::StrCat(name, ".replaced"))));
  return graph.RenameNode(fresh, name);
}

int RemoveDeadNodes(Graph& graph) {
  std::vector<bool> live(graph.num_nodes(), false);
  std::vector<int> stack;
  for (const GraphOutput& out : graph.outputs()) stack.push_back(out.tensor.node);
  for (int id : graph.inputs()) stack.push_back(id);
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    if (n < 0 || n >= graph.num_nodes() || live[n]) continue;
    live[n] = true;
    for (const TensorRef& in : graph.node(n).inputs) stack.push_back(in.node);
  }
  std::vector<int> keep;
  for (int i = 0; i < graph.num_nodes(); ++i) {
    if (live[i]) keep.push_back(i);
  }
  int removed = graph.num_nodes() - static_cast<int>(keep.size());
  // Live nodes only read live nodes, so KeepNodes cannot fail here.
  if (removed > 0 && !graph.KeepNodes(keep).ok()) return 0;
  return removed;
}

absl::Status SortNodesTopologically(Graph& graph) {
  ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
  return graph.KeepNodes(order);
}

const Tensor* ConstantValue(const Graph& graph, TensorRef ref) {
  if (ref.node < 0 || ref.node >= graph.num_nodes() || ref.output != 0) return nullptr;
  const Node& node = graph.node(ref.node);
  if (node.op != "Constant") return nullptr;
  auto it = node.attrs.find("value");
  if (it == node.attrs.end()) return nullptr;
  return std::get_if<Tensor>(&it->second);
}

bool IsLayoutOp(const Node& node) {
  return node.def != nullptr && node.inputs.size() == 1 &&
         (node.op == "Transpose" || node.def->Has(kBitcast));
}

std::optional<double> SplatValue(const Graph& graph, TensorRef ref) {
  const Tensor* value = ConstantValue(graph, ref);
  if (value == nullptr || value->NumElements() == 0) return std::nullopt;
  const double first = value->GetAsDouble(0);
  for (int64_t i = 1; i < value->NumElements(); ++i) {
    if (value->GetAsDouble(i) != first) return std::nullopt;
  }
  return first;
}

bool DependsOnAny(const Graph& graph, int to, const std::vector<bool>& from) {
  std::vector<bool> seen(graph.num_nodes(), false);
  std::vector<int> stack = {to};
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    if (n < 0 || n >= graph.num_nodes() || seen[n]) continue;
    seen[n] = true;
    if (from[n]) return true;
    for (const TensorRef& in : graph.node(n).inputs) stack.push_back(in.node);
  }
  return false;
}

}  // namespace kiln
