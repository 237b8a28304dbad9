// Elementwise ops: binary arithmetic and comparisons with NumPy broadcasting, Where, unary
// math and Cast. FLOPs: one per output element for every arithmetic op and comparison,
// transcendental or not (Exp, Gelu and Add all count 1); Where and Cast count 0. Integer
// arithmetic wraps modulo 2^bits.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/ops/int_arith_internal.h"
#include "graph/ops/op_util.h"
#include "graph/ops/register_ops.h"
#include "base/status_macros.h"

namespace kiln {
namespace {

constexpr uint32_t kBinaryTraits = kElementwise | kBroadcasting | kLayoutAgnostic;
constexpr uint32_t kUnaryTraits = kElementwise | kLayoutAgnostic;

// ---------------------------------------------------------------------------------------
// Integer arithmetic (wrapping; see int_arith_internal.h).

int64_t IntMax(int64_t a, int64_t b) { return a > b ? a : b; }
int64_t IntMin(int64_t a, int64_t b) { return a < b ? a : b; }

// Adapts an integer function defined on all operands to BinaryArith::on_int.
template <int64_t (*F)(int64_t, int64_t)>
bool Total(int64_t a, int64_t b, int64_t* out) {
  *out = F(a, b);
  return true;
}

// C division (truncation toward zero). INT64_MIN / -1 wraps to INT64_MIN; narrower types
// never reach it because their values are computed in int64.
bool IntDiv(int64_t a, int64_t b, int64_t* out) {
  if (b == 0) return false;
  if (b == -1) {
    *out = WrapSub(0, a);
    return true;
  }
  *out = a / b;
  return true;
}

// Exponentiation by squaring, wrapping. 0^0 = 1. A negative exponent is rejected (as NumPy
// does): its true value is not an integer except for bases 1 and -1.
bool IntPow(int64_t a, int64_t b, int64_t* out) {
  if (b < 0) return false;
  uint64_t result = 1;
  uint64_t base = Bits(a);
  for (uint64_t e = Bits(b); e != 0; e >>= 1) {
    if (e & 1) result *= base;
    base *= base;
  }
  *out = FromBits(result);
  return true;
}

// ---------------------------------------------------------------------------------------
// Shape functions.

int64_t OutputElements(const Node&, absl::Span<const TensorType>,
                       absl::Span<const TensorType> outputs) {
  // Unknown until shapes are bound; counted as 0 rather than guessed.
  const Shape& shape = outputs[0].shape;
  return shape.IsFullyKnown() ? shape.NumElements() : 0;
}

// The schema's name of input i ("x"). InferNode sets node.def before calling a shape
// function; the index stands in should another caller not.
std::string InputName(const InferContext& ctx, int i) {
  const OpDef* def = ctx.node.def;
  if (def != nullptr && i < static_cast<int>(def->input_names.size())) {
    return def->input_names[i];
  }
  return absl::StrCat(i);
}

absl::Status CheckDtypeLike(const InferContext& ctx, int input, int like) {
  if (ctx.inputs[input].dtype != ctx.inputs[like].dtype) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", InputName(ctx, input), "' has dtype ", DataTypeName(ctx.inputs[input].dtype),
        ", expected ", DataTypeName(ctx.inputs[like].dtype), " like input '",
        InputName(ctx, like), "'"));
  }
  return absl::OkStatus();
}

// The NumPy broadcast of every input's shape, or an error listing them all.
absl::StatusOr<Shape> BroadcastInputs(const InferContext& ctx) {
  Shape out = ctx.inputs[0].shape;
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    absl::StatusOr<Shape> next = BroadcastShapes(out, ctx.inputs[i].shape);
    if (!next.ok()) {
      std::vector<std::string> parts;
      for (size_t k = 0; k < ctx.inputs.size(); ++k) {
        parts.push_back(absl::StrCat("'", InputName(ctx, k), "' ",
                                     ctx.inputs[k].shape.ToString()));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("inputs ", absl::StrJoin(parts, ", "), " do not broadcast"));
    }
    out = *std::move(next);
  }
  return out;
}

