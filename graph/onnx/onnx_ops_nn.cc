// Converters of ONNX's neural-network ops: Gemm and MatMul onto MatMul, Conv and pooling
// onto the 2-D Kiln ops (1-D through a unit height; auto_pad and ceil_mode resolved into
// explicit pads), normalizations onto BatchNorm / LayerNorm or their arithmetic, and the
// softmax family.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "graph/onnx/onnx_converter.h"
#include "graph/onnx/onnx_ops_util.h"
#include "base/status_macros.h"

namespace kiln::onnx_import {
namespace {

absl::Status CheckLength(const std::vector<int64_t>& values, size_t expected,
                         absl::string_view attr) {
  if (values.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("attribute '", attr, "' has ", values.size(),
                                                   " entries, expected ", expected));
  }
  return absl::OkStatus();
}

// [axis, rank) as a list.
std::vector<int64_t> AxesFrom(int axis, int rank) {
  std::vector<int64_t> axes;
  for (int d = axis; d < rank; ++d) axes.push_back(d);
  return axes;
}

// Window geometry of Conv and pooling in ONNX's terms, for `spatial` dimensions.
struct Window {
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;  // begins, then ends
};

// Reads strides, dilations, pads and auto_pad, and resolves auto_pad against the input's
// spatial sizes (which must then be known).
absl::StatusOr<Window> ReadWindow(NodeContext& ctx, const Shape& x, std::vector<int64_t> kernel,
                                  bool has_dilations) {
  const int n = static_cast<int>(kernel.size());
  Window w;
  w.kernel = std::move(kernel);
  ASSIGN_OR_RETURN(w.strides, ctx.Ints("strides", std::vector<int64_t>(n, 1)));
  w.dilations = std::vector<int64_t>(n, 1);
  if (has_dilations) {
    ASSIGN_OR_RETURN(w.dilations, ctx.Ints("dilations", w.dilations));
  }
  ASSIGN_OR_RETURN(w.pads, ctx.Ints("pads", std::vector<int64_t>(2 * n, 0)));
  ASSIGN_OR_RETURN(std::string auto_pad, ctx.String("auto_pad", "NOTSET"));
  RETURN_IF_ERROR(CheckLength(w.strides, n, "strides"));
  RETURN_IF_ERROR(CheckLength(w.dilations, n, "dilations"));
  RETURN_IF_ERROR(CheckLength(w.pads, 2 * n, "pads"));
  // Bounded so the window arithmetic below cannot overflow: (kernel-1)*dilation and
  // (out-1)*stride stay within 2^40 each.
  for (int i = 0; i < n; ++i) {
    if (w.strides[i] < 1 || w.strides[i] > kMaxElements || w.dilations[i] < 1 ||
        w.dilations[i] > kMaxElements || w.kernel[i] < 1 || w.kernel[i] > kMaxElements ||
        (w.kernel[i] - 1) > kMaxElements / w.dilations[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kernel, strides and dilations must be in [1, 2^40] with a dilated kernel within "
          "2^40; got kernel ", w.kernel[i], ", stride ", w.strides[i], ", dilation ",
          w.dilations[i]));
    }
  }
  for (int64_t p : w.pads) {
    if (p < 0 || p > kMaxElements) {
      return absl::InvalidArgumentError(absl::StrCat("attribute 'pads' entry ", p,
                                                     " is outside [0, 2^40]"));
    }
  }
  if (auto_pad == "NOTSET") return w;
  if (auto_pad == "VALID") {
    w.pads.assign(2 * n, 0);
    return w;
  }
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'auto_pad' is '", auto_pad, "'"));
  }
  for (int i = 0; i < n; ++i) {
    const int64_t in = x.dim(2 + i);
    if (in == kUnknownDim) {
      return NodeContext::Unsupported(
          absl::StrCat("auto_pad ", auto_pad, " needs known spatial sizes; input is ", x.ToString()));
    }
    // Output ceil(in / stride); the total padding makes the last window end at the edge.
    const int64_t out = (in + w.strides[i] - 1) / w.strides[i];
    const int64_t span = (w.kernel[i] - 1) * w.dilations[i] + 1;
    const int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + span - in);
    const int64_t small = total / 2;
    w.pads[i] = auto_pad == "SAME_UPPER" ? small : total - small;
    w.pads[n + i] = total - w.pads[i];
  }
  return w;
}

// Inserts a unit height so 1-D windows run as 2-D ones: [N, C, W] -> [N, C, 1, W].
absl::StatusOr<TensorRef> AddUnitHeight(NodeContext& ctx, TensorRef x) {
  std::vector<int64_t> dims = ctx.ShapeOf(x).dims();
  dims.insert(dims.begin() + 2, 1);
  return ReshapeTo(ctx, x, dims);
}

// Window attributes for the 2-D Kiln ops; 1-D windows get a unit height.
void To2D(Window& w) {
  if (w.kernel.size() == 2) return;
  w.kernel.insert(w.kernel.begin(), 1);
  w.strides.insert(w.strides.begin(), 1);
  w.dilations.insert(w.dilations.begin(), 1);
  w.pads = {0, w.pads[0], 0, w.pads[1]};
}

absl::StatusOr<int> SpatialRank(const Shape& x, absl::string_view what) {
  const int spatial = x.rank() - 2;
  if (spatial == 1 || spatial == 2) return spatial;
  if (spatial < 1) {
    return absl::InvalidArgumentError(absl::StrCat(what, " input ", x.ToString(),
                                                   " has rank below 3"));
  }
  return NodeContext::Unsupported(absl::StrCat(spatial, "-D ", what, " is not supported (Kiln has 1-D and 2-D)"));
}

}  // namespace

// Y = alpha * op(A) op(B) + beta * C.
absl::Status ConvertGemm(NodeContext& ctx) {
  ASSIGN_OR_RETURN(double alpha, ctx.Float("alpha", 1.0));
  ASSIGN_OR_RETURN(double beta, ctx.Float("beta", 1.0));
  ASSIGN_OR_RETURN(int64_t trans_a, ctx.Int("transA", 0));
  ASSIGN_OR_RETURN(int64_t trans_b, ctx.Int("transB", 0));
  ASSIGN_OR_RETURN(TensorRef a, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef b, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("MatMul", {a, b}, {{"transpose_a", trans_a != 0},
                                                           {"transpose_b", trans_b != 0}}));
  if (alpha != 1.0) {
    ASSIGN_OR_RETURN(y, BinaryScalar(ctx, "Mul", y, alpha));
  }
  if (ctx.HasInput(2) && beta != 0.0) {
    ASSIGN_OR_RETURN(TensorRef c, ctx.Input(2));
    if (beta != 1.0) {
      ASSIGN_OR_RETURN(c, BinaryScalar(ctx, "Mul", c, beta));
    }
    ASSIGN_OR_RETURN(y, ctx.Emit("Add", {y, c}));
  }
  return ctx.SetOutput(0, y);
}

