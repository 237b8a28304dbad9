#include "passes/fold_epilogues.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "graph/op_registry.h"
#include "graph/fusion.h"
#include "graph/graph_rewrite.h"

namespace kiln::passes {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// What a chain of readers applies to a contraction's output: a residual added first (only
// where `residual_allowed`), then a clamp.
struct Epilogue {
  bool residual_allowed = false;
  bool bias_allowed = false;
  std::optional<TensorRef> residual;  // in the outer graph
  std::optional<Tensor> bias;         // a per-column constant [N]
  double lo = -kInf;
  double hi = kInf;
  bool clamped() const { return lo != -kInf || hi != kInf; }
};

// An operand's meaning outside the reader: its splat value, its constant value, or the
// outer tensor it is.
struct OperandOf {
  std::function<std::optional<double>(TensorRef)> splat;
  std::function<const Tensor*(TensorRef)> constant;
  std::function<std::optional<TensorRef>(TensorRef)> outer;
};

// Extends `e` by `node` of `where` reading `from` (of type `type`): Relu, Maximum / Minimum with a
// splat (not NaN), or, before any clamp and where allowed, Add of a constant [N] (the
// bias) or of a tensor of the same type (the residual). The node must keep the type.
// False for anything else.
bool Extend(const Graph& where, const Node& node, TensorRef from, const TensorType& type,
            const OperandOf& operand, Epilogue& e) {
  if (node.outputs.size() != 1 || !(node.outputs[0] == type)) return false;
  if (node.op == "Relu" && node.inputs.size() == 1 && node.inputs[0] == from) {
    e.lo = std::max(e.lo, 0.0);
    return true;
  }
  if (node.inputs.size() != 2) return false;
  const int self = node.inputs[0] == from ? 0 : node.inputs[1] == from ? 1 : -1;
  if (self < 0 || node.inputs[1 - self] == from) return false;
  const TensorRef other = node.inputs[1 - self];
  if (node.op == "Add") {
    if (e.clamped()) return false;
    const Tensor* constant = operand.constant(other);
    const Shape bias_shape{type.shape.dim(type.shape.rank() - 1)};
    if (constant != nullptr && constant->dtype() == DataType::kF32 &&
        constant->shape() == bias_shape) {
      if (!e.bias_allowed || e.bias.has_value()) return false;
      e.bias = *constant;
      return true;
    }
    if (!e.residual_allowed || e.residual.has_value() || !(where.type(other) == type)) {
      return false;
    }
    e.residual = operand.outer(other);
    return e.residual.has_value();
  }
  if (node.op != "Maximum" && node.op != "Minimum") return false;
  const std::optional<double> value = operand.splat(other);
  if (!value.has_value() || std::isnan(*value)) return false;
  if (node.op == "Maximum") {
    e.lo = std::max(e.lo, *value);
  } else {
    e.hi = std::min(e.hi, *value);
  }
  return true;
}

// `e` extended by a loop Fusion reading the contraction as its input `input`, when the
// body is a chain from that input to its one output of ops Extend accepts, each other
// operand a splat constant of the body or a fusion input (a splat, or the residual);
// nullopt otherwise.
std::optional<Epilogue> ExtendByFusion(const Graph& graph, const Node& fusion, int input,
                                       const TensorType& type, Epilogue e) {
  const Graph* body = FusionBody(fusion);
  const std::string kind(kFusionKindAttr);
  if (body == nullptr || fusion.outputs.size() != 1 || body->outputs().size() != 1 ||
      !fusion.HasAttr(kind) || fusion.string_attr(kind) != FusionKindName(FusionKind::kLoop) ||
      body->inputs().size() != fusion.inputs.size()) {
    return std::nullopt;
  }
  const std::vector<int>& inputs = body->inputs();
  auto outer_input = [&](TensorRef ref) -> std::optional<TensorRef> {
    const auto at = std::find(inputs.begin(), inputs.end(), ref.node);
    if (at == inputs.end()) return std::nullopt;
    return fusion.inputs[at - inputs.begin()];
  };
  OperandOf operand;
  operand.splat = [&](TensorRef ref) -> std::optional<double> {
    const std::optional<TensorRef> outer = outer_input(ref);
    return outer.has_value() ? SplatValue(graph, *outer) : SplatValue(*body, ref);
  };
  operand.constant = [&](TensorRef ref) -> const Tensor* {
    const std::optional<TensorRef> outer = outer_input(ref);
    return outer.has_value() ? ConstantValue(graph, *outer) : ConstantValue(*body, ref);
  };
  operand.outer = outer_input;
  const UseInfo uses = ComputeUses(*body);
  TensorRef from{inputs[input], 0};
  while (from != body->outputs()[0].tensor) {
    const std::vector<int> readers = uses.DistinctConsumers(from.node);
    if (readers.size() != 1 ||
        !Extend(*body, body->node(readers[0]), from, type, operand, e)) {
      return std::nullopt;
    }
    from = TensorRef{readers[0], 0};
  }
  return e;
}

double AttrOr(const Node& node, const char* name, double fallback) {
  return node.HasAttr(name) ? node.float_attr(name) : fallback;
}

}  // namespace

