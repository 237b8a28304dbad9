#include "passes/pack_weights.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/graph_rewrite.h"

namespace kiln::passes {

absl::StatusOr<int> PackMatMulWeights(Graph& graph, const PackMatMulWeight& pack) {
  // (constant node, transposed) -> its packed constant.
  std::map<std::pair<int, bool>, TensorRef> packed_constants;
  int rewritten = 0;
  const int original_nodes = graph.num_nodes();
  for (int id = 0; id < original_nodes; ++id) {
    const Node& node = graph.node(id);
    if (node.op != "MatMul" || node.outputs.size() != 1 ||
        node.outputs[0].dtype != DataType::kF32) {
      continue;
    }
    const Tensor* b = ConstantValue(graph, node.inputs[1]);
    if (b == nullptr || b->dtype() != DataType::kF32 || b->shape().rank() != 2) continue;
    const bool transpose = node.bool_attr("transpose_b");
    const int64_t n = transpose ? b->shape().dim(0) : b->shape().dim(1);
    const int64_t k = transpose ? b->shape().dim(1) : b->shape().dim(0);
    const auto key = std::make_pair(node.inputs[1].node, transpose);
    auto it = packed_constants.find(key);
    if (it == packed_constants.end()) {
      std::optional<Tensor> packed = pack(node, *b);
      if (!packed.has_value()) continue;
      const Shape& shape = packed->shape();
      if (packed->dtype() != DataType::kF32 || shape.rank() != 3 || shape.dim(1) != k ||
          shape.dim(2) < 1 || shape.dim(0) != (n + shape.dim(2) - 1) / shape.dim(2)) {
        return absl::InternalError(absl::StrCat("pack-weights: node '", node.name,
                                                "' (MatMul): the kernel library packed b ",
                                                b->shape().ToString(), " as ",
                                                packed->TypeString()));
      }
      const std::string hint = absl::StrCat(graph.node(node.inputs[1].node).name, "/packed");
      ASSIGN_OR_RETURN(TensorRef constant, AddConstant(graph, hint, *std::move(packed)));
      it = packed_constants.emplace(key, constant).first;
    }
    // Copies: adding nodes may move the graph's nodes.
    const Node matmul = graph.node(id);
    AttrMap attrs;
    attrs["transpose_a"] = matmul.bool_attr("transpose_a");
    attrs["n"] = n;
    absl::StatusOr<int> packed = AddNodeInferred(graph, matmul.name, "PackedMatMul",
                                                 {matmul.inputs[0], it->second}, attrs);
    if (!packed.ok()) {
      return absl::Status(packed.status().code(),
                          absl::StrCat("pack-weights: node '", matmul.name, "' (MatMul): ",
                                       packed.status().message()));
    }
    ReplaceAllUses(graph, TensorRef{id, 0}, TensorRef{*packed, 0});
    RETURN_IF_ERROR(TakeOverName(graph, id, *packed));
    ++rewritten;
  }
  if (rewritten > 0) {
    RemoveDeadNodes(graph);
    RETURN_IF_ERROR(SortNodesTopologically(graph));
  }
  return rewritten;
}

}  // namespace kiln::passes
