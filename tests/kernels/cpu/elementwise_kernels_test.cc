// Elementwise kernels (binary arithmetic, comparisons, Where, unary math, Cast) against the
// reference interpreter over broadcasting shapes, every dtype the ops allow, special
// values, and several workgroup splits.
//
// Tolerances: +, -, *, /, Maximum, Minimum, comparisons, Where, Neg, Abs, Relu, Sqrt and
// Cast are exact (IEEE operations correctly rounded in f32 equal the double reference
// rounded once, since 24 >= 2 * 11 + 2 makes the double rounding of f16/bf16 harmless).
// Library functions (pow, exp, log, tanh, erf, erfc) are within a few ulp of the double
// reference: 4 ulp for f32/f64, 1 ulp for f16/bf16 (computed in f32, then rounded once);
// Rsqrt and Sigmoid round twice (2 ulp). Gelu adds the error of rounding its argument
// x/sqrt(2) in f32, amplified by erfc's slope: at most 2 t^2 ulp at t = |x|/sqrt(2), so
// inputs stay within |x| < 6 and 64 ulp are allowed.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln::testing {
namespace {

const std::vector<DataType> kFloats = {DataType::kF32, DataType::kF64, DataType::kF16,
                                       DataType::kBF16};
const std::vector<DataType> kNumeric = {DataType::kF32, DataType::kF64, DataType::kF16,
                                        DataType::kBF16, DataType::kI8, DataType::kU8,
                                        DataType::kI32, DataType::kI64};
const std::vector<DataType> kAll = {DataType::kF32, DataType::kF64, DataType::kF16,
                                    DataType::kBF16, DataType::kI8, DataType::kU8,
                                    DataType::kI32, DataType::kI64, DataType::kBool};

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// Shape pairs: same shape, scalars, row and column broadcasts, both-sided broadcasts,
// size 0 and size 1, ranks up to 5, and sizes that give several 64 KiB workgroups.
const std::vector<std::pair<Shape, Shape>> kBinaryShapes = {
    {Shape{}, Shape{}},
    {Shape{7}, Shape{7}},
    {Shape{1}, Shape{13}},
    {Shape{3, 5}, Shape{}},
    {Shape{}, Shape{4, 3}},
    {Shape{3, 5}, Shape{5}},
    {Shape{3, 1}, Shape{1, 4}},
    {Shape{2, 3, 4}, Shape{3, 1}},
    {Shape{1}, Shape{6, 1, 5}},
    {Shape{2, 1, 3, 1, 2}, Shape{4, 1, 5, 2}},
    {Shape{0, 3}, Shape{3}},
    {Shape{2, 0}, Shape{1}},
    {Shape{4, 5, 6, 7}, Shape{5, 1, 7}},
    {Shape{97, 211}, Shape{97, 211}},
    {Shape{130, 257}, Shape{257}},
    {Shape{130, 257}, Shape{130, 1}},
};

bool IsInt(DataType d) { return !IsFloating(d) && d != DataType::kBool; }

Tolerance ExactTol() { return Tolerance{}; }
Tolerance UlpTol(DataType dtype, double ulps_wide, double ulps_half = 1) {
  const bool half = dtype == DataType::kF16 || dtype == DataType::kBF16;
  // Subnormal results: one step of the smallest subnormal of the dtype.
  double atol = 0;
  switch (dtype) {
    case DataType::kF32: atol = std::ldexp(1.0, -149); break;
    case DataType::kF64: atol = std::ldexp(1.0, -1074); break;
    case DataType::kF16: atol = std::ldexp(1.0, -24); break;
    case DataType::kBF16: atol = std::ldexp(1.0, -133); break;
    default: break;
  }
  return Tolerance{(half ? ulps_half : ulps_wide) * Ulp(dtype), atol};
}

// Replaces zeros by one (integer divisors).
Tensor NonZero(Tensor t) {
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    if (t.GetAsInt64(i) == 0) t.SetFromInt64(i, 1);
  }
  return t;
}

