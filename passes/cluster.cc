// Outlining node sets into Fusion nodes and inlining them back.
#include "passes/cluster.h"

#include <algorithm>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "graph/fusion.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "graph/shape_inference.h"
#include "base/status_macros.h"
#include "graph/verifier.h"

namespace kiln::passes {
namespace {

struct RefHash {
  size_t operator()(const TensorRef& r) const {
    return std::hash<int64_t>()((int64_t{r.node} << 20) ^ r.output);
  }
};

}  // namespace

bool IsConvex(const Graph& graph, const std::vector<bool>& in_cluster) {
  UseInfo uses = ComputeUses(graph);
  // Forward from the cluster through outside nodes only; reaching a node that feeds the
  // cluster means a path out and back in.
  std::vector<bool> reached(graph.num_nodes(), false);
  std::vector<int> stack;
  for (int n = 0; n < graph.num_nodes(); ++n) {
    if (!in_cluster[n]) continue;
    for (int c : uses.consumers[n]) {
      if (!in_cluster[c]) stack.push_back(c);
    }
  }
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    if (reached[n]) continue;
    reached[n] = true;
    for (int c : uses.consumers[n]) {
      if (in_cluster[c]) return false;
      stack.push_back(c);
    }
  }
  return true;
}

absl::StatusOr<int> OutlineCluster(Graph& graph, const std::vector<int>& cluster,
                                   FusionKind kind, absl::string_view name_hint,
                                   int64_t max_inline_constant_elements) {
  if (cluster.empty()) return absl::InvalidArgumentError("outline: empty cluster");
  std::vector<bool> in_cluster(graph.num_nodes(), false);
  for (int n : cluster) {
    if (n < 0 || n >= graph.num_nodes() || graph.node(n).op == "Input") {
      return absl::InvalidArgumentError("outline: cluster holds a missing or Input node");
    }
    in_cluster[n] = true;
  }
  if (!IsConvex(graph, in_cluster)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "outline: cluster of '", graph.node(cluster[0]).name, "' is not convex"));
  }
  ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
  std::vector<int> members;
  for (int n : order) {
    if (in_cluster[n]) members.push_back(n);
  }

  // Body names: the members keep theirs; parameters and inlined constants get fresh ones.
  absl::flat_hash_set<std::string> taken;
  for (int n : members) taken.insert(graph.node(n).name);
  auto fresh = [&taken](const std::string& base) {
    std::string name = base;
    for (int k = 1; taken.contains(name); ++k) name = absl::StrCat(base, "_", k);
    taken.insert(name);
    return name;
  };

  Graph body;
  std::vector<TensorRef> fusion_inputs;
  absl::flat_hash_map<TensorRef, TensorRef, RefHash> outer_to_body;
  // Parameters first, in order of first use, so the body reads like a function.
  for (int n : members) {
    for (const TensorRef& in : graph.node(n).inputs) {
      if (in_cluster[in.node] || outer_to_body.contains(in)) continue;
      const Tensor* value = ConstantValue(graph, in);
      Node node;
      if (value != nullptr && value->NumElements() <= max_inline_constant_elements) {
        node.name = fresh(graph.node(in.node).name);
        node.op = "Constant";
        node.attrs["value"] = *value;
        ASSIGN_OR_RETURN(int id, body.AddNode(std::move(node)));
        outer_to_body[in] = TensorRef{id, 0};
        continue;
      }
      const TensorType& type = graph.type(in);
      node.name = fresh(absl::StrCat("in", fusion_inputs.size()));
      node.op = "Input";
      node.attrs["dtype"] = type.dtype;
      node.attrs["shape"] = type.shape.dims();
      ASSIGN_OR_RETURN(int id, body.AddNode(std::move(node)));
      body.inputs().push_back(id);
      outer_to_body[in] = TensorRef{id, 0};
      fusion_inputs.push_back(in);
    }
  }
  absl::flat_hash_map<int, int> member_to_body;
  for (int n : members) {
    Node copy;
    copy.name = graph.node(n).name;
    copy.op = graph.node(n).op;
    copy.attrs = graph.node(n).attrs;
    for (const TensorRef& in : graph.node(n).inputs) {
      copy.inputs.push_back(in_cluster[in.node] ? TensorRef{member_to_body[in.node], in.output}
                                                : outer_to_body[in]);
    }
    ASSIGN_OR_RETURN(int id, body.AddNode(std::move(copy)));
    member_to_body[n] = id;
  }

  // Outputs: member tensors read by outside nodes or the signature.
  UseInfo uses = ComputeUses(graph);
  std::vector<TensorRef> outer_outputs;
  for (int n : members) {
    for (int k = 0; k < static_cast<int>(graph.node(n).outputs.size()); ++k) {
      TensorRef ref{n, k};
      bool read_outside = false;
      for (int c : uses.consumers[n]) {
        if (in_cluster[c]) continue;
        for (const TensorRef& in : graph.node(c).inputs) read_outside |= in == ref;
      }
      for (const GraphOutput& out : graph.outputs()) read_outside |= out.tensor == ref;
      if (!read_outside) continue;
      body.outputs().push_back(GraphOutput{absl::StrCat("out", outer_outputs.size()),
                                           TensorRef{member_to_body[n], k}});
      outer_outputs.push_back(ref);
    }
  }
  if (outer_outputs.empty()) {
    return absl::FailedPreconditionError("outline: the cluster has no outputs (dead code)");
  }
  RETURN_IF_ERROR(VerifyGraph(body));

  AttrMap attrs;
  attrs[std::string(kFusionBodyAttr)] = std::make_shared<const Graph>(std::move(body));
  attrs[std::string(kFusionKindAttr)] = std::string(FusionKindName(kind));
  ASSIGN_OR_RETURN(int fusion, AddNodeInferred(graph, name_hint, kFusionOp, fusion_inputs,
                                               std::move(attrs)));
  for (size_t k = 0; k < outer_outputs.size(); ++k) {
    ReplaceAllUses(graph, outer_outputs[k], TensorRef{fusion, static_cast<int>(k)});
  }
  std::string fusion_name = graph.node(fusion).name;
  std::vector<int> keep;
  for (int n = 0; n < graph.num_nodes(); ++n) {
    if (n >= static_cast<int>(in_cluster.size()) || !in_cluster[n]) keep.push_back(n);
  }
  RETURN_IF_ERROR(graph.KeepNodes(keep));
  return *graph.FindNode(fusion_name);
}

