// raise-composite-ops: recognizes composite ops written out op by op, as PyTorch's ONNX
// export and hand-written models spell them, and replaces them by the op the kernels
// implement:
//   gelu-erf:   x * 0.5 * (1 + erf(x / sqrt(2)))                 (any association; x*(1/sqrt 2))
//   gelu-tanh:  x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))   (x^3: Pow or Muls)
//   layer-norm: (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) [* gamma] [+ beta]
//               (square as Pow 2 or Mul; Div by Sqrt or Mul by Rsqrt; axes a suffix)
//   softmax:    exp(x [- max(x)]) / sum(exp(x [- max(x)]))  over one axis
// Constants must match to 1e-6 relative (f32 spellings of sqrt(2) etc.), and every
// intermediate must be read only inside the pattern. The raised op computes in double and
// rounds once, so results differ from the written-out graph by its roundings (f32: ~1e-7
// relative; the softmax form without max-subtraction overflows where Softmax does not).
#include <cmath>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "graph/ops/op_util.h"
#include "base/status_macros.h"
#include "passes/decision.h"
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace kiln::passes {
namespace {

constexpr double kRel = 1e-6;
constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2OverPi = 0.79788456080286535588;

// A raised op's output and the node of the pattern it replaces (the outermost one matched).
struct Raised {
  TensorRef value;
  int root;
};
using Result = absl::StatusOr<std::optional<Raised>>;

// Leaves of the product tree under `ref`: Mul nodes read only inside the tree are
// flattened (recorded in `muls`); anything else is a leaf.
void Factors(const Graph& g, const UseInfo& uses, TensorRef ref, bool is_root, int depth,
             std::vector<TensorRef>& leaves, std::vector<int>& muls) {
  const Node* mul = ProducerIs(g, ref, "Mul");
  bool flatten = mul != nullptr && depth < 4 &&
                 (is_root || (uses.DistinctConsumers(ref.node).size() == 1 &&
                              !uses.is_output[ref.node]));
  if (!flatten) {
    leaves.push_back(ref);
    return;
  }
  muls.push_back(ref.node);
  for (const TensorRef& in : mul->inputs) Factors(g, uses, in, false, depth + 1, leaves, muls);
}

// Removes from `leaves` one leaf satisfying `pred`; returns it.
template <typename Pred>
std::optional<TensorRef> TakeLeaf(std::vector<TensorRef>& leaves, Pred pred) {
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (pred(leaves[i])) {
      TensorRef r = leaves[i];
      leaves.erase(leaves.begin() + i);
      return r;
    }
  }
  return std::nullopt;
}

// `ref` is Add(inner, 1) in either order, inner produced by `op`: returns inner's input.
std::optional<TensorRef> OnePlus(const Graph& g, TensorRef ref, absl::string_view op,
                                 std::vector<int>& nodes) {
  const Node* add = ProducerIs(g, ref, "Add");
  if (add == nullptr) return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    const Node* f = ProducerIs(g, add->inputs[side], op);
    if (f != nullptr && IsSplat(g, add->inputs[1 - side], 1.0, kRel)) {
      nodes.push_back(ref.node);
      nodes.push_back(add->inputs[side].node);
      return f->inputs[0];
    }
  }
  return std::nullopt;
}

// x / sqrt(2) or x * (1/sqrt(2)).
std::optional<TensorRef> OverSqrt2(const Graph& g, TensorRef ref, std::vector<int>& nodes) {
  if (const Node* div = ProducerIs(g, ref, "Div")) {
    if (IsSplat(g, div->inputs[1], kSqrt2, kRel)) {
      nodes.push_back(ref.node);
      return div->inputs[0];
    }
  }
  if (const Node* mul = ProducerIs(g, ref, "Mul")) {
    for (int side = 0; side < 2; ++side) {
      if (IsSplat(g, mul->inputs[1 - side], 1.0 / kSqrt2, kRel)) {
        nodes.push_back(ref.node);
        return mul->inputs[side];
      }
    }
  }
  return std::nullopt;
}

Result EmitGelu(Graph& g, const UseInfo& uses, int root,
                                                  TensorRef x, std::vector<int> nodes,
                                                  const char* approximate) {
  if (!OnlyUsedInside(g, uses, nodes, root)) return std::nullopt;
  if (!(g.type(x) == g.node(root).outputs[0]) || !IsFloating(g.type(x).dtype)) return std::nullopt;
  AttrMap attrs;
  attrs["approximate"] = std::string(approximate);
  ASSIGN_OR_RETURN(int gelu, AddNodeInferred(g, g.node(root).name + "/gelu", "Gelu", {x},
                                             std::move(attrs)));
  return Raised{TensorRef{gelu, 0}, root};
}