// NumPy matmul: a 1-D operand becomes a matrix for the product and loses that dimension.
absl::Status ConvertMatMul(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef a, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef b, ctx.Input(1));
  const Shape sa = ctx.ShapeOf(a);
  const Shape sb = ctx.ShapeOf(b);
  if (sa.rank() == 0 || sb.rank() == 0) {
    return absl::InvalidArgumentError("MatMul operands must have rank >= 1");
  }
  if (sa.rank() == 1) {
    ASSIGN_OR_RETURN(a, ReshapeTo(ctx, a, {1, sa.dim(0)}));
  }
  if (sb.rank() == 1) {
    ASSIGN_OR_RETURN(b, ReshapeTo(ctx, b, {sb.dim(0), 1}));
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("MatMul", {a, b}));
  if (sa.rank() == 1 || sb.rank() == 1) {
    std::vector<int64_t> dims = ctx.ShapeOf(y).dims();
    if (sb.rank() == 1) dims.erase(dims.end() - 1);
    if (sa.rank() == 1) dims.erase(dims.end() - (sb.rank() == 1 ? 1 : 2));
    ASSIGN_OR_RETURN(y, ReshapeTo(ctx, y, dims));
  }
  return ctx.SetOutput(0, y);
}

absl::Status ConvertConv(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef w, ctx.Input(1));
  const Shape xs = ctx.ShapeOf(x);
  const Shape ws = ctx.ShapeOf(w);
  ASSIGN_OR_RETURN(int spatial, SpatialRank(xs, "convolution"));
  if (ws.rank() != xs.rank()) {
    return absl::InvalidArgumentError(absl::StrCat("weights ", ws.ToString(),
                                                   " do not match input ", xs.ToString()));
  }
  std::vector<int64_t> kernel(ws.dims().begin() + 2, ws.dims().end());
  ASSIGN_OR_RETURN(std::vector<int64_t> kernel_shape, ctx.Ints("kernel_shape", kernel));
  if (kernel_shape != kernel) {
    return absl::InvalidArgumentError(absl::StrCat(
        "attribute 'kernel_shape' [", absl::StrJoin(kernel_shape, ","),
        "] differs from the weights' spatial shape ", ws.ToString()));
  }
  for (int64_t k : kernel) {
    if (k == kUnknownDim) return NodeContext::Unsupported("weights with unknown spatial size");
  }
  ASSIGN_OR_RETURN(int64_t group, ctx.Int("group", 1));
  ASSIGN_OR_RETURN(Window win, ReadWindow(ctx, xs, kernel, true));
  std::vector<TensorRef> inputs;
  if (spatial == 1) {
    ASSIGN_OR_RETURN(x, AddUnitHeight(ctx, x));
    ASSIGN_OR_RETURN(w, AddUnitHeight(ctx, w));
    To2D(win);
  }
  inputs = {x, w};
  if (ctx.HasInput(2)) {
    ASSIGN_OR_RETURN(TensorRef bias, ctx.Input(2));
    inputs.push_back(bias);
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Conv2D", inputs, {{"strides", win.strides},
                                                           {"pads", win.pads},
                                                           {"dilations", win.dilations},
                                                           {"groups", group}}));
  if (spatial == 1) {
    std::vector<int64_t> dims = ctx.ShapeOf(y).dims();
    dims.erase(dims.begin() + 2);
    ASSIGN_OR_RETURN(y, ReshapeTo(ctx, y, dims));
  }
  return ctx.SetOutput(0, y);
}

// MaxPool and AveragePool. ceil_mode becomes extra end padding, which Kiln's pooling
// excludes (MaxPool pads with -inf; AvgPool leaves pads out of the divisor unless
// count_include_pad, a combination refused here).
absl::Status ConvertPool(NodeContext& ctx) {
  const bool is_max = ctx.node().op_type() == "MaxPool";
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  const Shape xs = ctx.ShapeOf(x);
  ASSIGN_OR_RETURN(int spatial, SpatialRank(xs, "pooling"));
  ASSIGN_OR_RETURN(std::vector<int64_t> kernel, ctx.Ints("kernel_shape"));
  RETURN_IF_ERROR(CheckLength(kernel, spatial, "kernel_shape"));
  ASSIGN_OR_RETURN(Window win, ReadWindow(ctx, xs, kernel, /*has_dilations=*/is_max));
  for (int64_t d : win.dilations) {
    if (d != 1) return NodeContext::Unsupported("pooling with dilations");
  }
  ASSIGN_OR_RETURN(int64_t ceil_mode, ctx.Int("ceil_mode", 0));
  int64_t count_include_pad = 0;
  if (is_max) {
    ASSIGN_OR_RETURN(int64_t storage_order, ctx.Int("storage_order", 0));
    (void)storage_order;  // only shapes the Indices output, which is refused when used
  } else {
    ASSIGN_OR_RETURN(count_include_pad, ctx.Int("count_include_pad", 0));
  }
  if (ceil_mode != 0) {
    for (int i = 0; i < spatial; ++i) {
      const int64_t in = xs.dim(2 + i);
      if (in == kUnknownDim) return NodeContext::Unsupported("ceil_mode with unknown spatial sizes");
      const int64_t padded = in + win.pads[i] + win.pads[spatial + i] - win.kernel[i];
      if (padded < 0) break;
      int64_t out = (padded + win.strides[i] - 1) / win.strides[i] + 1;
      // As PyTorch and ONNX Runtime: the last window must start inside the input or
      // the begin padding.
      if ((out - 1) * win.strides[i] >= in + win.pads[i]) --out;
      const int64_t extra = (out - 1) * win.strides[i] + win.kernel[i] - (padded + win.kernel[i]);
      if (extra > 0) {
        if (count_include_pad != 0) {
          return NodeContext::Unsupported("AveragePool with ceil_mode and count_include_pad");
        }
        win.pads[spatial + i] += extra;
      }
    }
  }
  if (spatial == 1) {
    ASSIGN_OR_RETURN(x, AddUnitHeight(ctx, x));
    To2D(win);
  }
  // Kiln pools floats; MaxPool of 8/32-bit integers runs exactly in f64 and casts back.
  const DataType dtype = ctx.Dtype(x);
  const bool via_f64 = is_max && (dtype == DataType::kU8 || dtype == DataType::kI8 ||
                                  dtype == DataType::kI32);
  if (via_f64) {
    ASSIGN_OR_RETURN(x, ctx.Emit("Cast", {x}, {{"to", DataType::kF64}}));
  }
  AttrMap attrs = {{"kernel", win.kernel}, {"strides", win.strides}, {"pads", win.pads}};
  if (!is_max) attrs["count_include_pad"] = count_include_pad != 0;
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit(is_max ? "MaxPool" : "AvgPool", {x}, std::move(attrs)));
  if (via_f64) {
    ASSIGN_OR_RETURN(y, ctx.Emit("Cast", {y}, {{"to", dtype}}));
  }
  if (spatial == 1) {
    std::vector<int64_t> dims = ctx.ShapeOf(y).dims();
    dims.erase(dims.begin() + 2);
    ASSIGN_OR_RETURN(y, ReshapeTo(ctx, y, dims));
  }
  return ctx.SetOutput(0, y);
}

