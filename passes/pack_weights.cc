#include "passes/pack_weights.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/graph_rewrite.h"

namespace kiln::passes {
namespace {

// How one node's constant weight becomes a GEMM's B: op(B) is k x n.
struct GemmWeight {
  int input = 1;          // which input holds the weight
  bool transposed = false;
  int64_t k = 0;
  int64_t n = 0;
  std::string packed_op;  // the node's replacement
  AttrMap attrs;          // and its attributes
};

// The weight of `node` a library may pack, or nullopt: MatMul with a constant 2-D b, and
// NHWC Conv2D (groups 1) with a constant HWIO filter.
std::optional<GemmWeight> WeightOf(const Graph& graph, const Node& node) {
  if (node.outputs.size() != 1 || node.outputs[0].dtype != DataType::kF32) return std::nullopt;
  const Tensor* w = node.inputs.size() > 1 ? ConstantValue(graph, node.inputs[1]) : nullptr;
  if (w == nullptr || w->dtype() != DataType::kF32) return std::nullopt;
  const Shape& shape = w->shape();
  GemmWeight g;
  if (node.op == "MatMul" && shape.rank() == 2) {
    g.transposed = node.bool_attr("transpose_b");
    g.n = shape.dim(g.transposed ? 0 : 1);
    g.k = shape.dim(g.transposed ? 1 : 0);
    g.packed_op = "PackedMatMul";
    g.attrs["transpose_a"] = node.bool_attr("transpose_a");
    g.attrs["n"] = g.n;
    return g;
  }
  if (node.op == "Conv2D" && shape.rank() == 4 && node.int_attr("groups") == 1 &&
      node.string_attr("data_format") == "NHWC" && node.string_attr("filter_format") == "HWIO") {
    g.n = shape.dim(3);
    g.k = shape.dim(0) * shape.dim(1) * shape.dim(2);
    g.packed_op = "PackedConv2D";
    for (const char* name : {"strides", "pads", "dilations"}) g.attrs[name] = node.attrs.at(name);
    // A clamp already folded into the Conv2D (a graph compiled before) stays with it.
    for (const char* name : {"clamp_min", "clamp_max"}) {
      if (node.HasAttr(name)) g.attrs[name] = node.attrs.at(name);
    }
    g.attrs["kernel_shape"] = std::vector<int64_t>{shape.dim(0), shape.dim(1)};
    g.attrs["out_channels"] = g.n;
    return g;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<int> PackGemmWeights(Graph& graph, const PackGemmWeight& pack) {
  // (constant node, transposed) -> its packed constant.
  std::map<std::pair<int, bool>, TensorRef> packed_constants;
  int rewritten = 0;
  const int original_nodes = graph.num_nodes();
  for (int id = 0; id < original_nodes; ++id) {
    const std::optional<GemmWeight> weight = WeightOf(graph, graph.node(id));
    if (!weight.has_value()) continue;
    const Node& node = graph.node(id);
    const auto key = std::make_pair(node.inputs[weight->input].node, weight->transposed);
    auto it = packed_constants.find(key);
    if (it == packed_constants.end()) {
      const Tensor& value = *ConstantValue(graph, node.inputs[weight->input]);
      std::optional<Tensor> packed = pack(node, value);
      if (!packed.has_value()) continue;
      const Shape& shape = packed->shape();
      if (packed->dtype() != DataType::kF32 || shape.rank() != 3 || shape.dim(1) != weight->k ||
          shape.dim(2) < 1 || shape.dim(0) != (weight->n + shape.dim(2) - 1) / shape.dim(2)) {
        return absl::InternalError(absl::StrCat("pack-weights: node '", node.name, "' (", node.op,
                                                "): the kernel library packed the weight ",
                                                value.shape().ToString(), " as ",
                                                packed->TypeString()));
      }
      const std::string hint =
          absl::StrCat(graph.node(node.inputs[weight->input].node).name, "/packed");
      ASSIGN_OR_RETURN(TensorRef constant, AddConstant(graph, hint, *std::move(packed)));
      it = packed_constants.emplace(key, constant).first;
    }
    // Copies: adding nodes may move the graph's nodes.
    const Node original = graph.node(id);
    std::vector<TensorRef> inputs = original.inputs;
    inputs[weight->input] = it->second;
    absl::StatusOr<int> replacement =
        AddNodeInferred(graph, original.name, weight->packed_op, inputs, weight->attrs);
    if (!replacement.ok()) {
      return absl::Status(replacement.status().code(),
                          absl::StrCat("pack-weights: node '", original.name, "' (", original.op,
                                       "): ", replacement.status().message()));
    }
    ReplaceAllUses(graph, TensorRef{id, 0}, TensorRef{*replacement, 0});
    RETURN_IF_ERROR(TakeOverName(graph, id, *replacement));
    ++rewritten;
  }
  if (rewritten > 0) {
    RemoveDeadNodes(graph);
    RETURN_IF_ERROR(SortNodesTopologically(graph));
  }
  return rewritten;
}

}  // namespace kiln::passes