Result MatchGelu(Graph& g, const UseInfo& uses, int root) {
  if (g.node(root).op != "Mul") return std::nullopt;
  std::vector<TensorRef> leaves;
  std::vector<int> nodes;
  Factors(g, uses, TensorRef{root, 0}, true, 0, leaves, nodes);
  if (leaves.size() != 3) return std::nullopt;
  if (!TakeLeaf(leaves, [&](TensorRef r) { return IsSplat(g, r, 0.5, kRel); })) return std::nullopt;
  // The (1 + erf(...)) or (1 + tanh(...)) leaf and the remaining x.
  for (int pick = 0; pick < 2; ++pick) {
    TensorRef one_plus = leaves[pick];
    TensorRef x = leaves[1 - pick];
    std::vector<int> erf_nodes = nodes;
    if (std::optional<TensorRef> arg = OnePlus(g, one_plus, "Erf", erf_nodes)) {
      std::optional<TensorRef> inner = OverSqrt2(g, *arg, erf_nodes);
      if (inner && *inner == x) return EmitGelu(g, uses, root, x, erf_nodes, "none");
    }
    std::vector<int> tanh_nodes = nodes;
    std::optional<TensorRef> arg = OnePlus(g, one_plus, "Tanh", tanh_nodes);
    if (!arg) continue;
    // sqrt(2/pi) * (x + 0.044715 * x^3)
    std::vector<TensorRef> outer;
    Factors(g, uses, *arg, true, 0, outer, tanh_nodes);
    if (outer.size() != 2 ||
        !TakeLeaf(outer, [&](TensorRef r) { return IsSplat(g, r, kSqrt2OverPi, kRel); })) {
      continue;
    }
    const Node* sum = ProducerIs(g, outer[0], "Add");
    if (sum == nullptr) continue;
    tanh_nodes.push_back(outer[0].node);
    for (int side = 0; side < 2; ++side) {
      if (sum->inputs[side] != x) continue;
      std::vector<TensorRef> cube;
      std::vector<int> cube_nodes = tanh_nodes;
      Factors(g, uses, sum->inputs[1 - side], true, 0, cube, cube_nodes);
      if (!TakeLeaf(cube, [&](TensorRef r) { return IsSplat(g, r, 0.044715, kRel); })) continue;
      bool is_cube = cube.size() == 3 && cube[0] == x && cube[1] == x && cube[2] == x;
      if (cube.size() == 1) {
        const Node* pow = ProducerIs(g, cube[0], "Pow");
        if (pow != nullptr && pow->inputs[0] == x && IsSplat(g, pow->inputs[1], 3.0)) {
          is_cube = true;
          cube_nodes.push_back(cube[0].node);
        }
      }
      if (is_cube) return EmitGelu(g, uses, root, x, cube_nodes, "tanh");
    }
  }
  return std::nullopt;
}

// The normalized axes of a keepdims ReduceMean/Sum/Max `n` when they form the suffix
// [axis, rank): returns axis.
std::optional<int> SuffixAxes(const Node& n) {
  if (!n.bool_attr("keepdims")) return std::nullopt;
  const int rank = n.outputs[0].shape.rank();
  std::vector<bool> reduced(rank, false);
  const std::vector<int64_t>& axes = n.ints_attr("axes");
  if (axes.empty()) return std::nullopt;
  for (int64_t a : axes) reduced[a < 0 ? a + rank : a] = true;
  int first = rank;
  while (first > 0 && reduced[first - 1]) --first;
  for (int d = 0; d < first; ++d) {
    if (reduced[d]) return std::nullopt;
  }
  return first;
}

// A constant broadcast to `shape` (fully known), or nullopt when it does not broadcast to it.
std::optional<Tensor> BroadcastConstant(const Tensor& c, const Shape& shape, DataType dtype) {
  if (!shape.IsFullyKnown()) return std::nullopt;
  absl::StatusOr<Shape> b = BroadcastShapes(c.shape(), shape);
  if (!b.ok() || *b != shape) return std::nullopt;
  absl::StatusOr<Tensor> out = Tensor::Allocate(dtype, shape);
  if (!out.ok()) return std::nullopt;
  BroadcastIndexer index(c.shape(), shape);
  for (int64_t i = 0; i < out->NumElements(); ++i) out->SetFromDouble(i, c.GetAsDouble(index.Map(i)));
  return *out;
}