// GlobalAveragePool / GlobalMaxPool: a mean or max over every spatial dimension, kept.
absl::Status ConvertGlobalPool(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  const int rank = ctx.ShapeOf(x).rank();
  if (rank < 3) return absl::InvalidArgumentError("input has rank below 3");
  const char* op = ctx.node().op_type() == "GlobalMaxPool" ? "ReduceMax" : "ReduceMean";
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit(op, {x}, {{"axes", AxesFrom(2, rank)}, {"keepdims", true}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertBatchNormalization(NodeContext& ctx) {
  ASSIGN_OR_RETURN(double epsilon, ctx.Float("epsilon", 1e-5));
  ASSIGN_OR_RETURN(double momentum, ctx.Float("momentum", 0.9));
  (void)momentum;  // updates running statistics in training only
  ASSIGN_OR_RETURN(int64_t training, ctx.Int("training_mode", 0));
  if (training != 0) return NodeContext::Unsupported("training_mode=1 (batch statistics)");
  if (ctx.opset() < 9) {
    ASSIGN_OR_RETURN(int64_t spatial, ctx.Int("spatial", 1));
    if (spatial != 1) return NodeContext::Unsupported("spatial=0");
  }
  std::vector<TensorRef> inputs;
  for (int i = 0; i < 5; ++i) {
    ASSIGN_OR_RETURN(TensorRef in, ctx.Input(i));
    inputs.push_back(in);
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("BatchNorm", inputs, {{"epsilon", epsilon}, {"axis", int64_t{1}}}));
  return ctx.SetOutput(0, y);
}

namespace {

// Mean and 1/sqrt(var + epsilon) over `axes`, kept; returns {x - mean, mean, inv_std}.
struct Moments {
  TensorRef centered, mean, inv_std;
};
absl::StatusOr<Moments> NormalizeMoments(NodeContext& ctx, TensorRef x,
                                         const std::vector<int64_t>& axes, double epsilon) {
  Moments m;
  AttrMap reduce = {{"axes", axes}, {"keepdims", true}};
  ASSIGN_OR_RETURN(m.mean, ctx.Emit("ReduceMean", {x}, reduce));
  ASSIGN_OR_RETURN(m.centered, ctx.Emit("Sub", {x, m.mean}));
  ASSIGN_OR_RETURN(TensorRef sq, ctx.Emit("Mul", {m.centered, m.centered}));
  ASSIGN_OR_RETURN(TensorRef var, ctx.Emit("ReduceMean", {sq}, reduce));
  ASSIGN_OR_RETURN(var, BinaryScalar(ctx, "Add", var, epsilon));
  ASSIGN_OR_RETURN(m.inv_std, ctx.Emit("Rsqrt", {var}));
  return m;
}

// [C] -> [C, 1, ..., 1] so it broadcasts along dimension 1 of a rank-`rank` tensor.
absl::StatusOr<TensorRef> PerChannel(NodeContext& ctx, TensorRef v, int rank) {
  std::vector<int64_t> dims = ctx.ShapeOf(v).dims();
  if (dims.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("per-channel input has shape ",
                                                   ctx.ShapeOf(v).ToString(), ", expected 1-D"));
  }
  dims.resize(rank - 1, 1);
  return ReshapeTo(ctx, v, dims);
}

}  // namespace

absl::Status ConvertInstanceNormalization(NodeContext& ctx) {
  ASSIGN_OR_RETURN(double epsilon, ctx.Float("epsilon", 1e-5));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef scale, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef bias, ctx.Input(2));
  const int rank = ctx.ShapeOf(x).rank();
  if (rank < 3) return absl::InvalidArgumentError("input has rank below 3");
  ASSIGN_OR_RETURN(Moments m, NormalizeMoments(ctx, x, AxesFrom(2, rank), epsilon));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Mul", {m.centered, m.inv_std}));
  ASSIGN_OR_RETURN(scale, PerChannel(ctx, scale, rank));
  ASSIGN_OR_RETURN(bias, PerChannel(ctx, bias, rank));
  ASSIGN_OR_RETURN(y, ctx.Emit("Mul", {y, scale}));
  ASSIGN_OR_RETURN(y, ctx.Emit("Add", {y, bias}));
  return ctx.SetOutput(0, y);
}

// LayerNormalization-17 onto Kiln's LayerNorm when only Y is used and Scale/B have the
// normalized shape; otherwise its arithmetic (which also yields Mean and InvStdDev).
absl::Status ConvertLayerNormalization(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t axis_attr, ctx.Int("axis", -1));
  ASSIGN_OR_RETURN(double epsilon, ctx.Float("epsilon", 1e-5));
  ASSIGN_OR_RETURN(int64_t stash_type, ctx.Int("stash_type", 1));
  (void)stash_type;  // Kiln's reference computes in double whatever the stash type
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef scale, ctx.Input(1));
  const Shape xs = ctx.ShapeOf(x);
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, NormalizeAxes({axis_attr}, xs.rank(), "axis"));
  const int axis = static_cast<int>(axes[0]);
  const Shape normalized(std::vector<int64_t>(xs.dims().begin() + axis, xs.dims().end()));
  std::optional<TensorRef> bias;
  if (ctx.HasInput(2)) {
    ASSIGN_OR_RETURN(bias, ctx.Input(2));
  }
  const bool exact_params = ctx.ShapeOf(scale) == normalized &&
                            (!bias || ctx.ShapeOf(*bias) == normalized) && normalized.IsFullyKnown();
  if (!ctx.OutputUsed(1) && !ctx.OutputUsed(2) && exact_params) {
    if (!bias) {
      ASSIGN_OR_RETURN(Tensor zeros, ctx.AllocateConstant(ctx.Dtype(x), normalized));
      ASSIGN_OR_RETURN(bias, ctx.Constant(zeros));
    }
    ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("LayerNorm", {x, scale, *bias},
                                           {{"axis", int64_t{axis}}, {"epsilon", epsilon}}));
    return ctx.SetOutput(0, y);
  }
  ASSIGN_OR_RETURN(Moments m, NormalizeMoments(ctx, x, AxesFrom(axis, xs.rank()), epsilon));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Mul", {m.centered, m.inv_std}));
  ASSIGN_OR_RETURN(y, ctx.Emit("Mul", {y, scale}));
  if (bias) {
    ASSIGN_OR_RETURN(y, ctx.Emit("Add", {y, *bias}));
  }
  RETURN_IF_ERROR(ctx.SetOutput(0, y));
  RETURN_IF_ERROR(ctx.SetOutput(1, m.mean));
  if (ctx.num_outputs() > 2) RETURN_IF_ERROR(ctx.SetOutput(2, m.inv_std));
  return absl::OkStatus();
}

