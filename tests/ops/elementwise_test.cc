// Tests of the elementwise ops: binary arithmetic, comparisons, Where, unary math and Cast.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::ExpectInvalid;
using ::kiln::testing::ExpectValues;
using ::kiln::testing::InferSingleOp;
using ::kiln::testing::MakeTensor;
using ::kiln::testing::RunSingleOp;
using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int32_t kI32Max = std::numeric_limits<int32_t>::max();
constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();

const std::vector<std::string> kArithOps = {"Add", "Sub", "Mul", "Div",
                                            "Pow", "Maximum", "Minimum"};
const std::vector<std::string> kCompareOps = {"Equal",   "NotEqual", "Less",
                                              "LessEqual", "Greater", "GreaterEqual"};
const std::vector<std::string> kFloatUnaryOps = {"Exp",  "Log",     "Sqrt", "Rsqrt",
                                                 "Tanh", "Sigmoid", "Erf",  "Gelu"};
const std::vector<std::string> kNumericUnaryOps = {"Neg", "Abs", "Relu"};

// The single output of `op` on `inputs`.
absl::StatusOr<Tensor> Eval(absl::string_view op, const std::vector<Tensor>& inputs,
                           AttrMap attrs = {}) {
  ASSIGN_OR_RETURN(std::vector<Tensor> outputs, RunSingleOp(op, inputs, std::move(attrs)));
  return outputs.at(0);
}

absl::StatusOr<TensorType> Infer(absl::string_view op, const std::vector<TensorType>& inputs,
                                 AttrMap attrs = {}) {
  ASSIGN_OR_RETURN(std::vector<TensorType> outputs,
                   InferSingleOp(op, inputs, std::move(attrs)));
  return outputs.at(0);
}

std::vector<int64_t> Ints(const Tensor& t) {
  std::vector<int64_t> out(t.NumElements());
  for (int64_t i = 0; i < t.NumElements(); ++i) out[i] = t.GetAsInt64(i);
  return out;
}

Tensor I64s(const Shape& shape, std::vector<int64_t> values) { return Tensor::I64(shape, values); }
Tensor I32s(const Shape& shape, std::vector<int32_t> values) { return Tensor::I32(shape, values); }
Tensor IntTensor(DataType dtype, const Shape& shape, const std::vector<int64_t>& values) {
  Tensor t = Tensor::Allocate(dtype, shape).value();
  for (size_t i = 0; i < values.size(); ++i) t.SetFromInt64(i, values[i]);
  return t;
}

int64_t Flops(absl::string_view op, const std::vector<TensorType>& inputs,
              const std::vector<TensorType>& outputs) {
  const OpDef* def = OpRegistry::Global().Find(op);
  Node node;
  node.op = std::string(op);
  return def->flops ? def->flops(node, inputs, outputs) : 0;
}

// Tiles `t` to `shape` by NumPy rules with a loop independent of the kernels' indexer.
Tensor Expand(const Tensor& t, const Shape& shape) {
  Tensor out = Tensor::Allocate(t.dtype(), shape).value();
  int offset = shape.rank() - t.shape().rank();
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    int64_t rest = i;
    int64_t src = 0;
    int64_t src_stride = 1;
    for (int d = shape.rank() - 1; d >= 0; --d) {
      int64_t coord = rest % shape.dim(d);
      rest /= shape.dim(d);
      int sd = d - offset;
      if (sd < 0) continue;
      if (t.shape().dim(sd) != 1) src += coord * src_stride;
      src_stride *= t.shape().dim(sd);
    }
    out.SetFromDouble(i, t.GetAsDouble(src));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Properties shared by every binary op (arithmetic and comparison).

class BinaryOpTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BinaryOpTest, InfersBroadcastShapes) {
  const std::string& op = GetParam();
  bool compare = std::find(kCompareOps.begin(), kCompareOps.end(), op) != kCompareOps.end();
  DataType out = compare ? DataType::kBool : DataType::kF32;
  auto infer = [&](Shape a, Shape b) {
    return Infer(op, {{DataType::kF32, a}, {DataType::kF32, b}});
  };
  EXPECT_EQ(*infer({2, 3}, {3}), (TensorType{out, {2, 3}}));
  EXPECT_EQ(*infer({1, 3}, {2, 1}), (TensorType{out, {2, 3}}));
  EXPECT_EQ(*infer({}, {4}), (TensorType{out, {4}}));
  EXPECT_EQ(*infer({0, 3}, {1, 3}), (TensorType{out, {0, 3}}));
  EXPECT_EQ(*infer({0}, {1}), (TensorType{out, {0}}));
  // Unknown dims: -1 against 1 stays unknown, against a known size takes it.
  EXPECT_EQ(*infer({-1, 3}, {3}), (TensorType{out, {-1, 3}}));
  EXPECT_EQ(*infer({-1, 1}, {1, 4}), (TensorType{out, {-1, 4}}));
  EXPECT_EQ(*infer({-1}, {5}), (TensorType{out, {5}}));
  EXPECT_EQ(*infer({-1}, {-1}), (TensorType{out, {-1}}));
  EXPECT_EQ(*infer({2, -1}, {-1, 7}), (TensorType{out, {2, 7}}));
}