TEST(BinaryKernelsTest, ArithmeticMatchesReference) {
  const std::vector<std::string> ops = {"Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum"};
  uint64_t seed = 1;
  for (const std::string& op : ops) {
    for (DataType dtype : kNumeric) {
      for (const auto& [xs, ys] : kBinaryShapes) {
        KernelCase c{op, {}};
        Tolerance tol = ExactTol();
        if (op == "Pow") {
          if (IsInt(dtype)) {
            c.inputs = {Random(dtype, xs, seed++, -5, 5), Random(dtype, ys, seed++, 0, 9)};
            if (dtype == DataType::kU8) c.inputs[0] = Random(dtype, xs, seed++, 0, 5);
          } else {
            c.inputs = {Random(dtype, xs, seed++, 0.1, 3), Random(dtype, ys, seed++, -3, 3)};
            tol = UlpTol(dtype, 4);
          }
        } else if (op == "Div" && IsInt(dtype)) {
          c.inputs = {Random(dtype, xs, seed++, -1e9, 1e9),
                      NonZero(Random(dtype, ys, seed++, -300, 300))};
        } else {
          const double range = IsInt(dtype) ? 1e19 : 10;
          c.inputs = {Random(dtype, xs, seed++, -range, range),
                      Random(dtype, ys, seed++, -range, range)};
        }
        CheckKernel(c, tol);
      }
    }
  }
}

TEST(BinaryKernelsTest, SpecialFloatValues) {
  const std::vector<double> specials = {0.0, -0.0, 1.5, -2.0, kInf, -kInf, kNaN};
  uint64_t seed = 100;
  for (const std::string op : {"Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum"}) {
    for (DataType dtype : kFloats) {
      KernelCase c{op,
                   {FromSet(dtype, Shape{40, 9}, seed++, specials),
                    FromSet(dtype, Shape{40, 9}, seed++, specials)}};
      CheckKernel(c, op == "Pow" ? UlpTol(dtype, 4) : ExactTol());
    }
  }
}

TEST(BinaryKernelsTest, IntegerWrapAndDivisionEdges) {
  // INT_MIN / -1 wraps to INT_MIN; MIN * -1 wraps; truncation toward zero.
  for (DataType dtype : {DataType::kI8, DataType::kI32, DataType::kI64}) {
    const double min = dtype == DataType::kI8 ? -128 : dtype == DataType::kI32 ? -2147483648.0
                                                                                : -9223372036854775808.0;
    const std::vector<double> xv = {min, min, -7, 7, -7, 100};
    const std::vector<double> yv = {-1, 1, 2, -2, -2, 3};
    Tensor x = Tensor::Allocate(dtype, Shape{6}).value();
    Tensor y = Tensor::Allocate(dtype, Shape{6}).value();
    for (int i = 0; i < 6; ++i) {
      x.SetFromDouble(i, xv[i]);
      y.SetFromDouble(i, yv[i]);
    }
    for (const std::string op : {"Div", "Mul", "Sub", "Add"}) {
      CheckKernel(KernelCase{op, {x, y}}, ExactTol());
    }
    // Powers that wrap: (-2)^63, 3^40, 0^0.
    Tensor base = Tensor::Allocate(dtype, Shape{4}).value();
    Tensor exponent = Tensor::Allocate(dtype, Shape{4}).value();
    const std::vector<double> bv = {-2, 3, 0, -1};
    const std::vector<double> ev = {63, 40, 0, 99};
    for (int i = 0; i < 4; ++i) {
      base.SetFromDouble(i, bv[i]);
      exponent.SetFromDouble(i, std::min(ev[i], dtype == DataType::kI8 ? 127.0 : 1e9));
    }
    CheckKernel(KernelCase{"Pow", {base, exponent}}, ExactTol());
  }
}

