// Converters of ONNX's elementwise ops: one-to-one maps onto Kiln ops, variadic ops as
// chains, and activations without a Kiln op of their own decomposed into Where, Maximum,
// Minimum and arithmetic (numerically the ONNX reference formulas).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/onnx/onnx_converter.h"
#include "graph/onnx/onnx_ops_util.h"
#include "graph/onnx/onnx_tensor.h"
#include "base/status_macros.h"

namespace kiln::onnx_import {

absl::Status ConvertUnary(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit(ctx.converter().kiln_op, {x}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertBinary(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef a, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef b, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit(ctx.converter().kiln_op, {a, b}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertVariadic(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef acc, ctx.Input(0));
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    ASSIGN_OR_RETURN(TensorRef next, ctx.Input(i));
    ASSIGN_OR_RETURN(acc, ctx.Emit(ctx.converter().kiln_op, {acc, next}));
  }
  return ctx.SetOutput(0, acc);
}

absl::Status ConvertMean(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef acc, ctx.Input(0));
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    ASSIGN_OR_RETURN(TensorRef next, ctx.Input(i));
    ASSIGN_OR_RETURN(acc, ctx.Emit("Add", {acc, next}));
  }
  if (ctx.num_inputs() > 1) {
    ASSIGN_OR_RETURN(acc, BinaryScalar(ctx, "Div", acc, ctx.num_inputs()));
  }
  return ctx.SetOutput(0, acc);
}

// ONNX Pow lets the exponent's type differ from the base's; the result has the base's.
absl::Status ConvertPow(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Input(1));
  const DataType base = ctx.Dtype(x);
  TensorRef result;
  if (ctx.Dtype(y) == base) {
    ASSIGN_OR_RETURN(result, ctx.Emit("Pow", {x, y}));
  } else if (IsFloating(base)) {
    ASSIGN_OR_RETURN(TensorRef yc, ctx.Emit("Cast", {y}, {{"to", base}}));
    ASSIGN_OR_RETURN(result, ctx.Emit("Pow", {x, yc}));
  } else {
    // Integer base, other exponent: computed in f64, truncated back as numpy's astype.
    ASSIGN_OR_RETURN(TensorRef xd, ctx.Emit("Cast", {x}, {{"to", DataType::kF64}}));
    ASSIGN_OR_RETURN(TensorRef yd, ctx.Emit("Cast", {y}, {{"to", DataType::kF64}}));
    ASSIGN_OR_RETURN(TensorRef p, ctx.Emit("Pow", {xd, yd}));
    ASSIGN_OR_RETURN(result, ctx.Emit("Cast", {p}, {{"to", base}}));
  }
  return ctx.SetOutput(0, result);
}

absl::Status ConvertMod(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t fmod, ctx.Int("fmod", 0));
  ASSIGN_OR_RETURN(TensorRef a, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef b, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Mod", {a, b}, {{"fmod", fmod != 0}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertReciprocal(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef one, ctx.Scalar(ctx.Dtype(x), 1.0));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Div", {one, x}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertCast(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t to, ctx.RequiredInt("to"));
  if (to > std::numeric_limits<int>::max() || to < 0) {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'to' is ", to));
  }
  ASSIGN_OR_RETURN(DataType dtype, DataTypeFromOnnx(static_cast<int>(to)));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Cast", {x}, {{"to", dtype}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertCastLike(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef like, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Cast", {x}, {{"to", ctx.Dtype(like)}}));
  return ctx.SetOutput(0, y);
}

// Clip-11+: optional min and max inputs; Clip-6: float attributes.
absl::Status ConvertClip(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  if (ctx.opset() < 11) {
    ASSIGN_OR_RETURN(double lo, ctx.Float("min", std::numeric_limits<float>::lowest()));
    ASSIGN_OR_RETURN(double hi, ctx.Float("max", std::numeric_limits<float>::max()));
    ASSIGN_OR_RETURN(x, BinaryScalar(ctx, "Maximum", x, lo));
    ASSIGN_OR_RETURN(x, BinaryScalar(ctx, "Minimum", x, hi));
    return ctx.SetOutput(0, x);
  }
  if (ctx.HasInput(1)) {
    ASSIGN_OR_RETURN(TensorRef lo, ctx.Input(1));
    ASSIGN_OR_RETURN(x, ctx.Emit("Maximum", {x, lo}));
  }
  if (ctx.HasInput(2)) {
    ASSIGN_OR_RETURN(TensorRef hi, ctx.Input(2));
    ASSIGN_OR_RETURN(x, ctx.Emit("Minimum", {x, hi}));
  }
  return ctx.SetOutput(0, x);
}