Result MatchLayerNorm(Graph& g, const UseInfo& uses, int id) {
  const Node& n = g.node(id);
  std::vector<int> nodes = {id};
  TensorRef d, denom;
  const Node* root_fn = nullptr;
  if (n.op == "Div") {
    d = n.inputs[0];
    denom = n.inputs[1];
    root_fn = ProducerIs(g, denom, "Sqrt");
  } else if (n.op == "Mul") {
    for (int side = 0; side < 2 && root_fn == nullptr; ++side) {
      root_fn = ProducerIs(g, n.inputs[1 - side], "Rsqrt");
      d = n.inputs[side];
      denom = n.inputs[1 - side];
    }
  }
  if (root_fn == nullptr) return std::nullopt;
  nodes.push_back(denom.node);
  const Node* sub = ProducerIs(g, d, "Sub");
  if (sub == nullptr) return std::nullopt;
  nodes.push_back(d.node);
  TensorRef x = sub->inputs[0];
  const Node* mean = ProducerIs(g, sub->inputs[1], "ReduceMean");
  if (mean == nullptr || mean->inputs[0] != x) return std::nullopt;
  nodes.push_back(sub->inputs[1].node);
  std::optional<int> axis = SuffixAxes(*mean);
  if (!axis) return std::nullopt;
  // sqrt(var + eps)
  const Node* add = ProducerIs(g, root_fn->inputs[0], "Add");
  if (add == nullptr) return std::nullopt;
  nodes.push_back(root_fn->inputs[0].node);
  std::optional<double> eps;
  TensorRef var_ref;
  for (int side = 0; side < 2 && !eps; ++side) {
    const TensorRef c = add->inputs[1 - side];
    if (g.type(c).shape.rank() == 0 || g.type(c).shape.IsFullyKnown()) eps = SplatValue(g, c);
    var_ref = add->inputs[side];
  }
  if (!eps || *eps < 0 || !std::isfinite(*eps)) return std::nullopt;
  const Node* var = ProducerIs(g, var_ref, "ReduceMean");
  if (var == nullptr || SuffixAxes(*var) != axis) return std::nullopt;
  nodes.push_back(var_ref.node);
  TensorRef sq = var->inputs[0];
  const Node* pow = ProducerIs(g, sq, "Pow");
  const Node* mul = ProducerIs(g, sq, "Mul");
  if (!((pow != nullptr && pow->inputs[0] == d && IsSplat(g, pow->inputs[1], 2.0)) ||
        (mul != nullptr && mul->inputs[0] == d && mul->inputs[1] == d))) {
    return std::nullopt;
  }
  nodes.push_back(sq.node);

  // Optional gamma and beta: the single reader multiplies, then adds, a constant.
  const TensorType& x_type = g.type(x);
  if (!IsFloating(x_type.dtype)) return std::nullopt;
  Shape norm_shape(std::vector<int64_t>(x_type.shape.dims().begin() + *axis, x_type.shape.dims().end()));
  if (!norm_shape.IsFullyKnown()) return std::nullopt;
  ASSIGN_OR_RETURN(Tensor gamma, Tensor::Allocate(x_type.dtype, norm_shape));
  ASSIGN_OR_RETURN(Tensor beta, Tensor::Allocate(x_type.dtype, norm_shape));
  for (int64_t i = 0; i < gamma.NumElements(); ++i) gamma.SetFromDouble(i, 1.0);
  int root = id;
  auto single_reader = [&](int node) -> const Node* {
    std::vector<int> r = uses.DistinctConsumers(node);
    return (r.size() == 1 && !uses.is_output[node]) ? &g.node(r[0]) : nullptr;
  };
  for (const char* op : {"Mul", "Add"}) {
    const Node* next = single_reader(root);
    if (next == nullptr || next->op != op || !(next->outputs[0] == g.node(root).outputs[0])) break;
    int side = next->inputs[0].node == root ? 1 : 0;
    const Tensor* c = ConstantValue(g, next->inputs[side]);
    if (c == nullptr) break;
    std::optional<Tensor> b = BroadcastConstant(*c, norm_shape, x_type.dtype);
    if (!b) break;
    (std::string(op) == "Mul" ? gamma : beta) = *b;
    root = *g.FindNode(next->name);
    nodes.push_back(root);
    if (std::string(op) == "Mul") continue;
  }
  if (!OnlyUsedInside(g, uses, nodes, root)) return std::nullopt;
  if (!(g.node(root).outputs[0] == x_type)) return std::nullopt;
  const std::string base = g.node(root).name;
  ASSIGN_OR_RETURN(TensorRef gamma_ref, AddConstant(g, base + "/gamma", gamma));
  ASSIGN_OR_RETURN(TensorRef beta_ref, AddConstant(g, base + "/beta", beta));
  AttrMap attrs;
  attrs["axis"] = int64_t{*axis};
  attrs["epsilon"] = *eps;
  ASSIGN_OR_RETURN(int ln, AddNodeInferred(g, base + "/layer_norm", "LayerNorm",
                                           {x, gamma_ref, beta_ref}, std::move(attrs)));
  return Raised{TensorRef{ln, 0}, root};
}

