// Softmax, LayerNorm, BatchNorm (inference form) and BiasAdd, on floating types, computed
// in double. FLOPs per output element: Softmax 5 (max, subtract, exp, sum, divide),
// LayerNorm 8 (mean, centre, square, sum, scale by 1/std, gamma, beta), BatchNorm 4, BiasAdd 1.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

// The schema's name of input i ("x"). InferNode sets node.def before calling a shape
// function; the index stands in should another caller not.
std::string InputName(const InferContext& ctx, int i) {
  const OpDef* def = ctx.node.def;
  if (def != nullptr && i < static_cast<int>(def->input_names.size())) {
    return def->input_names[i];
  }
  return absl::StrCat(i);
}

// Every input must have input 0's dtype (input 0's is checked against FloatTypes()).
absl::Status CheckAllSameDtype(const InferContext& ctx) {
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    if (ctx.inputs[i].dtype != ctx.inputs[0].dtype) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", InputName(ctx, i), "' has dtype ", DataTypeName(ctx.inputs[i].dtype),
          ", expected ", DataTypeName(ctx.inputs[0].dtype), " like input 'x'"));
    }
  }
  return absl::OkStatus();
}

// Attribute 'axis' normalized against the rank of x, or an error naming the attribute.
absl::StatusOr<int> AxisAttr(const Node& node, int rank) {
  absl::StatusOr<int> axis = NormalizeAxis(node.int_attr("axis"), rank);
  if (!axis.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'axis': ", axis.status().message()));
  }
  return axis;
}

absl::Status CheckEpsilon(const Node& node) {
  const double epsilon = node.float_attr("epsilon");
  if (!std::isfinite(epsilon) || epsilon < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("attribute 'epsilon' is ", epsilon, ", expected a finite value >= 0"));
  }
  return absl::OkStatus();
}

bool DimsMatch(int64_t a, int64_t b) { return a == b || a == kUnknownDim || b == kUnknownDim; }

// Input `i` must be 1-D with x.shape[axis] elements (unknown sizes match anything).
absl::Status CheckPerChannel(const InferContext& ctx, int i, int axis) {
  const Shape& x = ctx.inputs[0].shape;
  const Shape& p = ctx.inputs[i].shape;
  if (p.rank() != 1 || !DimsMatch(p.dim(0), x.dim(axis))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", InputName(ctx, i), "' has shape ", p.ToString(), ", expected [",
        x.dim(axis), "] (dimension ", axis, " of input 'x' ", x.ToString(), ")"));
  }
  return absl::OkStatus();
}

// Sizes of the dimensions before, at and after `axis` of a fully known shape.
struct AxisSplit {
  int64_t outer = 1;
  int64_t size = 1;
  int64_t inner = 1;
};

AxisSplit SplitAt(const Shape& shape, int axis) {
  AxisSplit split;
  for (int d = 0; d < shape.rank(); ++d) {
    if (d < axis) split.outer *= shape.dim(d);
    if (d == axis) split.size = shape.dim(d);
    if (d > axis) split.inner *= shape.dim(d);
  }
  return split;
}

FlopsFn PerOutputElement(int64_t flops) {
  return [flops](const Node&, absl::Span<const TensorType>,
                 absl::Span<const TensorType> outputs) -> int64_t {
    const Shape& out = outputs[0].shape;
    return out.IsFullyKnown() ? flops * out.NumElements() : 0;  // unknown until bound
  };
}

// ---------------------------------------------------------------------------------------
// Softmax.

absl::Status SoftmaxInfer(InferContext& ctx) {
  RETURN_IF_ERROR(AxisAttr(ctx.node, ctx.inputs[0].shape.rank()).status());
  ctx.outputs.push_back(ctx.inputs[0]);
  return absl::OkStatus();
}

