// Tests of the extra elementwise ops: trigonometric and hyperbolic functions, rounding,
// Sign, Softplus, IsNaN, IsInf, Mod, BitShift, the bool ops and Det. Expected values are written out by
// hand or computed with <cmath> directly.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::InferSingleOp;
using ::kiln::testing::MakeTensor;
using ::kiln::testing::RunSingleOp;
using ::kiln::testing::Values;
using ::testing::HasSubstr;
using D = std::vector<double>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

absl::StatusOr<Tensor> Eval(absl::string_view op, const std::vector<Tensor>& inputs,
                            AttrMap attrs = {}) {
  ASSIGN_OR_RETURN(std::vector<Tensor> outputs, RunSingleOp(op, inputs, std::move(attrs)));
  return outputs.at(0);
}

Tensor MustEval(absl::string_view op, const std::vector<Tensor>& inputs, AttrMap attrs = {}) {
  absl::StatusOr<Tensor> t = Eval(op, inputs, std::move(attrs));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : Tensor();
}

const D kInputs = {-0.9, -0.25, 0.0, 0.5, 0.75};

struct UnaryCase {
  const char* op;
  double (*reference)(double);
};

class TrigTest : public ::testing::TestWithParam<UnaryCase> {};

// Each function against <cmath> on [-0.9, 0.75] (inside every domain except Acosh's),
// in f64 exactly and f32 / f16 within their precision.
TEST_P(TrigTest, MatchesCmath) {
  const UnaryCase& c = GetParam();
  const D in = std::string(c.op) == "Acosh" ? D{1.0, 1.5, 2.0, 10.0, 100.0} : kInputs;
  D want;
  for (double v : in) want.push_back(c.reference(v));
  for (auto [dt, tol] : {std::pair{DataType::kF64, 1e-15}, std::pair{DataType::kF32, 1e-6},
                         std::pair{DataType::kF16, 1e-2}}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{5}, in);
    Tensor y = MustEval(c.op, {x});
    EXPECT_EQ(y.dtype(), dt);
    D got = Values(y);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      // f16 inputs are themselves rounded; compare relative to the value's size.
      EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::fabs(want[i]))) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Functions, TrigTest,
    ::testing::Values(UnaryCase{"Sin", [](double v) { return std::sin(v); }},
                      UnaryCase{"Cos", [](double v) { return std::cos(v); }},
                      UnaryCase{"Tan", [](double v) { return std::tan(v); }},
                      UnaryCase{"Asin", [](double v) { return std::asin(v); }},
                      UnaryCase{"Acos", [](double v) { return std::acos(v); }},
                      UnaryCase{"Atan", [](double v) { return std::atan(v); }},
                      UnaryCase{"Sinh", [](double v) { return std::sinh(v); }},
                      UnaryCase{"Cosh", [](double v) { return std::cosh(v); }},
                      UnaryCase{"Asinh", [](double v) { return std::asinh(v); }},
                      UnaryCase{"Acosh", [](double v) { return std::acosh(v); }},
                      UnaryCase{"Atanh", [](double v) { return std::atanh(v); }},
                      // log(1 + e^x) written directly; fine on this small range.
                      UnaryCase{"Softplus", [](double v) { return std::log(1.0 + std::exp(v)); }}),
    [](const ::testing::TestParamInfo<UnaryCase>& info) { return std::string(info.param.op); });

TEST(MathExtraTest, DomainsAndSoftplusExtremes) {
  EXPECT_TRUE(std::isnan(MustEval("Asin", {MakeTensor(DataType::kF32, Shape{1}, {2.0})}).GetAsDouble(0)));
  EXPECT_TRUE(std::isnan(MustEval("Acosh", {MakeTensor(DataType::kF32, Shape{1}, {0.5})}).GetAsDouble(0)));
  EXPECT_EQ(MustEval("Atanh", {MakeTensor(DataType::kF64, Shape{1}, {1.0})}).GetAsDouble(0), kInf);
  // Softplus neither overflows for large x nor loses small values for very negative x.
  Tensor s = MustEval("Softplus", {MakeTensor(DataType::kF64, Shape{3}, {1000, -1000, -40})});
  EXPECT_EQ(s.GetAsDouble(0), 1000);
  EXPECT_EQ(s.GetAsDouble(1), 0);
  EXPECT_NEAR(s.GetAsDouble(2), std::exp(-40.0), 1e-30);
}