// Binary op: same dtype, broadcast shapes; the output dtype is `out_dtype` when given
// (comparisons), else the inputs' dtype.
ShapeFn BinaryInfer(std::optional<DataType> out_dtype) {
  return [out_dtype](InferContext& ctx) -> absl::Status {
    RETURN_IF_ERROR(CheckDtypeLike(ctx, 1, 0));
    ASSIGN_OR_RETURN(Shape shape, BroadcastInputs(ctx));
    ctx.outputs.push_back({out_dtype.value_or(ctx.inputs[0].dtype), std::move(shape)});
    return absl::OkStatus();
  };
}

absl::Status SameTypeInfer(InferContext& ctx) {
  ctx.outputs.push_back(ctx.inputs[0]);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Binary arithmetic.

struct BinaryArith {
  double (*on_float)(double, double);
  // Integer form; returns false for operands outside its domain, explained by
  // `domain_error`.
  bool (*on_int)(int64_t, int64_t, int64_t*);
  const char* domain_error;
};

ReferenceKernel BinaryKernel(BinaryArith arith) {
  return [arith](KernelContext& ctx) -> absl::Status {
    const Tensor& x = ctx.inputs[0];
    const Tensor& y = ctx.inputs[1];
    Tensor& out = ctx.outputs[0];
    BroadcastIndexer x_index(x.shape(), out.shape());
    BroadcastIndexer y_index(y.shape(), out.shape());
    const int64_t n = out.NumElements();
    if (IsFloating(out.dtype())) {
      for (int64_t i = 0; i < n; ++i) {
        out.SetFromDouble(i, arith.on_float(x.GetAsDouble(x_index.Map(i)),
                                            y.GetAsDouble(y_index.Map(i))));
      }
      return absl::OkStatus();
    }
    for (int64_t i = 0; i < n; ++i) {
      int64_t result = 0;
      if (!arith.on_int(x.GetAsInt64(x_index.Map(i)), y.GetAsInt64(y_index.Map(i)), &result)) {
        return absl::InvalidArgumentError(
            absl::StrCat(arith.domain_error, " at output element ", i));
      }
      out.SetFromInt64(i, result);
    }
    return absl::OkStatus();
  };
}

// IEEE semantics for floats: NaN in either operand gives NaN (unlike std::max).
double FloatMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return a > b ? a : b;
}
double FloatMin(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return a < b ? a : b;
}

void RegisterBinary(OpRegistry& registry, const char* name, const char* summary,
                    uint32_t extra_traits, BinaryArith arith) {
  MustRegister(registry, OpDef{
      .name = name,
      .summary = summary,
      .input_names = {"x", "y"},
      .min_inputs = 2,
      .max_inputs = 2,
      .dtypes = NumericTypes(),
      .traits = kBinaryTraits | extra_traits,
      .infer = BinaryInfer(std::nullopt),
      .reference = BinaryKernel(arith),
      .flops = OutputElements,
  });
}

void RegisterBinaryOps(OpRegistry& registry) {
  RegisterBinary(
      registry, "Add", "x + y with NumPy broadcasting; integers wrap on overflow.", kCommutative,
      {[](double a, double b) { return a + b; },
       Total<WrapAdd>, ""});
  RegisterBinary(
      registry, "Sub", "x - y with NumPy broadcasting; integers wrap on overflow.", 0,
      {[](double a, double b) { return a - b; },
       Total<WrapSub>, ""});
  RegisterBinary(
      registry, "Mul", "x * y with NumPy broadcasting; integers wrap on overflow.", kCommutative,
      {[](double a, double b) { return a * b; },
       Total<WrapMul>, ""});
  RegisterBinary(registry, "Div",
                 "x / y with NumPy broadcasting; IEEE division for floats, truncation toward "
                 "zero for integers, where a zero divisor is a run-time error.",
                 0,
                 {[](double a, double b) { return a / b; }, IntDiv, "integer division by zero"});
  RegisterBinary(registry, "Pow",
                 "x raised to the power y with NumPy broadcasting; for integers a negative "
                 "exponent is a run-time error and results wrap on overflow.",
                 0,
                 {[](double a, double b) { return std::pow(a, b); }, IntPow,
                  "negative exponent in integer Pow"});
  RegisterBinary(registry, "Maximum",
                 "The larger of x and y with NumPy broadcasting; NaN if either is NaN.",
                 kCommutative,
                 {FloatMax, Total<IntMax>, ""});
  RegisterBinary(registry, "Minimum",
                 "The smaller of x and y with NumPy broadcasting; NaN if either is NaN.",
                 kCommutative,
                 {FloatMin, Total<IntMin>, ""});
}