absl::Status SoftmaxKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& y = ctx.outputs[0];
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, x.shape().rank()));
  if (y.NumElements() == 0) return absl::OkStatus();  // no slices: skip the empty loops
  const AxisSplit s = SplitAt(x.shape(), axis);
  std::vector<double> e(s.size);
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t in = 0; in < s.inner; ++in) {
      const int64_t base = o * s.size * s.inner + in;
      // Subtracting the maximum keeps exp() from overflowing; NaN anywhere propagates.
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < s.size; ++j) {
        const double v = x.GetAsDouble(base + j * s.inner);
        if (v > max || std::isnan(v)) max = v;
      }
      double sum = 0;
      for (int64_t j = 0; j < s.size; ++j) {
        e[j] = std::exp(x.GetAsDouble(base + j * s.inner) - max);
        sum += e[j];
      }
      for (int64_t j = 0; j < s.size; ++j) y.SetFromDouble(base + j * s.inner, e[j] / sum);
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// LayerNorm.

absl::Status LayerNormInfer(InferContext& ctx) {
  RETURN_IF_ERROR(CheckAllSameDtype(ctx));
  RETURN_IF_ERROR(CheckEpsilon(ctx.node));
  const Shape& x = ctx.inputs[0].shape;
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, x.rank()));
  const Shape normalized(absl::MakeConstSpan(x.dims()).subspan(axis));
  for (int i = 1; i <= 2; ++i) {
    const Shape& p = ctx.inputs[i].shape;
    bool match = p.rank() == normalized.rank();
    for (int d = 0; match && d < p.rank(); ++d) match = DimsMatch(p.dim(d), normalized.dim(d));
    if (!match) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", InputName(ctx, i), "' has shape ", p.ToString(), ", expected ",
          normalized.ToString(), " (dimensions ", axis, ".. of input 'x' ", x.ToString(), ")"));
    }
  }
  ctx.outputs.push_back(ctx.inputs[0]);
  return absl::OkStatus();
}

absl::Status LayerNormKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& gamma = ctx.inputs[1];
  const Tensor& beta = ctx.inputs[2];
  Tensor& y = ctx.outputs[0];
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, x.shape().rank()));
  if (y.NumElements() == 0) return absl::OkStatus();  // no slices: skip the empty loops
  const double epsilon = ctx.node.float_attr("epsilon");
  // Rows are the leading dims; each row of `n` elements is normalized on its own.
  const AxisSplit s = SplitAt(x.shape(), axis);
  const int64_t rows = s.outer;
  const int64_t n = s.size * s.inner;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = r * n;
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += x.GetAsDouble(base + j);
    const double mean = sum / static_cast<double>(n);
    double squares = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double d = x.GetAsDouble(base + j) - mean;
      squares += d * d;
    }
    const double variance = squares / static_cast<double>(n);  // biased
    const double inv_std = 1.0 / std::sqrt(variance + epsilon);
    for (int64_t j = 0; j < n; ++j) {
      y.SetFromDouble(base + j, (x.GetAsDouble(base + j) - mean) * inv_std * gamma.GetAsDouble(j) +
                                    beta.GetAsDouble(j));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// BatchNorm and BiasAdd: per-channel parameters along `axis`.

absl::Status BatchNormInfer(InferContext& ctx) {
  RETURN_IF_ERROR(CheckAllSameDtype(ctx));
  RETURN_IF_ERROR(CheckEpsilon(ctx.node));
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, ctx.inputs[0].shape.rank()));
  for (int i = 1; i <= 4; ++i) RETURN_IF_ERROR(CheckPerChannel(ctx, i, axis));
  ctx.outputs.push_back(ctx.inputs[0]);
  return absl::OkStatus();
}