TEST_P(BinaryOpTest, RejectsShapesThatDoNotBroadcast) {
  auto status = Infer(GetParam(), {{DataType::kF32, {2, 3}}, {DataType::kF32, {4}}}).status();
  ExpectInvalid(status, "inputs 'x' [2,3], 'y' [4] do not broadcast");
  ExpectInvalid(Infer(GetParam(), {{DataType::kF32, {0}}, {DataType::kF32, {2}}}).status(),
                "do not broadcast");
}

TEST_P(BinaryOpTest, RejectsMixedDtypes) {
  auto status = Infer(GetParam(), {{DataType::kF32, {2}}, {DataType::kI32, {2}}}).status();
  ExpectInvalid(status, "input 'y' has dtype i32, expected f32 like input 'x'");
}

TEST_P(BinaryOpTest, BroadcastMatchesExplicitTiling) {
  const std::string& op = GetParam();
  for (DataType dtype : {DataType::kF32, DataType::kI32}) {
    Tensor x = MakeTensor(dtype, {1, 3}, {1, 2, 3});
    Tensor y = MakeTensor(dtype, {2, 1}, {2, 3});
    Tensor broadcast = *Eval(op, {x, y});
    Tensor tiled = *Eval(op, {Expand(x, {2, 3}), Expand(y, {2, 3})});
    ASSERT_EQ(broadcast.shape(), (Shape{2, 3}));
    EXPECT_EQ(testing::Values(broadcast), testing::Values(tiled)) << DataTypeName(dtype);
  }
}

TEST_P(BinaryOpTest, EmptyOutputs) {
  Tensor out = *Eval(GetParam(), {MakeTensor(DataType::kF32, {0, 3}, {}),
                                 MakeTensor(DataType::kF32, {3}, {1, 2, 3})});
  EXPECT_EQ(out.shape(), (Shape{0, 3}));
  out = *Eval(GetParam(), {MakeTensor(DataType::kI64, {2, 0}, {}),
                          MakeTensor(DataType::kI64, {2, 1}, {1, 2})});
  EXPECT_EQ(out.shape(), (Shape{2, 0}));
}

TEST_P(BinaryOpTest, TraitsAndFlops) {
  const OpDef* def = OpRegistry::Global().Find(GetParam());
  ASSERT_NE(def, nullptr);
  EXPECT_TRUE(def->Has(kElementwise));
  EXPECT_TRUE(def->Has(kBroadcasting));
  EXPECT_TRUE(def->Has(kLayoutAgnostic));
  EXPECT_FALSE(def->Has(kReduction));
  EXPECT_EQ(Flops(GetParam(), {}, {{DataType::kF32, {4, 5}}}), 20);
  EXPECT_EQ(Flops(GetParam(), {}, {{DataType::kF32, {-1, 5}}}), 0);
}

INSTANTIATE_TEST_SUITE_P(Arith, BinaryOpTest, ::testing::ValuesIn(kArithOps));
INSTANTIATE_TEST_SUITE_P(Compare, BinaryOpTest, ::testing::ValuesIn(kCompareOps));

TEST(BinaryOpTest, CommutativeTraitOnlyWhereTrue) {
  for (const char* op : {"Add", "Mul", "Maximum", "Minimum", "Equal", "NotEqual"}) {
    EXPECT_TRUE(OpRegistry::Global().Find(op)->Has(kCommutative)) << op;
  }
  for (const char* op : {"Sub", "Div", "Pow", "Less", "LessEqual", "Greater", "GreaterEqual"}) {
    EXPECT_FALSE(OpRegistry::Global().Find(op)->Has(kCommutative)) << op;
  }
}

TEST(BinaryOpTest, ArithmeticRejectsBool) {
  for (const std::string& op : kArithOps) {
    ExpectInvalid(Infer(op, {{DataType::kBool, {2}}, {DataType::kBool, {2}}}).status(),
                  "input 0 has dtype bool");
  }
}

// ---------------------------------------------------------------------------------------
// Arithmetic values.

TEST(AddTest, Values) {
  ExpectValues(*Eval("Add", {MakeTensor(DataType::kF32, {2, 3}, {1, 2, 3, 4, 5, 6}),
                            MakeTensor(DataType::kF32, {3}, {10, 20, 30})}),
               {2, 3}, {11, 22, 33, 14, 25, 36}, 0);
  ExpectValues(*Eval("Add", {MakeTensor(DataType::kF64, {}, {0.25}),
                            MakeTensor(DataType::kF64, {2}, {1, -0.5})}),
               {2}, {1.25, -0.25}, 0);
  // bf16 keeps 8 significant bits: 1 + 2^-8 is a tie and rounds to even (1).
  ExpectValues(*Eval("Add", {MakeTensor(DataType::kBF16, {2}, {1, 1}),
                            MakeTensor(DataType::kBF16, {2}, {0.00390625, 0.0078125})}),
               {2}, {1, 1.0078125}, 0);
  // f16: 1 + 1.5 ulp rounds to 1 + 2 ulp (even).
  ExpectValues(*Eval("Add", {MakeTensor(DataType::kF16, {1}, {1}),
                            MakeTensor(DataType::kF16, {1}, {0.00146484375})}),
               {1}, {1.001953125}, 0);
}

