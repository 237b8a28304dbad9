// More elementwise ops, added for the ONNX importer: trigonometric and hyperbolic
// functions, rounding, Sign, Softplus, NaN/Inf tests, Mod, BitShift, the boolean ops Not,
// And, Or, Xor, and Det. FLOPs: one per output element (transcendental or not), 0 for
// the bool ops and shifts, n^3 per matrix for Det.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/ops/int_arith_internal.h"
#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

int64_t OutputElements(const Node&, absl::Span<const TensorType>,
                       absl::Span<const TensorType> outputs) {
  const Shape& shape = outputs[0].shape;
  return shape.IsFullyKnown() ? shape.NumElements() : 0;  // unknown until shapes are bound
}

absl::Status SameTypeInfer(InferContext& ctx) {
  ctx.outputs.push_back(ctx.inputs[0]);
  return absl::OkStatus();
}

absl::Status BoolResultInfer(InferContext& ctx) {
  ctx.outputs.push_back({DataType::kBool, ctx.inputs[0].shape});
  return absl::OkStatus();
}

// Two inputs of one dtype, broadcast NumPy-style.
absl::Status BinaryInfer(InferContext& ctx) {
  RETURN_IF_ERROR(CheckSameDtype(ctx, 1));
  absl::StatusOr<Shape> shape = BroadcastShapes(ctx.inputs[0].shape, ctx.inputs[1].shape);
  if (!shape.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("inputs 'x' ", ctx.inputs[0].shape.ToString(),
                                                   " and 'y' ", ctx.inputs[1].shape.ToString(),
                                                   " do not broadcast"));
  }
  ctx.outputs.push_back({ctx.inputs[0].dtype, *std::move(shape)});
  return absl::OkStatus();
}

// ----------------------------------------------------------------------- unary math

using FloatFn = double (*)(double);
using IntFn = int64_t (*)(int64_t);

ReferenceKernel UnaryKernel(FloatFn on_float, IntFn on_int) {
  return [on_float, on_int](KernelContext& ctx) -> absl::Status {
    const Tensor& x = ctx.inputs[0];
    Tensor& out = ctx.outputs[0];
    if (IsFloating(x.dtype())) {
      for (int64_t i = 0; i < out.NumElements(); ++i) out.SetFromDouble(i, on_float(x.GetAsDouble(i)));
    } else {
      for (int64_t i = 0; i < out.NumElements(); ++i) out.SetFromInt64(i, on_int(x.GetAsInt64(i)));
    }
    return absl::OkStatus();
  };
}

void RegisterUnary(OpRegistry& registry, const char* name, const char* summary, FloatFn on_float,
                   IntFn on_int = nullptr) {
  MustRegister(registry, OpDef{
      .name = name,
      .summary = summary,
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .dtypes = on_int != nullptr ? NumericTypes() : FloatTypes(),
      .traits = kElementwise | kLayoutAgnostic,
      .infer = SameTypeInfer,
      .reference = UnaryKernel(on_float, on_int),
      .flops = OutputElements,
  });
}

int64_t IntIdentity(int64_t v) { return v; }

// Softplus without overflow: log(1 + e^x) = max(x, 0) + log1p(e^-|x|).
double Softplus(double v) {
  if (std::isnan(v)) return v;
  return std::max(v, 0.0) + std::log1p(std::exp(-std::fabs(v)));
}

double Sign(double v) {
  if (std::isnan(v)) return v;
  return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
}