// ---------------------------------------------------------------------------------------
// Comparisons: exact in double for floating types (every float type converts exactly) and
// in int64 for integers and bool. NaN compares unequal to everything, itself included.

template <typename Compare>
absl::Status CompareKernel(KernelContext& ctx) {
  Compare compare;
  const Tensor& x = ctx.inputs[0];
  const Tensor& y = ctx.inputs[1];
  Tensor& out = ctx.outputs[0];
  BroadcastIndexer x_index(x.shape(), out.shape());
  BroadcastIndexer y_index(y.shape(), out.shape());
  const bool floating = IsFloating(x.dtype());
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    int64_t xi = x_index.Map(i);
    int64_t yi = y_index.Map(i);
    bool result = floating ? compare(x.GetAsDouble(xi), y.GetAsDouble(yi))
                           : compare(x.GetAsInt64(xi), y.GetAsInt64(yi));
    out.SetFromInt64(i, result ? 1 : 0);
  }
  return absl::OkStatus();
}

void RegisterCompare(OpRegistry& registry, const char* name, const char* summary,
                     const std::vector<DataType>& dtypes, uint32_t extra_traits,
                     ReferenceKernel kernel) {
  MustRegister(registry, OpDef{
      .name = name,
      .summary = summary,
      .input_names = {"x", "y"},
      .min_inputs = 2,
      .max_inputs = 2,
      .dtypes = dtypes,
      .traits = kBinaryTraits | extra_traits,
      .infer = BinaryInfer(DataType::kBool),
      .reference = std::move(kernel),
      .flops = OutputElements,
  });
}

void RegisterCompareOps(OpRegistry& registry) {
  RegisterCompare(registry, "Equal", "x == y with NumPy broadcasting; a bool tensor.",
                  AllTypes(), kCommutative, CompareKernel<std::equal_to<>>);
  RegisterCompare(registry, "NotEqual",
                  "x != y with NumPy broadcasting; a bool tensor (true where either is NaN).",
                  AllTypes(), kCommutative, CompareKernel<std::not_equal_to<>>);
  RegisterCompare(registry, "Less", "x < y with NumPy broadcasting; a bool tensor.",
                  NumericTypes(), 0, CompareKernel<std::less<>>);
  RegisterCompare(registry, "LessEqual", "x <= y with NumPy broadcasting; a bool tensor.",
                  NumericTypes(), 0, CompareKernel<std::less_equal<>>);
  RegisterCompare(registry, "Greater", "x > y with NumPy broadcasting; a bool tensor.",
                  NumericTypes(), 0, CompareKernel<std::greater<>>);
  RegisterCompare(registry, "GreaterEqual", "x >= y with NumPy broadcasting; a bool tensor.",
                  NumericTypes(), 0, CompareKernel<std::greater_equal<>>);
}

// ---------------------------------------------------------------------------------------
// Where.

absl::Status WhereInfer(InferContext& ctx) {
  RETURN_IF_ERROR(CheckDtypeLike(ctx, 2, 1));
  ASSIGN_OR_RETURN(Shape shape, BroadcastInputs(ctx));
  ctx.outputs.push_back({ctx.inputs[1].dtype, std::move(shape)});
  return absl::OkStatus();
}