TEST(AddTest, IntegersWrap) {
  EXPECT_THAT(Ints(*Eval("Add", {I64s({3}, {kI64Max, kI64Min, 5}), I64s({1}, {1})})),
              ::testing::ElementsAre(kI64Min, kI64Min + 1, 6));
  EXPECT_THAT(Ints(*Eval("Add", {IntTensor(DataType::kI8, {2}, {100, -100}),
                                IntTensor(DataType::kI8, {2}, {100, -100})})),
              ::testing::ElementsAre(-56, 56));
  EXPECT_THAT(Ints(*Eval("Add", {IntTensor(DataType::kU8, {1}, {200}), IntTensor(DataType::kU8, {}, {100})})),
              ::testing::ElementsAre(44));
}

TEST(SubTest, Values) {
  ExpectValues(*Eval("Sub", {MakeTensor(DataType::kF32, {2, 1}, {10, 20}),
                            MakeTensor(DataType::kF32, {3}, {1, 2, 3.5})}),
               {2, 3}, {9, 8, 6.5, 19, 18, 16.5}, 0);
  ExpectValues(*Eval("Sub", {MakeTensor(DataType::kF64, {2}, {kInf, 1}),
                            MakeTensor(DataType::kF64, {2}, {kInf, 3})}),
               {2}, {kNaN, -2}, 0);
  EXPECT_THAT(Ints(*Eval("Sub", {I32s({2}, {kI32Min, 7}), I32s({2}, {1, 9})})),
              ::testing::ElementsAre(kI32Max, -2));
  EXPECT_THAT(Ints(*Eval("Sub", {IntTensor(DataType::kU8, {1}, {3}), IntTensor(DataType::kU8, {1}, {5})})),
              ::testing::ElementsAre(254));
}

TEST(MulTest, Values) {
  ExpectValues(*Eval("Mul", {MakeTensor(DataType::kF32, {2, 3}, {1, 2, 3, 4, 5, 6}),
                            MakeTensor(DataType::kF32, {2, 1}, {-1, 0.5})}),
               {2, 3}, {-1, -2, -3, 2, 2.5, 3}, 0);
  ExpectValues(*Eval("Mul", {MakeTensor(DataType::kBF16, {2}, {3, 0.5}),
                            MakeTensor(DataType::kBF16, {}, {-2})}),
               {2}, {-6, -1}, 0);
  EXPECT_THAT(Ints(*Eval("Mul", {I64s({2}, {kI64Max, -3}), I64s({}, {2})})),
              ::testing::ElementsAre(-2, -6));
  EXPECT_THAT(Ints(*Eval("Mul", {I32s({2}, {65536, -7}), I32s({2}, {65536, 6})})),
              ::testing::ElementsAre(0, -42));
}

TEST(DivTest, FloatValues) {
  ExpectValues(*Eval("Div", {MakeTensor(DataType::kF32, {4}, {7, -7, 1, 0}),
                            MakeTensor(DataType::kF32, {4}, {2, 2, 0, 0})}),
               {4}, {3.5, -3.5, kInf, kNaN}, 0);
  ExpectValues(*Eval("Div", {MakeTensor(DataType::kF64, {2, 1}, {1, 2}),
                            MakeTensor(DataType::kF64, {3}, {3, 4, -8})}),
               {2, 3}, {1.0 / 3, 0.25, -0.125, 2.0 / 3, 0.5, -0.25}, 1e-15);
  ExpectValues(*Eval("Div", {MakeTensor(DataType::kF16, {1}, {1}),
                            MakeTensor(DataType::kF16, {1}, {3})}),
               {1}, {1.0 / 3}, 1e-3);
}

TEST(DivTest, IntegersTruncateTowardZero) {
  EXPECT_THAT(Ints(*Eval("Div", {I32s({4}, {7, -7, 7, -7}), I32s({4}, {2, 2, -2, -2})})),
              ::testing::ElementsAre(3, -3, -3, 3));
  EXPECT_THAT(Ints(*Eval("Div", {I64s({2, 1}, {100, -1}), I64s({2}, {7, 200})})),
              ::testing::ElementsAre(14, 0, 0, 0));
  // The one overflowing quotient wraps instead of trapping.
  EXPECT_THAT(Ints(*Eval("Div", {I64s({1}, {kI64Min}), I64s({1}, {-1})})),
              ::testing::ElementsAre(kI64Min));
  EXPECT_THAT(Ints(*Eval("Div", {I32s({1}, {kI32Min}), I32s({1}, {-1})})),
              ::testing::ElementsAre(kI32Min));
}