absl::Status BatchNormKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& scale = ctx.inputs[1];
  const Tensor& bias = ctx.inputs[2];
  const Tensor& mean = ctx.inputs[3];
  const Tensor& variance = ctx.inputs[4];
  Tensor& y = ctx.outputs[0];
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, x.shape().rank()));
  if (y.NumElements() == 0) return absl::OkStatus();  // no slices: skip the empty loops
  const double epsilon = ctx.node.float_attr("epsilon");
  const AxisSplit s = SplitAt(x.shape(), axis);
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t c = 0; c < s.size; ++c) {
      const double m = mean.GetAsDouble(c);
      const double inv_std = 1.0 / std::sqrt(variance.GetAsDouble(c) + epsilon);
      const double g = scale.GetAsDouble(c);
      const double b = bias.GetAsDouble(c);
      const int64_t base = (o * s.size + c) * s.inner;
      for (int64_t in = 0; in < s.inner; ++in) {
        y.SetFromDouble(base + in, (x.GetAsDouble(base + in) - m) * inv_std * g + b);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status BiasAddInfer(InferContext& ctx) {
  RETURN_IF_ERROR(CheckAllSameDtype(ctx));
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, ctx.inputs[0].shape.rank()));
  RETURN_IF_ERROR(CheckPerChannel(ctx, 1, axis));
  ctx.outputs.push_back(ctx.inputs[0]);
  return absl::OkStatus();
}

absl::Status BiasAddKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& bias = ctx.inputs[1];
  Tensor& y = ctx.outputs[0];
  ASSIGN_OR_RETURN(int axis, AxisAttr(ctx.node, x.shape().rank()));
  const AxisSplit s = SplitAt(x.shape(), axis);
  for (int64_t i = 0; i < y.NumElements(); ++i) {
    y.SetFromDouble(i, x.GetAsDouble(i) + bias.GetAsDouble((i / s.inner) % s.size));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterNormalizationOps(OpRegistry& registry) {
  MustRegister(registry, OpDef{
      .name = "Softmax",
      .summary = "exp(x - max) / sum(exp(x - max)) along `axis` (negative counts from the end), "
                 "each slice normalized on its own.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"axis", AttrType::kInt, int64_t{-1}}},
      .dtypes = FloatTypes(),
      .traits = kAxisReduction,
      .infer = SoftmaxInfer,
      .reference = SoftmaxKernel,
      .flops = PerOutputElement(5),
  });

  MustRegister(registry, OpDef{
      .name = "LayerNorm",
      .summary = "(x - mean) / sqrt(var + epsilon) * gamma + beta, with mean and biased "
                 "variance over dimensions [axis, rank) and gamma, beta of shape x.shape[axis:].",
      .input_names = {"x", "gamma", "beta"},
      .min_inputs = 3,
      .max_inputs = 3,
      .attrs = {{"axis", AttrType::kInt, int64_t{-1}}, {"epsilon", AttrType::kFloat, 1e-5}},
      .dtypes = FloatTypes(),
      .traits = kAxisReduction,
      .infer = LayerNormInfer,
      .reference = LayerNormKernel,
      .flops = PerOutputElement(8),
  });

  MustRegister(registry, OpDef{
      .name = "BatchNorm",
      .summary = "Inference batch normalization (x - mean) / sqrt(variance + epsilon) * scale "
                 "+ bias, where the four parameters are 1-D over the channel dimension `axis` "
                 "(1 for NCHW).",
      .input_names = {"x", "scale", "bias", "mean", "variance"},
      .min_inputs = 5,
      .max_inputs = 5,
      .attrs = {{"epsilon", AttrType::kFloat, 1e-5}, {"axis", AttrType::kInt, int64_t{1}}},
      .dtypes = FloatTypes(),
      .traits = kChannelAxis,
      .infer = BatchNormInfer,
      .reference = BatchNormKernel,
      .flops = PerOutputElement(4),
  });

  MustRegister(registry, OpDef{
      .name = "BiasAdd",
      .summary = "x + bias, where bias is 1-D with x.shape[axis] elements and is added along "
                 "dimension `axis` (negative counts from the end).",
      .input_names = {"x", "bias"},
      .min_inputs = 2,
      .max_inputs = 2,
      .attrs = {{"axis", AttrType::kInt, int64_t{-1}}},
      .dtypes = FloatTypes(),
      .traits = kChannelAxis,
      .infer = BiasAddInfer,
      .reference = BiasAddKernel,
      .flops = PerOutputElement(1),
  });
}

}  // namespace kiln