TEST(MathExtraTest, FloatOnlyFunctionsRejectIntegers) {
  absl::StatusOr<std::vector<TensorType>> r = InferSingleOp("Sin", {{DataType::kI32, Shape{2}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RoundingTest, FloorCeilRoundHalfToEven) {
  const D in = {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, -2.6};
  Tensor x = MakeTensor(DataType::kF32, Shape{8}, in);
  EXPECT_EQ(Values(MustEval("Floor", {x})), (D{-3, -2, -1, 0, 1, 2, 2, -3}));
  EXPECT_EQ(Values(MustEval("Ceil", {x})), (D{-2, -1, -0.0, 1, 2, 3, 3, -2}));
  EXPECT_EQ(Values(MustEval("Round", {x})), (D{-2, -2, -0.0, 0, 2, 2, 2, -3}));
  // Integers pass unchanged; NaN and infinities too.
  Tensor i = Tensor::I64(Shape{3}, {-7, 0, 9});
  for (const char* op : {"Floor", "Ceil", "Round"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(Values(MustEval(op, {i})), (D{-7, 0, 9}));
    Tensor special = MustEval(op, {MakeTensor(DataType::kF64, Shape{2}, {kNaN, -kInf})});
    EXPECT_TRUE(std::isnan(special.GetAsDouble(0)));
    EXPECT_EQ(special.GetAsDouble(1), -kInf);
  }
}

TEST(SignTest, FloatsAndIntegers) {
  Tensor f = MustEval("Sign", {MakeTensor(DataType::kBF16, Shape{2, 2}, {-3, 0, 0.5, kInf})});
  EXPECT_EQ(f.dtype(), DataType::kBF16);
  EXPECT_EQ(Values(f), (D{-1, 0, 1, 1}));
  EXPECT_TRUE(std::isnan(MustEval("Sign", {MakeTensor(DataType::kF32, Shape{1}, {kNaN})}).GetAsDouble(0)));
  EXPECT_EQ(Values(MustEval("Sign", {Tensor::I32(Shape{3}, {-5, 0, 7})})), (D{-1, 0, 1}));
}

TEST(IsNaNIsInfTest, Values) {
  Tensor x = MakeTensor(DataType::kF32, Shape{4}, {kNaN, kInf, -kInf, 1});
  Tensor nan = MustEval("IsNaN", {x});
  EXPECT_EQ(nan.dtype(), DataType::kBool);
  EXPECT_EQ(Values(nan), (D{1, 0, 0, 0}));
  EXPECT_EQ(Values(MustEval("IsInf", {x})), (D{0, 1, 1, 0}));
  EXPECT_EQ(Values(MustEval("IsInf", {x}, {{"detect_negative", false}})), (D{0, 1, 0, 0}));
  EXPECT_EQ(Values(MustEval("IsInf", {x}, {{"detect_positive", false}})), (D{0, 0, 1, 0}));
  // Unknown dims pass through to the bool result.
  absl::StatusOr<std::vector<TensorType>> t = InferSingleOp("IsNaN", {{DataType::kF16, Shape{-1, 2}}});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0].dtype, DataType::kBool);
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 2}));
}

TEST(ModTest, IntegerSignFollowsDivisorOrDividend) {
  Tensor a = Tensor::I32(Shape{4}, {7, -7, 7, -7});
  Tensor b = Tensor::I32(Shape{4}, {3, 3, -3, -3});
  // Python's %: the sign of the divisor.
  EXPECT_EQ(Values(MustEval("Mod", {a, b})), (D{1, 2, -2, -1}));
  // C's fmod: the sign of the dividend.
  EXPECT_EQ(Values(MustEval("Mod", {a, b}, {{"fmod", true}})), (D{1, -1, 1, -1}));
  // INT64_MIN % -1 is 0, not a trap.
  Tensor m = Tensor::I64(Shape{1}, {std::numeric_limits<int64_t>::min()});
  EXPECT_EQ(Values(MustEval("Mod", {m, Tensor::I64(Shape{1}, {-1})})), (D{0}));
}

TEST(ModTest, FloatsBroadcastAndErrors) {
  Tensor a = MakeTensor(DataType::kF64, Shape{2, 2}, {5.5, -5.5, 1, 0});
  Tensor b = MakeTensor(DataType::kF64, Shape{2}, {2, -2});
  EXPECT_EQ(Values(MustEval("Mod", {a, b}, {{"fmod", true}})), (D{1.5, -1.5, 1, 0}));
  absl::StatusOr<Tensor> no_fmod = Eval("Mod", {a, b});
  ASSERT_FALSE(no_fmod.ok());
  EXPECT_THAT(std::string(no_fmod.status().message()), HasSubstr("attribute 'fmod'"));
  absl::StatusOr<Tensor> zero = Eval("Mod", {Tensor::I64(Shape{2}, {1, 2}), Tensor::I64(Shape{1}, {0})});
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(zero.status().message()), HasSubstr("by zero"));
  absl::StatusOr<std::vector<TensorType>> mixed =
      InferSingleOp("Mod", {{DataType::kI32, Shape{2}}, {DataType::kI64, Shape{2}}});
  ASSERT_FALSE(mixed.ok());
}

