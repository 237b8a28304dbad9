// fold-batch-norm: folds inference BatchNorm, and per-channel scales and biases, into the
// constant weights of a preceding Conv2D or MatMul.
//
//   BatchNorm(conv(x, W, b)) = conv(x, W * s, (b - mean) * s + beta), s = gamma / sqrt(var + eps)
//   conv(x, W, b) * c = conv(x, W * c, b * c)      c per output channel or scalar
//   conv(x, W, b) + c = conv(x, W, b + c)          c per output channel or scalar
//   BatchNorm(x @ W) = (x @ (W * s)) + ((0 - mean) * s + beta)   s per output column
//   (x @ W) * c = x @ (W * c)                       c per output column or scalar
//
// Rounding: the folded weights are computed in double and rounded once to the weight
// dtype; the unfolded graph rounds the contraction's output and then BatchNorm's. For f32
// the two differ by a few ulps of the terms' magnitude (tests use 1e-5 relative).
//
// A BatchNorm (f32 or f64, constant statistics) that has no contraction to fold into
// becomes (x - mean) * s + beta with per-channel constants, s computed in double: three
// elementwise ops that loop fusion joins with their neighbours (a pre-activation
// network's BatchNorm and ReLU in one pass over memory instead of two kernels).
// Subtracting the mean first keeps x close to the mean exact, as BatchNorm's own kernel.
#include <cmath>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/graph_rewrite.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "passes/decision.h"
#include "passes/passes.h"
#include "passes/rewrite_util.h"

namespace kiln::passes {
namespace {

// Where the output channels of a contraction's weight and result are.
struct ContractionLayout {
  TensorRef weight;
  int weight_axis = 0;   // output-channel dimension of the weight
  int output_axis = 0;   // output-channel dimension of the result
  int64_t channels = 0;
  bool has_bias_input = false;  // Conv2D's optional bias
};

// The contraction producing `ref`, if its weight is a constant and it can take a folded
// weight: Conv2D (OIHW or HWIO filter) or MatMul with a rank-2 constant second operand.
std::optional<ContractionLayout> FoldableContraction(const Graph& g, TensorRef ref) {
  const Node& n = g.node(ref.node);
  if (n.def == nullptr || !n.def->Has(kContraction) || n.inputs.size() < 2) return std::nullopt;
  const Tensor* w = ConstantValue(g, n.inputs[1]);
  if (w == nullptr) return std::nullopt;
  ContractionLayout l;
  l.weight = n.inputs[1];
  const int rank = n.outputs[0].shape.rank();
  if (n.op == "Conv2D") {
    // A clamp (a folded ReLU) sits between the convolution and the BatchNorm's affine map.
    if ((n.HasAttr("clamp_min") && !std::isinf(n.float_attr("clamp_min"))) ||
        (n.HasAttr("clamp_max") && !std::isinf(n.float_attr("clamp_max")))) {
      return std::nullopt;
    }
    l.weight_axis = n.string_attr("filter_format") == "HWIO" ? 3 : 0;
    l.output_axis = n.string_attr("data_format") == "NHWC" ? 3 : 1;
    l.has_bias_input = n.inputs.size() == 3;
    if (l.has_bias_input && ConstantValue(g, n.inputs[2]) == nullptr) return std::nullopt;
  } else if (n.op == "MatMul") {
    if (w->shape().rank() != 2 || n.bool_attr("transpose_a")) return std::nullopt;
    l.weight_axis = n.bool_attr("transpose_b") ? 0 : 1;
    l.output_axis = rank - 1;
  } else {
    return std::nullopt;
  }
  l.channels = w->shape().dim(l.weight_axis);
  return l;
}

// A BatchNorm whose four statistics are constants, per channel in double: its scale
// s = gamma / sqrt(var + eps), beta and mean.
struct ConstantBatchNorm {
  std::vector<double> scale;
  std::vector<double> beta;
  std::vector<double> mean;
};
std::optional<ConstantBatchNorm> ReadConstantBatchNorm(const Graph& g, const Node& n) {
  const Tensor* gamma = ConstantValue(g, n.inputs[1]);
  const Tensor* beta = ConstantValue(g, n.inputs[2]);
  const Tensor* mean = ConstantValue(g, n.inputs[3]);
  const Tensor* var = ConstantValue(g, n.inputs[4]);
  if (!gamma || !beta || !mean || !var) return std::nullopt;
  const double eps = n.float_attr("epsilon");
  ConstantBatchNorm bn;
  for (int64_t c = 0; c < gamma->NumElements(); ++c) {
    bn.scale.push_back(gamma->GetAsDouble(c) / std::sqrt(var->GetAsDouble(c) + eps));
    bn.beta.push_back(beta->GetAsDouble(c));
    bn.mean.push_back(mean->GetAsDouble(c));
  }
  return bn;
}

// W with every slice along `axis` multiplied by scale[c].
absl::StatusOr<Tensor> ScaleAlongAxis(const Tensor& w, int axis, const std::vector<double>& scale) {
  std::vector<int64_t> strides = RowMajorStrides(w.shape());
  const int64_t size = w.shape().dim(axis);
  ASSIGN_OR_RETURN(Tensor out, Tensor::Allocate(w.dtype(), w.shape()));
  const int64_t n = w.NumElements();
  if (w.dtype() == DataType::kF32) {
    // The common case, without per-element dtype dispatch: the same double product,
    // rounded once to float as SetFromDouble does.
    const float* src = w.data<float>();
    float* dst = out.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      dst[i] = static_cast<float>(static_cast<double>(src[i]) * scale[(i / strides[axis]) % size]);
    }
    return out;
  }
  for (int64_t i = 0; i < n; ++i) {
    out.SetFromDouble(i, w.GetAsDouble(i) * scale[(i / strides[axis]) % size]);
  }
  return out;
}

class FoldBatchNormPass : public Pass {
 public:
  explicit FoldBatchNormPass(const PassOptions& options) : options_(options) {}
  absl::string_view name() const override { return "fold-batch-norm"; }
  absl::string_view description() const override {
    return "Fold BatchNorm and per-channel scales and biases into the constant weights of "
           "the preceding Conv2D or MatMul.";
  }