// (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9), ONNX's function body.
absl::Status ConvertMeanVarianceNormalization(NodeContext& ctx) {
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, ctx.Ints("axes", {0, 2, 3}));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  AttrMap reduce = {{"axes", axes}, {"keepdims", true}};
  ASSIGN_OR_RETURN(TensorRef mean, ctx.Emit("ReduceMean", {x}, reduce));
  ASSIGN_OR_RETURN(TensorRef sq, ctx.Emit("Mul", {x, x}));
  ASSIGN_OR_RETURN(TensorRef mean_sq, ctx.Emit("ReduceMean", {sq}, reduce));
  ASSIGN_OR_RETURN(TensorRef sq_mean, ctx.Emit("Mul", {mean, mean}));
  ASSIGN_OR_RETURN(TensorRef var, ctx.Emit("Sub", {mean_sq, sq_mean}));
  ASSIGN_OR_RETURN(TensorRef std, ctx.Emit("Sqrt", {var}));
  ASSIGN_OR_RETURN(std, BinaryScalar(ctx, "Add", std, 1e-9));
  ASSIGN_OR_RETURN(TensorRef centered, ctx.Emit("Sub", {x, mean}));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Div", {centered, std}));
  return ctx.SetOutput(0, y);
}

// x - max - log(sum(exp(x - max))) along `axis`: no overflow, and exact where softmax
// underflows.
absl::StatusOr<TensorRef> LogSoftmaxAlong(NodeContext& ctx, TensorRef x, int axis) {
  AttrMap reduce = {{"axes", std::vector<int64_t>{axis}}, {"keepdims", true}};
  ASSIGN_OR_RETURN(TensorRef max, ctx.Emit("ReduceMax", {x}, reduce));
  ASSIGN_OR_RETURN(TensorRef shifted, ctx.Emit("Sub", {x, max}));
  ASSIGN_OR_RETURN(TensorRef e, ctx.Emit("Exp", {shifted}));
  ASSIGN_OR_RETURN(TensorRef sum, ctx.Emit("ReduceSum", {e}, reduce));
  ASSIGN_OR_RETURN(TensorRef log_sum, ctx.Emit("Log", {sum}));
  return ctx.Emit("Sub", {shifted, log_sum});
}

namespace {

// The softmax family along one axis of x.
absl::StatusOr<TensorRef> SoftmaxAlong(NodeContext& ctx, TensorRef x, int axis) {
  const std::string& op = ctx.node().op_type();
  if (op == "Softmax") return ctx.Emit("Softmax", {x}, {{"axis", int64_t{axis}}});
  if (op == "LogSoftmax") return LogSoftmaxAlong(ctx, x, axis);
  // Hardmax: 1 at the first maximum along the axis: ArgMax compared with an index ramp.
  const Shape xs = ctx.ShapeOf(x);
  const int64_t size = xs.dim(axis);
  if (size == kUnknownDim) return NodeContext::Unsupported("Hardmax over an unknown dimension");
  ASSIGN_OR_RETURN(TensorRef arg, ctx.Emit("ArgMax", {x}, {{"axis", int64_t{axis}},
                                                           {"keepdims", true}}));
  std::vector<int64_t> ramp_dims(xs.rank() - axis, 1);
  ramp_dims[0] = size;
  ASSIGN_OR_RETURN(Tensor ramp, ctx.AllocateConstant(DataType::kI64, Shape(ramp_dims)));
  for (int64_t i = 0; i < size; ++i) ramp.SetFromInt64(i, i);
  ASSIGN_OR_RETURN(TensorRef ramp_ref, ctx.Constant(ramp));
  ASSIGN_OR_RETURN(TensorRef hit, ctx.Emit("Equal", {arg, ramp_ref}));
  return ctx.Emit("Cast", {hit}, {{"to", ctx.Dtype(x)}});
}

}  // namespace

// Opset 13+: along `axis` (default -1). Before: x as a matrix [prod(:axis), prod(axis:)]
// (default axis 1), normalized per row.
absl::Status ConvertSoftmax(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  const Shape xs = ctx.ShapeOf(x);
  ASSIGN_OR_RETURN(int64_t axis_attr, ctx.Int("axis", ctx.opset() >= 13 ? -1 : 1));
  if (ctx.opset() >= 13) {
    ASSIGN_OR_RETURN(std::vector<int64_t> axes, NormalizeAxes({axis_attr}, xs.rank(), "axis"));
    ASSIGN_OR_RETURN(TensorRef y, SoftmaxAlong(ctx, x, static_cast<int>(axes[0])));
    return ctx.SetOutput(0, y);
  }
  if (axis_attr < -xs.rank() || axis_attr > xs.rank()) {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'axis' is ", axis_attr,
                                                   ", out of range for rank ", xs.rank()));
  }
  ASSIGN_OR_RETURN(TensorRef flat, ctx.Emit("Flatten", {x}, {{"axis", axis_attr}}));
  ASSIGN_OR_RETURN(TensorRef y, SoftmaxAlong(ctx, flat, 1));
  ASSIGN_OR_RETURN(y, ReshapeTo(ctx, y, xs.dims()));
  return ctx.SetOutput(0, y);
}