TEST(LogicTest, TruthTablesWithBroadcast) {
  Tensor a = Tensor::Bool(Shape{2, 2}, {false, false, true, true});
  Tensor b = Tensor::Bool(Shape{2}, {false, true});
  EXPECT_EQ(Values(MustEval("And", {a, b})), (D{0, 0, 0, 1}));
  EXPECT_EQ(Values(MustEval("Or", {a, b})), (D{0, 1, 1, 1}));
  EXPECT_EQ(Values(MustEval("Xor", {a, b})), (D{0, 1, 1, 0}));
  EXPECT_EQ(Values(MustEval("Not", {b})), (D{1, 0}));
  absl::StatusOr<std::vector<TensorType>> t =
      InferSingleOp("And", {{DataType::kBool, Shape{-1, 1}}, {DataType::kBool, Shape{3}}});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 3}));
  // Size-0 broadcasts give empty results.
  EXPECT_EQ(MustEval("Or", {Tensor::Bool(Shape{0, 2}, {}), b}).shape(), (Shape{0, 2}));
  absl::StatusOr<std::vector<TensorType>> numeric =
      InferSingleOp("Xor", {{DataType::kI32, Shape{2}}, {DataType::kI32, Shape{2}}});
  ASSERT_FALSE(numeric.ok());
  EXPECT_EQ(numeric.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::vector<TensorType>> bad =
      InferSingleOp("And", {{DataType::kBool, Shape{2}}, {DataType::kBool, Shape{3}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("do not broadcast"));
}

TEST(BitShiftTest, LogicalShiftsOfBytes) {
  Tensor x = MakeTensor(DataType::kU8, Shape{4}, {16, 4, 1, 255});
  Tensor y = MakeTensor(DataType::kU8, Shape{4}, {1, 2, 8, 4});
  EXPECT_EQ(Values(MustEval("BitShift", {x, y}, {{"direction", std::string("LEFT")}})), (D{32, 16, 0, 240}));
  EXPECT_EQ(Values(MustEval("BitShift", {x, y}, {{"direction", std::string("RIGHT")}})), (D{8, 1, 0, 15}));
  // Broadcast shift amount.
  EXPECT_EQ(Values(MustEval("BitShift", {x, MakeTensor(DataType::kU8, Shape{1}, {1})},
                            {{"direction", std::string("RIGHT")}})),
            (D{8, 2, 0, 127}));
  absl::StatusOr<std::vector<TensorType>> bad = InferSingleOp(
      "BitShift", {{DataType::kU8, Shape{2}}, {DataType::kU8, Shape{2}}}, {{"direction", std::string("UP")}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("attribute 'direction'"));
  EXPECT_FALSE(InferSingleOp("BitShift", {{DataType::kI32, Shape{2}}, {DataType::kI32, Shape{2}}},
                             {{"direction", std::string("LEFT")}}).ok());
}

TEST(DetTest, BatchOfMatrices) {
  // det [[1, 2], [3, 4]] = -2; det [[0, 1], [1, 0]] = -1 (needs a pivot); a singular one is 0.
  Tensor x = MakeTensor(DataType::kF64, Shape{3, 2, 2}, {1, 2, 3, 4, 0, 1, 1, 0, 1, 2, 2, 4});
  Tensor d = MustEval("Det", {x});
  EXPECT_EQ(d.shape(), (Shape{3}));
  EXPECT_NEAR(d.GetAsDouble(0), -2, 1e-12);
  EXPECT_NEAR(d.GetAsDouble(1), -1, 1e-12);
  EXPECT_NEAR(d.GetAsDouble(2), 0, 1e-12);
  // 3x3 by the rule of Sarrus: 2*(3*1-0*4) - 0 + 1*(1*4-3*5) = 6 - 11 = -5.
  Tensor m = MakeTensor(DataType::kF32, Shape{3, 3}, {2, 0, 1, 1, 3, 0, 5, 4, 1});
  EXPECT_NEAR(MustEval("Det", {m}).GetAsDouble(0), -5, 1e-5);
  absl::StatusOr<std::vector<TensorType>> t = InferSingleOp("Det", {{DataType::kF32, Shape{-1, 4, 4}}});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0].shape, (Shape{-1}));
  absl::StatusOr<std::vector<TensorType>> bad = InferSingleOp("Det", {{DataType::kF32, Shape{2, 3}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("square"));
}

TEST(MathExtraTest, TraitsAndFlops) {
  for (const char* op : {"Sin", "Floor", "Sign", "Softplus", "Mod"}) {
    SCOPED_TRACE(op);
    const OpDef* def = OpRegistry::Global().Find(op);
    ASSERT_NE(def, nullptr);
    EXPECT_TRUE(def->Has(kElementwise));
    ASSERT_TRUE(def->flops != nullptr);
    std::vector<TensorType> io = {{DataType::kF32, Shape{2, 3}}};
    Node node;
    EXPECT_EQ(def->flops(node, io, io), 6);
  }
  EXPECT_TRUE(OpRegistry::Global().Find("And")->Has(kCommutative));
  EXPECT_FALSE(OpRegistry::Global().Find("Mod")->Has(kCommutative));
}

}  // namespace
}  // namespace kiln
