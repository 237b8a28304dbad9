// Converters of ONNX's linear quantization ops, decomposed into Kiln arithmetic:
// quantize = saturate(round_half_even(x / scale) + zero_point), dequantize =
// (x - zero_point) * scale, and the integer products computed exactly in f64 (every sum
// of 8-bit products in a test-sized model is an integer below 2^53) before rounding.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/onnx/onnx_converter.h"
#include "graph/onnx/onnx_ops_util.h"
#include "base/status_macros.h"

namespace kiln::onnx_import {
namespace {

absl::StatusOr<TensorRef> CastTo(NodeContext& ctx, TensorRef x, DataType dtype) {
  if (ctx.Dtype(x) == dtype) return x;
  return ctx.Emit("Cast", {x}, {{"to", dtype}});
}

// A per-axis parameter [C] reshaped to broadcast along `axis` of a rank-`rank` tensor;
// scalars and one-element tensors pass unchanged.
absl::StatusOr<TensorRef> AlongAxis(NodeContext& ctx, TensorRef p, int64_t axis_attr, int rank) {
  const Shape s = ctx.ShapeOf(p);
  if (s.rank() == 0 || (s.rank() == 1 && s.dim(0) == 1)) return p;
  if (s.rank() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("a scale or zero point of shape ", s.ToString(),
                                                   " is neither a scalar nor 1-D"));
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, NormalizeAxes({axis_attr}, rank, "axis"));
  std::vector<int64_t> dims(rank - axes[0], 1);
  dims[0] = s.dim(0);
  return ReshapeTo(ctx, p, dims);
}

// saturate(round(x / scale) + zero_point) in `to`. The division is in the scale's
// floating type (f32 for ONNX models), rounded as ONNX's reference rounds it; integer x
// is converted to that type first.
absl::StatusOr<TensorRef> Quantize(NodeContext& ctx, TensorRef x, TensorRef scale,
                                   std::optional<TensorRef> zero_point, DataType to) {
  ASSIGN_OR_RETURN(x, CastTo(ctx, x, ctx.Dtype(scale)));
  ASSIGN_OR_RETURN(TensorRef q, ctx.Emit("Div", {x, scale}));
  ASSIGN_OR_RETURN(q, CastTo(ctx, q, DataType::kF64));
  ASSIGN_OR_RETURN(q, ctx.Emit("Round", {q}));
  if (zero_point) {
    ASSIGN_OR_RETURN(TensorRef zp, CastTo(ctx, *zero_point, DataType::kF64));
    ASSIGN_OR_RETURN(q, ctx.Emit("Add", {q, zp}));
  }
  const double lo = to == DataType::kU8 ? 0 : -128, hi = to == DataType::kU8 ? 255 : 127;
  ASSIGN_OR_RETURN(q, BinaryScalar(ctx, "Maximum", q, lo));
  ASSIGN_OR_RETURN(q, BinaryScalar(ctx, "Minimum", q, hi));
  return ctx.Emit("Cast", {q}, {{"to", to}});
}

// (x - zero_point) as f64.
absl::StatusOr<TensorRef> Centered(NodeContext& ctx, TensorRef x, std::optional<TensorRef> zero_point) {
  ASSIGN_OR_RETURN(TensorRef c, CastTo(ctx, x, DataType::kF64));
  if (zero_point) {
    ASSIGN_OR_RETURN(TensorRef zp, CastTo(ctx, *zero_point, DataType::kF64));
    ASSIGN_OR_RETURN(c, ctx.Emit("Sub", {c, zp}));
  }
  return c;
}

absl::StatusOr<std::optional<TensorRef>> OptionalInput(NodeContext& ctx, int i) {
  if (!ctx.HasInput(i)) return std::optional<TensorRef>();
  ASSIGN_OR_RETURN(TensorRef ref, ctx.Input(i));
  return std::optional<TensorRef>(ref);
}

absl::Status CheckQuantType(DataType t, absl::string_view what) {
  if (t != DataType::kU8 && t != DataType::kI8) {
    return NodeContext::Unsupported(absl::StrCat(what, " of type ", DataTypeName(t), " (u8 and i8 are supported)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ConvertQuantizeLinear(NodeContext& ctx) {
  int64_t axis = 1;
  if (ctx.opset() >= 13) {
    ASSIGN_OR_RETURN(axis, ctx.Int("axis", 1));
  }
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef scale, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<TensorRef> zp, OptionalInput(ctx, 2));
  const DataType to = zp ? ctx.Dtype(*zp) : DataType::kU8;
  RETURN_IF_ERROR(CheckQuantType(to, "a quantized output"));
  const int rank = ctx.ShapeOf(x).rank();
  ASSIGN_OR_RETURN(scale, AlongAxis(ctx, scale, axis, rank));
  if (zp) {
    ASSIGN_OR_RETURN(zp, AlongAxis(ctx, *zp, axis, rank));
  }
  ASSIGN_OR_RETURN(TensorRef y, Quantize(ctx, x, scale, zp, to));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertDequantizeLinear(NodeContext& ctx) {
  int64_t axis = 1;
  if (ctx.opset() >= 13) {
    ASSIGN_OR_RETURN(axis, ctx.Int("axis", 1));
  }
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef scale, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<TensorRef> zp, OptionalInput(ctx, 2));
  const int rank = ctx.ShapeOf(x).rank();
  const DataType out = ctx.Dtype(scale);
  if (zp) {
    ASSIGN_OR_RETURN(zp, AlongAxis(ctx, *zp, axis, rank));
  }
  ASSIGN_OR_RETURN(TensorRef c, Centered(ctx, x, zp));
  ASSIGN_OR_RETURN(scale, CastTo(ctx, scale, DataType::kF64));
  ASSIGN_OR_RETURN(scale, AlongAxis(ctx, scale, axis, rank));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Mul", {c, scale}));
  ASSIGN_OR_RETURN(y, CastTo(ctx, y, out));
  return ctx.SetOutput(0, y);
}

// scale = (max(0, max x) - min(0, min x)) / 255, zero point = saturate(round(-min / scale)),
// y = quantize(x): ONNX's definition for u8, computed in x's type (f32) as its reference.
absl::Status ConvertDynamicQuantizeLinear(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  AttrMap all = {{"axes", std::vector<int64_t>{}}, {"keepdims", false}};
  ASSIGN_OR_RETURN(TensorRef lo, ctx.Emit("ReduceMin", {x}, all));
  ASSIGN_OR_RETURN(lo, BinaryScalar(ctx, "Minimum", lo, 0.0));
  ASSIGN_OR_RETURN(TensorRef hi, ctx.Emit("ReduceMax", {x}, all));
  ASSIGN_OR_RETURN(hi, BinaryScalar(ctx, "Maximum", hi, 0.0));
  ASSIGN_OR_RETURN(TensorRef scale, ctx.Emit("Sub", {hi, lo}));
  ASSIGN_OR_RETURN(scale, BinaryScalar(ctx, "Div", scale, 255.0));
  ASSIGN_OR_RETURN(TensorRef zpf, ctx.Emit("Div", {lo, scale}));
  ASSIGN_OR_RETURN(zpf, ctx.Emit("Neg", {zpf}));
  ASSIGN_OR_RETURN(zpf, ctx.Emit("Round", {zpf}));
  ASSIGN_OR_RETURN(zpf, BinaryScalar(ctx, "Maximum", zpf, 0.0));
  ASSIGN_OR_RETURN(zpf, BinaryScalar(ctx, "Minimum", zpf, 255.0));
  ASSIGN_OR_RETURN(TensorRef zp, ctx.Emit("Cast", {zpf}, {{"to", DataType::kU8}}));
  ASSIGN_OR_RETURN(TensorRef y, Quantize(ctx, x, scale, zp, DataType::kU8));
  RETURN_IF_ERROR(ctx.SetOutput(0, y));
  RETURN_IF_ERROR(ctx.SetOutput(1, scale));
  return ctx.SetOutput(2, zp);
}

namespace {

// (A - a_zp) @ (B - b_zp) in f64; a per-row A zero point ([M]) becomes [M, 1].
absl::StatusOr<TensorRef> IntegerMatMul(NodeContext& ctx, TensorRef a, std::optional<TensorRef> a_zp,
                                        TensorRef b, std::optional<TensorRef> b_zp) {
  if (a_zp && ctx.ShapeOf(*a_zp).rank() == 1 && ctx.ShapeOf(*a_zp).dim(0) != 1) {
    ASSIGN_OR_RETURN(a_zp, ReshapeTo(ctx, *a_zp, {ctx.ShapeOf(*a_zp).dim(0), 1}));
  }
  ASSIGN_OR_RETURN(TensorRef ac, Centered(ctx, a, a_zp));
  ASSIGN_OR_RETURN(TensorRef bc, Centered(ctx, b, b_zp));
  return ctx.Emit("MatMul", {ac, bc});
}

// Conv2D of (x - x_zp) and (w - w_zp) in f64, per-output-channel w_zp as [M, 1, 1, 1].
absl::StatusOr<TensorRef> IntegerConv(NodeContext& ctx, TensorRef x, std::optional<TensorRef> x_zp,
                                      TensorRef w, std::optional<TensorRef> w_zp) {
  if (ctx.ShapeOf(x).rank() != 4) return NodeContext::Unsupported("integer convolution that is not 2-D");
  ASSIGN_OR_RETURN(std::vector<int64_t> strides, ctx.Ints("strides", {1, 1}));
  ASSIGN_OR_RETURN(std::vector<int64_t> pads, ctx.Ints("pads", {0, 0, 0, 0}));
  ASSIGN_OR_RETURN(std::vector<int64_t> dilations, ctx.Ints("dilations", {1, 1}));
  ASSIGN_OR_RETURN(int64_t group, ctx.Int("group", 1));
  ASSIGN_OR_RETURN(std::vector<int64_t> kernel_shape, ctx.Ints("kernel_shape"));
  ASSIGN_OR_RETURN(std::string auto_pad, ctx.String("auto_pad", "NOTSET"));
  if (auto_pad != "NOTSET") return NodeContext::Unsupported("auto_pad on integer convolution");
  (void)kernel_shape;  // Conv2D takes the kernel from the weights
  if (w_zp && ctx.ShapeOf(*w_zp).rank() == 1 && ctx.ShapeOf(*w_zp).dim(0) != 1) {
    ASSIGN_OR_RETURN(w_zp, ReshapeTo(ctx, *w_zp, {ctx.ShapeOf(*w_zp).dim(0), 1, 1, 1}));
  }
  ASSIGN_OR_RETURN(TensorRef xc, Centered(ctx, x, x_zp));
  ASSIGN_OR_RETURN(TensorRef wc, Centered(ctx, w, w_zp));
  return ctx.Emit("Conv2D", {xc, wc}, {{"strides", strides}, {"pads", pads}, {"dilations", dilations},
                                       {"groups", group}});
}

// Requantizes an exact integer product: quantize(acc * a_scale * b_scale / y_scale).
absl::StatusOr<TensorRef> Requantize(NodeContext& ctx, TensorRef acc, TensorRef a_scale, TensorRef b_scale,
                                     TensorRef y_scale, std::optional<TensorRef> y_zp) {
  ASSIGN_OR_RETURN(TensorRef as, CastTo(ctx, a_scale, DataType::kF64));
  ASSIGN_OR_RETURN(TensorRef bs, CastTo(ctx, b_scale, DataType::kF64));
  ASSIGN_OR_RETURN(TensorRef ys, CastTo(ctx, y_scale, DataType::kF64));
  ASSIGN_OR_RETURN(TensorRef v, ctx.Emit("Mul", {acc, as}));
  ASSIGN_OR_RETURN(v, ctx.Emit("Mul", {v, bs}));
  const DataType to = y_zp ? ctx.Dtype(*y_zp) : DataType::kU8;
  RETURN_IF_ERROR(CheckQuantType(to, "a quantized output"));
  return Quantize(ctx, v, ys, y_zp, to);
}

}  // namespace

absl::Status ConvertMatMulInteger(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef a, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef b, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<TensorRef> a_zp, OptionalInput(ctx, 2));
  ASSIGN_OR_RETURN(std::optional<TensorRef> b_zp, OptionalInput(ctx, 3));
  ASSIGN_OR_RETURN(TensorRef acc, IntegerMatMul(ctx, a, a_zp, b, b_zp));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Cast", {acc}, {{"to", DataType::kI32}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertConvInteger(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef w, ctx.Input(1));
  ASSIGN_OR_RETURN(std::optional<TensorRef> x_zp, OptionalInput(ctx, 2));
  ASSIGN_OR_RETURN(std::optional<TensorRef> w_zp, OptionalInput(ctx, 3));
  ASSIGN_OR_RETURN(TensorRef acc, IntegerConv(ctx, x, x_zp, w, w_zp));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Cast", {acc}, {{"to", DataType::kI32}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertQLinearMatMul(NodeContext& ctx) {
  std::vector<TensorRef> in;
  for (int i = 0; i < 8; ++i) {
    ASSIGN_OR_RETURN(TensorRef r, ctx.Input(i));
    in.push_back(r);
  }
  ASSIGN_OR_RETURN(TensorRef acc, IntegerMatMul(ctx, in[0], in[2], in[3], in[5]));
  ASSIGN_OR_RETURN(TensorRef y, Requantize(ctx, acc, in[1], in[4], in[6], in[7]));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertQLinearConv(NodeContext& ctx) {
  std::vector<TensorRef> in;
  for (int i = 0; i < 8; ++i) {
    ASSIGN_OR_RETURN(TensorRef r, ctx.Input(i));
    in.push_back(r);
  }
  ASSIGN_OR_RETURN(TensorRef acc, IntegerConv(ctx, in[0], in[2], in[3], in[5]));
  // Per-output-channel weight scales broadcast along the channel dimension.
  TensorRef w_scale = in[4];
  if (ctx.ShapeOf(w_scale).rank() == 1 && ctx.ShapeOf(w_scale).dim(0) != 1) {
    ASSIGN_OR_RETURN(w_scale, ReshapeTo(ctx, w_scale, {ctx.ShapeOf(w_scale).dim(0), 1, 1}));
  }
  if (ctx.HasInput(8)) {
    ASSIGN_OR_RETURN(TensorRef bias, ctx.Input(8));
    ASSIGN_OR_RETURN(bias, CastTo(ctx, bias, DataType::kF64));
    ASSIGN_OR_RETURN(bias, ReshapeTo(ctx, bias, {ctx.ShapeOf(bias).dim(0), 1, 1}));
    ASSIGN_OR_RETURN(acc, ctx.Emit("Add", {acc, bias}));
  }
  ASSIGN_OR_RETURN(TensorRef y, Requantize(ctx, acc, in[1], w_scale, in[6], in[7]));
  return ctx.SetOutput(0, y);
}

}  // namespace kiln::onnx_import