// Inference Dropout: the identity, with an all-true mask when asked for.
absl::Status ConvertDropout(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  if (ctx.opset() < 12) {
    ASSIGN_OR_RETURN(double ratio, ctx.Float("ratio", 0.5));
    (void)ratio;  // applies in training only
  } else {
    ASSIGN_OR_RETURN(int64_t seed, ctx.Int("seed", 0));
    (void)seed;
    if (ctx.HasInput(2)) {
      ASSIGN_OR_RETURN(Tensor training, ctx.ConstantInput(2, "training_mode"));
      if (training.NumElements() != 1 || training.GetAsInt64(0) != 0) {
        return NodeContext::Unsupported("training_mode=true (random masks)");
      }
    }
  }
  RETURN_IF_ERROR(ctx.SetOutput(0, x));
  if (ctx.OutputUsed(1)) {
    const Shape& shape = ctx.ShapeOf(x);
    if (!shape.IsFullyKnown()) return NodeContext::Unsupported("a mask of unknown shape");
    ASSIGN_OR_RETURN(Tensor mask, ctx.AllocateConstant(DataType::kBool, shape));
    for (int64_t i = 0; i < mask.NumElements(); ++i) mask.SetFromInt64(i, 1);
    ASSIGN_OR_RETURN(TensorRef m, ctx.Constant(mask));
    RETURN_IF_ERROR(ctx.SetOutput(1, m));
  }
  return absl::OkStatus();
}

// y = x / (bias + alpha / size * sum of x^2 over a window of `size` channels)^beta, the
// window c - floor((size-1)/2) .. c + ceil((size-1)/2), as a sum of shifted slices.
absl::Status ConvertLrn(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t size, ctx.RequiredInt("size"));
  ASSIGN_OR_RETURN(double alpha, ctx.Float("alpha", 1e-4));
  ASSIGN_OR_RETURN(double beta, ctx.Float("beta", 0.75));
  ASSIGN_OR_RETURN(double bias, ctx.Float("bias", 1.0));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  const Shape xs = ctx.ShapeOf(x);
  if (size < 1 || size > 1024) {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'size' is ", size, ", expected in [1, 1024]"));
  }
  if (xs.rank() < 3 || xs.dim(1) == kUnknownDim) {
    return absl::InvalidArgumentError(absl::StrCat("input ", xs.ToString(),
                                                   " needs rank >= 3 and a known channel count"));
  }
  const int64_t before = (size - 1) / 2;
  const int64_t after = size - 1 - before;
  ASSIGN_OR_RETURN(TensorRef sq, ctx.Emit("Mul", {x, x}));
  std::vector<int64_t> pads(2 * xs.rank(), 0);
  pads[1] = before;
  pads[xs.rank() + 1] = after;
  ASSIGN_OR_RETURN(TensorRef padded, ctx.Emit("Pad", {sq}, {{"pads", pads}}));
  const int64_t channels = xs.dim(1);
  std::optional<TensorRef> sum;
  for (int64_t k = 0; k < size; ++k) {
    ASSIGN_OR_RETURN(TensorRef part, ctx.Emit("Slice", {padded}, {{"starts", std::vector<int64_t>{k}},
                                                                  {"ends", std::vector<int64_t>{k + channels}},
                                                                  {"axes", std::vector<int64_t>{1}}}));
    if (sum) {
      ASSIGN_OR_RETURN(sum, ctx.Emit("Add", {*sum, part}));
    } else {
      sum = part;
    }
  }
  ASSIGN_OR_RETURN(TensorRef d, BinaryScalar(ctx, "Mul", *sum, alpha / static_cast<double>(size)));
  ASSIGN_OR_RETURN(d, BinaryScalar(ctx, "Add", d, bias));
  ASSIGN_OR_RETURN(d, BinaryScalar(ctx, "Pow", d, beta));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Div", {x, d}));
  return ctx.SetOutput(0, y);
}

}  // namespace kiln::onnx_import

namespace kiln::onnx_import {
namespace {

// loss[n, d...] = -input[n, target[n, d...], d...] * weight[target], 0 where target is
// ignore_index; reduced by "none", "sum" or "mean" (the sum divided by the sum of the
// weights taken), as ONNX's NegativeLogLikelihoodLoss.
absl::StatusOr<TensorRef> NllLoss(NodeContext& ctx, TensorRef input, TensorRef target,
                                  std::optional<TensorRef> weight) {
  ASSIGN_OR_RETURN(std::string reduction, ctx.String("reduction", "mean"));
  std::optional<int64_t> ignore;
  if (ctx.HasAttr("ignore_index")) {
    ASSIGN_OR_RETURN(int64_t v, ctx.Int("ignore_index", 0));
    ignore = v;
  }
  if (reduction != "none" && reduction != "sum" && reduction != "mean") {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'reduction' is '", reduction, "'"));
  }
  const Shape in = ctx.ShapeOf(input);
  const Shape ts = ctx.ShapeOf(target);
  if (in.rank() < 2 || ts.rank() != in.rank() - 1) {
    return absl::InvalidArgumentError(absl::StrCat("input ", in.ToString(), " and target ",
                                                   ts.ToString(), " do not fit [N, C, d...] / [N, d...]"));
  }
  ASSIGN_OR_RETURN(TensorRef t, ctx.Emit("Cast", {target}, {{"to", DataType::kI64}}));
  std::optional<TensorRef> ignored;
  if (ignore) {
    ASSIGN_OR_RETURN(TensorRef ig, ctx.Constant(Tensor::I64(Shape{}, {*ignore})));
    ASSIGN_OR_RETURN(ignored, ctx.Emit("Equal", {t, ig}));
    ASSIGN_OR_RETURN(TensorRef zero, ctx.Constant(Tensor::I64(Shape{}, {0})));
    ASSIGN_OR_RETURN(t, ctx.Emit("Where", {*ignored, zero, t}));
  }
  std::vector<int64_t> unit = ts.dims();
  unit.insert(unit.begin() + 1, 1);
  ASSIGN_OR_RETURN(TensorRef t1, ReshapeTo(ctx, t, unit));
  ASSIGN_OR_RETURN(TensorRef picked, ctx.Emit("GatherElements", {input, t1}, {{"axis", int64_t{1}}}));
  ASSIGN_OR_RETURN(picked, ReshapeTo(ctx, picked, ts.dims()));
  std::optional<TensorRef> w;
  if (weight) {
    ASSIGN_OR_RETURN(w, ctx.Emit("Gather", {*weight, t}));
  }
  if (ignored) {
    if (!w) {
      ASSIGN_OR_RETURN(TensorRef one, ctx.Scalar(ctx.Dtype(input), 1.0));
      ASSIGN_OR_RETURN(TensorRef zero_like, BinaryScalar(ctx, "Mul", picked, 0.0));
      ASSIGN_OR_RETURN(w, ctx.Emit("Add", {zero_like, one}));
    }
    ASSIGN_OR_RETURN(TensorRef zero, ctx.Scalar(ctx.Dtype(input), 0.0));
    ASSIGN_OR_RETURN(w, ctx.Emit("Where", {*ignored, zero, *w}));
  }
  TensorRef loss = picked;
  if (w) {
    ASSIGN_OR_RETURN(loss, ctx.Emit("Mul", {picked, *w}));
  }
  ASSIGN_OR_RETURN(loss, ctx.Emit("Neg", {loss}));
  if (reduction == "none") return loss;
  AttrMap all = {{"axes", std::vector<int64_t>{}}, {"keepdims", false}};
  if (reduction == "sum") return ctx.Emit("ReduceSum", {loss}, all);
  if (!w) return ctx.Emit("ReduceMean", {loss}, all);
  ASSIGN_OR_RETURN(TensorRef total, ctx.Emit("ReduceSum", {loss}, all));
  ASSIGN_OR_RETURN(TensorRef weights, ctx.Emit("ReduceSum", {*w}, all));
  return ctx.Emit("Div", {total, weights});
}

}  // namespace

absl::Status ConvertNegativeLogLikelihoodLoss(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef input, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef target, ctx.Input(1));
  std::optional<TensorRef> weight;
  if (ctx.HasInput(2)) {
    ASSIGN_OR_RETURN(weight, ctx.Input(2));
  }
  ASSIGN_OR_RETURN(TensorRef loss, NllLoss(ctx, input, target, weight));
  return ctx.SetOutput(0, loss);
}