void RegisterUnaryMath(OpRegistry& registry) {
  RegisterUnary(registry, "Sin", "Sine (radians).", [](double v) { return std::sin(v); });
  RegisterUnary(registry, "Cos", "Cosine (radians).", [](double v) { return std::cos(v); });
  RegisterUnary(registry, "Tan", "Tangent (radians).", [](double v) { return std::tan(v); });
  RegisterUnary(registry, "Asin", "Arcsine in [-pi/2, pi/2]; NaN outside [-1, 1].",
                [](double v) { return std::asin(v); });
  RegisterUnary(registry, "Acos", "Arccosine in [0, pi]; NaN outside [-1, 1].",
                [](double v) { return std::acos(v); });
  RegisterUnary(registry, "Atan", "Arctangent in (-pi/2, pi/2).",
                [](double v) { return std::atan(v); });
  RegisterUnary(registry, "Sinh", "Hyperbolic sine.", [](double v) { return std::sinh(v); });
  RegisterUnary(registry, "Cosh", "Hyperbolic cosine.", [](double v) { return std::cosh(v); });
  RegisterUnary(registry, "Asinh", "Inverse hyperbolic sine.",
                [](double v) { return std::asinh(v); });
  RegisterUnary(registry, "Acosh", "Inverse hyperbolic cosine; NaN below 1.",
                [](double v) { return std::acosh(v); });
  RegisterUnary(registry, "Atanh", "Inverse hyperbolic tangent; NaN outside [-1, 1], inf at +-1.",
                [](double v) { return std::atanh(v); });
  RegisterUnary(registry, "Softplus", "log(1 + e^x), computed without overflow.", Softplus);
  RegisterUnary(registry, "Floor", "Largest integer <= x (floats); integers unchanged.",
                [](double v) { return std::floor(v); }, IntIdentity);
  RegisterUnary(registry, "Ceil", "Smallest integer >= x (floats); integers unchanged.",
                [](double v) { return std::ceil(v); }, IntIdentity);
  RegisterUnary(registry, "Round",
                "Nearest integer, halves to even (2.5 -> 2, -1.5 -> -2), as ONNX and NumPy "
                "round; integers unchanged.",
                [](double v) { return std::nearbyint(v); }, IntIdentity);
  RegisterUnary(registry, "Sign", "-1, 0 or 1 by the sign of x; NaN stays NaN.", Sign,
                [](int64_t v) -> int64_t { return v > 0 ? 1 : (v < 0 ? -1 : 0); });
}

// ------------------------------------------------------------------- IsNaN, IsInf

absl::Status IsNaNKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  for (int64_t i = 0; i < x.NumElements(); ++i) {
    ctx.outputs[0].SetFromInt64(i, std::isnan(x.GetAsDouble(i)) ? 1 : 0);
  }
  return absl::OkStatus();
}

absl::Status IsInfKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const bool negative = ctx.node.bool_attr("detect_negative");
  const bool positive = ctx.node.bool_attr("detect_positive");
  for (int64_t i = 0; i < x.NumElements(); ++i) {
    const double v = x.GetAsDouble(i);
    const bool hit = std::isinf(v) && ((v > 0 && positive) || (v < 0 && negative));
    ctx.outputs[0].SetFromInt64(i, hit ? 1 : 0);
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------- Mod

// Integer remainder: with `fmod` the sign follows the dividend (C's %), otherwise the
// divisor (Python's %). A zero divisor is an error; INT64_MIN % -1 is 0.
bool IntMod(int64_t a, int64_t b, bool fmod, int64_t* out) {
  if (b == 0) return false;
  int64_t r = b == -1 ? 0 : a % b;
  if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
  *out = r;
  return true;
}

double FloatMod(double a, double b, bool fmod) {
  double r = std::fmod(a, b);
  if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

absl::Status ModKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& y = ctx.inputs[1];
  Tensor& out = ctx.outputs[0];
  const bool fmod = ctx.node.bool_attr("fmod");
  BroadcastIndexer xi(x.shape(), out.shape());
  BroadcastIndexer yi(y.shape(), out.shape());
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    if (IsFloating(out.dtype())) {
      out.SetFromDouble(i, FloatMod(x.GetAsDouble(xi.Map(i)), y.GetAsDouble(yi.Map(i)), fmod));
      continue;
    }
    int64_t r = 0;
    if (!IntMod(x.GetAsInt64(xi.Map(i)), y.GetAsInt64(yi.Map(i)), fmod, &r)) {
      return absl::InvalidArgumentError(absl::StrCat("integer Mod by zero at output element ", i));
    }
    out.SetFromInt64(i, r);
  }
  return absl::OkStatus();
}

absl::Status ModInfer(InferContext& ctx) {
  if (IsFloating(ctx.inputs[0].dtype) && !ctx.node.bool_attr("fmod")) {
    // ONNX defines floating Mod only as fmod; Kiln follows so results never differ.
    return absl::InvalidArgumentError(
        "attribute 'fmod' must be true for floating dtypes (as in ONNX)");
  }
  return BinaryInfer(ctx);
}