  absl::StatusOr<bool> Run(Graph& graph) override {
    ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
    bool changed = false;
    for (int id : order) {
      UseInfo uses = ComputeUses(graph);
      ASSIGN_OR_RETURN(bool folded, TryFold(graph, uses, id));
      if (!folded && graph.node(id).op == "BatchNorm") {
        ASSIGN_OR_RETURN(folded, ExpandToAffine(graph, id));
      }
      changed = changed || folded;
    }
    if (changed) RemoveDeadNodes(graph);
    return changed;
  }

 private:
  // The per-channel scale and shift `id` applies to its contraction input, if it is a
  // BatchNorm, a Mul or an Add/BiasAdd by a constant along the contraction's channels.
  struct Affine {
    TensorRef input;                // the contraction's output
    std::vector<double> scale;      // empty: 1
    std::vector<double> shift;      // empty: 0
  };

  absl::StatusOr<bool> TryFold(Graph& g, const UseInfo& uses, int id) {
    const Node& n = g.node(id);
    if (n.outputs.size() != 1 || n.inputs.empty()) return false;
    std::optional<Affine> affine;
    std::optional<ContractionLayout> layout;
    for (size_t side = 0; side < n.inputs.size() && !affine; ++side) {
      layout = FoldableContraction(g, n.inputs[side]);
      if (!layout) continue;
      affine = MatchAffine(g, n, side, *layout);
    }
    if (!affine) return false;
    const Node& contraction = g.node(affine->input.node);
    Decision decision = Decision::Yes();
    if (uses.NumUses(g, affine->input) != 1 || affine->input.output != 0) {
      decision = Decision::No("the contraction's output has other users");
    } else if (!IsFloating(n.outputs[0].dtype)) {
      decision = Decision::No("integer weights would round differently");
    }
    LogDecision(options_, name(),
                absl::StrCat("fold '", n.name, "' into '", contraction.name, "'"), decision);
    if (!decision) return false;

    const Tensor& w = *ConstantValue(g, layout->weight);
    Tensor new_w = w;
    if (!affine->scale.empty()) {
      ASSIGN_OR_RETURN(new_w, ScaleAlongAxis(w, layout->weight_axis, affine->scale));
    }
    std::vector<double> bias(layout->channels, 0.0);
    if (layout->has_bias_input) {
      const Tensor& b = *ConstantValue(g, contraction.inputs[2]);
      for (int64_t c = 0; c < layout->channels; ++c) bias[c] = b.GetAsDouble(c);
    }
    for (int64_t c = 0; c < layout->channels; ++c) {
      if (!affine->scale.empty()) bias[c] *= affine->scale[c];
      if (!affine->shift.empty()) bias[c] += affine->shift[c];
    }
    bool need_bias = layout->has_bias_input || !affine->shift.empty();

    const std::string base = contraction.name;
    ASSIGN_OR_RETURN(TensorRef w_ref, AddConstant(g, absl::StrCat(base, "/folded_weight"), new_w));
    std::vector<TensorRef> inputs = {g.node(affine->input.node).inputs[0], w_ref};
    AttrMap attrs = g.node(affine->input.node).attrs;
    const std::string op = g.node(affine->input.node).op;
    const DataType dtype = w.dtype();
    TensorRef result;
    if (op == "Conv2D") {
      if (need_bias) {
        ASSIGN_OR_RETURN(Tensor b, TensorFromDoubles(dtype, Shape{layout->channels}, bias));
        ASSIGN_OR_RETURN(TensorRef b_ref, AddConstant(g, absl::StrCat(base, "/folded_bias"), b));
        inputs.push_back(b_ref);
      }
      ASSIGN_OR_RETURN(int conv, AddNodeInferred(g, base, op, inputs, attrs));
      result = TensorRef{conv, 0};
    } else {
      ASSIGN_OR_RETURN(int mm, AddNodeInferred(g, base, op, inputs, attrs));
      result = TensorRef{mm, 0};
      if (need_bias) {
        ASSIGN_OR_RETURN(Tensor b, TensorFromDoubles(dtype, Shape{layout->channels}, bias));
        ASSIGN_OR_RETURN(TensorRef b_ref, AddConstant(g, absl::StrCat(base, "/folded_bias"), b));
        ASSIGN_OR_RETURN(int add, AddNodeInferred(g, absl::StrCat(base, "/bias_add"), "Add",
                                                  {result, b_ref}));
        result = TensorRef{add, 0};
      }
    }
    if (!(g.type(result) == g.node(id).outputs[0])) {
      return absl::InternalError(absl::StrCat("fold-batch-norm: folding '", g.node(id).name,
                                              "' changed its type"));
    }
    ReplaceAllUses(g, TensorRef{id, 0}, result);
    RETURN_IF_ERROR(TakeOverName(g, affine->input.node, g.node(result.node).op == "Add"
                                                           ? g.node(result.node).inputs[0].node
                                                           : result.node));
    return true;
  }