// NLL of LogSoftmax(scores) along the class axis 1; output 1 is the log-probabilities.
absl::Status ConvertSoftmaxCrossEntropyLoss(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef scores, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef labels, ctx.Input(1));
  std::optional<TensorRef> weight;
  if (ctx.HasInput(2)) {
    ASSIGN_OR_RETURN(weight, ctx.Input(2));
  }
  if (ctx.ShapeOf(scores).rank() < 2) {
    return absl::InvalidArgumentError("scores must have rank >= 2");
  }
  ASSIGN_OR_RETURN(TensorRef log_prob, LogSoftmaxAlong(ctx, scores, 1));
  ASSIGN_OR_RETURN(TensorRef loss, NllLoss(ctx, log_prob, labels, weight));
  RETURN_IF_ERROR(ctx.SetOutput(0, loss));
  if (ctx.num_outputs() > 1) RETURN_IF_ERROR(ctx.SetOutput(1, log_prob));
  return absl::OkStatus();
}

}  // namespace kiln::onnx_import

namespace kiln::onnx_import {

// Resize-11/13: roi, scales and sizes are (optional) constant inputs; the output size is
// `sizes`, or floor(input * scales).
absl::Status ConvertResize(NodeContext& ctx) {
  ASSIGN_OR_RETURN(std::string mode, ctx.String("mode", "nearest"));
  ASSIGN_OR_RETURN(std::string transform, ctx.String("coordinate_transformation_mode", "half_pixel"));
  ASSIGN_OR_RETURN(std::string nearest_mode, ctx.String("nearest_mode", "round_prefer_floor"));
  ASSIGN_OR_RETURN(double cubic_a, ctx.Float("cubic_coeff_a", -0.75));
  ASSIGN_OR_RETURN(int64_t exclude_outside, ctx.Int("exclude_outside", 0));
  ASSIGN_OR_RETURN(double extrapolation, ctx.Float("extrapolation_value", 0.0));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  const Shape in = ctx.ShapeOf(x);
  std::vector<double> roi;
  if (transform == "tf_crop_and_resize" && ctx.HasInput(1)) {
    ASSIGN_OR_RETURN(Tensor r, ctx.ConstantInput(1, "roi"));
    for (int64_t i = 0; i < r.NumElements(); ++i) roi.push_back(r.GetAsDouble(i));
  }
  std::vector<double> scales;
  if (ctx.HasInput(2)) {
    ASSIGN_OR_RETURN(Tensor s, ctx.ConstantInput(2, "scales"));
    for (int64_t i = 0; i < s.NumElements(); ++i) scales.push_back(s.GetAsDouble(i));
  }
  std::vector<int64_t> sizes;
  if (ctx.HasInput(3)) {
    ASSIGN_OR_RETURN(sizes, ctx.ConstantInts(3, "sizes"));
  }
  if (sizes.empty() == scales.empty()) {
    return absl::InvalidArgumentError("exactly one of 'scales' and 'sizes' must be given");
  }
  if (sizes.empty()) {
    if (static_cast<int>(scales.size()) != in.rank()) {
      return absl::InvalidArgumentError(absl::StrCat("'scales' has ", scales.size(),
                                                     " entries for input ", in.ToString()));
    }
    for (int d = 0; d < in.rank(); ++d) {
      if (!(scales[d] > 0) || scales[d] > static_cast<double>(kMaxElements)) {
        return absl::InvalidArgumentError(absl::StrCat("scale ", scales[d], " is out of range"));
      }
      if (in.dim(d) == kUnknownDim) {
        if (scales[d] != 1.0) return NodeContext::Unsupported("scaling an unknown dimension");
        sizes.push_back(kUnknownDim);
        continue;
      }
      const double size = std::floor(scales[d] * static_cast<double>(in.dim(d)));
      if (size > static_cast<double>(kMaxElements)) {
        return absl::InvalidArgumentError("the resized tensor exceeds 2^40 elements");
      }
      sizes.push_back(static_cast<int64_t>(size));
    }
  } else {
    for (int d = 0; d < static_cast<int>(sizes.size()) && d < in.rank(); ++d) {
      if (in.dim(d) == kUnknownDim && sizes[d] >= 0) {
        return NodeContext::Unsupported("resizing an unknown dimension to a fixed size");
      }
    }
  }
  for (int64_t s : sizes) {
    if (s == kUnknownDim) return NodeContext::Unsupported("Resize with unknown dimensions");
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Resize", {x}, {{"sizes", sizes},
                                                         {"scales", scales},
                                                         {"roi", roi},
                                                         {"mode", mode},
                                                         {"coordinate_transformation_mode", transform},
                                                         {"nearest_mode", nearest_mode},
                                                         {"cubic_coeff_a", cubic_a},
                                                         {"exclude_outside", exclude_outside != 0},
                                                         {"extrapolation_value", extrapolation}}));
  return ctx.SetOutput(0, y);
}

}  // namespace kiln::onnx_import