absl::StatusOr<std::vector<int>> InlineFusion(Graph& graph, int id) {
  const Graph* body_ptr = FusionBody(graph.node(id));
  if (body_ptr == nullptr) return absl::InvalidArgumentError("inline: not a Fusion node");
  const Graph body = *body_ptr;  // copied: the node holding it goes away
  const std::vector<TensorRef> fusion_inputs = graph.node(id).inputs;
  const std::string fusion_name = graph.node(id).name;
  ASSIGN_OR_RETURN(std::vector<int> order, body.TopologicalOrder());
  std::vector<TensorRef> mapped(body.num_nodes());
  for (size_t i = 0; i < body.inputs().size(); ++i) {
    mapped[body.inputs()[i]] = fusion_inputs[i];
  }
  std::vector<std::string> new_names;
  for (int n : order) {
    const Node& src = body.node(n);
    if (src.op == "Input") continue;
    std::vector<TensorRef> inputs;
    for (const TensorRef& in : src.inputs) {
      inputs.push_back(TensorRef{mapped[in.node].node, mapped[in.node].output + in.output});
    }
    ASSIGN_OR_RETURN(int added, AddNodeInferred(graph, src.name, src.op, inputs, src.attrs));
    mapped[n] = TensorRef{added, 0};
    new_names.push_back(graph.node(added).name);
  }
  for (size_t k = 0; k < body.outputs().size(); ++k) {
    const TensorRef& inner = body.outputs()[k].tensor;
    TensorRef outer{mapped[inner.node].node, mapped[inner.node].output + inner.output};
    ReplaceAllUses(graph, TensorRef{id, static_cast<int>(k)}, outer);
  }
  std::vector<int> keep;
  for (int n = 0; n < graph.num_nodes(); ++n) {
    if (n != id) keep.push_back(n);
  }
  RETURN_IF_ERROR(graph.KeepNodes(keep));
  std::vector<int> ids;
  for (const std::string& name : new_names) ids.push_back(*graph.FindNode(name));
  return ids;
}

}  // namespace kiln::passes
