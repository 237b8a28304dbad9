#include "passes/pack_weights.h"

#include <algorithm>
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
  // The Winograd form, when the packer takes it: WinogradConv2D and its attributes.
  bool winograd_candidate = false;
  AttrMap winograd_attrs;
};

bool AllEqual(const std::vector<int64_t>& values, int64_t want) {
  return std::all_of(values.begin(), values.end(), [&](int64_t v) { return v == want; });
}

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
    g.winograd_candidate = shape.dim(0) == 3 && shape.dim(1) == 3 &&
                           AllEqual(node.ints_attr("strides"), 1) &&
                           AllEqual(node.ints_attr("dilations"), 1);
    if (g.winograd_candidate) {
      for (const char* name : {"pads", "clamp_min", "clamp_max"}) {
        if (node.HasAttr(name)) g.winograd_attrs[name] = node.attrs.at(name);
      }
      g.winograd_attrs["out_channels"] = g.n;
    }
    return g;
  }
  return std::nullopt;
}

// A packed weight of the wrong type, naming the node.
absl::Status WrongPacking(const Node& node, const Tensor& value, const Tensor& packed) {
  return absl::InternalError(absl::StrCat("pack-weights: node '", node.name, "' (", node.op,
                                          "): the kernel library packed the weight ",
                                          value.shape().ToString(), " as ",
                                          packed.TypeString()));
}

}  // namespace

absl::StatusOr<int> PackGemmWeights(Graph& graph, const PackGemmWeight& pack) {
  return PackGemmWeights(graph, WeightPackers{pack, nullptr});
}

absl::StatusOr<int> PackGemmWeights(Graph& graph, const WeightPackers& packers) {
  // (constant node, form) -> its packed constant; forms: 0 and 1 the GEMM's B (plain,
  // transposed), 2 the Winograd filter.
  std::map<std::pair<int, int>, TensorRef> packed_constants;
  int rewritten = 0;
  const int original_nodes = graph.num_nodes();
  for (int id = 0; id < original_nodes; ++id) {
    std::optional<GemmWeight> weight = WeightOf(graph, graph.node(id));
    if (!weight.has_value()) continue;
    const Node& node = graph.node(id);
    const Tensor& value = *ConstantValue(graph, node.inputs[weight->input]);
    const int weight_node = node.inputs[weight->input].node;
    std::optional<TensorRef> constant;
    if (weight->winograd_candidate && packers.winograd) {
      const auto key = std::make_pair(weight_node, 2);
      auto it = packed_constants.find(key);
      if (it == packed_constants.end()) {
        std::optional<Tensor> packed = packers.winograd(node, value);
        if (packed.has_value()) {
          const Shape& shape = packed->shape();
          if (packed->dtype() != DataType::kF32 || shape.rank() != 4 ||
              (shape.dim(0) != 36 && shape.dim(0) != 16) ||
              shape.dim(2) != value.shape().dim(2) || shape.dim(3) < 1 ||
              shape.dim(1) != (weight->n + shape.dim(3) - 1) / shape.dim(3)) {
            return WrongPacking(node, value, *packed);
          }
          ASSIGN_OR_RETURN(TensorRef ref,
                           AddConstant(graph, absl::StrCat(graph.node(weight_node).name,
                                                           "/winograd"),
                                       *std::move(packed)));
          it = packed_constants.emplace(key, ref).first;
        }
      }
      if (it != packed_constants.end()) {
        constant = it->second;
        weight->packed_op = "WinogradConv2D";
        weight->attrs = weight->winograd_attrs;
      }
    }
    if (!constant.has_value()) {
      const auto key = std::make_pair(weight_node, weight->transposed ? 1 : 0);
      auto it = packed_constants.find(key);
      if (it == packed_constants.end()) {
        std::optional<Tensor> packed = packers.gemm(graph.node(id), value);
        if (!packed.has_value()) continue;
        const Shape& shape = packed->shape();
        if (packed->dtype() != DataType::kF32 || shape.rank() != 3 ||
            shape.dim(1) != weight->k || shape.dim(2) < 1 ||
            shape.dim(0) != (weight->n + shape.dim(2) - 1) / shape.dim(2)) {
          return WrongPacking(graph.node(id), value, *packed);
        }
        ASSIGN_OR_RETURN(TensorRef ref,
                         AddConstant(graph, absl::StrCat(graph.node(weight_node).name,
                                                         "/packed"),
                                     *std::move(packed)));
        it = packed_constants.emplace(key, ref).first;
      }
      constant = it->second;
    }
    // Copies: adding nodes may move the graph's nodes.
    const Node original = graph.node(id);
    std::vector<TensorRef> inputs = original.inputs;
    inputs[weight->input] = *constant;
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