TEST(BinaryKernelsTest, IntegerDomainErrorsAreReported) {
  for (DataType dtype : {DataType::kI8, DataType::kU8, DataType::kI32, DataType::kI64}) {
    Tensor x = Random(dtype, Shape{100}, 1, 0, 50);
    Tensor y = NonZero(Random(dtype, Shape{100}, 2, 0, 50));
    y.SetFromInt64(57, 0);
    absl::StatusOr<int32_t> code = RunForCode(KernelCase{"Div", {x, y}});
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, KILN_KERNEL_DIVISION_BY_ZERO) << DataTypeName(dtype);
    if (dtype != DataType::kU8) {
      Tensor e = Random(dtype, Shape{100}, 3, 0, 5);
      e.SetFromInt64(3, -1);
      code = RunForCode(KernelCase{"Pow", {x, e}});
      ASSERT_TRUE(code.ok()) << code.status();
      EXPECT_EQ(*code, KILN_KERNEL_NEGATIVE_EXPONENT) << DataTypeName(dtype);
    }
    // No error without a bad element.
    code = RunForCode(KernelCase{"Div", {x, NonZero(y)}});
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, KILN_KERNEL_OK);
  }
}

TEST(CompareKernelsTest, MatchReference) {
  const std::vector<std::string> ops = {"Equal", "NotEqual", "Less",
                                        "LessEqual", "Greater", "GreaterEqual"};
  const std::vector<double> float_set = {-1, -0.5, -0.0, 0, 0.5, 1, kNaN, kInf, -kInf};
  const std::vector<double> int_set = {-3, -1, 0, 1, 2, 3};
  uint64_t seed = 1000;
  for (const std::string& op : ops) {
    const bool equality = op == "Equal" || op == "NotEqual";
    for (DataType dtype : equality ? kAll : kNumeric) {
      for (const auto& [xs, ys] : kBinaryShapes) {
        std::vector<double> set = IsFloating(dtype) ? float_set : int_set;
        if (dtype == DataType::kU8 || dtype == DataType::kBool) set = {0, 1, 2};
        if (dtype == DataType::kBool) {
          CheckKernel(KernelCase{op, {Random(dtype, xs, seed++), Random(dtype, ys, seed++)}},
                      ExactTol());
        } else {
          CheckKernel(KernelCase{op, {FromSet(dtype, xs, seed++, set),
                                      FromSet(dtype, ys, seed++, set)}},
                      ExactTol());
        }
      }
    }
  }
}

TEST(WhereKernelsTest, MatchReference) {
  const std::vector<std::vector<Shape>> shapes = {
      {Shape{}, Shape{}, Shape{}},
      {Shape{5}, Shape{5}, Shape{5}},
      {Shape{3, 1}, Shape{1, 4}, Shape{}},
      {Shape{2, 3, 4}, Shape{4}, Shape{3, 1}},
      {Shape{0, 2}, Shape{2}, Shape{1}},
      {Shape{200, 301}, Shape{200, 301}, Shape{301}},
      {Shape{1}, Shape{2, 1, 3}, Shape{4, 1}},
  };
  uint64_t seed = 2000;
  for (DataType dtype : kAll) {
    for (const auto& s : shapes) {
      CheckKernel(KernelCase{"Where",
                             {Random(DataType::kBool, s[0], seed++), Random(dtype, s[1], seed++, -50, 50),
                              Random(dtype, s[2], seed++, -50, 50)}},
                  ExactTol());
    }
  }
}

const std::vector<Shape> kUnaryShapes = {Shape{}, Shape{1}, Shape{0}, Shape{3, 0, 2},
                                         Shape{17}, Shape{5, 7, 3}, Shape{250, 131}};

TEST(UnaryKernelsTest, IntegerAndSignOpsMatchReference) {
  uint64_t seed = 3000;
  for (const std::string op : {"Neg", "Abs", "Relu"}) {
    for (DataType dtype : kNumeric) {
      for (const Shape& shape : kUnaryShapes) {
        CheckKernel(KernelCase{op, {Random(dtype, shape, seed++, -1e19, 1e19)}}, ExactTol());
      }
      // Minimum integers wrap; signed zeros and NaN pass through.
      if (IsFloating(dtype)) {
        CheckKernel(KernelCase{op, {FromSet(dtype, Shape{64}, seed++, {-0.0, 0.0, kNaN, -kInf, 2})}},
                    ExactTol());
      } else if (dtype != DataType::kU8) {
        CheckKernel(KernelCase{op, {FromSet(dtype, Shape{64}, seed++, {-1e30, 1e30, -1, 0})}},
                    ExactTol());
      }
    }
  }
}