absl::StatusOr<int> FoldEpilogues(Graph& graph) {
  int folded = 0;
  // Folded readers: dead, but still reading the contraction until dead nodes are removed.
  std::vector<bool> dead(graph.num_nodes(), false);
  for (int id = 0; id < graph.num_nodes(); ++id) {
    {
      const Node& candidate = graph.node(id);
      if (candidate.def == nullptr || !candidate.def->Has(kClampedOutput) ||
          candidate.outputs.size() != 1 ||
          candidate.outputs[0].dtype != DataType::kF32) {
        continue;
      }
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
      const Node& gemm = graph.node(id);
      const Node& node = graph.node(reader);
      const TensorType type = gemm.outputs[0];
      Epilogue e;
      e.lo = AttrOr(gemm, "clamp_min", -kInf);
      e.hi = AttrOr(gemm, "clamp_max", kInf);
      // A bias or residual only into an op that takes them (its 3rd and 4th inputs) and
      // has none yet.
      const bool takes_inputs = gemm.def != nullptr && gemm.def->Has(kEpilogueInputs);
      e.residual_allowed = takes_inputs && gemm.inputs.size() < 4;
      e.bias_allowed = takes_inputs && gemm.inputs.size() < 3;
      std::optional<Epilogue> extended;
      if (node.op == kFusionOp) {
        const auto at = std::find(node.inputs.begin(), node.inputs.end(), out);
        extended = ExtendByFusion(graph, node, at - node.inputs.begin(), type, e);
      } else {
        OperandOf operand;
        operand.splat = [&](TensorRef ref) { return SplatValue(graph, ref); };
        operand.constant = [&](TensorRef ref) { return ConstantValue(graph, ref); };
        operand.outer = [](TensorRef ref) -> std::optional<TensorRef> { return ref; };
        if (Extend(graph, node, out, type, operand, e)) extended = e;
      }
      // (A residual that is the output itself, read twice by a fusion, would be a cycle.)
      if (!extended.has_value() || extended->lo > extended->hi || extended->residual == out) {
        break;
      }
      if (extended->bias.has_value() ||
          (extended->residual.has_value() && graph.node(id).inputs.size() == 2)) {
        // The folded bias, or the zero one a residual needs before it.
        Tensor bias;
        if (extended->bias.has_value()) {
          bias = *std::move(extended->bias);
        } else {
          const int64_t channels = type.shape.dim(type.shape.rank() - 1);
          ASSIGN_OR_RETURN(bias, Tensor::Allocate(DataType::kF32, Shape{channels}));
          for (int64_t c = 0; c < channels; ++c) bias.SetFromDouble(c, 0.0);
        }
        ASSIGN_OR_RETURN(TensorRef bias_ref,
                         AddConstant(graph, absl::StrCat(graph.node(id).name, "/bias"),
                                     std::move(bias)));
        dead.resize(graph.num_nodes(), false);
        graph.node(id).inputs.push_back(bias_ref);
      }
      if (extended->residual.has_value()) graph.node(id).inputs.push_back(*extended->residual);
      Node& folded_into = graph.node(id);
      folded_into.attrs["clamp_min"] = extended->lo;
      folded_into.attrs["clamp_max"] = extended->hi;
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
