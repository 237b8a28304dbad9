#include "passes/fold_clamps.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "graph/fusion.h"
#include "graph/graph_rewrite.h"

namespace kiln::passes {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Clamp {
  double lo = -kInf;
  double hi = kInf;
};

// The value of a bound operand: a splat constant, or nullopt.
using BoundOf = std::function<std::optional<double>(TensorRef)>;

// Narrows `clamp` by `node` reading `from` (of shape `shape`): Relu, or Maximum / Minimum
// whose other operand has a value by `bound` (not NaN) and which keeps the shape. False
// for anything else.
bool Narrow(const Node& node, TensorRef from, const Shape& shape, const BoundOf& bound,
            Clamp& clamp) {
  if (node.outputs.size() != 1 || node.outputs[0].dtype != DataType::kF32 ||
      node.outputs[0].shape != shape) {
    return false;
  }
  if (node.op == "Relu" && node.inputs.size() == 1 && node.inputs[0] == from) {
    clamp.lo = std::max(clamp.lo, 0.0);
    return true;
  }
  if ((node.op != "Maximum" && node.op != "Minimum") || node.inputs.size() != 2) return false;
  const int self = node.inputs[0] == from ? 0 : node.inputs[1] == from ? 1 : -1;
  if (self < 0 || node.inputs[1 - self] == from) return false;
  const std::optional<double> value = bound(node.inputs[1 - self]);
  if (!value.has_value() || std::isnan(*value)) return false;
  if (node.op == "Maximum") {
    clamp.lo = std::max(clamp.lo, *value);
  } else {
    clamp.hi = std::min(clamp.hi, *value);
  }
  return true;
}

// The clamp a loop Fusion applies to its input `input` when its body is a chain of clamp
// ops from that input to its one output, each bound a splat constant of the body or a
// fusion input that is a splat constant of `graph`; nullopt otherwise.
std::optional<Clamp> FusionClamp(const Graph& graph, const Node& fusion, int input) {
  const Graph* body = FusionBody(fusion);
  const std::string kind(kFusionKindAttr);
  if (body == nullptr || fusion.outputs.size() != 1 || body->outputs().size() != 1 ||
      !fusion.HasAttr(kind) || fusion.string_attr(kind) != FusionKindName(FusionKind::kLoop) ||
      body->inputs().size() != fusion.inputs.size()) {
    return std::nullopt;
  }
  const std::vector<int>& inputs = body->inputs();
  const BoundOf bound = [&](TensorRef operand) -> std::optional<double> {
    const auto at = std::find(inputs.begin(), inputs.end(), operand.node);
    if (at == inputs.end()) return SplatValue(*body, operand);
    return SplatValue(graph, fusion.inputs[at - inputs.begin()]);
  };
  const UseInfo uses = ComputeUses(*body);
  const Shape& shape = fusion.outputs[0].shape;
  TensorRef from{inputs[input], 0};
  Clamp clamp;
  while (from != body->outputs()[0].tensor) {
    const std::vector<int> readers = uses.DistinctConsumers(from.node);
    if (readers.size() != 1 || !Narrow(body->node(readers[0]), from, shape, bound, clamp)) {
      return std::nullopt;
    }
    from = TensorRef{readers[0], 0};
  }
  return clamp;
}

}  // namespace

absl::StatusOr<int> FoldClampsIntoPackedGemms(Graph& graph) {
  int folded = 0;
  // Folded readers: dead, but still reading the contraction until dead nodes are removed.
  std::vector<bool> dead(graph.num_nodes(), false);
  for (int id = 0; id < graph.num_nodes(); ++id) {
    const Node& candidate = graph.node(id);
    const bool contraction = candidate.op == "PackedConv2D" || candidate.op == "PackedMatMul" ||
                             candidate.op == "Conv2D";
    if (!contraction || candidate.outputs.size() != 1 ||
        candidate.outputs[0].dtype != DataType::kF32) {
      continue;
    }
    while (true) {
      const TensorRef out{id, 0};
      const UseInfo uses = ComputeUses(graph);
      std::vector<int> readers;
      for (int consumer : uses.consumers[id]) {
        if (!dead[consumer]) readers.push_back(consumer);
      }
      if (uses.is_output[id] || readers.size() != 1) break;
      const int reader = readers[0];
      const Node& node = graph.node(reader);
      Clamp clamp;
      if (node.op == kFusionOp) {
        const auto at = std::find(node.inputs.begin(), node.inputs.end(), out);
        const std::optional<Clamp> fused = FusionClamp(graph, node, at - node.inputs.begin());
        if (!fused.has_value()) break;
        clamp = *fused;
      } else if (!Narrow(node, out, graph.node(id).outputs[0].shape,
                         [&](TensorRef ref) { return SplatValue(graph, ref); }, clamp)) {
        break;
      }
      Node& gemm = graph.node(id);
      const double lo = std::max(clamp.lo, gemm.HasAttr("clamp_min") ? gemm.float_attr("clamp_min")
                                                                     : -kInf);
      const double hi = std::min(clamp.hi, gemm.HasAttr("clamp_max") ? gemm.float_attr("clamp_max")
                                                                     : kInf);
      if (lo > hi) break;  // an empty range: the result is constant; left as it is
      gemm.attrs["clamp_min"] = lo;
      gemm.attrs["clamp_max"] = hi;
      ReplaceAllUses(graph, TensorRef{reader, 0}, out);
      dead[reader] = true;
      ++folded;
    }
  }
  if (folded > 0) {
    RemoveDeadNodes(graph);
    RETURN_IF_ERROR(SortNodesTopologically(graph));
  }
  return folded;
}

}  // namespace kiln::passes