namespace kiln::onnx_import {

// ConvTranspose as a convolution of the stride-dilated input (zeros inserted by
// Reshape -> Pad -> Reshape -> Slice) with the kernel flipped and its channel axes
// swapped per group, padded by dilation * (kernel - 1) - pads (negative amounts crop).
absl::Status ConvertConvTranspose(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef w, ctx.Input(1));
  const Shape xs = ctx.ShapeOf(x);
  const Shape ws = ctx.ShapeOf(w);
  ASSIGN_OR_RETURN(int spatial, SpatialRank(xs, "transposed convolution"));
  if (ws.rank() != xs.rank() || !ws.IsFullyKnown()) {
    return absl::InvalidArgumentError(absl::StrCat("weights ", ws.ToString(),
                                                   " do not fit input ", xs.ToString()));
  }
  std::vector<int64_t> kernel(ws.dims().begin() + 2, ws.dims().end());
  ASSIGN_OR_RETURN(std::vector<int64_t> kernel_shape, ctx.Ints("kernel_shape", kernel));
  if (kernel_shape != kernel) {
    return absl::InvalidArgumentError("attribute 'kernel_shape' differs from the weights' shape");
  }
  ASSIGN_OR_RETURN(int64_t group, ctx.Int("group", 1));
  ASSIGN_OR_RETURN(std::vector<int64_t> strides, ctx.Ints("strides", std::vector<int64_t>(spatial, 1)));
  ASSIGN_OR_RETURN(std::vector<int64_t> dilations, ctx.Ints("dilations", std::vector<int64_t>(spatial, 1)));
  ASSIGN_OR_RETURN(std::vector<int64_t> pads, ctx.Ints("pads", std::vector<int64_t>(2 * spatial, 0)));
  ASSIGN_OR_RETURN(std::vector<int64_t> out_pad, ctx.Ints("output_padding", std::vector<int64_t>(spatial, 0)));
  ASSIGN_OR_RETURN(std::vector<int64_t> out_shape, ctx.Ints("output_shape"));
  ASSIGN_OR_RETURN(std::string auto_pad, ctx.String("auto_pad", "NOTSET"));
  RETURN_IF_ERROR(CheckLength(strides, spatial, "strides"));
  RETURN_IF_ERROR(CheckLength(dilations, spatial, "dilations"));
  RETURN_IF_ERROR(CheckLength(pads, 2 * spatial, "pads"));
  RETURN_IF_ERROR(CheckLength(out_pad, spatial, "output_padding"));
  if (out_shape.size() == static_cast<size_t>(xs.rank())) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  if (!out_shape.empty()) RETURN_IF_ERROR(CheckLength(out_shape, spatial, "output_shape"));
  const int64_t c = xs.dim(1);
  if (group < 1 || c == kUnknownDim || ws.dim(0) != c || c % group != 0) {
    return absl::InvalidArgumentError(absl::StrCat("group ", group, " and weights ", ws.ToString(),
                                                   " do not fit input ", xs.ToString()));
  }
  for (int i = 0; i < spatial; ++i) {
    const int64_t in = xs.dim(2 + i);
    if (in == kUnknownDim) return NodeContext::Unsupported("unknown spatial sizes");
    if (strides[i] < 1 || strides[i] > 4096 || dilations[i] < 1 || dilations[i] > 4096 ||
        kernel[i] > 4096 || out_pad[i] < 0 || out_pad[i] >= std::max(strides[i], dilations[i]) ||
        pads[i] < 0 || pads[i] > kMaxElements || pads[spatial + i] < 0 ||
        pads[spatial + i] > kMaxElements) {
      return absl::InvalidArgumentError("strides, dilations, kernel, pads or output_padding out of range");
    }
    const int64_t natural = strides[i] * (in - 1) + out_pad[i] + (kernel[i] - 1) * dilations[i] + 1;
    int64_t target = -1;
    if (!out_shape.empty()) {
      target = out_shape[i];
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      target = in * strides[i];
    } else if (auto_pad == "VALID") {
      pads[i] = pads[spatial + i] = 0;
    } else if (auto_pad != "NOTSET") {
      return absl::InvalidArgumentError(absl::StrCat("attribute 'auto_pad' is '", auto_pad, "'"));
    }
    if (target >= 0) {
      if (target > kMaxElements) return absl::InvalidArgumentError("output_shape out of range");
      const int64_t total = natural - target;
      if (total < 0) {  // a larger output extends at the end, as ONNX Runtime does
        pads[i] = 0;
        pads[spatial + i] = total;
      } else if (auto_pad == "SAME_UPPER") {
        pads[i] = total / 2;
        pads[spatial + i] = total - total / 2;
      } else {
        pads[i] = total - total / 2;
        pads[spatial + i] = total / 2;
      }
    }
  }
  std::vector<int64_t> k2 = kernel, s2 = strides, d2 = dilations, op2 = out_pad;
  std::vector<int64_t> pb(pads.begin(), pads.begin() + spatial), pe(pads.begin() + spatial, pads.end());
  if (spatial == 1) {
    ASSIGN_OR_RETURN(x, AddUnitHeight(ctx, x));
    ASSIGN_OR_RETURN(w, AddUnitHeight(ctx, w));
    for (auto* v : {&k2, &s2, &d2, &pb, &pe}) v->insert(v->begin(), 1);
    op2.insert(op2.begin(), 0);
    pb[0] = pe[0] = 0;
  }
  const std::vector<int64_t> xd = ctx.ShapeOf(x).dims();  // [N, C, H, W]
  // Zeros between input samples: [N,C,H,1,W,1] padded to [N,C,H,sh,W,sw], then cut.
  if (s2[0] > 1 || s2[1] > 1) {
    ASSIGN_OR_RETURN(x, ReshapeTo(ctx, x, {xd[0], xd[1], xd[2], 1, xd[3], 1}));
    std::vector<int64_t> pad6(12, 0);
    pad6[6 + 3] = s2[0] - 1;
    pad6[6 + 5] = s2[1] - 1;
    ASSIGN_OR_RETURN(x, ctx.Emit("Pad", {x}, {{"pads", pad6}}));
    ASSIGN_OR_RETURN(x, ReshapeTo(ctx, x, {xd[0], xd[1], xd[2] * s2[0], xd[3] * s2[1]}));
    ASSIGN_OR_RETURN(x, ctx.Emit("Slice", {x}, {{"starts", std::vector<int64_t>{0, 0}},
                                                {"ends", std::vector<int64_t>{(xd[2] - 1) * s2[0] + 1,
                                                                              (xd[3] - 1) * s2[1] + 1}},
                                                {"axes", std::vector<int64_t>{2, 3}}}));
  }
  // Full-correlation padding less the ONNX pads; negative amounts crop the input.
  std::vector<int64_t> conv_pads(4, 0), crop_start(2, 0), crop_end(2, 0);
  bool crop = false;
  for (int i = 0; i < 2; ++i) {
    const int64_t full = d2[i] * (k2[i] - 1);
    const int64_t begin = full - pb[i];
    const int64_t end = full - pe[i] + op2[i];
    const int64_t size = ctx.ShapeOf(x).dim(2 + i);
    conv_pads[i] = std::max<int64_t>(begin, 0);
    conv_pads[2 + i] = std::max<int64_t>(end, 0);
    crop_start[i] = std::max<int64_t>(-begin, 0);
    crop_end[i] = size - std::max<int64_t>(-end, 0);
    crop = crop || begin < 0 || end < 0;
  }
  if (crop) {
    ASSIGN_OR_RETURN(x, ctx.Emit("Slice", {x}, {{"starts", crop_start}, {"ends", crop_end},
                                                {"axes", std::vector<int64_t>{2, 3}}}));
  }
  // Weights [C, M/g, kh, kw] -> [M, C/g, kh, kw], spatially flipped.
  const std::vector<int64_t> wd = ctx.ShapeOf(w).dims();
  const int64_t m_per_group = wd[1];
  ASSIGN_OR_RETURN(TensorRef wt, ReshapeTo(ctx, w, {group, c / group, m_per_group, wd[2], wd[3]}));
  ASSIGN_OR_RETURN(wt, ctx.Emit("Transpose", {wt}, {{"perm", std::vector<int64_t>{0, 2, 1, 3, 4}}}));
  ASSIGN_OR_RETURN(wt, ReshapeTo(ctx, wt, {group * m_per_group, c / group, wd[2], wd[3]}));
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  ASSIGN_OR_RETURN(wt, ctx.Emit("Slice", {wt}, {{"starts", std::vector<int64_t>{-1, -1}},
                                                {"ends", std::vector<int64_t>{kMin, kMin}},
                                                {"axes", std::vector<int64_t>{2, 3}},
                                                {"steps", std::vector<int64_t>{-1, -1}}}));
  std::vector<TensorRef> inputs = {x, wt};
  if (ctx.HasInput(2)) {
    ASSIGN_OR_RETURN(TensorRef bias, ctx.Input(2));
    inputs.push_back(bias);
  }
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Conv2D", inputs, {{"pads", conv_pads},
                                                           {"dilations", d2},
                                                           {"groups", group}}));
  if (spatial == 1) {
    std::vector<int64_t> dims = ctx.ShapeOf(y).dims();
    dims.erase(dims.begin() + 2);
    ASSIGN_OR_RETURN(y, ReshapeTo(ctx, y, dims));
  }
  return ctx.SetOutput(0, y);
}

}  // namespace kiln::onnx_import