namespace {

// Where(cond, a, b).
absl::StatusOr<TensorRef> Select(NodeContext& ctx, TensorRef cond, TensorRef a, TensorRef b) {
  return ctx.Emit("Where", {cond, a, b});
}

// max(0, min(1, alpha * x + beta)).
absl::StatusOr<TensorRef> HardSigmoid(NodeContext& ctx, TensorRef x, double alpha, double beta) {
  ASSIGN_OR_RETURN(TensorRef t, BinaryScalar(ctx, "Mul", x, alpha));
  ASSIGN_OR_RETURN(t, BinaryScalar(ctx, "Add", t, beta));
  ASSIGN_OR_RETURN(t, BinaryScalar(ctx, "Minimum", t, 1.0));
  return BinaryScalar(ctx, "Maximum", t, 0.0);
}

}  // namespace

absl::Status ConvertActivation(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  const std::string& op = ctx.node().op_type();
  TensorRef y;
  if (op == "LeakyRelu") {  // x < 0 ? alpha * x : x
    ASSIGN_OR_RETURN(double alpha, ctx.Float("alpha", 0.01));
    ASSIGN_OR_RETURN(TensorRef neg, BinaryScalar(ctx, "Less", x, 0.0));
    ASSIGN_OR_RETURN(TensorRef scaled, BinaryScalar(ctx, "Mul", x, alpha));
    ASSIGN_OR_RETURN(y, Select(ctx, neg, scaled, x));
  } else if (op == "Elu") {  // x < 0 ? alpha * (e^x - 1) : x
    ASSIGN_OR_RETURN(double alpha, ctx.Float("alpha", 1.0));
    ASSIGN_OR_RETURN(TensorRef neg, BinaryScalar(ctx, "Less", x, 0.0));
    ASSIGN_OR_RETURN(TensorRef e, ctx.Emit("Exp", {x}));
    ASSIGN_OR_RETURN(e, BinaryScalar(ctx, "Sub", e, 1.0));
    ASSIGN_OR_RETURN(e, BinaryScalar(ctx, "Mul", e, alpha));
    ASSIGN_OR_RETURN(y, Select(ctx, neg, e, x));
  } else if (op == "Selu") {  // gamma * (x <= 0 ? alpha * e^x - alpha : x)
    ASSIGN_OR_RETURN(double alpha, ctx.Float("alpha", 1.67326319217681884765625));
    ASSIGN_OR_RETURN(double gamma, ctx.Float("gamma", 1.05070102214813232421875));
    ASSIGN_OR_RETURN(TensorRef neg, BinaryScalar(ctx, "LessEqual", x, 0.0));
    ASSIGN_OR_RETURN(TensorRef e, ctx.Emit("Exp", {x}));
    ASSIGN_OR_RETURN(e, BinaryScalar(ctx, "Mul", e, alpha));
    ASSIGN_OR_RETURN(e, BinaryScalar(ctx, "Sub", e, alpha));
    ASSIGN_OR_RETURN(TensorRef s, Select(ctx, neg, e, x));
    ASSIGN_OR_RETURN(y, BinaryScalar(ctx, "Mul", s, gamma));
  } else if (op == "HardSigmoid") {
    ASSIGN_OR_RETURN(double alpha, ctx.Float("alpha", 0.2));
    ASSIGN_OR_RETURN(double beta, ctx.Float("beta", 0.5));
    ASSIGN_OR_RETURN(y, HardSigmoid(ctx, x, alpha, beta));
  } else if (op == "HardSwish") {  // x * HardSigmoid(x) with alpha 1/6, beta 1/2
    ASSIGN_OR_RETURN(TensorRef h, HardSigmoid(ctx, x, 1.0 / 6.0, 0.5));
    ASSIGN_OR_RETURN(y, ctx.Emit("Mul", {x, h}));
  } else if (op == "ThresholdedRelu") {  // x > alpha ? x : 0
    ASSIGN_OR_RETURN(double alpha, ctx.Float("alpha", 1.0));
    ASSIGN_OR_RETURN(TensorRef above, BinaryScalar(ctx, "Greater", x, alpha));
    ASSIGN_OR_RETURN(TensorRef zero, ctx.Scalar(ctx.Dtype(x), 0.0));
    ASSIGN_OR_RETURN(y, Select(ctx, above, x, zero));
  } else if (op == "Celu") {  // max(0, x) + min(0, alpha * (e^(x/alpha) - 1))
    ASSIGN_OR_RETURN(double alpha, ctx.Float("alpha", 1.0));
    if (alpha == 0) return absl::InvalidArgumentError("attribute 'alpha' is 0");
    ASSIGN_OR_RETURN(TensorRef pos, BinaryScalar(ctx, "Maximum", x, 0.0));
    ASSIGN_OR_RETURN(TensorRef e, BinaryScalar(ctx, "Div", x, alpha));
    ASSIGN_OR_RETURN(e, ctx.Emit("Exp", {e}));
    ASSIGN_OR_RETURN(e, BinaryScalar(ctx, "Sub", e, 1.0));
    ASSIGN_OR_RETURN(e, BinaryScalar(ctx, "Mul", e, alpha));
    ASSIGN_OR_RETURN(e, BinaryScalar(ctx, "Minimum", e, 0.0));
    ASSIGN_OR_RETURN(y, ctx.Emit("Add", {pos, e}));
  } else if (op == "Softsign") {  // x / (1 + |x|)
    ASSIGN_OR_RETURN(TensorRef a, ctx.Emit("Abs", {x}));
    ASSIGN_OR_RETURN(a, BinaryScalar(ctx, "Add", a, 1.0));
    ASSIGN_OR_RETURN(y, ctx.Emit("Div", {x, a}));
  } else if (op == "Shrink") {  // x < -lambd ? x + bias : (x > lambd ? x - bias : 0)
    ASSIGN_OR_RETURN(double bias, ctx.Float("bias", 0.0));
    ASSIGN_OR_RETURN(double lambd, ctx.Float("lambd", 0.5));
    ASSIGN_OR_RETURN(TensorRef below, BinaryScalar(ctx, "Less", x, -lambd));
    ASSIGN_OR_RETURN(TensorRef above, BinaryScalar(ctx, "Greater", x, lambd));
    ASSIGN_OR_RETURN(TensorRef plus, BinaryScalar(ctx, "Add", x, bias));
    ASSIGN_OR_RETURN(TensorRef minus, BinaryScalar(ctx, "Sub", x, bias));
    ASSIGN_OR_RETURN(TensorRef zero, ctx.Scalar(ctx.Dtype(x), 0.0));
    ASSIGN_OR_RETURN(TensorRef upper, Select(ctx, above, minus, zero));
    ASSIGN_OR_RETURN(y, Select(ctx, below, plus, upper));
  } else {
    return absl::InternalError(absl::StrCat("no activation rule for ", op));
  }
  return ctx.SetOutput(0, y);
}