  // BatchNorm `id` as Sub, Mul and Add of per-channel constants (see the file comment);
  // false when its statistics are not constant or its dtype is not f32/f64.
  absl::StatusOr<bool> ExpandToAffine(Graph& g, int id) {
    const Node& n = g.node(id);
    const TensorType out = n.outputs[0];
    if (out.dtype != DataType::kF32 && out.dtype != DataType::kF64) return false;
    const int rank = out.shape.rank();
    absl::StatusOr<int> axis = NormalizeAxis(n.int_attr("axis"), rank);
    std::optional<ConstantBatchNorm> bn = ReadConstantBatchNorm(g, n);
    if (!bn || !axis.ok()) return false;
    const int64_t channels = static_cast<int64_t>(bn->scale.size());
    // An unknown channel dimension would take the constants' size in the Sub's type.
    if (out.shape.dim(*axis) != channels) return false;
    // [C, 1, ..., 1]: the channel dimension, then ones to the last axis (NumPy alignment).
    std::vector<int64_t> dims(rank - *axis, 1);
    dims[0] = channels;
    const Shape shape(dims);
    const std::string base = n.name;
    const TensorRef x = n.inputs[0];
    LogDecision(options_, name(), absl::StrCat("expand '", base, "' to (x - mean) * s + beta"),
                Decision::Yes());
    ASSIGN_OR_RETURN(Tensor mean_t, TensorFromDoubles(out.dtype, shape, bn->mean));
    ASSIGN_OR_RETURN(Tensor scale_t, TensorFromDoubles(out.dtype, shape, bn->scale));
    ASSIGN_OR_RETURN(Tensor shift_t, TensorFromDoubles(out.dtype, shape, bn->beta));
    ASSIGN_OR_RETURN(TensorRef mean_ref, AddConstant(g, absl::StrCat(base, "/mean"), mean_t));
    ASSIGN_OR_RETURN(TensorRef scale_ref, AddConstant(g, absl::StrCat(base, "/scale"), scale_t));
    ASSIGN_OR_RETURN(TensorRef shift_ref, AddConstant(g, absl::StrCat(base, "/shift"), shift_t));
    ASSIGN_OR_RETURN(int centered, AddNodeInferred(g, absl::StrCat(base, "/centered"), "Sub",
                                                   {x, mean_ref}));
    ASSIGN_OR_RETURN(int scaled, AddNodeInferred(g, absl::StrCat(base, "/scaled"), "Mul",
                                                 {TensorRef{centered, 0}, scale_ref}));
    ASSIGN_OR_RETURN(int shifted, AddNodeInferred(g, absl::StrCat(base, "/shifted"), "Add",
                                                  {TensorRef{scaled, 0}, shift_ref}));
    if (!(g.node(shifted).outputs[0] == out)) {
      return absl::InternalError(
          absl::StrCat("fold-batch-norm: expanding '", base, "' changed its type"));
    }
    ReplaceAllUses(g, TensorRef{id, 0}, TensorRef{shifted, 0});
    RETURN_IF_ERROR(TakeOverName(g, id, shifted));
    return true;
  }