TEST(DivTest, IntegerDivisionByZeroIsAnError) {
  ExpectInvalid(Eval("Div", {I32s({3}, {1, 2, 3}), I32s({3}, {1, 0, 1})}).status(),
                "integer division by zero at output element 1");
  ExpectInvalid(Eval("Div", {IntTensor(DataType::kU8, {1}, {1}), IntTensor(DataType::kU8, {}, {0})}).status(),
                "integer division by zero");
  // A zero divisor that no output element reads is no error.
  EXPECT_TRUE(Eval("Div", {I32s({0, 3}, {}), I32s({3}, {1, 0, 1})}).ok());
}

TEST(PowTest, Values) {
  ExpectValues(*Eval("Pow", {MakeTensor(DataType::kF32, {5}, {2, 4, 2, 0, -8}),
                            MakeTensor(DataType::kF32, {5}, {3, 0.5, -1, 0, 1.0 / 3})}),
               {5}, {8, 2, 0.5, 1, kNaN}, 1e-6);
  ExpectValues(*Eval("Pow", {MakeTensor(DataType::kF64, {3}, {10, 2, 9}),
                            MakeTensor(DataType::kF64, {}, {-2})}),
               {3}, {0.01, 0.25, 1.0 / 81}, 1e-15);
  EXPECT_THAT(Ints(*Eval("Pow", {I32s({5}, {2, 3, -2, 0, 5}), I32s({5}, {10, 3, 3, 0, 1})})),
              ::testing::ElementsAre(1024, 27, -8, 1, 5));
}

TEST(PowTest, IntegersWrap) {
  EXPECT_THAT(Ints(*Eval("Pow", {I32s({2}, {2, -2}), I32s({}, {31})})),
              ::testing::ElementsAre(kI32Min, kI32Min));
  // 3^40 = 12157665459056928801, which is 12157665459056928801 - 2^64 as int64.
  EXPECT_THAT(Ints(*Eval("Pow", {I64s({1}, {3}), I64s({1}, {40})})),
              ::testing::ElementsAre(int64_t{-6289078614652622815}));
  EXPECT_THAT(Ints(*Eval("Pow", {I64s({2}, {1, -1}), I64s({1}, {kI64Max})})),
              ::testing::ElementsAre(1, -1));
}

TEST(PowTest, NegativeIntegerExponentIsAnError) {
  ExpectInvalid(Eval("Pow", {I64s({2}, {2, 2}), I64s({2}, {1, -1})}).status(),
                "negative exponent in integer Pow at output element 1");
}

TEST(MaximumMinimumTest, Values) {
  Tensor x = MakeTensor(DataType::kF32, {2, 2}, {1, 5, kNaN, -3});
  Tensor y = MakeTensor(DataType::kF32, {2}, {3, 2});
  ExpectValues(*Eval("Maximum", {x, y}), {2, 2}, {3, 5, kNaN, 2}, 0);
  ExpectValues(*Eval("Minimum", {x, y}), {2, 2}, {1, 2, kNaN, -3}, 0);
  // NaN wins from either side.
  ExpectValues(*Eval("Maximum", {y, x}), {2, 2}, {3, 5, kNaN, 2}, 0);
  ExpectValues(*Eval("Minimum", {MakeTensor(DataType::kF16, {2}, {1, 2}),
                                MakeTensor(DataType::kF16, {2}, {kNaN, 0.5})}),
               {2}, {kNaN, 0.5}, 0);
  Tensor a = I64s({3}, {-5, 7, kI64Max});
  Tensor b = I64s({}, {kI64Max - 1});
  EXPECT_THAT(Ints(*Eval("Maximum", {a, b})),
              ::testing::ElementsAre(kI64Max - 1, kI64Max - 1, kI64Max));
  EXPECT_THAT(Ints(*Eval("Minimum", {a, b})), ::testing::ElementsAre(-5, 7, kI64Max - 1));
  EXPECT_THAT(Ints(*Eval("Maximum", {IntTensor(DataType::kU8, {2}, {0, 255}),
                                    IntTensor(DataType::kU8, {2}, {200, 1})})),
              ::testing::ElementsAre(200, 255));
}

// ---------------------------------------------------------------------------------------
// Comparisons.