absl::Status ConvertPRelu(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef slope, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef neg, BinaryScalar(ctx, "Less", x, 0.0));
  ASSIGN_OR_RETURN(TensorRef scaled, ctx.Emit("Mul", {x, slope}));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Where", {neg, scaled, x}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertIsInf(NodeContext& ctx) {
  ASSIGN_OR_RETURN(int64_t negative, ctx.Int("detect_negative", 1));
  ASSIGN_OR_RETURN(int64_t positive, ctx.Int("detect_positive", 1));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("IsInf", {x}, {{"detect_negative", negative != 0},
                                                         {"detect_positive", positive != 0}}));
  return ctx.SetOutput(0, y);
}

absl::Status ConvertWhere(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef c, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef a, ctx.Input(1));
  ASSIGN_OR_RETURN(TensorRef b, ctx.Input(2));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Emit("Where", {c, a, b}));
  return ctx.SetOutput(0, y);
}

// Identity emits nothing: its output names the input's tensor.
absl::Status ConvertIdentity(NodeContext& ctx) {
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  return ctx.SetOutput(0, x);
}

absl::Status ConvertBitShift(NodeContext& ctx) {
  ASSIGN_OR_RETURN(std::string direction, ctx.String("direction", ""));
  ASSIGN_OR_RETURN(TensorRef x, ctx.Input(0));
  ASSIGN_OR_RETURN(TensorRef y, ctx.Input(1));
  if (ctx.Dtype(x) != DataType::kU8) {
    return NodeContext::Unsupported(absl::StrCat("BitShift of ", DataTypeName(ctx.Dtype(x)), " (u8 is supported)"));
  }
  ASSIGN_OR_RETURN(TensorRef z, ctx.Emit("BitShift", {x, y}, {{"direction", direction}}));
  return ctx.SetOutput(0, z);
}

}  // namespace kiln::onnx_import