  // Matches `n` as scale/shift of its input `side` (the contraction's output).
  std::optional<Affine> MatchAffine(const Graph& g, const Node& n, size_t side,
                                    const ContractionLayout& l) {
    const TensorType& out = n.outputs[0];
    const TensorType& in = g.type(n.inputs[side]);
    if (!(in == out)) return std::nullopt;  // a broadcast that grows the result
    const int rank = out.shape.rank();
    Affine a;
    a.input = n.inputs[side];
    if (n.op == "BatchNorm" && side == 0) {
      absl::StatusOr<int> axis = NormalizeAxis(n.int_attr("axis"), rank);
      if (!axis.ok() || *axis != l.output_axis) return std::nullopt;
      std::optional<ConstantBatchNorm> bn = ReadConstantBatchNorm(g, n);
      if (!bn) return std::nullopt;
      for (int64_t c = 0; c < l.channels; ++c) {
        a.scale.push_back(bn->scale[c]);
        a.shift.push_back(bn->beta[c] - bn->mean[c] * bn->scale[c]);
      }
      return a;
    }
    if (n.op == "BiasAdd" && side == 0) {
      absl::StatusOr<int> axis = NormalizeAxis(n.int_attr("axis"), rank);
      const Tensor* bias = ConstantValue(g, n.inputs[1]);
      if (!axis.ok() || *axis != l.output_axis || bias == nullptr) return std::nullopt;
      for (int64_t c = 0; c < l.channels; ++c) a.shift.push_back(bias->GetAsDouble(c));
      return a;
    }
    if ((n.op == "Mul" || n.op == "Add") && n.inputs.size() == 2) {
      const Tensor* c = ConstantValue(g, n.inputs[1 - side]);
      if (c == nullptr) return std::nullopt;
      std::optional<std::vector<double>> values = PerAxisValues(*c, rank, l.output_axis, l.channels);
      if (!values) return std::nullopt;
      if (n.op == "Mul") {
        a.scale = *values;
        a.shift.clear();
      } else {
        // A MatMul keeps its bias as an Add, which epilogue fusion absorbs anyway.
        if (g.node(a.input.node).op != "Conv2D") return std::nullopt;
        a.shift = *values;
      }
      return a;
    }
    return std::nullopt;
  }

  PassOptions options_;
};

}  // namespace

std::unique_ptr<Pass> CreateFoldBatchNormPass(const PassOptions& options) {
  return std::make_unique<FoldBatchNormPass>(options);
}

}  // namespace kiln::passes