TEST(CompareTest, FloatValuesWithBroadcast) {
  Tensor x = MakeTensor(DataType::kF32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor y = MakeTensor(DataType::kF32, {3}, {2, 2, 7});
  struct Case {
    const char* op;
    std::vector<double> want;
  };
  for (const Case& c : std::vector<Case>{{"Equal", {0, 1, 0, 0, 0, 0}},
                                         {"NotEqual", {1, 0, 1, 1, 1, 1}},
                                         {"Less", {1, 0, 1, 0, 0, 1}},
                                         {"LessEqual", {1, 1, 1, 0, 0, 1}},
                                         {"Greater", {0, 0, 0, 1, 1, 0}},
                                         {"GreaterEqual", {0, 1, 0, 1, 1, 0}}}) {
    Tensor out = *Eval(c.op, {x, y});
    EXPECT_EQ(out.dtype(), DataType::kBool) << c.op;
    ExpectValues(out, {2, 3}, c.want, 0);
  }
}

TEST(CompareTest, NaNIsUnorderedAndUnequal) {
  Tensor x = MakeTensor(DataType::kF64, {2}, {kNaN, kNaN});
  Tensor y = MakeTensor(DataType::kF64, {2}, {kNaN, 1});
  ExpectValues(*Eval("Equal", {x, y}), {2}, {0, 0}, 0);
  ExpectValues(*Eval("NotEqual", {x, y}), {2}, {1, 1}, 0);
  for (const char* op : {"Less", "LessEqual", "Greater", "GreaterEqual"}) {
    ExpectValues(*Eval(op, {x, y}), {2}, {0, 0}, 0);
  }
}

TEST(CompareTest, IntegersCompareExactly) {
  // 2^53 and 2^53 + 1 are the same double; the comparison must still tell them apart.
  Tensor x = I64s({2}, {int64_t{1} << 53, -4});
  Tensor y = I64s({2}, {(int64_t{1} << 53) + 1, -4});
  ExpectValues(*Eval("Equal", {x, y}), {2}, {0, 1}, 0);
  ExpectValues(*Eval("Less", {x, y}), {2}, {1, 0}, 0);
  ExpectValues(*Eval("GreaterEqual", {x, y}), {2}, {0, 1}, 0);
  ExpectValues(*Eval("Greater", {I32s({1, 2}, {3, -3}), I32s({2, 1}, {0, 3})}), {2, 2},
               {1, 0, 0, 0}, 0);
  ExpectValues(*Eval("LessEqual", {IntTensor(DataType::kU8, {3}, {0, 128, 255}),
                                  IntTensor(DataType::kU8, {}, {128})}),
               {3}, {1, 1, 0}, 0);
}

TEST(CompareTest, EqualityOnBool) {
  Tensor x = Tensor::Bool({2, 2}, {true, false, true, false});
  Tensor y = Tensor::Bool({2}, {true, true});
  ExpectValues(*Eval("Equal", {x, y}), {2, 2}, {1, 0, 1, 0}, 0);
  ExpectValues(*Eval("NotEqual", {x, y}), {2, 2}, {0, 1, 0, 1}, 0);
  for (const char* op : {"Less", "LessEqual", "Greater", "GreaterEqual"}) {
    ExpectInvalid(Infer(op, {{DataType::kBool, {2}}, {DataType::kBool, {2}}}).status(),
                  "input 0 has dtype bool");
  }
}

// ---------------------------------------------------------------------------------------
// Where.

TEST(WhereTest, SelectsWithThreeWayBroadcast) {
  Tensor condition = Tensor::Bool({2, 1}, {true, false});
  ExpectValues(*Eval("Where", {condition, MakeTensor(DataType::kF32, {3}, {1, 2, 3}),
                              MakeTensor(DataType::kF32, {}, {9})}),
               {2, 3}, {1, 2, 3, 9, 9, 9}, 0);
  Tensor picked = *Eval("Where", {Tensor::Bool({3}, {false, true, false}),
                                 I64s({1}, {kI64Max}), I64s({3}, {kI64Min, 0, -1})});
  EXPECT_EQ(picked.dtype(), DataType::kI64);
  EXPECT_THAT(Ints(picked), ::testing::ElementsAre(kI64Min, kI64Max, -1));
  ExpectValues(*Eval("Where", {Tensor::Bool({}, {true}), MakeTensor(DataType::kF16, {2}, {0.1, kNaN}),
                              MakeTensor(DataType::kF16, {2}, {5, 6})}),
               {2}, {0.0999755859375, kNaN}, 0);
  Tensor empty = *Eval("Where", {Tensor::Bool({0, 1}, {}), MakeTensor(DataType::kF32, {2}, {1, 2}),
                                MakeTensor(DataType::kF32, {1}, {3})});
  EXPECT_EQ(empty.shape(), (Shape{0, 2}));
}

TEST(WhereTest, InfersTypes) {
  EXPECT_EQ(*Infer("Where", {{DataType::kBool, {-1, 1}}, {DataType::kI32, {4}},
                             {DataType::kI32, {1, 1}}}),
            (TensorType{DataType::kI32, {-1, 4}}));
  EXPECT_EQ(*Infer("Where", {{DataType::kBool, {2, 1, 1}}, {DataType::kF16, {1, 3, 1}},
                             {DataType::kF16, {-1}}}),
            (TensorType{DataType::kF16, {2, 3, -1}}));
  EXPECT_EQ(*Infer("Where", {{DataType::kBool, {0}}, {DataType::kBool, {1}},
                             {DataType::kBool, {}}}),
            (TensorType{DataType::kBool, {0}}));
  const OpDef* def = OpRegistry::Global().Find("Where");
  EXPECT_TRUE(def->Has(kElementwise) && def->Has(kBroadcasting) && def->Has(kLayoutAgnostic));
  EXPECT_FALSE(def->Has(kCommutative));
}

TEST(WhereTest, Errors) {
  ExpectInvalid(Infer("Where", {{DataType::kF32, {2}}, {DataType::kF32, {2}},
                                {DataType::kF32, {2}}}).status(),
                "input 0 has dtype f32, expected one of bool");
  ExpectInvalid(Infer("Where", {{DataType::kBool, {2}}, {DataType::kF32, {2}},
                                {DataType::kF64, {2}}}).status(),
                "input 'y' has dtype f64, expected f32 like input 'x'");
  ExpectInvalid(Infer("Where", {{DataType::kBool, {3}}, {DataType::kF32, {2}},
                                {DataType::kF32, {1}}}).status(),
                "inputs 'condition' [3], 'x' [2], 'y' [1] do not broadcast");
  ExpectInvalid(Infer("Where", {{DataType::kBool, {2}}, {DataType::kF32, {2}}}).status(),
                "expected 3 inputs, got 2");
}

// ---------------------------------------------------------------------------------------
// Unary ops.

class UnaryOpTest : public ::testing::TestWithParam<std::string> {};

TEST_P(UnaryOpTest, PreservesTypeAndEmptyShapes) {
  const std::string& op = GetParam();
  for (DataType dtype : {DataType::kF32, DataType::kBF16, DataType::kF64}) {
    EXPECT_EQ(*Infer(op, {{dtype, {-1, 3, 0}}}), (TensorType{dtype, {-1, 3, 0}}));
    EXPECT_EQ(*Infer(op, {{dtype, {}}}), (TensorType{dtype, {}}));
  }
  EXPECT_EQ(Eval(op, {MakeTensor(DataType::kF32, {2, 0}, {})})->shape(), (Shape{2, 0}));
  EXPECT_EQ(Eval(op, {MakeTensor(DataType::kF16, {1, 1}, {0.5})})->shape(), (Shape{1, 1}));
  const OpDef* def = OpRegistry::Global().Find(op);
  EXPECT_TRUE(def->Has(kElementwise) && def->Has(kLayoutAgnostic));
  EXPECT_FALSE(def->Has(kBroadcasting));
  EXPECT_EQ(Flops(op, {}, {{DataType::kF32, {3, 7}}}), 21);
  ExpectInvalid(Infer(op, {{DataType::kF32, {2}}, {DataType::kF32, {2}}}).status(),
                "expected 1 inputs, got 2");
}

TEST_P(UnaryOpTest, FloatOnlyOpsRejectIntegers) {
  const std::string& op = GetParam();
  bool float_only =
      std::find(kFloatUnaryOps.begin(), kFloatUnaryOps.end(), op) != kFloatUnaryOps.end();
  for (DataType dtype : {DataType::kI32, DataType::kI64, DataType::kU8}) {
    absl::Status status = Infer(op, {{dtype, {2}}}).status();
    if (float_only) {
      ExpectInvalid(status, absl::StrCat("input 0 has dtype ", DataTypeName(dtype)));
    } else {
      EXPECT_TRUE(status.ok()) << status;
    }
  }
  ExpectInvalid(Infer(op, {{DataType::kBool, {2}}}).status(), "input 0 has dtype bool");
}

INSTANTIATE_TEST_SUITE_P(Float, UnaryOpTest, ::testing::ValuesIn(kFloatUnaryOps));
INSTANTIATE_TEST_SUITE_P(Numeric, UnaryOpTest, ::testing::ValuesIn(kNumericUnaryOps));

constexpr double kE = 2.718281828459045;

TEST(UnaryTest, ExpLog) {
  ExpectValues(*Eval("Exp", {MakeTensor(DataType::kF64, {4}, {0, 1, -1, -kInf})}), {4},
               {1, kE, 1 / kE, 0}, 1e-15);
  ExpectValues(*Eval("Exp", {MakeTensor(DataType::kF32, {2}, {100, 88})}), {2},
               {kInf, 1.6516362549940018e38}, 1e32);
  ExpectValues(*Eval("Log", {MakeTensor(DataType::kF64, {4}, {1, kE, 0, -1})}), {4},
               {0, 1, -kInf, kNaN}, 1e-15);
  ExpectValues(*Eval("Log", {MakeTensor(DataType::kBF16, {2}, {1, 8})}), {2},
               {0, 2.0794415416798357}, 1e-2);
}

TEST(UnaryTest, SqrtRsqrt) {
  ExpectValues(*Eval("Sqrt", {MakeTensor(DataType::kF32, {4}, {4, 2, 0, -1})}), {4},
               {2, 1.4142135623730951, 0, kNaN}, 1e-7);
  ExpectValues(*Eval("Sqrt", {MakeTensor(DataType::kF16, {1}, {9})}), {1}, {3}, 0);
  ExpectValues(*Eval("Rsqrt", {MakeTensor(DataType::kF64, {4}, {4, 0.25, 0, -4})}), {4},
               {0.5, 2, kInf, kNaN}, 0);
  ExpectValues(*Eval("Rsqrt", {MakeTensor(DataType::kF16, {1}, {2})}), {1},
               {0.7071067811865476}, 1e-3);
}

TEST(UnaryTest, TanhSigmoidErf) {
  ExpectValues(*Eval("Tanh", {MakeTensor(DataType::kF64, {4}, {0, 1, -1, -kInf})}), {4},
               {0, 0.7615941559557649, -0.7615941559557649, -1}, 1e-15);
  ExpectValues(*Eval("Tanh", {MakeTensor(DataType::kBF16, {1}, {1})}), {1},
               {0.7615941559557649}, 4e-3);
  ExpectValues(*Eval("Sigmoid", {MakeTensor(DataType::kF64, {4}, {0, 2, -1000, 1000})}), {4},
               {0.5, 0.8807970779778823, 0, 1}, 1e-15);
  ExpectValues(*Eval("Sigmoid", {MakeTensor(DataType::kF32, {1}, {-2})}), {1},
               {1 - 0.8807970779778823}, 1e-7);
  ExpectValues(*Eval("Erf", {MakeTensor(DataType::kF64, {4}, {0, 1, -0.5, kInf})}), {4},
               {0, 0.8427007929497149, -0.5204998778130465, 1}, 1e-15);
  ExpectValues(*Eval("Erf", {MakeTensor(DataType::kF16, {1}, {1})}), {1},
               {0.8427007929497149}, 1e-3);
}

TEST(UnaryTest, GeluForms) {
  // 0.5 x (1 + erf(x / sqrt 2)) = x * Phi(x): Phi(1) = 0.841344746, Phi(-1) = 0.158655254.
  ExpectValues(*Eval("Gelu", {MakeTensor(DataType::kF64, {3}, {0, 1, -1})}), {3},
               {0, 0.8413447460685429, -0.15865525393145707}, 1e-15);
  ExpectValues(*Eval("Gelu", {MakeTensor(DataType::kF32, {1}, {2})},
                    {{"approximate", std::string("none")}}),
               {1}, {1.9544997361036416}, 1e-6);
  ExpectValues(*Eval("Gelu", {MakeTensor(DataType::kF64, {3}, {0, 1, 2})},
                    {{"approximate", std::string("tanh")}}),
               {3}, {0, 0.8411919906082768, 1.954597694087775}, 1e-15);
  ExpectValues(*Eval("Gelu", {MakeTensor(DataType::kBF16, {1}, {1})},
                    {{"approximate", std::string("tanh")}}),
               {1}, {0.8411919906082768}, 4e-3);
}

TEST(UnaryTest, GeluRejectsUnknownApproximation) {
  ExpectInvalid(Infer("Gelu", {{DataType::kF32, {2}}}, {{"approximate", std::string("erf")}})
                    .status(),
                "attribute 'approximate' is \"erf\", expected \"none\" or \"tanh\"");
  ExpectInvalid(Infer("Gelu", {{DataType::kF32, {2}}}, {{"approximate", int64_t{1}}}).status(),
                "attribute 'approximate' must be string");
}

TEST(UnaryTest, NegAbsReluFloat) {
  Tensor x = MakeTensor(DataType::kF32, {2, 2}, {-3.5, 0, 2, kNaN});
  ExpectValues(*Eval("Neg", {x}), {2, 2}, {3.5, 0, -2, kNaN}, 0);
  ExpectValues(*Eval("Abs", {x}), {2, 2}, {3.5, 0, 2, kNaN}, 0);
  ExpectValues(*Eval("Relu", {x}), {2, 2}, {0, 0, 2, kNaN}, 0);
  Tensor h = MakeTensor(DataType::kF16, {3}, {-0.25, 65504, -kInf});
  ExpectValues(*Eval("Neg", {h}), {3}, {0.25, -65504, kInf}, 0);
  ExpectValues(*Eval("Abs", {h}), {3}, {0.25, 65504, kInf}, 0);
  ExpectValues(*Eval("Relu", {h}), {3}, {0, 65504, 0}, 0);
}

TEST(UnaryTest, NegAbsReluIntegers) {
  Tensor x = I32s({4}, {-3, 0, 5, kI32Min});
  EXPECT_THAT(Ints(*Eval("Neg", {x})), ::testing::ElementsAre(3, 0, -5, kI32Min));
  EXPECT_THAT(Ints(*Eval("Abs", {x})), ::testing::ElementsAre(3, 0, 5, kI32Min));
  EXPECT_THAT(Ints(*Eval("Relu", {x})), ::testing::ElementsAre(0, 0, 5, 0));
  Tensor big = I64s({2}, {kI64Min, -kI64Max});
  EXPECT_THAT(Ints(*Eval("Neg", {big})), ::testing::ElementsAre(kI64Min, kI64Max));
  EXPECT_THAT(Ints(*Eval("Abs", {big})), ::testing::ElementsAre(kI64Min, kI64Max));
  Tensor u = IntTensor(DataType::kU8, {3}, {0, 1, 255});
  EXPECT_THAT(Ints(*Eval("Neg", {u})), ::testing::ElementsAre(0, 255, 1));
  EXPECT_THAT(Ints(*Eval("Abs", {u})), ::testing::ElementsAre(0, 1, 255));
  EXPECT_THAT(Ints(*Eval("Relu", {IntTensor(DataType::kI8, {2}, {-128, 127})})),
              ::testing::ElementsAre(0, 127));
}

// ---------------------------------------------------------------------------------------
// Cast.

Tensor Cast(const Tensor& x, DataType to) { return *Eval("Cast", {x}, {{"to", to}}); }

TEST(CastTest, FloatToIntTruncatesAndSaturates) {
  Tensor x = MakeTensor(DataType::kF32, {7}, {2.7, -2.7, kNaN, 1e10, -1e10, 0.5, kInf});
  Tensor i32 = Cast(x, DataType::kI32);
  EXPECT_EQ(i32.dtype(), DataType::kI32);
  EXPECT_THAT(Ints(i32), ::testing::ElementsAre(2, -2, 0, kI32Max, kI32Min, 0, kI32Max));
  EXPECT_THAT(Ints(Cast(x, DataType::kI64)),
              ::testing::ElementsAre(2, -2, 0, 10000000000, -10000000000, 0, kI64Max));
  EXPECT_THAT(Ints(Cast(MakeTensor(DataType::kF64, {4}, {-1, 300, 255.9, -0.9}), DataType::kU8)),
              ::testing::ElementsAre(0, 255, 255, 0));
  EXPECT_THAT(Ints(Cast(MakeTensor(DataType::kBF16, {2}, {-129, 126.5}), DataType::kI8)),
              ::testing::ElementsAre(-128, 126));
}

TEST(CastTest, IntToIntWraps) {
  EXPECT_THAT(Ints(Cast(I64s({3}, {300, -129, kI64Max}), DataType::kI8)),
              ::testing::ElementsAre(44, 127, -1));
  EXPECT_THAT(Ints(Cast(I32s({2}, {-1, 256}), DataType::kU8)), ::testing::ElementsAre(255, 0));
  EXPECT_THAT(Ints(Cast(IntTensor(DataType::kU8, {1}, {200}), DataType::kI8)),
              ::testing::ElementsAre(-56));
  EXPECT_THAT(Ints(Cast(I32s({1}, {kI32Min}), DataType::kI64)), ::testing::ElementsAre(kI32Min));
}

TEST(CastTest, ToAndFromBool) {
  Tensor b = Cast(MakeTensor(DataType::kF32, {4}, {0, -0.0, 0.1, kNaN}), DataType::kBool);
  EXPECT_EQ(b.dtype(), DataType::kBool);
  EXPECT_THAT(Ints(b), ::testing::ElementsAre(0, 0, 1, 1));
  EXPECT_THAT(Ints(Cast(I64s({3}, {0, 5, kI64Min}), DataType::kBool)),
              ::testing::ElementsAre(0, 1, 1));
  ExpectValues(Cast(Tensor::Bool({2}, {true, false}), DataType::kF16), {2}, {1, 0}, 0);
  EXPECT_THAT(Ints(Cast(Tensor::Bool({2}, {true, false}), DataType::kI64)),
              ::testing::ElementsAre(1, 0));
}

TEST(CastTest, BetweenFloatTypesAndFromInts) {
  // 65520 is halfway between f16's largest finite value and the next power: ties to inf.
  ExpectValues(Cast(MakeTensor(DataType::kF64, {3}, {65520, 65504, 0.1}), DataType::kF16), {3},
               {kInf, 65504, 0.0999755859375}, 0);
  ExpectValues(Cast(MakeTensor(DataType::kF32, {1}, {0.1}), DataType::kBF16), {1},
               {0.10009765625}, 0);
  ExpectValues(Cast(MakeTensor(DataType::kBF16, {1}, {3.140625}), DataType::kF64), {1},
               {3.140625}, 0);
  ExpectValues(Cast(I64s({2}, {(int64_t{1} << 53) + 1, -7}), DataType::kF64), {2},
               {9007199254740992.0, -7}, 0);
  ExpectValues(Cast(I32s({1}, {16777217}), DataType::kF32), {1}, {16777216}, 0);
}

TEST(CastTest, ShapesAndErrors) {
  EXPECT_EQ(*Infer("Cast", {{DataType::kF32, {-1, 0, 2}}}, {{"to", DataType::kI8}}),
            (TensorType{DataType::kI8, {-1, 0, 2}}));
  EXPECT_EQ(Cast(MakeTensor(DataType::kF32, {0, 1}, {}), DataType::kI32).shape(), (Shape{0, 1}));
  EXPECT_EQ(Cast(MakeTensor(DataType::kF32, {1, 1}, {3}), DataType::kI32).shape(), (Shape{1, 1}));
  ExpectInvalid(Infer("Cast", {{DataType::kF32, {2}}}).status(),
                "missing required attribute 'to'");
  ExpectInvalid(Infer("Cast", {{DataType::kF32, {2}}}, {{"to", DataType::kInvalid}}).status(),
                "attribute 'to' is not a valid dtype");
  ExpectInvalid(Infer("Cast", {{DataType::kF32, {2}}}, {{"to", std::string("f16")}}).status(),
                "attribute 'to' must be dtype");
  const OpDef* def = OpRegistry::Global().Find("Cast");
  EXPECT_TRUE(def->Has(kElementwise) && def->Has(kLayoutAgnostic));
}

}  // namespace
}  // namespace kiln