namespace kiln::onnx_import {

// Einsum without repeated labels in an operand (diagonals) or ellipses: every operand is
// transposed to one label order and reshaped to all labels (size 1 where absent), the
// operands are multiplied with broadcasting, and the contracted labels summed away.
absl::Status ConvertEinsum(NodeContext& ctx) {
  ASSIGN_OR_RETURN(std::string equation, ctx.String("equation", ""));
  std::string eq;
  for (char ch : equation) {
    if (ch != ' ') eq += ch;
  }
  if (eq.find("...") != std::string::npos) return NodeContext::Unsupported("Einsum with an ellipsis");
  const size_t arrow = eq.find("->");
  std::vector<std::string> terms = absl::StrSplit(eq.substr(0, arrow), ',');
  if (static_cast<int>(terms.size()) != ctx.num_inputs()) {
    return absl::InvalidArgumentError(absl::StrCat("equation '", equation, "' has ", terms.size(),
                                                   " operands for ", ctx.num_inputs(), " inputs"));
  }
  std::map<char, int> count;
  for (const std::string& t : terms) {
    for (char ch : t) {
      if (!absl::ascii_isalpha(ch)) {
        return absl::InvalidArgumentError(absl::StrCat("equation '", equation, "' has '", std::string(1, ch), "'"));
      }
      ++count[ch];
    }
  }
  std::string out;
  if (arrow == std::string::npos) {
    for (const auto& [ch, n] : count) {
      if (n == 1) out += ch;  // implicit output: labels seen once, alphabetically
    }
  } else {
    out = eq.substr(arrow + 2);
  }
  std::string labels = out;
  for (const std::string& t : terms) {
    for (char ch : t) {
      if (labels.find(ch) == std::string::npos) labels += ch;
    }
  }
  for (char ch : out) {
    if (count.find(ch) == count.end() || std::count(out.begin(), out.end(), ch) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("output label '", std::string(1, ch), "' is not a single input label"));
    }
  }
  std::optional<TensorRef> product;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    ASSIGN_OR_RETURN(TensorRef x, ctx.Input(i));
    const std::string& t = terms[i];
    const Shape s = ctx.ShapeOf(x);
    if (static_cast<int>(t.size()) != s.rank()) {
      return absl::InvalidArgumentError(absl::StrCat("operand ", i, " '", t, "' does not match input ", s.ToString()));
    }
    for (char ch : t) {
      if (std::count(t.begin(), t.end(), ch) > 1) {
        return NodeContext::Unsupported("Einsum with a repeated label in one operand (a diagonal)");
      }
    }
    // Transpose to the global label order, then insert unit dimensions.
    std::vector<int64_t> perm;
    std::vector<int64_t> dims;
    for (char ch : labels) {
      const size_t at = t.find(ch);
      if (at == std::string::npos) {
        dims.push_back(1);
      } else {
        perm.push_back(static_cast<int64_t>(at));
        dims.push_back(s.dim(static_cast<int>(at)));
      }
    }
    ASSIGN_OR_RETURN(x, ctx.Emit("Transpose", {x}, {{"perm", perm}}));
    ASSIGN_OR_RETURN(x, ReshapeTo(ctx, x, dims));
    if (product) {
      ASSIGN_OR_RETURN(product, ctx.Emit("Mul", {*product, x}));
    } else {
      product = x;
    }
  }
  if (!product) return absl::InvalidArgumentError("Einsum has no operands");
  TensorRef y = *product;
  if (labels.size() > out.size()) {
    std::vector<int64_t> axes;
    for (size_t a = out.size(); a < labels.size(); ++a) axes.push_back(static_cast<int64_t>(a));
    ASSIGN_OR_RETURN(y, ctx.Emit("ReduceSum", {y}, {{"axes", axes}, {"keepdims", false}}));
  }
  return ctx.SetOutput(0, y);
}

}  // namespace kiln::onnx_import