// ------------------------------------------------------------------- bool logic

template <typename F>
absl::Status LogicKernel(KernelContext& ctx) {
  F f;
  const Tensor& x = ctx.inputs[0];
  const Tensor& y = ctx.inputs[1];
  Tensor& out = ctx.outputs[0];
  BroadcastIndexer xi(x.shape(), out.shape());
  BroadcastIndexer yi(y.shape(), out.shape());
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    out.SetFromInt64(i, f(x.GetAsInt64(xi.Map(i)) != 0, y.GetAsInt64(yi.Map(i)) != 0) ? 1 : 0);
  }
  return absl::OkStatus();
}

struct AndFn {
  bool operator()(bool a, bool b) const { return a && b; }
};
struct OrFn {
  bool operator()(bool a, bool b) const { return a || b; }
};
struct XorFn {
  bool operator()(bool a, bool b) const { return a != b; }
};

void RegisterLogic(OpRegistry& registry, const char* name, const char* summary,
                   ReferenceKernel kernel) {
  MustRegister(registry, OpDef{
      .name = name,
      .summary = summary,
      .input_names = {"x", "y"},
      .min_inputs = 2,
      .max_inputs = 2,
      .dtypes = {DataType::kBool},
      .traits = kElementwise | kBroadcasting | kCommutative | kLayoutAgnostic,
      .infer = BinaryInfer,
      .reference = std::move(kernel),
  });
}

// ------------------------------------------------------------------------- BitShift

absl::Status BitShiftInfer(InferContext& ctx) {
  const std::string& direction = ctx.node.string_attr("direction");
  if (direction != "LEFT" && direction != "RIGHT") {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'direction' is \"", direction,
                                                   "\", expected \"LEFT\" or \"RIGHT\""));
  }
  return BinaryInfer(ctx);
}

// Logical shifts of the unsigned 8-bit pattern; shifting by 8 or more gives 0.
absl::Status BitShiftKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& y = ctx.inputs[1];
  Tensor& out = ctx.outputs[0];
  const bool left = ctx.node.string_attr("direction") == "LEFT";
  BroadcastIndexer xi(x.shape(), out.shape());
  BroadcastIndexer yi(y.shape(), out.shape());
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    const uint32_t v = static_cast<uint32_t>(x.GetAsInt64(xi.Map(i)));
    const int64_t by = y.GetAsInt64(yi.Map(i));
    const uint32_t r = by >= 8 ? 0 : (left ? (v << by) & 0xffu : v >> by);
    out.SetFromInt64(i, r);
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------------ Det

absl::Status DetInfer(InferContext& ctx) {
  const Shape& x = ctx.inputs[0].shape;
  const int r = x.rank();
  if (r < 2 || (x.dim(r - 1) != kUnknownDim && x.dim(r - 2) != kUnknownDim && x.dim(r - 1) != x.dim(r - 2))) {
    return absl::InvalidArgumentError(absl::StrCat("input 'x' ", x.ToString(),
                                                   " is not a batch of square matrices [..., M, M]"));
  }
  ctx.outputs.push_back({ctx.inputs[0].dtype, Shape(std::vector<int64_t>(x.dims().begin(), x.dims().end() - 2))});
  return absl::OkStatus();
}

// Gaussian elimination with partial pivoting in double, per matrix.
absl::Status DetKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const int r = x.shape().rank();
  const int64_t m = x.shape().dim(r - 1);
  std::vector<double> a(m * m);
  for (int64_t b = 0; b < ctx.outputs[0].NumElements(); ++b) {
    for (int64_t i = 0; i < m * m; ++i) a[i] = x.GetAsDouble(b * m * m + i);
    double det = 1;
    for (int64_t col = 0; col < m && det != 0; ++col) {
      int64_t pivot = col;
      for (int64_t row = col + 1; row < m; ++row) {
        if (std::fabs(a[row * m + col]) > std::fabs(a[pivot * m + col])) pivot = row;
      }
      if (a[pivot * m + col] == 0) {
        det = 0;
        break;
      }
      if (pivot != col) {
        for (int64_t k = 0; k < m; ++k) std::swap(a[pivot * m + k], a[col * m + k]);
        det = -det;
      }
      det *= a[col * m + col];
      for (int64_t row = col + 1; row < m; ++row) {
        const double f = a[row * m + col] / a[col * m + col];
        for (int64_t k = col; k < m; ++k) a[row * m + k] -= f * a[col * m + k];
      }
    }
    ctx.outputs[0].SetFromDouble(b, det);
  }
  return absl::OkStatus();
}