absl::Status WhereKernel(KernelContext& ctx) {
  const Tensor& condition = ctx.inputs[0];
  const Tensor& x = ctx.inputs[1];
  const Tensor& y = ctx.inputs[2];
  Tensor& out = ctx.outputs[0];
  BroadcastIndexer c_index(condition.shape(), out.shape());
  BroadcastIndexer x_index(x.shape(), out.shape());
  BroadcastIndexer y_index(y.shape(), out.shape());
  // Selection copies element bytes, so every dtype (NaN payloads included) passes exactly.
  const int64_t size = DataTypeSize(out.dtype());
  const auto* x_bytes = static_cast<const uint8_t*>(x.raw_data());
  const auto* y_bytes = static_cast<const uint8_t*>(y.raw_data());
  auto* out_bytes = static_cast<uint8_t*>(out.raw_data());
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    const uint8_t* src = condition.GetAsInt64(c_index.Map(i)) != 0
                             ? x_bytes + x_index.Map(i) * size
                             : y_bytes + y_index.Map(i) * size;
    std::memcpy(out_bytes + i * size, src, size);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Unary ops.

struct UnaryArith {
  double (*on_float)(double);
  int64_t (*on_int)(int64_t);  // null for float-only ops
};

ReferenceKernel UnaryKernel(UnaryArith arith) {
  return [arith](KernelContext& ctx) -> absl::Status {
    const Tensor& x = ctx.inputs[0];
    Tensor& out = ctx.outputs[0];
    const int64_t n = out.NumElements();
    if (IsFloating(x.dtype())) {
      for (int64_t i = 0; i < n; ++i) out.SetFromDouble(i, arith.on_float(x.GetAsDouble(i)));
    } else {
      for (int64_t i = 0; i < n; ++i) out.SetFromInt64(i, arith.on_int(x.GetAsInt64(i)));
    }
    return absl::OkStatus();
  };
}

void RegisterUnary(OpRegistry& registry, const char* name, const char* summary,
                   UnaryArith arith) {
  MustRegister(registry, OpDef{
      .name = name,
      .summary = summary,
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .dtypes = arith.on_int != nullptr ? NumericTypes() : FloatTypes(),
      .traits = kUnaryTraits,
      .infer = SameTypeInfer,
      .reference = UnaryKernel(arith),
      .flops = OutputElements,
  });
}

constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2OverPi = 0.79788456080286535588;  // sqrt(2 / pi)

absl::Status GeluInfer(InferContext& ctx) {
  const std::string& approximate = ctx.node.string_attr("approximate");
  if (approximate != "none" && approximate != "tanh") {
    return absl::InvalidArgumentError(absl::StrCat("attribute 'approximate' is \"", approximate,
                                                   "\", expected \"none\" or \"tanh\""));
  }
  return SameTypeInfer(ctx);
}

absl::Status GeluKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& out = ctx.outputs[0];
  const bool tanh_form = ctx.node.string_attr("approximate") == "tanh";
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    double v = x.GetAsDouble(i);
    double y = tanh_form ? 0.5 * v * (1.0 + std::tanh(kSqrt2OverPi * (v + 0.044715 * v * v * v)))
                         : 0.5 * v * (1.0 + std::erf(v / kSqrt2));
    out.SetFromDouble(i, y);
  }
  return absl::OkStatus();
}