struct UnaryMathCase {
  std::string op;
  double lo;
  double hi;
  double ulps;       // f32 and f64
  double ulps_half;  // f16 and bf16
  AttrMap attrs;
  // Absolute slack for the reference's own error: Gelu's reference forms 1 + erf(t) (or
  // 1 + tanh(z)), which cancels for negative x and leaves an error of a few double ulps
  // times |x|.
  double atol = 0;
};

TEST(UnaryKernelsTest, MathMatchesReference) {
  const std::vector<UnaryMathCase> cases = {
      {"Exp", -80, 80, 4, 1, {}},
      {"Log", 1e-30, 1e30, 4, 1, {}},
      {"Sqrt", 0, 1e6, 0, 0, {}},
      {"Rsqrt", 1e-6, 1e6, 2, 1, {}},
      {"Tanh", -12, 12, 4, 1, {}},
      {"Sigmoid", -100, 100, 4, 1, {}},
      {"Erf", -5, 5, 4, 1, {}},
      {"Gelu", -6, 6, 64, 1, {}, 1e-14},
      {"Gelu", -6, 6, 64, 1, {{"approximate", std::string("tanh")}}, 1e-14},
  };
  uint64_t seed = 4000;
  for (const UnaryMathCase& m : cases) {
    for (DataType dtype : kFloats) {
      double lo = m.lo;
      double hi = m.hi;
      if (dtype == DataType::kF16) {  // stay inside f16's range [6e-8, 65504]
        lo = std::max(lo, m.op == "Log" || m.op == "Rsqrt" ? 1e-3 : -11.0);
        hi = std::min(hi, m.op == "Exp" ? 11.0 : 6e4);
      }
      for (const Shape& shape : kUnaryShapes) {
        KernelCase c{m.op, {Random(dtype, shape, seed++, lo, hi)}, m.attrs};
        Tolerance tol = UlpTol(dtype, m.ulps, m.ulps_half);
        tol.atol += m.atol;
        CheckKernel(c, tol);
      }
      // Specials: zeros, infinities, NaN and negative arguments of Log/Sqrt/Rsqrt.
      KernelCase c{m.op, {FromSet(dtype, Shape{50}, seed++, {0.0, -0.0, kInf, -kInf, kNaN, -1, 1})},
                   m.attrs};
      Tolerance tol = UlpTol(dtype, m.ulps, m.ulps_half);
      tol.atol += m.atol;
      CheckKernel(c, tol);
    }
  }
}

TEST(CastKernelsTest, EveryPairMatchesReference) {
  // Values that round, truncate, saturate, overflow f16, and specials.
  const std::vector<double> float_values = {0.0,   -0.0,   0.5,   -0.5,  1.5,     -2.5,
                                            127.9, -128.9, 255.5, 300.7, -1e10,   1e10,
                                            65504, 70000,  1e-8,  kNaN,  kInf,    -kInf,
                                            3.3e38, -1.2e19, 9.3e18, 1.00000001};
  uint64_t seed = 5000;
  for (DataType from : kAll) {
    for (DataType to : kAll) {
      Tensor x;
      if (IsFloating(from)) {
        x = FromSet(from, Shape{7, 11}, seed++, float_values);
      } else {
        x = Random(from, Shape{7, 11}, seed++, -1e19, 1e19);
      }
      KernelCase c{"Cast", {x}, {{"to", to}}};
      CheckKernel(c, ExactTol());
      CheckKernel(KernelCase{"Cast", {Random(from, Shape{300, 257}, seed++, -100, 100)}, {{"to", to}}},
                  ExactTol());
      CheckKernel(KernelCase{"Cast", {Random(from, Shape{0, 4}, seed++)}, {{"to", to}}}, ExactTol());
    }
  }
}

}  // namespace
}  // namespace kiln::testing