Result MatchSoftmax(Graph& g, const UseInfo& uses, int id) {
  const Node& div = g.node(id);
  if (div.op != "Div") return std::nullopt;
  TensorRef e = div.inputs[0];
  const Node* exp = ProducerIs(g, e, "Exp");
  const Node* sum = ProducerIs(g, div.inputs[1], "ReduceSum");
  if (exp == nullptr || sum == nullptr || sum->inputs[0] != e) return std::nullopt;
  if (!sum->bool_attr("keepdims") || sum->ints_attr("axes").size() != 1) return std::nullopt;
  const int rank = div.outputs[0].shape.rank();
  absl::StatusOr<int> axis = NormalizeAxis(sum->ints_attr("axes")[0], rank);
  if (!axis.ok()) return std::nullopt;
  std::vector<int> nodes = {id, e.node, div.inputs[1].node};
  TensorRef x = exp->inputs[0];
  if (const Node* sub = ProducerIs(g, x, "Sub")) {
    const Node* max = ProducerIs(g, sub->inputs[1], "ReduceMax");
    if (max != nullptr && max->inputs[0] == sub->inputs[0] && max->bool_attr("keepdims") &&
        max->ints_attr("axes").size() == 1 &&
        NormalizeAxis(max->ints_attr("axes")[0], rank).value_or(-1) == *axis) {
      nodes.push_back(x.node);
      nodes.push_back(sub->inputs[1].node);
      x = sub->inputs[0];
    }
  }
  if (!OnlyUsedInside(g, uses, nodes, id) || !(g.type(x) == div.outputs[0]) ||
      !IsFloating(g.type(x).dtype)) {
    return std::nullopt;
  }
  AttrMap attrs;
  attrs["axis"] = int64_t{*axis};
  ASSIGN_OR_RETURN(int s, AddNodeInferred(g, div.name + "/softmax", "Softmax", {x},
                                          std::move(attrs)));
  return Raised{TensorRef{s, 0}, id};
}

class RaiseCompositeOpsPass : public Pass {
 public:
  explicit RaiseCompositeOpsPass(const PassOptions& options) : options_(options) {}
  absl::string_view name() const override { return "raise-composite-ops"; }
  absl::string_view description() const override {
    return "Recognize GELU (erf and tanh forms), LayerNorm and Softmax written out op by op "
           "and replace them by the fused ops.";
  }

  absl::StatusOr<bool> Run(Graph& graph) override {
    ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
    bool changed = false;
    for (int id : order) {
      if (graph.node(id).outputs.size() != 1) continue;
      UseInfo uses = ComputeUses(graph);
      struct Named {
        const char* name;
        Result (*match)(Graph&, const UseInfo&, int);
      };
      for (const Named& rule : {Named{"gelu", MatchGelu}, Named{"layer-norm", MatchLayerNorm},
                                Named{"softmax", MatchSoftmax}}) {
        ASSIGN_OR_RETURN(std::optional<Raised> raised, rule.match(graph, uses, id));
        if (!raised) continue;
        LogDecision(options_, name(),
                    absl::StrCat(rule.name, " at '", graph.node(raised->root).name, "'"),
                    Decision::Yes());
        ReplaceAllUses(graph, TensorRef{raised->root, 0}, raised->value);
        RETURN_IF_ERROR(TakeOverName(graph, raised->root, raised->value.node));
        changed = true;
        break;
      }
    }
    if (changed) RemoveDeadNodes(graph);
    return changed;
  }

 private:
  PassOptions options_;
};

}  // namespace

std::unique_ptr<Pass> CreateRaiseCompositeOpsPass(const PassOptions& options) {
  return std::make_unique<RaiseCompositeOpsPass>(options);
}

}  // namespace kiln::passes