void RegisterUnaryOps(OpRegistry& registry) {
  RegisterUnary(registry, "Neg", "-x; integers wrap (the negation of the minimum is itself).",
                {[](double v) { return -v; }, [](int64_t v) { return WrapSub(0, v); }});
  RegisterUnary(registry, "Abs", "|x|; integers wrap (the absolute minimum is itself).",
                {[](double v) { return std::fabs(v); },
                 [](int64_t v) { return v < 0 ? WrapSub(0, v) : v; }});
  RegisterUnary(registry, "Relu", "max(x, 0); NaN stays NaN.",
                {[](double v) { return v < 0 ? 0.0 : v; },
                 [](int64_t v) { return v < 0 ? int64_t{0} : v; }});
  RegisterUnary(registry, "Exp", "e^x.", {[](double v) { return std::exp(v); }, nullptr});
  RegisterUnary(registry, "Log", "Natural logarithm; -inf at 0, NaN below.",
                {[](double v) { return std::log(v); }, nullptr});
  RegisterUnary(registry, "Sqrt", "Square root; NaN below 0.",
                {[](double v) { return std::sqrt(v); }, nullptr});
  RegisterUnary(registry, "Rsqrt", "1 / sqrt(x); inf at 0, NaN below.",
                {[](double v) { return 1.0 / std::sqrt(v); }, nullptr});
  RegisterUnary(registry, "Tanh", "Hyperbolic tangent.",
                {[](double v) { return std::tanh(v); }, nullptr});
  RegisterUnary(registry, "Sigmoid", "1 / (1 + e^-x).",
                {[](double v) { return 1.0 / (1.0 + std::exp(-v)); }, nullptr});
  RegisterUnary(registry, "Erf", "The Gauss error function.",
                {[](double v) { return std::erf(v); }, nullptr});

  MustRegister(registry, OpDef{
      .name = "Gelu",
      .summary = "Gaussian error linear unit: approximate \"none\" is x/2 * (1 + erf(x/sqrt(2))), "
                 "\"tanh\" is x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))).",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"approximate", AttrType::kString, std::string("none")}},
      .dtypes = FloatTypes(),
      .traits = kUnaryTraits,
      .infer = GeluInfer,
      .reference = GeluKernel,
      .flops = OutputElements,
  });
}

// ---------------------------------------------------------------------------------------
// Cast. Conversions, by source and target:
//   float -> float: rounded to nearest (via double, then float for f16/bf16);
//   float -> int:   truncated toward zero and saturated at the target's range; NaN -> 0;
//   int   -> int:   exact two's complement wrap (i64 300 -> i8 44, i32 -1 -> u8 255);
//   int   -> float: rounded to nearest (i64 goes through double, so may round twice);
//   any   -> bool:  x != 0 (NaN -> true); bool -> any: 0 or 1.

absl::Status CastInfer(InferContext& ctx) {
  DataType to = ctx.node.attr<DataType>("to");
  if (DataTypeSize(to) == 0) {
    return absl::InvalidArgumentError("attribute 'to' is not a valid dtype");
  }
  ctx.outputs.push_back({to, ctx.inputs[0].shape});
  return absl::OkStatus();
}

absl::Status CastKernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& out = ctx.outputs[0];
  const int64_t n = out.NumElements();
  if (IsFloating(x.dtype())) {
    // SetFromDouble truncates, saturates and maps NaN to 0 for integer targets.
    for (int64_t i = 0; i < n; ++i) out.SetFromDouble(i, x.GetAsDouble(i));
  } else {
    for (int64_t i = 0; i < n; ++i) out.SetFromInt64(i, x.GetAsInt64(i));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterElementwiseOps(OpRegistry& registry) {
  RegisterBinaryOps(registry);
  RegisterCompareOps(registry);
  RegisterUnaryOps(registry);

  MustRegister(registry, OpDef{
      .name = "Where",
      .summary = "condition ? x : y elementwise, all three broadcast NumPy-style; condition "
                 "is bool, x and y share the output dtype.",
      .input_names = {"condition", "x", "y"},
      .min_inputs = 3,
      .max_inputs = 3,
      .dtypes = {DataType::kBool},
      .traits = kElementwise | kBroadcasting | kLayoutAgnostic,
      .infer = WhereInfer,
      .reference = WhereKernel,
  });

  MustRegister(registry, OpDef{
      .name = "Cast",
      .summary = "Converts x to dtype `to`: floats to integers truncate toward zero and "
                 "saturate (NaN gives 0), integers to narrower integers wrap, anything to "
                 "bool is x != 0.",
      .input_names = {"x"},
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{"to", AttrType::kDType, std::nullopt}},
      .traits = kUnaryTraits,
      .infer = CastInfer,
      .reference = CastKernel,
  });
}

}  // namespace kiln