int64_t DetFlops(const Node&, absl::Span<const TensorType> inputs, absl::Span<const TensorType> outputs) {
  const Shape& x = inputs[0].shape;
  if (!x.IsFullyKnown() || !outputs[0].shape.IsFullyKnown()) return 0;
  const int64_t m = x.dim(x.rank() - 1);
  return outputs[0].shape.NumElements() * m * m * m;
}

}  // namespace

void RegisterMathExtraOps(OpRegistry& registry) {
  MustRegister(registry, OpDef{
      .name = "BitShift",
      .summary = "Logical shift of the bits of u8 x by y places (NumPy broadcasting), toward the "
                 "high bits for direction \"LEFT\" (bits shifted out are lost) or the low bits "
                 "for \"RIGHT\"; a shift of 8 or more gives 0.",
      .input_names = {"x", "y"},
      .min_inputs = 2,
      .max_inputs = 2,
      .attrs = {{"direction", AttrType::kString, std::nullopt}},
      .dtypes = {DataType::kU8},
      .traits = kElementwise | kBroadcasting | kLayoutAgnostic,
      .infer = BitShiftInfer,
      .reference = BitShiftKernel,
  });
  MustRegister(registry, OpDef{
      .name = "Det",
      .summary = "Determinant of each square matrix in the last two dimensions: [..., M, M] -> [...].",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .dtypes = FloatTypes(),
      .traits = kTraitNone,
      .infer = DetInfer,
      .reference = DetKernel,
      .flops = DetFlops,
  });

  RegisterUnaryMath(registry);

  MustRegister(registry, OpDef{
      .name = "IsNaN",
      .summary = "True where x is NaN.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .dtypes = FloatTypes(),
      .traits = kElementwise | kLayoutAgnostic,
      .infer = BoolResultInfer,
      .reference = IsNaNKernel,
  });
  MustRegister(registry, OpDef{
      .name = "IsInf",
      .summary = "True where x is +inf (when detect_positive) or -inf (when detect_negative).",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"detect_negative", AttrType::kBool, true},
                {"detect_positive", AttrType::kBool, true}},
      .dtypes = FloatTypes(),
      .traits = kElementwise | kLayoutAgnostic,
      .infer = BoolResultInfer,
      .reference = IsInfKernel,
  });
  MustRegister(registry, OpDef{
      .name = "Mod",
      .summary = "Remainder of x / y with NumPy broadcasting: with fmod the result has the sign "
                 "of x (C fmod; required for floating dtypes), otherwise of y (Python %, "
                 "integers only); an integer zero divisor is a run-time error.",
      .input_names = {"x", "y"},
      .min_inputs = 2,
      .max_inputs = 2,
      .attrs = {{"fmod", AttrType::kBool, false}},
      .dtypes = NumericTypes(),
      .traits = kElementwise | kBroadcasting | kLayoutAgnostic,
      .infer = ModInfer,
      .reference = ModKernel,
      .flops = OutputElements,
  });
  MustRegister(registry, OpDef{
      .name = "Not",
      .summary = "Logical negation of a bool tensor.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .dtypes = {DataType::kBool},
      .traits = kElementwise | kLayoutAgnostic,
      .infer = SameTypeInfer,
      .reference =
          [](KernelContext& ctx) {
            const Tensor& x = ctx.inputs[0];
            for (int64_t i = 0; i < x.NumElements(); ++i) {
              ctx.outputs[0].SetFromInt64(i, x.GetAsInt64(i) != 0 ? 0 : 1);
            }
            return absl::OkStatus();
          },
  });
  RegisterLogic(registry, "And", "x AND y for bool tensors with NumPy broadcasting.",
                LogicKernel<AndFn>);
  RegisterLogic(registry, "Or", "x OR y for bool tensors with NumPy broadcasting.",
                LogicKernel<OrFn>);
  RegisterLogic(registry, "Xor", "x XOR y for bool tensors with NumPy broadcasting.",
                LogicKernel<XorFn>);
}

}  // namespace kiln
